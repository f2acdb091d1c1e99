// Workspace roles (built-in and custom) with their scopes by feature group; custom ones are editable.
// The account roles are listed for reference.
import { useState } from 'react';
import { api, type AccountRole, type WorkspaceRole, type WorkspaceScope } from '../api';
import { ConfirmDialog } from '../components/Dialog';
import { PageHeader } from '../components/PageHeader';
import { WhenLoaded } from '../components/PageState';
import { RoleEditorDialog, groupScopes } from '../components/RoleEditor';
import { DataTable } from '../components/Table';
import { useAccount } from '../context';
import { useConfirm, useLoad } from '../hooks';

async function load(accountId: string) {
  const [roles, scopes, accountRoles] = await Promise.all([
    api.workspaceRoles(accountId),
    api.workspaceScopes(),
    api.accountRoles(accountId).catch(() => [] as AccountRole[]),
  ]);
  return { roles, scopes, accountRoles };
}

type Open = { kind: 'create' } | { kind: 'edit'; role: WorkspaceRole } | null;

export function RolesPage() {
  const { account, can } = useAccount();
  const a = account.account_id;
  const loaded = useLoad(() => load(a), [a]);
  const { data, reload } = loaded;
  const [open, setOpen] = useState<Open>(null);
  const deletion = useConfirm<WorkspaceRole>(reload);

  const builtIn = data?.roles.filter((r) => r.account_id === null) ?? [];
  const custom = data?.roles.filter((r) => r.account_id !== null).sort((x, y) => x.name.localeCompare(y.name)) ?? [];
  const nameOf = (id: string | null) => data?.roles.find((r) => r.id === id)?.name ?? null;

  const remove = (role: WorkspaceRole) =>
    deletion.run(() => api.deleteWorkspaceRole(a, role.id), `Workspace role ${role.name} deleted.`);

  const card = (role: WorkspaceRole, scopes: WorkspaceScope[]) => {
    const isCustom = role.account_id !== null;
    const inherited = nameOf(role.inherited_role_id);
    return (
      <article key={role.id} className="role-card" aria-labelledby={`role-${role.id}`} data-testid="workspace-role" data-name={role.name}>
        <div className="role-card-header">
          <h3 id={`role-${role.id}`}>{role.name}</h3>
          <span className="badge">{isCustom ? 'Custom' : 'Built-in'}</span>
          {isCustom && (
            <span className="role-actions">
              {can('update:workspace_role') && (
                <button type="button" aria-label={`Edit role ${role.name}`} onClick={() => setOpen({ kind: 'edit', role })}>
                  Edit
                </button>
              )}
              {can('delete:workspace_role') && (
                <button type="button" className="danger-text" aria-label={`Delete role ${role.name}`} onClick={() => deletion.open(role)}>
                  Delete
                </button>
              )}
            </span>
          )}
        </div>
        {role.description && <p>{role.description}</p>}
        {inherited && <p className="muted">Also holds every scope of {inherited}.</p>}
        <details>
          <summary>
            {role.scopes.length} scope{role.scopes.length === 1 ? '' : 's'}
            <span className="sr-only"> of {role.name}</span>
          </summary>
          {groupScopes(scopes)
            .map(([group, list]) => [group, list.filter((s) => role.scopes.includes(s.name))] as const)
            .filter(([, list]) => list.length > 0)
            .map(([group, list]) => (
              <div key={group} className="scope-group">
                <h4>{group}</h4>
                <ul>
                  {list.map((s) => (
                    <li key={s.name}>
                      {s.title} <code>{s.name}</code>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
        </details>
      </article>
    );
  };

  return (
    <section aria-labelledby="roles-heading">
      <PageHeader id="roles-heading" title="Roles">
        {can('create:workspace_role') && (
          <button type="button" className="primary" onClick={() => setOpen({ kind: 'create' })}>
            Create workspace role
          </button>
        )}
      </PageHeader>
      <p className="page-intro">
        A workspace role is a set of scopes granted to a user or service account in one workspace. Built-in roles cannot be changed; create a custom
        role for another set.
      </p>
      <WhenLoaded loaded={loaded}>
        {(data) => (
          <>
            <h2>Built-in workspace roles</h2>
            <div className="role-list">{builtIn.map((r) => card(r, data.scopes))}</div>
            <h2>Custom workspace roles</h2>
            {custom.length === 0 ? <p className="empty">No custom workspace roles yet.</p> : <div className="role-list">{custom.map((r) => card(r, data.scopes))}</div>}
            {data.accountRoles.length > 0 && (
              <>
                <h2>Account roles</h2>
                <DataTable
                  label="Account roles"
                  columns={['Role', 'Permissions']}
                  rows={data.accountRoles}
                  row={(r) => (
                    <tr key={r.id}>
                      <th scope="row">{r.name}</th>
                      <td>
                        <details>
                          <summary>
                            {r.permissions?.length ?? 0} permissions<span className="sr-only"> of {r.name}</span>
                          </summary>
                          <p className="mono small">{(r.permissions ?? []).join(', ')}</p>
                        </details>
                      </td>
                    </tr>
                  )}
                />
              </>
            )}
          </>
        )}
      </WhenLoaded>

      {data && (open?.kind === 'create' || open?.kind === 'edit') && (
        <RoleEditorDialog
          accountId={a}
          role={open.kind === 'edit' ? open.role : null}
          builtIn={builtIn}
          scopes={data.scopes}
          onClose={() => setOpen(null)}
          onSaved={() => void reload()}
        />
      )}
      {deletion.target && (
        <ConfirmDialog {...deletion.dialog} title={`Delete workspace role ${deletion.target.name}?`} confirmLabel="Delete role" onConfirm={() => remove(deletion.target!)}>
          <p>A role that is still granted in a workspace cannot be deleted: change or remove those grants first.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
