// Email and password sign-in. Also embedded in the invitation page for people who already have a user.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, type Session, type SignInProvider } from '../api';
import { Field, FormError } from '../components/Field';
import { formatWait } from '../format';

interface Props {
  onSignedIn: (session: Session) => void;
  /** Inside another page: a smaller heading and no setup notice. */
  embedded?: boolean;
  initialEmail?: string;
}

export function signInError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Email or password is incorrect.';
    if (err.status === 429) {
      const wait = err.retryAfterSeconds;
      return wait !== null
        ? `Too many sign-in attempts. Wait ${formatWait(wait)} and try again.`
        : 'Too many sign-in attempts. Wait a little and try again.';
    }
  }
  return `Could not sign in: ${errorMessage(err)}`;
}

/**
 * Where to go after signing in when a page served by the server itself sent the person here
 * (`/sign-in?next=/w/acme/prod/…`, the Prefect UI behind Gatehouse): only such a path, never
 * another site.
 */
export function returnPath(): string | null {
  const next = new URLSearchParams(window.location.search).get('next');
  return next && /^\/w\/[A-Za-z0-9]/.test(next) ? next : null;
}

/** A refusal the SSO callback sent the browser back with (`?sso_error=CODE&sso_detail=…`). */
function ssoRefusal(): string | null {
  const params = new URLSearchParams(window.location.search);
  return params.get('sso_error') ? `Single sign-on failed: ${params.get('sso_detail') ?? params.get('sso_error')}` : null;
}

/** Single sign-on: the providers offered for an email's domain, or for an account handle. */
function SingleSignOn({ email }: { email: string }) {
  const [handle, setHandle] = useState('');
  const [providers, setProviders] = useState<SignInProvider[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const find = async (e: FormEvent) => {
    e.preventDefault();
    const query = handle.trim() ? { account: handle.trim() } : email.includes('@') ? { email: email.trim() } : null;
    if (!query) return setProblem('Enter your email above, or your account handle here.');
    setProblem(null);
    try {
      const found = await api.ssoDiscover(query);
      setProviders(found);
      if (found.length === 0) setProblem('No single sign-on for this email or account. Sign in with your password, or ask your account Owner.');
    } catch (err) {
      setProblem(errorMessage(err));
    }
  };
  const back = returnPath() ?? '/';
  return (
    <form className="stack" onSubmit={(e) => void find(e)} noValidate aria-label="Single sign-on">
      <h2>Single sign-on</h2>
      <label htmlFor="sso-handle">Account handle (optional when your email is above)</label>
      <input id="sso-handle" value={handle} onChange={(e) => setHandle(e.target.value)} autoComplete="organization" />
      <button type="submit">Continue with single sign-on</button>
      <FormError message={problem} />
      {providers?.map((p) => (
        <a key={p.provider_id} className="button primary" href={`/api/auth/sso/${p.provider_id}/start?return_to=${encodeURIComponent(back)}`}>
          Sign in with {p.display_name} ({p.account_name})
        </a>
      ))}
    </form>
  );
}

export function SignInPage({ onSignedIn, embedded, initialEmail = '' }: Props) {
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(embedded ? null : ssoRefusal());
  const [busy, setBusy] = useState(false);
  const [setupNeeded, setSetupNeeded] = useState(false);

  useEffect(() => {
    if (embedded) return;
    api.setupStatus().then((s) => setSetupNeeded(s.needed), () => undefined);
  }, [embedded]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim() || !password) {
      setError('Enter your email and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await api.login(email.trim(), password);
      const next = embedded ? null : returnPath();
      if (next) return window.location.assign(next);
      onSignedIn(session);
    } catch (err) {
      setError(signInError(err));
      setBusy(false);
    }
  };

  const Heading = embedded ? 'h2' : 'h1';
  const form = (
    <form className="stack" onSubmit={submit} noValidate aria-label="Sign in">
      <Heading>{embedded ? 'Sign in' : 'Sign in to Gatehouse'}</Heading>
      {setupNeeded && (
        <p className="notice" role="note">
          Gatehouse has not been set up yet. Open the setup link that <code>gatehouse start</code> printed in the server's log to create the first account.
        </p>
      )}
      <Field label="Email" type="email" autoComplete="username" value={email} onChange={setEmail} required />
      <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={setPassword} required />
      <FormError message={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
  return embedded ? (
    form
  ) : (
    <main className="public-page" id="main">
      {form}
      <SingleSignOn email={email} />
    </main>
  );
}
