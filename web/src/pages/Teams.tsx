// The account's teams: named groups of its people and service accounts, granted workspace roles as a
// whole. A member's scopes in a workspace are their own role's and each of their teams' roles'
// together; taking someone out of a team ends what it gave them at once. Owners and Admins change
// teams; every member of the account sees them.
import { useState, type FormEvent } from 'react';
import { api, type Team } from '../api';
import { ActionButton } from '../components/ActionButton';
import { Field, FormError } from '../components/Field';
import { PageForm } from '../components/PageForm';
import { LoadedPage } from '../components/PageState';
import { RoleSelect } from '../components/RoleSelect';
import { DataTable, RowAction } from '../components/Table';
import { useAccount } from '../context';
import { useChange, useLoad } from '../hooks';

async function load(a: string, editable: boolean) {
  const teams = await api.teams(a);
  if (!editable) return { teams, people: [], bots: [], workspaces: [], roles: [] };
  const [people, bots, workspaces, roles] = await Promise.all([api.memberships(a, 'users'), api.serviceAccounts(a), api.workspaces(a), api.workspaceRoles(a)]);
  return { teams, people, bots, workspaces, roles };
}

type Loaded = Awaited<ReturnType<typeof load>>;
type Change = ReturnType<typeof useChange>['change'];

export function TeamsPage() {
  const { account, can } = useAccount();
  const a = account.account_id;
  const editable = can('update:team');
  const loaded = useLoad(() => load(a, editable), [a, editable]);
  const { busy, problem, setProblem, change } = useChange(loaded.reload);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');

  const create = async () => {
    const given = name.trim();
    if (!given) return setProblem('Enter a name for the team, such as data-platform.');
    const ok = await change(() => api.createTeam(a, given, description.trim() || null), `Created team ${given}.`);
    if (ok) {
      setName('');
      setDescription('');
    }
  };

  return (
    <LoadedPage id="teams-title" title="Teams" loaded={loaded}>
      {(data) => (
        <>
          <p>
            A team groups people and service accounts of the account and is given workspace roles as a whole. In a workspace, a
            member can do what their own role there allows and what each of their teams' roles allows. Taking someone out of a
            team, or a team's role away, ends what it gave them at once.
          </p>
          <FormError message={problem} />
          {data.teams.length === 0 && <p data-testid="no-teams">No teams yet.</p>}
          {data.teams.map((team) => (
            <TeamSection key={team.id} team={team} data={data} editable={editable} deletable={can('delete:team')} busy={busy} change={change} />
          ))}
          {can('create:team') && (
            <PageForm id="teams-create" title="Create a team" onSubmit={create} busy={busy} submitLabel="Create team">
              <Field label="Team name" value={name} onChange={setName} placeholder="data-platform" />
              <Field label="Description" value={description} onChange={setDescription} placeholder="Runs the data platform" />
            </PageForm>
          )}
        </>
      )}
    </LoadedPage>
  );
}

