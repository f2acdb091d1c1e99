// One workspace's sharing: users and service accounts with their workspace roles; add, change, remove.
import { useId, useState, type FormEvent } from 'react';
import { api, type BotAccess, type Membership, type UserAccess, type WorkspaceRole } from '../api';
import { ConfirmDialog } from '../components/Dialog';
import { FormError } from '../components/Field';
import { WhenLoaded } from '../components/PageState';
import { RoleSelect } from '../components/RoleSelect';
import { useStatus } from '../components/Status';
import { DataTable, RowAction } from '../components/Table';
import { useAccount } from '../context';
import { personName } from '../format';
import { useAttempt, useConfirm, useLoad } from '../hooks';
import { Link } from '../router';

async function load(accountId: string, workspaceId: string) {
  const [workspace, users, bots, roles, scopes, members] = await Promise.all([
    api.workspace(accountId, workspaceId),
    api.userAccess(accountId, workspaceId).catch(() => null),
    api.botAccess(accountId, workspaceId).catch(() => null),
    api.workspaceRoles(accountId),
    api.myWorkspaceScopes(workspaceId).catch(() => [] as string[]),
    api.memberships(accountId).catch(() => [] as Membership[]),
  ]);
  return { workspace, users, bots, roles, scopes: new Set(scopes), members };
}

type Removal = { kind: 'user'; grant: UserAccess } | { kind: 'bot'; grant: BotAccess };

