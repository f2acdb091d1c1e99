// First run: create the first account and its Owner from the link `gatehouse start` prints.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, setCsrfToken } from '../api';
import { CopyField } from '../components/CopyField';
import { Field, FormError, newPasswordErrors, NewPasswordFields } from '../components/Field';
import { useStatus } from '../components/Status';
import { rememberAccount } from '../context';
import { slugify } from '../format';
import { Link, linkSecret, navigate, useLocation } from '../router';

export function SetupPage({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const token = linkSecret(useLocation(), 'token');
  const status = useStatus();
  const [needed, setNeeded] = useState<boolean | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [form, setForm] = useState({ accountName: '', handle: '', handleEdited: false, firstName: '', lastName: '', email: '', password: '', confirm: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Set once the account exists: the page then says what to do next, the CLI's API key first. */
  const [created, setCreated] = useState<string | null>(null);

  useEffect(() => {
    api.setupStatus().then((s) => setNeeded(s.needed), setLoadError);
  }, []);

  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = newPasswordErrors(form.password, form.confirm);
    if (!form.accountName.trim()) errs.accountName = 'Enter a name for the account.';
    if (!form.handle.trim()) errs.handle = 'Enter a handle for the account.';
    else if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/.test(form.handle)) errs.handle = 'Use letters, digits, "-" and "_", starting with a letter or digit.';
    if (!/^[^@\s]+@[^@\s]+$/.test(form.email.trim())) errs.email = 'Enter a valid email address.';
    setErrors(errs);
    setFormError(null);
    if (Object.keys(errs).length > 0) return;
    setBusy(true);
    try {
      const res = await api.setup({
        token,
        account_name: form.accountName.trim(),
        account_handle: form.handle.trim(),
        email: form.email.trim(),
        password: form.password,
        first_name: form.firstName.trim() || undefined,
        last_name: form.lastName.trim() || undefined,
      });
      setCsrfToken(res.csrf_token);
      rememberAccount(res.account_id);
      await onSignedIn();
      status.success(`Account ${form.accountName.trim()} created. You are its Owner.`);
      setCreated(form.accountName.trim());
      // The setup link is spent: its token leaves the address bar and the history entry.
      window.history.replaceState(null, '', '/setup');
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 403) setFormError('This setup link is not valid: the token is wrong or out of date. Use the link the server printed most recently.');
      else if (err instanceof ApiError && err.code === 'SETUP_DONE') setFormError('Gatehouse is already set up. Sign in instead.');
      else if (err instanceof ApiError && err.code === 'ACCOUNT_HANDLE_TAKEN') setErrors({ handle: err.message });
      else setFormError(errorMessage(err));
    }
  };

  let body;
  if (created !== null) body = <SetUp accountName={created} />;
  else if (loadError) body = <p role="alert">Could not reach the server: {errorMessage(loadError)}</p>;
  else if (needed === null) body = <p className="loading">Loading…</p>;
  else if (!needed)
    body = (
      <p>
        Gatehouse is already set up. <Link to="/">Go to sign in</Link>.
      </p>
    );
  else if (!token)
    body = <p role="alert">This setup link has no token. Open the full link that <code>gatehouse start</code> printed, including <code>#token=…</code>.</p>;
  else
    body = (
      <form className="stack" onSubmit={submit} noValidate aria-label="Set up Gatehouse">
        <p>Create the first account and its Owner. You can invite other people once you are signed in.</p>
        <fieldset className="stack">
          <legend>Account</legend>
          <Field
            label="Account name"
            value={form.accountName}
            onChange={(v) => set(form.handleEdited ? { accountName: v } : { accountName: v, handle: slugify(v) })}
            error={errors.accountName}
            autoComplete="organization"
          />
          <Field
            label="Account handle"
            value={form.handle}
            onChange={(v) => set({ handle: v, handleEdited: true })}
            error={errors.handle}
            hint="Used in workspace paths such as account-handle/workspace-handle. Letters, digits, - and _."
          />
        </fieldset>
        <fieldset className="stack">
          <legend>Owner</legend>
          <div className="row">
            <Field label="First name (optional)" value={form.firstName} onChange={(v) => set({ firstName: v })} autoComplete="given-name" />
            <Field label="Last name (optional)" value={form.lastName} onChange={(v) => set({ lastName: v })} autoComplete="family-name" />
          </div>
          <Field label="Email" type="email" value={form.email} onChange={(v) => set({ email: v })} error={errors.email} autoComplete="username" />
          <NewPasswordFields value={form} onChange={set} errors={errors} />
        </fieldset>
        <FormError message={formError} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
    );

  return (
    <main className="public-page" id="main">
      <h1>{created !== null ? 'Gatehouse is set up' : 'Set up Gatehouse'}</h1>
      {body}
    </main>
  );
}

/** After setup: the Owner is signed in; a CLI needs an API key, which the password is not. */
function SetUp({ accountName }: { accountName: string }) {
  return (
    <div className="stack" data-testid="setup-done">
      <p>
        Gatehouse is set up: account <strong>{accountName}</strong> exists, and you are signed in as its Owner.
      </p>
      <section className="stack" aria-labelledby="setup-cli-heading">
        <h2 id="setup-cli-heading">Using the command line</h2>
        <p>
          The <code>gatehouse</code> CLI (and the Prefect CLI, Terraform or a script) signs in with an API key, not with your password. Create a personal
          key on <Link to="/my-api-keys">My API keys</Link>: it is shown once. Then sign the CLI in with it:
        </p>
        <CopyField
          label="Sign the gatehouse CLI in"
          value={`gatehouse login --url ${window.location.origin} --key YOUR_API_KEY`}
          copyLabel="Copy login command"
          what="Login command"
          testId="gatehouse-login-command"
        />
      </section>
      <div>
        <button type="button" className="primary" onClick={() => navigate('/service-accounts', { replace: true })}>
          Continue to Gatehouse
        </button>
      </div>
    </div>
  );
}
