// The signed-in user's own things: API keys (pnu_), password, and sign-in sessions.
import { useState, type FormEvent } from 'react';
import { api, ApiError, type ApiKeyMasked, type ApiKeyWithSecret, type SessionRow } from '../api';
import { ConfirmDialog, Dialog, FormActions, DoneAction } from '../components/Dialog';
import { emptyExpiration, ExpirationField, toExpiration, validateExpiration, type ExpirationValue } from '../components/ExpirationField';
import { Field, FormError, MIN_PASSWORD, NewPasswordFields } from '../components/Field';
import { KeyReveal } from '../components/KeyReveal';
import { PageHeader } from '../components/PageHeader';
import { WhenLoaded } from '../components/PageState';
import { useStatus } from '../components/Status';
import { DataTable, RowAction } from '../components/Table';
import { useApp } from '../context';
import { formatDate, formatDateTime, formatExpiration } from '../format';
import { ExpiresSoon } from '../components/ExpiresSoon';
import { useConfirm, useFormSubmit, useLoad } from '../hooks';
import { lastUseText } from '../last-use';
import { LeakBadge } from '../leak-badge';

export function MyApiKeysPage() {
  const app = useApp();
  const userId = app.session.user.id;
  const keys = useLoad(() => api.userKeys(userId), [userId]);
  const [creating, setCreating] = useState(false);
  const deletion = useConfirm<ApiKeyMasked>(keys.reload);

  const remove = (key: ApiKeyMasked) =>
    deletion.run(() => api.deleteUserKey(userId, key.id), `API key ${key.name} deleted. It no longer works.`);

  return (
    <section aria-labelledby="mykeys-heading">
      <PageHeader id="mykeys-heading" title="My API keys">
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create API key
        </button>
      </PageHeader>
      <p className="page-intro">Personal API keys act as you, with your roles, for the Prefect CLI, Terraform or scripts.</p>
      <WhenLoaded loaded={keys}>
        {(rows) => (
          <DataTable
            label="My API keys"
            columns={['Name', 'Key', 'Expiration', 'Last used', 'Created', { hidden: 'Actions' }]}
            rows={rows}
            empty="You have no API keys."
            row={(k) => (
              <tr key={k.id} data-testid="api-key-row" data-name={k.name}>
                <th scope="row">
                  {k.name}
                  <LeakBadge apiKey={k} />
                </th>
                <td className="mono">{k.masked_key}</td>
                <td>
                  {formatExpiration(k.expiration)}
                  <ExpiresSoon expiration={k.expiration} />
                </td>
                <td className="small" data-testid="last-used">{lastUseText(k)}</td>
                <td>{formatDate(k.created)}</td>
                <RowAction label={`Delete API key ${k.name}`} onClick={() => deletion.open(k)}>
                  Delete
                </RowAction>
              </tr>
            )}
          />
        )}
      </WhenLoaded>

      <MyEmail />
      <ChangePassword />
      <Sessions />

      {creating && <CreateKeyDialog userId={userId} onClose={() => setCreating(false)} onCreated={() => void keys.reload()} />}
      {deletion.target && (
        <ConfirmDialog {...deletion.dialog} title={`Delete API key ${deletion.target.name}?`} confirmLabel="Delete API key" onConfirm={() => remove(deletion.target!)}>
          <p>Anything that uses this key stops working at once.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function CreateKeyDialog({ userId, onClose, onCreated }: { userId: string; onClose: () => void; onCreated: () => void }) {
  const status = useStatus();
  const [name, setName] = useState('');
  const [expiration, setExpiration] = useState<ExpirationValue>(emptyExpiration());
  const { errors, setErrors, busy, send } = useFormSubmit<'name' | 'expiration'>();
  const [created, setCreated] = useState<ApiKeyWithSecret | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs = { name: name.trim() ? null : 'Enter a name for the key.', expiration: validateExpiration(expiration) };
    setErrors(errs);
    if (errs.name || errs.expiration) return;
    await send(
      async () => {
        const key = await api.createUserKey(userId, name.trim(), toExpiration(expiration));
        setCreated(key);
        status.success(`API key ${key.name} created. Copy it now: it is shown only once.`);
        onCreated();
      },
      (err) => (err instanceof ApiError && err.code === 'EXPIRATION_IN_PAST' ? { expiration: 'The expiration date is in the past; choose a later date.' } : null),
    );
  };

  if (created) {
    return (
      <Dialog key="created" title="API key created" onClose={onClose} testId="user-key-dialog" wide>
        <KeyReveal apiKey={created.key} expiration={created.expiration} />
        <DoneAction onClose={onClose} />
      </Dialog>
    );
  }
  return (
    <Dialog key="form" title="Create API key" onClose={onClose}>
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="Name" value={name} onChange={setName} error={errors.name} autoComplete="off" maxLength={255} />
        <ExpirationField value={expiration} onChange={setExpiration} error={errors.expiration} />
        <FormError message={errors.form} />
        <FormActions onCancel={onClose} busy={busy} busyLabel="Creating…" label="Create" />
      </form>
    </Dialog>
  );
}

/** The email, and a new one waiting for the code mailed to it (it counts only once confirmed). */
function MyEmail() {
  const app = useApp();
  const pending = useLoad(() => api.pendingEmail(app.session.user.id), [app.session.user.id]);
  return (
    <section aria-labelledby="email-heading">
      <h2 id="email-heading">Email</h2>
      <p>
        <strong>{app.session.user.email}</strong>
      </p>
      {pending.data?.pending_email && (
        <p data-testid="pending-email">
          Waiting for confirmation: <strong>{pending.data.pending_email}</strong>. Open the link mailed to that address before{' '}
          {formatDateTime(pending.data.expiration!)}; until then your email stays as above.
        </p>
      )}
    </section>
  );
}

function ChangePassword() {
  const status = useStatus();
  const [form, setForm] = useState({ current: '', password: '', confirm: '' });
  const { errors, setErrors, busy, send } = useFormSubmit<'current' | 'password' | 'confirm'>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs = {
      password: form.password.length < MIN_PASSWORD ? `Use at least ${MIN_PASSWORD} characters.` : null,
      confirm: form.password && form.password !== form.confirm ? 'The two new passwords differ.' : null,
    };
    setErrors(errs);
    if (errs.password || errs.confirm) return;
    await send(
      async () => {
        await api.changePassword(form.current ? { current_password: form.current, new_password: form.password } : { new_password: form.password });
        setForm({ current: '', password: '', confirm: '' });
        status.success('Your password has been changed.');
      },
      (err) => (err instanceof ApiError && (err.status === 401 || err.status === 403) && /current/i.test(err.message) ? { current: err.message } : null),
    );
  };

  return (
    <form className="stack section-form" onSubmit={submit} noValidate aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <Field label="Current password" type="password" value={form.current} onChange={(v) => setForm({ ...form, current: v })} error={errors.current} autoComplete="current-password" />
      <NewPasswordFields label="New password" value={form} onChange={(change) => setForm({ ...form, ...change })} errors={errors} />
      <FormError message={errors.form} />
      <div>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}

function Sessions() {
  const app = useApp();
  const status = useStatus();
  const sessions = useLoad(() => api.mySessions(), []);
  const [pending, setPending] = useState<string | null>(null);

  const terminate = async (s: SessionRow) => {
    setPending(s.id);
    try {
      await api.terminateSession(s.id);
      if (s.current) {
        app.sessionEnded('You ended this session. Sign in again to continue.');
        return;
      }
      status.success('The session was ended; that browser is signed out.');
      void sessions.reload();
    } catch (err) {
      status.error(err, 'Could not end the session');
    } finally {
      setPending(null);
    }
  };

  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <WhenLoaded loaded={sessions}>
        {(rows) => (
          <DataTable
            label="Sessions"
            columns={['Signed in', 'IP address', 'Browser', 'Expires', { hidden: 'Actions' }]}
            rows={rows}
            row={(s) => (
              <tr key={s.id} data-testid="session-row" data-current={s.current ? 'true' : 'false'}>
                <td>
                  {formatDateTime(s.created)}
                  {s.current && <span className="badge">this session</span>}
                </td>
                <td className="mono">{s.ip_address ?? ''}</td>
                <td className="small">{s.user_agent ?? ''}</td>
                <td>{formatDateTime(new Date(s.expires_at * 1000).toISOString())}</td>
                <RowAction
                  label={s.current ? 'Terminate this session' : `Terminate session from ${formatDateTime(s.created)}`}
                  disabled={pending === s.id}
                  onClick={() => void terminate(s)}
                >
                  Terminate
                </RowAction>
              </tr>
            )}
          />
        )}
      </WhenLoaded>
    </section>
  );
}
