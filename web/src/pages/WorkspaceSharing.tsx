// One workspace's sharing: users and service accounts with their workspace roles; add, change, remove.
import { useId, useState, type FormEvent } from 'react';
import { api, errorMessage, type BotAccess, type Membership, type UserAccess, type WorkspaceRole } from '../api';
import { ConfirmDialog } from '../components/Dialog';
import { FormError } from '../components/Field';
import { PageState } from '../components/PageState';
import { useStatus } from '../components/Status';
import { useAccount } from '../context';
import { personName } from '../format';
import { useLoad } from '../hooks';
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
  const { data, error, reload } = useLoad(() => load(account.account_id, workspaceId), [account.account_id, workspaceId]);
  const [removal, setRemoval] = useState<Removal | null>(null);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);

  const a = account.account_id;
  const manageUsers = data?.scopes.has('manage_workspace_users') ?? false;
  const manageBots = data?.scopes.has('manage_workspace_service_accounts') ?? false;
  const roleName = (id: string) => data?.roles.find((r) => r.id === id)?.name ?? 'Unknown role';
  const wsName = data?.workspace.name ?? '';

  const changeUser = async (g: UserAccess, roleId: string) => {
    try {
      await api.grantUser(a, workspaceId, g.user_id, roleId);
      status.success(`${personName(g)} is now ${roleName(roleId)} in ${wsName}.`);
    } catch (err) {
      status.error(err, `Could not change the role of ${personName(g)}`);
    }
    void reload();
  };
  const changeBot = async (g: BotAccess, roleId: string) => {
    try {
      await api.grantBot(a, workspaceId, g.bot_id, roleId);
      status.success(`${g.bot_name} is now ${roleName(roleId)} in ${wsName}.`);
    } catch (err) {
      status.error(err, `Could not change the role of ${g.bot_name}`);
    }
    void reload();
  };

  const remove = async (r: Removal) => {
    setRemoving(true);
    setRemoveError(null);
    try {
      if (r.kind === 'user') await api.revokeUser(a, workspaceId, r.grant.id);
      else await api.revokeBot(a, workspaceId, r.grant.id);
      setRemoval(null);
      status.success(`${r.kind === 'user' ? personName(r.grant) : r.grant.bot_name} no longer has access to ${wsName}.`);
      void reload();
    } catch (err) {
      setRemoveError(errorMessage(err));
    } finally {
      setRemoving(false);
    }
  };

  return (
    <section aria-labelledby="sharing-heading">
      <p className="breadcrumb">
        <Link to="/workspaces">All workspaces</Link>
      </p>
      <h1 id="sharing-heading">{data ? `Workspace ${data.workspace.name}` : 'Workspace'}</h1>
      <PageState ready={data !== undefined} error={error} onRetry={() => void reload()}>
        {data && (
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
            ) : data.users.length === 0 ? (
              <p className="empty">No users have access.</p>
            ) : (
              <div className="table-scroll">
                <table aria-label="Users with access">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Email</th>
                      <th scope="col">Workspace role</th>
                      {manageUsers && (
                        <th scope="col">
                          <span className="sr-only">Actions</span>
                        </th>
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {data.users.map((g) => (
                      <tr key={g.id} data-testid="user-access-row" data-email={g.email}>
                        <th scope="row">{personName(g)}</th>
                        <td>{g.email}</td>
                        <td>
                          {manageUsers ? (
                            <RoleSelect label={`Workspace role for ${personName(g)}`} roles={data.roles} value={g.workspace_role_id} onChange={(r) => void changeUser(g, r)} />
                          ) : (
                            roleName(g.workspace_role_id)
                          )}
                        </td>
                        {manageUsers && (
                          <td>
                            <button type="button" className="danger-text" onClick={() => setRemoval({ kind: 'user', grant: g })} aria-label={`Remove access for ${personName(g)}`}>
                              Remove
                            </button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}

            <h2>Service accounts</h2>
            {data.bots === null ? (
              <p className="muted">You cannot see this workspace's service accounts.</p>
            ) : data.bots.length === 0 ? (
              <p className="empty">No service accounts have access.</p>
            ) : (
              <div className="table-scroll">
                <table aria-label="Service accounts with access">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Workspace role</th>
                      {manageBots && (
                        <th scope="col">
                          <span className="sr-only">Actions</span>
                        </th>
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {data.bots.map((g) => (
                      <tr key={g.id} data-testid="bot-access-row" data-name={g.bot_name}>
                        <th scope="row">{g.bot_name}</th>
                        <td>
                          {manageBots ? (
                            <RoleSelect label={`Workspace role for ${g.bot_name}`} roles={data.roles} value={g.workspace_role_id} onChange={(r) => void changeBot(g, r)} />
                          ) : (
                            roleName(g.workspace_role_id)
                          )}
                        </td>
                        {manageBots && (
                          <td>
                            <button type="button" className="danger-text" onClick={() => setRemoval({ kind: 'bot', grant: g })} aria-label={`Remove access for ${g.bot_name}`}>
                              Remove
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
      </PageState>
      {removal && (
        <ConfirmDialog
          title={`Remove access to ${wsName}?`}
          confirmLabel="Remove access"
          busy={removing}
          error={removeError}
          onClose={() => setRemoval(null)}
          onConfirm={() => remove(removal)}
        >
          <p>
            {removal.kind === 'user' ? personName(removal.grant) : `Service account ${removal.grant.bot_name}`} loses access to {wsName} at once.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function RoleSelect({ label, roles, value, onChange }: { label: string; roles: WorkspaceRole[]; value: string; onChange: (roleId: string) => void }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      {roles.map((r) => (
        <option key={r.id} value={r.id}>
          {r.name}
        </option>
      ))}
    </select>
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
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const granted = new Set([...(users ?? []).map((g) => `user:${g.user_id}`), ...(bots ?? []).map((g) => `bot:${g.bot_id}`)]);
  const userChoices = users === null ? [] : members.filter((m) => m.user_id && !granted.has(`user:${m.user_id}`));
  const botChoices = bots === null ? [] : members.filter((m) => m.bot_id && !granted.has(`bot:${m.bot_id}`));
  const labelOf = (m: Membership) => (m.user_id ? `${personName(m)}${m.email && personName(m) !== m.email ? ` (${m.email})` : ''}` : m.first_name || m.handle);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!principal) return setError('Choose a member or service account.');
    if (!role) return setError('Choose a workspace role.');
    setError(null);
    setBusy(true);
    const [kind, id] = principal.split(':') as ['user' | 'bot', string];
    const who = members.find((m) => (kind === 'user' ? m.user_id : m.bot_id) === id);
    try {
      if (kind === 'user') await api.grantUser(accountId, workspaceId, id, role);
      else await api.grantBot(accountId, workspaceId, id, role);
      status.success(`${who ? labelOf(who) : 'They'} can now reach ${workspaceName} as ${roles.find((r) => r.id === role)?.name ?? 'the chosen role'}.`);
      setPrincipal('');
      onAdded();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="add-access" onSubmit={submit} noValidate aria-labelledby={`${principalId}-heading`}>
      <h2 id={`${principalId}-heading`}>Share this workspace</h2>
      <div className="row">
        <div className="field">
          <label htmlFor={principalId}>Member or service account</label>
          <select id={principalId} value={principal} onChange={(e) => setPrincipal(e.target.value)}>
            <option value="">Choose…</option>
            {userChoices.length > 0 && (
              <optgroup label="Users">
                {userChoices.map((m) => (
                  <option key={m.id} value={`user:${m.user_id}`}>
                    {labelOf(m)}
                  </option>
                ))}
              </optgroup>
            )}
            {botChoices.length > 0 && (
              <optgroup label="Service accounts">
                {botChoices.map((m) => (
                  <option key={m.id} value={`bot:${m.bot_id}`}>
                    {labelOf(m)}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </div>
        <div className="field">
          <label htmlFor={roleId}>Workspace role</label>
          <select id={roleId} value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">Choose…</option>
            {roles.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-button">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Adding…' : 'Add access'}
          </button>
        </div>
      </div>
      <FormError message={error} />
    </form>
  );
}