function TeamSection({ team, data, editable, deletable, busy, change }: { team: Team; data: Loaded; editable: boolean; deletable: boolean; busy: boolean; change: Change }) {
  const { account } = useAccount();
  const a = account.account_id;
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(team.name);
  const [description, setDescription] = useState(team.description);
  const [member, setMember] = useState('');
  const [workspace, setWorkspace] = useState('');
  const [role, setRole] = useState('');
  const titleId = `team-${team.id}`;

  const inTeam = new Set(team.memberships.map((m) => m.member_id));
  const candidates = [
    ...data.people.filter((p) => p.user_id && !inTeam.has(p.user_id)).map((p) => ({ value: `user:${p.user_id}`, label: p.email ?? p.handle ?? p.user_id! })),
    ...data.bots.filter((b) => !inTeam.has(b.id)).map((b) => ({ value: `service_account:${b.id}`, label: `${b.name} (service account)` })),
  ];
  const granted = new Set(team.workspaces.map((w) => w.workspace_id));

  const rename = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await change(() => api.updateTeam(a, team.id, name.trim(), description.trim() || null), `Saved team ${name.trim()}.`);
    if (ok) setRenaming(false);
  };
  const addMember = async (e: FormEvent) => {
    e.preventDefault();
    const chosen = candidates.find((c) => c.value === member);
    if (!chosen) return;
    const [type, id] = chosen.value.split(':') as ['user' | 'service_account', string];
    // Cleared now, not once the list has reloaded: a choice made meanwhile is the next one.
    setMember('');
    await change(() => api.addTeamMember(a, team.id, id, type), `Added ${chosen.label} to ${team.name}.`);
  };
  const grant = async (e: FormEvent) => {
    e.preventDefault();
    const ws = data.workspaces.find((w) => w.id === workspace);
    const r = data.roles.find((x) => x.id === role);
    if (!ws || !r) return;
    setWorkspace('');
    await change(() => api.grantTeam(a, ws.id, team.id, r.id), `${team.name} has role ${r.name} on ${ws.handle}.`);
  };

  return (
    <section aria-labelledby={titleId} className="team" data-testid="team" data-name={team.name}>
      <h2 id={titleId}>{team.name}</h2>
      {team.description && <p className="muted">{team.description}</p>}
      {editable && !renaming && (
        <ActionButton label={`Rename ${team.name}`} disabled={busy} onClick={() => setRenaming(true)}>
          Rename
        </ActionButton>
      )}{' '}
      {deletable && (
        <ActionButton danger label={`Delete team ${team.name}`} disabled={busy} onClick={() => void change(() => api.removeTeam(a, team.id), `Deleted team ${team.name}.`)}>
          Delete team
        </ActionButton>
      )}
      {renaming && (
        <form onSubmit={(e) => void rename(e)} aria-label={`Rename ${team.name}`}>
          <Field label="Team name" value={name} onChange={setName} />
          <Field label="Description" value={description} onChange={setDescription} />
          <button type="submit" className="primary" disabled={busy}>
            Save
          </button>{' '}
          <button type="button" onClick={() => setRenaming(false)}>
            Cancel
          </button>
        </form>
      )}
      <DataTable
        label={`Members of ${team.name}`}
        testId="team-members"
        columns={['Member', 'Type', editable && { hidden: 'Actions' }]}
        rows={team.memberships}
        empty="No members yet."
        row={(m) => (
          <tr key={m.id} data-testid="team-member-row" data-member={m.email ?? m.name}>
            <td>{m.type === 'user' ? (m.email ?? m.handle) : m.name}</td>
            <td>{m.type === 'user' ? 'Person' : 'Service account'}</td>
            {editable && (
              <RowAction
                label={`Remove ${m.email ?? m.name} from ${team.name}`}
                disabled={busy}
                onClick={() => void change(() => api.removeTeamMember(a, team.id, m.id), `Removed ${m.email ?? m.name} from ${team.name}.`)}
              >
                Remove
              </RowAction>
            )}
          </tr>
        )}
      />
      {editable && candidates.length > 0 && (
        <form onSubmit={(e) => void addMember(e)} aria-label={`Add a member to ${team.name}`} className="inline-form">
          <label htmlFor={`${titleId}-member`}>Add a member</label>{' '}
          <select id={`${titleId}-member`} value={member} onChange={(e) => setMember(e.target.value)}>
            <option value="">Choose…</option>
            {candidates.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>{' '}
          <button type="submit" disabled={busy || !member}>
            Add
          </button>
        </form>
      )}
      <DataTable
        label={`Workspace roles of ${team.name}`}
        testId="team-workspaces"
        columns={['Workspace', 'Role', editable && { hidden: 'Actions' }]}
        rows={team.workspaces}
        empty="No workspace roles yet."
        row={(w) => (
          <tr key={w.workspace_id} data-testid="team-workspace-row" data-workspace={w.workspace_handle}>
            <td>{w.workspace_handle}</td>
            <td>{w.workspace_role_name}</td>
            {editable && (
              <RowAction
                label={`Take ${team.name}'s role on ${w.workspace_handle} away`}
                disabled={busy}
                onClick={() => void change(() => api.revokeTeam(a, w.workspace_id, team.id), `${team.name} no longer has a role on ${w.workspace_handle}.`)}
              >
                Remove
              </RowAction>
            )}
          </tr>
        )}
      />
      {editable && (
        <form onSubmit={(e) => void grant(e)} aria-label={`Give ${team.name} a workspace role`} className="inline-form">
          <label htmlFor={`${titleId}-workspace`}>Workspace</label>{' '}
          <select id={`${titleId}-workspace`} value={workspace} onChange={(e) => setWorkspace(e.target.value)}>
            <option value="">Choose…</option>
            {data.workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.handle}
                {granted.has(w.id) ? ' (change role)' : ''}
              </option>
            ))}
          </select>{' '}
          <label htmlFor={`${titleId}-role`}>Role</label> <RoleSelect id={`${titleId}-role`} roles={data.roles} value={role} onChange={setRole} placeholder="Choose…" />{' '}
          <button type="submit" disabled={busy || !workspace || !role}>
            Give role
          </button>
        </form>
      )}
    </section>
  );
}
