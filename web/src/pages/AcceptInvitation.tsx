// /invitations/:id/accept#invite_code=… (older links: ?invite_code=…): preview the invitation, then join (new users set a password;
// people who already have a user sign in first).
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, setCsrfToken, type InvitationPreview, type Session } from '../api';
import { Field, FormError, newPasswordErrors, NewPasswordFields } from '../components/Field';
import { useStatus } from '../components/Status';
import { rememberAccount } from '../context';
import { formatDateTime } from '../format';
import { Link, linkSecret, navigate, useLocation } from '../router';
import { SignInPage } from './SignIn';

interface Props {
  invitationId: string;
  session: Session | null;
  sessionLoading: boolean;
  onSignedIn: () => Promise<void>;
  onSignIn: (session: Session) => void;
  onSignOut: () => Promise<void>;
}

function acceptError(err: unknown, email: string): string {
  if (err instanceof ApiError) {
    if (err.code === 'SIGN_IN_FIRST') return `You already have a Gatehouse user: sign in as ${email} first, then accept.`;
    if (err.code === 'INVITATION_EXPIRED' || err.status === 410) return 'This invitation has expired. Ask the person who invited you for a new one.';
    if (err.code === 'INVITATION_USED') return 'This invitation has already been used.';
    if (err.status === 404) return 'This invitation link is not valid. Check that you copied the whole link.';
  }
  return errorMessage(err);
}

export function AcceptInvitationPage({ invitationId, session, sessionLoading, onSignedIn, onSignIn, onSignOut }: Props) {
  const code = linkSecret(useLocation(), 'invite_code');
  const status = useStatus();
  const [preview, setPreview] = useState<InvitationPreview | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [form, setForm] = useState({ firstName: '', lastName: '', password: '', confirm: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!code) return;
    api.invitationPreview(invitationId, code).then(setPreview, setLoadError);
  }, [invitationId, code]);

  const accept = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!preview) return;
    const body: { password?: string; first_name?: string; last_name?: string } = {};
    if (!preview.user_exists) {
      const errs = newPasswordErrors(form.password, form.confirm);
      setErrors(errs);
      if (Object.keys(errs).length > 0) return;
      body.password = form.password;
      if (form.firstName.trim()) body.first_name = form.firstName.trim();
      if (form.lastName.trim()) body.last_name = form.lastName.trim();
    }
    setBusy(true);
    setFormError(null);
    try {
      const res = await api.acceptInvitation(invitationId, code, body);
      setCsrfToken(res.csrf_token);
      rememberAccount(res.account_id);
      await onSignedIn();
      navigate('/service-accounts', { replace: true });
      status.success(`You joined ${preview.account_name} as ${preview.account_role_name}.`);
    } catch (err) {
      setBusy(false);
      setFormError(acceptError(err, preview.email));
    }
  };

  let body;
  if (!code) body = <p role="alert">This invitation link has no code. Open the whole link you were sent, including <code>#invite_code=…</code>.</p>;
  else if (loadError) body = <p role="alert">{acceptError(loadError, '')}</p>;
  else if (!preview || sessionLoading) body = <p className="loading">Loading…</p>;
  else if (preview.status !== 'PENDING') {
    const why: Record<string, string> = {
      ACCEPTED: 'This invitation has already been accepted.',
      REVOKED: 'This invitation was revoked. Ask the person who invited you for a new one.',
      EXPIRED: 'This invitation has expired. Ask the person who invited you for a new one.',
    };
    body = (
      <>
        <p role="alert">{why[preview.status] ?? `This invitation is ${preview.status.toLowerCase()}.`}</p>
        <p>
          <Link to="/">Go to Gatehouse</Link>
        </p>
      </>
    );
  } else {
    const signedInAs = session?.user.email ?? null;
    const sameUser = signedInAs !== null && signedInAs.toLowerCase() === preview.email.toLowerCase();
    let action;
    if (preview.user_exists && sameUser) {
      action = (
        <>
          <p>You are signed in as {signedInAs}.</p>
          <FormError message={formError} />
          <button type="button" className="primary" onClick={() => void accept()} disabled={busy}>
            {busy ? 'Joining…' : 'Accept invitation'}
          </button>
        </>
      );
    } else if (preview.user_exists && signedInAs) {
      action = (
        <>
          <p role="alert">
            You are signed in as {signedInAs}, but this invitation is for {preview.email}. Sign out, then sign in as {preview.email} to accept it.
          </p>
          <button type="button" onClick={() => void onSignOut()}>
            Sign out
          </button>
        </>
      );
    } else if (preview.user_exists) {
      action = (
        <>
          <p className="notice" role="note">
            {preview.email} already has a Gatehouse user. Sign in first, then accept the invitation.
          </p>
          <SignInPage embedded initialEmail={preview.email} onSignedIn={onSignIn} />
        </>
      );
    } else {
      action = (
        <form className="stack" onSubmit={accept} noValidate aria-label="Accept invitation">
          <p>Set a password for your new Gatehouse user ({preview.email}).</p>
          <div className="row">
            <Field label="First name (optional)" value={form.firstName} onChange={(v) => setForm({ ...form, firstName: v })} autoComplete="given-name" />
            <Field label="Last name (optional)" value={form.lastName} onChange={(v) => setForm({ ...form, lastName: v })} autoComplete="family-name" />
          </div>
          <NewPasswordFields value={form} onChange={(change) => setForm({ ...form, ...change })} errors={errors} />
          <FormError message={formError} />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Joining…' : 'Accept invitation'}
          </button>
        </form>
      );
    }
    body = (
      <>
        <p data-testid="invitation-summary">
          <strong>{preview.email}</strong> is invited to join <strong>{preview.account_name}</strong> as <strong>{preview.account_role_name}</strong>. The
          invitation expires {formatDateTime(preview.expiration)}.
        </p>
        {action}
      </>
    );
  }

  return (
    <main className="public-page" id="main">
      <h1>{preview && preview.status === 'PENDING' ? `Join ${preview.account_name}` : 'Invitation'}</h1>
      {body}
    </main>
  );
}
