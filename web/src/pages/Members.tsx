// The account's people: their account roles, invitations (with the one-time link), role changes, removal.
import { useId, useState, type FormEvent } from 'react';
import { api, ApiError, type AccountRole, type Invitation, type Membership, type NewInvitation } from '../api';
import { CopyField } from '../components/CopyField';
import { ConfirmDialog, Dialog, FormActions, DoneAction } from '../components/Dialog';
import { Field, FormError } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { WhenLoaded } from '../components/PageState';
import { RoleSelect } from '../components/RoleSelect';
import { useStatus } from '../components/Status';
import { DataTable, RowAction } from '../components/Table';
import { useAccount } from '../context';
import { formatDateTime, personName } from '../format';
import { useConfirm, useFormSubmit, useLoad } from '../hooks';

async function load(accountId: string, canSeeInvitations: boolean) {
  const [members, roles, invitations] = await Promise.all([
    api.memberships(accountId, 'users'),
    api.accountRoles(accountId),
    canSeeInvitations ? api.invitations(accountId).catch(() => null) : Promise.resolve(null),
  ]);
  members.sort((a, b) => (a.email ?? '').localeCompare(b.email ?? ''));
  return { members, roles, invitations };
}

type Removal = { kind: 'member'; member: Membership } | { kind: 'invitation'; invitation: Invitation };

export function MembersPage() {
  const { account, can, app } = useAccount();
  const status = useStatus();
  const a = account.account_id;
  const loaded = useLoad(() => load(a, can('read:invitation')), [a]);
  const { data, reload } = loaded;
  const [inviting, setInviting] = useState(false);
  const removal = useConfirm<Removal>(reload);

  const canChange = can('update:account_membership');
  const canRemove = can('delete:account_membership');
  const canInvite = can('create:invitation');
  const canRevoke = can('update:invitation') || canInvite;
  const me = app.session.user.id;
  const who = (m: Membership) => m.email ?? personName(m);

  const changeRole = async (m: Membership, roleId: string) => {
    const role = data?.roles.find((r) => r.id === roleId)?.name ?? 'the chosen role';
    await status.attempt(() => api.changeMemberRole(a, m.id, roleId), `${personName(m)} is now ${role} of ${account.account_name}.`, `Could not change the role of ${personName(m)}`);
    void reload();
  };

  const pending = data?.invitations?.filter((i) => i.status === 'PENDING') ?? [];
  const target = removal.target;

  return (
    <section aria-labelledby="members-heading">
      <PageHeader id="members-heading" title="Members">
        {canInvite && (
          <button type="button" className="primary" onClick={() => setInviting(true)}>
            Invite member
          </button>
        )}
      </PageHeader>
      <WhenLoaded loaded={loaded}>
        {(data) => (
          <>
            <DataTable
              label="Members"
              columns={['Name', 'Email', 'Account role', 'Last sign-in', canRemove && { hidden: 'Actions' }]}
              rows={data.members}
              row={(m) => (
                <tr key={m.id} data-testid="member-row" data-email={m.email ?? ''}>
                  <th scope="row">
                    {personName(m)}
                    {m.user_id === me && <span className="badge">you</span>}
                  </th>
                  <td>{m.email}</td>
                  <td>
                    {canChange ? (
                      <RoleSelect label={`Account role for ${who(m)}`} roles={data.roles} value={m.account_role_id} onChange={(r) => void changeRole(m, r)} />
                    ) : (
                      m.account_role_name
                    )}
                  </td>
                  <td>{m.last_login ? formatDateTime(m.last_login) : <span className="muted">Never</span>}</td>
                  {canRemove && (
                    <RowAction label={`Remove ${who(m)}`} onClick={() => removal.open({ kind: 'member', member: m })}>
                      Remove
                    </RowAction>
                  )}
                </tr>
              )}
            />

            {data.invitations !== null && (
              <>
                <h2>Pending invitations</h2>
                <DataTable
                  label="Pending invitations"
                  columns={['Email', 'Account role', 'Expires', canRevoke && { hidden: 'Actions' }]}
                  rows={pending}
                  empty="No pending invitations."
                  row={(inv) => (
                    <tr key={inv.id} data-testid="invitation-row" data-email={inv.email}>
                      <th scope="row">{inv.email}</th>
                      <td>{inv.account_role_name}</td>
                      <td>{formatDateTime(inv.expiration)}</td>
                      {canRevoke && (
                        <RowAction label={`Revoke invitation for ${inv.email}`} onClick={() => removal.open({ kind: 'invitation', invitation: inv })}>
                          Revoke
                        </RowAction>
                      )}
                    </tr>
                  )}
                />
              </>
            )}
          </>
        )}
      </WhenLoaded>

      {inviting && data && <InviteDialog accountId={a} roles={data.roles} onClose={() => setInviting(false)} onInvited={() => void reload()} />}
      {target?.kind === 'member' && (
        <ConfirmDialog
          {...removal.dialog}
          title={`Remove ${who(target.member)} from ${account.account_name}?`}
          confirmLabel="Remove member"
          onConfirm={() => removal.run(() => api.removeMember(a, target.member.id), `${who(target.member)} was removed from ${account.account_name}.`)}
        >
          <p>They lose access to the account and to all of its workspaces at once. Their user and other accounts are not affected.</p>
        </ConfirmDialog>
      )}
      {target?.kind === 'invitation' && (
        <ConfirmDialog
          {...removal.dialog}
          title={`Revoke the invitation for ${target.invitation.email}?`}
          confirmLabel="Revoke invitation"
          onConfirm={() => removal.run(() => api.revokeInvitation(a, target.invitation.id), `The invitation for ${target.invitation.email} was revoked.`)}
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
  const { errors, setErrors, busy, send } = useFormSubmit<'email'>();
  const [invitation, setInvitation] = useState<NewInvitation | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) return setErrors({ email: 'Enter a valid email address.' });
    setErrors({});
    await send(
      async () => {
        const inv = await api.invite(accountId, email.trim(), role);
        setInvitation(inv);
        status.success(`Invitation for ${inv.email} created. Copy the link now: it is shown only once.`);
        onInvited();
      },
      (err) => (err instanceof ApiError && err.status === 422 && /email/i.test(err.message) ? { email: err.message } : null),
    );
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
          <RoleSelect id={roleId} roles={roles} value={role} onChange={setRole} />
        </div>
        <FormError message={errors.form} />
        <FormActions onCancel={onClose} busy={busy} busyLabel="Creating…" label="Create invitation" />
      </form>
    </Dialog>
  );
}
