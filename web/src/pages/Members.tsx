// The account's people: their account roles, invitations (with the one-time link), role changes, removal.
import { useId, useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, type AccountRole, type Invitation, type Membership, type NewInvitation } from '../api';
import { CopyField } from '../components/CopyField';
import { ConfirmDialog, Dialog, FormActions, DoneAction } from '../components/Dialog';
import { Field, FormError } from '../components/Field';
import { PageState } from '../components/PageState';
import { useStatus } from '../components/Status';
import { useAccount } from '../context';
import { formatDateTime, personName } from '../format';
import { useLoad } from '../hooks';

async function load(accountId: string, canSeeInvitations: boolean) {
  const [members, roles, invitations] = await Promise.all([
    api.memberships(accountId, 'users'),
    api.accountRoles(accountId),
    canSeeInvitations ? api.invitations(accountId).catch(() => null) : Promise.resolve(null),
  ]);
  members.sort((a, b) => (a.email ?? '').localeCompare(b.email ?? ''));
  return { members, roles, invitations };
}

type Open = { kind: 'invite' } | { kind: 'remove'; member: Membership } | { kind: 'revoke'; invitation: Invitation } | null;

export function MembersPage() {
  const { account, can, app } = useAccount();
  const status = useStatus();
  const a = account.account_id;
  const { data, error, reload } = useLoad(() => load(a, can('read:invitation')), [a]);
  const [open, setOpen] = useState<Open>(null);
  const [busy, setBusy] = useState(false);
  const [dialogError, setDialogError] = useState<string | null>(null);

  const canChange = can('update:account_membership');
  const canRemove = can('delete:account_membership');
  const canInvite = can('create:invitation');
  const canRevoke = can('update:invitation') || canInvite;
  const me = app.session.user.id;

  const changeRole = async (m: Membership, roleId: string) => {
    const role = data?.roles.find((r) => r.id === roleId)?.name ?? 'the chosen role';
    try {
      await api.changeMemberRole(a, m.id, roleId);
      status.success(`${personName(m)} is now ${role} of ${account.account_name}.`);
    } catch (err) {
      status.error(err, `Could not change the role of ${personName(m)}`);
    }
    void reload();
  };

  const confirm = async (action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setDialogError(null);
    try {
      await action();
      setOpen(null);
      status.success(done);
      void reload();
    } catch (err) {
      setDialogError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const pending = data?.invitations?.filter((i) => i.status === 'PENDING') ?? [];

  return (
    <section aria-labelledby="members-heading">
      <div className="page-header">
        <h1 id="members-heading">Members</h1>
        {canInvite && (
          <button type="button" className="primary" onClick={() => setOpen({ kind: 'invite' })}>
            Invite member
          </button>
        )}
      </div>
      <PageState ready={data !== undefined} error={error} onRetry={() => void reload()}>
        {data && (
          <>
            <div className="table-scroll">
              <table aria-label="Members">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Email</th>
                    <th scope="col">Account role</th>
                    <th scope="col">Last sign-in</th>
                    {canRemove && (
                      <th scope="col">
                        <span className="sr-only">Actions</span>
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {data.members.map((m) => (
                    <tr key={m.id} data-testid="member-row" data-email={m.email ?? ''}>
                      <th scope="row">
                        {personName(m)}
                        {m.user_id === me && <span className="badge">you</span>}
                      </th>
                      <td>{m.email}</td>
                      <td>
                        {canChange ? (
                          <select aria-label={`Account role for ${m.email ?? personName(m)}`} value={m.account_role_id} onChange={(e) => void changeRole(m, e.target.value)}>
                            {data.roles.map((r) => (
                              <option key={r.id} value={r.id}>
                                {r.name}
                              </option>
                            ))}
                          </select>
                        ) : (
                          m.account_role_name
                        )}
                      </td>
                      <td>{m.last_login ? formatDateTime(m.last_login) : <span className="muted">Never</span>}</td>
                      {canRemove && (
                        <td>
                          <button
                            type="button"
                            className="danger-text"
                            aria-label={`Remove ${m.email ?? personName(m)}`}
                            onClick={() => {
                              setDialogError(null);
                              setOpen({ kind: 'remove', member: m });
                            }}
                          >
                            Remove
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>

            {data.invitations !== null && (
              <>
                <h2>Pending invitations</h2>
                {pending.length === 0 ? (
                  <p className="empty">No pending invitations.</p>
                ) : (
                  <div className="table-scroll">
                    <table aria-label="Pending invitations">
                      <thead>
                        <tr>
                          <th scope="col">Email</th>
                          <th scope="col">Account role</th>
                          <th scope="col">Expires</th>
                          {canRevoke && (
                            <th scope="col">
                              <span className="sr-only">Actions</span>
                            </th>
                          )}
                        </tr>
                      </thead>
                      <tbody>
                        {pending.map((inv) => (
                          <tr key={inv.id} data-testid="invitation-row" data-email={inv.email}>
                            <th scope="row">{inv.email}</th>
                            <td>{inv.account_role_name}</td>
                            <td>{formatDateTime(inv.expiration)}</td>
                            {canRevoke && (
                              <td>
                                <button
                                  type="button"
                                  className="danger-text"
                                  aria-label={`Revoke invitation for ${inv.email}`}
                                  onClick={() => {
                                    setDialogError(null);
                                    setOpen({ kind: 'revoke', invitation: inv });
                                  }}
                                >
                                  Revoke
                                </button>
                              </td>
                            )}
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </>
            )}
          </>
        )}
      </PageState>

      {open?.kind === 'invite' && data && <InviteDialog accountId={a} roles={data.roles} onClose={() => setOpen(null)} onInvited={() => void reload()} />}
      {open?.kind === 'remove' && (
        <ConfirmDialog
          title={`Remove ${open.member.email ?? personName(open.member)} from ${account.account_name}?`}
          confirmLabel="Remove member"
          busy={busy}
          error={dialogError}
          onClose={() => setOpen(null)}
          onConfirm={() => confirm(() => api.removeMember(a, open.member.id), `${open.member.email ?? personName(open.member)} was removed from ${account.account_name}.`)}
        >
          <p>They lose access to the account and to all of its workspaces at once. Their user and other accounts are not affected.</p>
        </ConfirmDialog>
      )}
      {open?.kind === 'revoke' && (
        <ConfirmDialog
          title={`Revoke the invitation for ${open.invitation.email}?`}
          confirmLabel="Revoke invitation"
          busy={busy}
          error={dialogError}
          onClose={() => setOpen(null)}
          onConfirm={() => confirm(() => api.revokeInvitation(a, open.invitation.id), `The invitation for ${open.invitation.email} was revoked.`)}
        >
          <p>The invitation link stops working. You can invite them again later.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function InviteDialog({ accountId, roles, onClose, onInvited }: { accountId: string; roles: AccountRole[]; onClose: () => void; onInvited: () => void }) {
  const status = useStatus();
  const roleId = useId();
  const member = roles.find((r) => r.name === 'Member');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState(member?.id ?? roles[0]?.id ?? '');
  const [errors, setErrors] = useState<{ email?: string | null; form?: string | null }>({});
  const [busy, setBusy] = useState(false);
  const [invitation, setInvitation] = useState<NewInvitation | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) return setErrors({ email: 'Enter a valid email address.' });
    setErrors({});
    setBusy(true);
    try {
      const inv = await api.invite(accountId, email.trim(), role);
      setInvitation(inv);
      status.success(`Invitation for ${inv.email} created. Copy the link now: it is shown only once.`);
      onInvited();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && /email/i.test(err.message)) setErrors({ email: err.message });
      else setErrors({ form: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  if (invitation) {
    return (
      <Dialog key="link" title="Invitation created" onClose={onClose} wide>
        <p className="warning" role="note">
          <strong>Copy this link now.</strong> It is shown only once. Send it to {invitation.email}; it works once, until {formatDateTime(invitation.expiration)}.
        </p>
        {invitation.accept_url ? (
          <CopyField label="Invitation link" value={invitation.accept_url} copyLabel="Copy invitation link" what="Invitation link" testId="accept-url" />
        ) : (
          <p role="alert">The server did not return the invitation link.</p>
        )}
        <DoneAction onClose={onClose} />
      </Dialog>
    );
  }

  return (
    <Dialog key="form" title="Invite member" onClose={onClose}>
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="Email" type="email" value={email} onChange={setEmail} error={errors.email} autoComplete="off" />
        <div className="field">
          <label htmlFor={roleId}>Account role</label>
          <select id={roleId} value={role} onChange={(e) => setRole(e.target.value)}>
            {roles.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <FormError message={errors.form} />
        <FormActions onCancel={onClose} busy={busy} busyLabel="Creating…" label="Create invitation" />
      </form>
    </Dialog>
  );
}
