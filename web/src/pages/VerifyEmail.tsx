// The link in an email verification mail: /verify-email#code=…. The code travels in the fragment,
// so it reaches no server or proxy log; the page takes it out of the address bar at once and sends
// it in a POST body as the signed-in user.
import { useEffect, useRef, useState } from 'react';
import { api, errorMessage } from '../api';
import { useApp } from '../context';
import { Link } from '../router';

function codeFromFragment(): string | null {
  return new URLSearchParams(window.location.hash.slice(1)).get('code');
}

export function VerifyEmailPage() {
  const app = useApp();
  const userId = app.session.user.id;
  const [code] = useState(codeFromFragment);
  const [state, setState] = useState<{ kind: 'working' } | { kind: 'done'; email: string } | { kind: 'failed'; message: string }>(
    code ? { kind: 'working' } : { kind: 'failed', message: 'This link has no verification code. Open the link from the mail again.' },
  );
  const sent = useRef(false);

  useEffect(() => {
    if (window.location.hash) window.history.replaceState(null, '', window.location.pathname);
    if (!code || sent.current) return;
    sent.current = true;
    api.confirmEmail(userId, code).then(
      async () => {
        const user = await api.session().then((s) => s.user.email, () => '');
        setState({ kind: 'done', email: user });
      },
      (err) => setState({ kind: 'failed', message: errorMessage(err) }),
    );
  }, [code, userId]);

  return (
    <section aria-labelledby="verify-heading">
      <h1 id="verify-heading">Confirm your new email</h1>
      {state.kind === 'working' && <p className="loading">Confirming…</p>}
      {state.kind === 'done' && (
        <p data-testid="verify-result">
          Your email is now <strong>{state.email}</strong>. Sign in with it from now on.
        </p>
      )}
      {state.kind === 'failed' && (
        <p role="alert" data-testid="verify-result">
          The email was not changed: {state.message}
        </p>
      )}
      <p>
        <Link to="/my-api-keys">Back to your profile</Link>
      </p>
    </section>
  );
}
