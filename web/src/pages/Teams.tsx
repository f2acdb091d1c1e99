// The account's teams: named groups of its people and service accounts, granted workspace roles as a
// whole. A member's scopes in a workspace are their own role's and each of their teams' roles'
// together; taking someone out of a team ends what it gave them at once. Owners and Admins change
// teams; every member of the account sees them.
import { useState, type FormEvent } from 'react';
import { api, type Team } from '../api';
import { Field, FormError } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { PageState } from '../components/PageState';
import { RoleSelect } from '../components/RoleSelect';
import { useStatus } from '../components/Status';
import { DataTable } from '../components/Table';
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
  const status = useStatus();
  const a = account.account_id;
  const editable = can('update:team');
  const { data, error, reload } = useLoad(() => load(a, editable), [a, editable]);
  const { busy, problem, setProblem, change } = useChange(reload, (message) => status.success(message));
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const given = name.trim();
    if (!given) return setProblem('Enter a name for the team, such as data-platform.');
    const ok = await change(() => api.createTeam(a, given, description.trim() || null), `Created team ${given}.`);
    if (ok) {
      setName('');
      setDescription('');
    }
  };

  return (
    <div>
      <PageHeader id="teams-title" title="Teams" />
      <PageState ready={data !== undefined} error={error} onRetry={() => void reload()}>
        {data && (
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
              <form onSubmit={(e) => void create(e)} aria-labelledby="teams-create">
                <h2 id="teams-create">Create a team</h2>
                <Field label="Team name" value={name} onChange={setName} placeholder="data-platform" />
                <Field label="Description" value={description} onChange={setDescription} placeholder="Runs the data platform" />
                <button type="submit" className="primary" disabled={busy}>
                  Create team
                </button>
              </form>
            )}
          </>
        )}
      </PageState>
    </div>
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
        <button type="button" disabled={busy} aria-label={`Rename ${team.name}`} onClick={() => setRenaming(true)}>
          Rename
        </button>
      )}{' '}
      {deletable && (
        <button type="button" className="danger-text" disabled={busy} aria-label={`Delete team ${team.name}`} onClick={() => void change(() => api.removeTeam(a, team.id), `Deleted team ${team.name}.`)}>
          Delete team
        </button>
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
              <td>
                <button
                  type="button"
                  className="danger-text"
                  disabled={busy}
                  aria-label={`Remove ${m.email ?? m.name} from ${team.name}`}
                  onClick={() => void change(() => api.removeTeamMember(a, team.id, m.id), `Removed ${m.email ?? m.name} from ${team.name}.`)}
                >
                  Remove
                </button>
              </td>
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
              <td>
                <button
                  type="button"
                  className="danger-text"
                  disabled={busy}
                  aria-label={`Take ${team.name}'s role on ${w.workspace_handle} away`}
                  onClick={() => void change(() => api.revokeTeam(a, w.workspace_id, team.id), `${team.name} no longer has a role on ${w.workspace_handle}.`)}
                >
                  Remove
                </button>
              </td>
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