export function WorkspaceSharingPage({ workspaceId }: { workspaceId: string }) {
  const { account } = useAccount();
  const status = useStatus();
  const loaded = useLoad(() => load(account.account_id, workspaceId), [account.account_id, workspaceId]);
  const { data, reload } = loaded;
  const removal = useConfirm<Removal>(reload);

  const a = account.account_id;
  const manageUsers = data?.scopes.has('manage_workspace_users') ?? false;
  const manageBots = data?.scopes.has('manage_workspace_service_accounts') ?? false;
  const roleName = (id: string) => data?.roles.find((r) => r.id === id)?.name ?? 'Unknown role';
  const wsName = data?.workspace.name ?? '';
  const nameOf = (r: Removal) => (r.kind === 'user' ? personName(r.grant) : r.grant.bot_name);

  const change = async (r: Removal, roleId: string) => {
    const grant = () => (r.kind === 'user' ? api.grantUser(a, workspaceId, r.grant.user_id, roleId) : api.grantBot(a, workspaceId, r.grant.bot_id, roleId));
    await status.attempt(grant, `${nameOf(r)} is now ${roleName(roleId)} in ${wsName}.`, `Could not change the role of ${nameOf(r)}`);
    void reload();
  };

  const remove = (r: Removal) =>
    removal.run(
      () => (r.kind === 'user' ? api.revokeUser(a, workspaceId, r.grant.id) : api.revokeBot(a, workspaceId, r.grant.id)),
      `${nameOf(r)} no longer has access to ${wsName}.`,
    );

  /** The role cell and the Remove cell of a grant's row. */
  const grantCells = (r: Removal, manage: boolean) => (
    <>
      <td>
        {manage ? (
          <RoleSelect label={`Workspace role for ${nameOf(r)}`} roles={data?.roles ?? []} value={r.grant.workspace_role_id} onChange={(role) => void change(r, role)} />
        ) : (
          roleName(r.grant.workspace_role_id)
        )}
      </td>
      {manage && (
        <RowAction label={`Remove access for ${nameOf(r)}`} onClick={() => removal.open(r)}>
          Remove
        </RowAction>
      )}
    </>
  );

  return (
    <section aria-labelledby="sharing-heading">
      <p className="breadcrumb">
        <Link to="/workspaces">All workspaces</Link>
      </p>
      <h1 id="sharing-heading">{data ? `Workspace ${data.workspace.name}` : 'Workspace'}</h1>
      <WhenLoaded loaded={loaded}>
        {(data) => (
          <>
            <p className="page-intro mono">
              {account.account_handle}/{data.workspace.handle}
              {data.workspace.description ? ` — ${data.workspace.description}` : ''}
            </p>
            {(manageUsers || manageBots) && (
              <AddAccess
                accountId={a}
                workspaceId={workspaceId}
                workspaceName={wsName}
                members={data.members}
                roles={data.roles}
                users={manageUsers ? data.users ?? [] : null}
                bots={manageBots ? data.bots ?? [] : null}
                onAdded={() => void reload()}
              />
            )}

            <h2>Users</h2>
            {data.users === null ? (
              <p className="muted">You cannot see this workspace's users.</p>
            ) : (
              <DataTable
                label="Users with access"
                columns={['Name', 'Email', 'Workspace role', manageUsers && { hidden: 'Actions' }]}
                rows={data.users}
                empty="No users have access."
                row={(g) => (
                  <tr key={g.id} data-testid="user-access-row" data-email={g.email}>
                    <th scope="row">{personName(g)}</th>
                    <td>{g.email}</td>
                    {grantCells({ kind: 'user', grant: g }, manageUsers)}
                  </tr>
                )}
              />
            )}

            <h2>Service accounts</h2>
            {data.bots === null ? (
              <p className="muted">You cannot see this workspace's service accounts.</p>
            ) : (
              <DataTable
                label="Service accounts with access"
                columns={['Name', 'Workspace role', manageBots && { hidden: 'Actions' }]}
                rows={data.bots}
                empty="No service accounts have access."
                row={(g) => (
                  <tr key={g.id} data-testid="bot-access-row" data-name={g.bot_name}>
                    <th scope="row">{g.bot_name}</th>
                    {grantCells({ kind: 'bot', grant: g }, manageBots)}
                  </tr>
                )}
              />
            )}
          </>
        )}
      </WhenLoaded>
      {removal.target && (
        <ConfirmDialog {...removal.dialog} title={`Remove access to ${wsName}?`} confirmLabel="Remove access" onConfirm={() => remove(removal.target!)}>
          <p>
            {removal.target.kind === 'user' ? personName(removal.target.grant) : `Service account ${removal.target.grant.bot_name}`} loses access to {wsName} at
            once.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

interface AddProps {
  accountId: string;
  workspaceId: string;
  workspaceName: string;
  members: Membership[];
  roles: WorkspaceRole[];
  /** Null when the caller may not grant to that kind. */
  users: UserAccess[] | null;
  bots: BotAccess[] | null;
  onAdded: () => void;
}

function AddAccess({ accountId, workspaceId, workspaceName, members, roles, users, bots, onAdded }: AddProps) {
  const status = useStatus();
  const principalId = useId();
  const roleId = useId();
  const [principal, setPrincipal] = useState('');
  const [role, setRole] = useState('');
  const { busy, problem, setProblem, attempt } = useAttempt();

  const granted = new Set([...(users ?? []).map((g) => `user:${g.user_id}`), ...(bots ?? []).map((g) => `bot:${g.bot_id}`)]);
  const labelOf = (m: Membership) => (m.user_id ? `${personName(m)}${m.email && personName(m) !== m.email ? ` (${m.email})` : ''}` : m.first_name || m.handle);
  /** The members of one kind without access yet, as options; none where the caller may not grant to that kind. */
  const choices = (label: string, kind: 'user' | 'bot', grants: unknown[] | null) => {
    const idOf = (m: Membership) => (kind === 'user' ? m.user_id : m.bot_id);
    const left = grants === null ? [] : members.filter((m) => idOf(m) && !granted.has(`${kind}:${idOf(m)}`));
    return (
      left.length > 0 && (
        <optgroup label={label}>
          {left.map((m) => (
            <option key={m.id} value={`${kind}:${idOf(m)}`}>
              {labelOf(m)}
            </option>
          ))}
        </optgroup>
      )
    );
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!principal) return setProblem('Choose a member or service account.');
    if (!role) return setProblem('Choose a workspace role.');
    const [kind, id] = principal.split(':') as ['user' | 'bot', string];
    const who = members.find((m) => (kind === 'user' ? m.user_id : m.bot_id) === id);
    await attempt(async () => {
      if (kind === 'user') await api.grantUser(accountId, workspaceId, id, role);
      else await api.grantBot(accountId, workspaceId, id, role);
      status.success(`${who ? labelOf(who) : 'They'} can now reach ${workspaceName} as ${roles.find((r) => r.id === role)?.name ?? 'the chosen role'}.`);
      setPrincipal('');
      onAdded();
    });
  };

  return (
    <form className="add-access" onSubmit={submit} noValidate aria-labelledby={`${principalId}-heading`}>
      <h2 id={`${principalId}-heading`}>Share this workspace</h2>
      <div className="row">
        <div className="field">
          <label htmlFor={principalId}>Member or service account</label>
          <select id={principalId} value={principal} onChange={(e) => setPrincipal(e.target.value)}>
            <option value="">Choose…</option>
            {choices('Users', 'user', users)}
            {choices('Service accounts', 'bot', bots)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={roleId}>Workspace role</label>
          <RoleSelect id={roleId} roles={roles} value={role} onChange={setRole} placeholder="Choose…" />
        </div>
        <div className="field field-button">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Adding…' : 'Add access'}
          </button>
        </div>
      </div>
      <FormError message={problem} />
    </form>
  );
}
