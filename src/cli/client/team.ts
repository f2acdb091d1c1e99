// `gatehouse team ls | add | rm | add-member | rm-member | grant | revoke`: the teams of the profile's
// account (docs/teams.md), their members, and their roles on workspaces, through Prefect's team routes.
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { checkWorkspaceRef, type ConnectionFlags } from './flags.js';
import { findServiceAccount, findUserId, findWorkspaceRole, workspaceRoleNames } from './lookups.js';
import type { Answer } from './http.js';
import { printJson, printTable, say } from './output.js';
import { confirm, interactive } from './prompt.js';
import { openSession, targetWorkspace, workspaceRef, type Session } from './session.js';

const TEAMS = '/api/accounts/{account_id}/teams/filter';
const ONE = '/api/accounts/{account_id}/teams/{team_id}';
const TEAM_ACCESS = '/api/accounts/{account_id}/workspaces/{workspace_id}/team_access/';

type Team = Answer<'post', typeof TEAMS>[number];

interface Flags extends ConnectionFlags {
  description?: string;
  'service-account'?: string;
  user?: string;
  role?: string;
  workspace?: string;
  yes?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A team of the profile's account, by its exact name or its id. */
async function findTeam(session: Session, ref: string): Promise<Team> {
  const all = await session.api.filterAll(TEAMS, { account_id: session.profile.account_id });
  const found = all.find((t) => t.name === ref) ?? (UUID.test(ref) ? all.find((t) => t.id === ref.toLowerCase()) : undefined);
  if (!found) throw new Error(`no team named "${ref}" in account ${session.profile.account_handle}; gatehouse team ls lists them`);
  return found;
}

/** What every command on one team starts with: its flags, a session, and the team its first argument names. */
async function openTeam({ flags, args }: CommandInput): Promise<{ f: Flags; session: Session; team: Team }> {
  const f = flags as Flags;
  const session = openSession(f);
  return { f, session, team: await findTeam(session, args[0]!) };
}

/** The member --user or --service-account names, as the members route takes it. */
async function memberOf(session: Session, flags: Flags): Promise<{ member_id: string; member_type: 'user' | 'service_account'; label: string }> {
  if ((flags['service-account'] === undefined) === (flags.user === undefined)) throw new UsageError('give one of --user EMAIL or --service-account NAME_OR_ID');
  const accountId = session.profile.account_id;
  if (flags.user !== undefined) return { member_id: await findUserId(session.api, accountId, flags.user), member_type: 'user', label: `user ${flags.user.trim().toLowerCase()}` };
  const bot = await findServiceAccount(session.api, accountId, flags['service-account']!);
  return { member_id: bot.id, member_type: 'service_account', label: `service account "${bot.name}"` };
}

export async function teamList({ flags }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const teams = await session.api.filterAll(TEAMS, { account_id: session.profile.account_id });
  if (flags.json) printJson(teams);
  else if (!teams.length) say(`Account ${session.profile.account_handle} has no teams.`);
  else {
    printTable(
      ['NAME', 'MEMBERS', 'WORKSPACES', 'DESCRIPTION'],
      teams.map((t) => [
        t.name,
        t.memberships.map((m) => (m.type === 'user' ? (m.email ?? m.handle) : m.name)).join(', ') || 'none',
        t.workspaces.map((w) => `${w.workspace_handle}:${w.workspace_role_name}`).join(', ') || 'none',
        t.description,
      ]),
    );
  }
  return 0;
}

export async function teamAdd({ flags, args }: CommandInput): Promise<number> {
  const f = flags as Flags;
  const session = openSession(f);
  const created = await session.api.post('/api/accounts/{account_id}/teams/', { account_id: session.profile.account_id }, { name: args[0]!, description: f.description ?? null });
  if (f.json) printJson(created);
  else console.log(`Created team "${created.name}" in account ${session.profile.account_handle}.`);
  return 0;
}

export async function teamRemove(input: CommandInput): Promise<number> {
  const { f, session, team } = await openTeam(input);
  if (!f.yes) {
    const what = `team "${team.name}" (${team.memberships.length} members, ${team.workspaces.length} workspace roles)`;
    if (!interactive()) throw new UsageError(`pass --yes to delete ${what}`);
    if (!(await confirm(`Delete ${what}? Its members lose what it granted at once.`))) {
      say('Nothing changed.');
      return 1;
    }
  }
  await session.api.delete(ONE, { account_id: session.profile.account_id, team_id: team.id });
  if (f.json) printJson({ team: team.name, team_id: team.id, deleted: true });
  else console.log(`Deleted team "${team.name}".`);
  return 0;
}

export async function teamAddMember(input: CommandInput): Promise<number> {
  const { f, session, team } = await openTeam(input);
  const member = await memberOf(session, f);
  const ids = { account_id: session.profile.account_id, team_id: team.id };
  const after = await session.api.put('/api/accounts/{account_id}/teams/{team_id}/members', ids, { members: [{ member_id: member.member_id, member_type: member.member_type }] });
  if (f.json) printJson(after);
  else console.log(`${member.label.charAt(0).toUpperCase()}${member.label.slice(1)} is a member of team "${team.name}".`);
  return 0;
}

export async function teamRemoveMember(input: CommandInput): Promise<number> {
  const { f, session, team } = await openTeam(input);
  const member = await memberOf(session, f);
  const found = team.memberships.find((m) => m.member_id === member.member_id);
  if (!found) throw new Error(`${member.label} is not a member of team "${team.name}"; nothing to remove`);
  await session.api.delete('/api/accounts/{account_id}/teams/{team_id}/members/{actor_id}', { account_id: session.profile.account_id, team_id: team.id, actor_id: found.id });
  if (f.json) printJson({ team: team.name, team_id: team.id, member_id: member.member_id, member_type: member.member_type, removed: true });
  else console.log(`Removed ${member.label} from team "${team.name}".`);
  return 0;
}

async function workspaceOf(session: Session, flags: Flags) {
  const ref = flags.workspace === undefined ? undefined : checkWorkspaceRef(flags.workspace, '--workspace');
  return targetWorkspace(session, ref);
}

export async function teamGrant(input: CommandInput): Promise<number> {
  const roleName = (input.flags as Flags).role;
  if (!roleName) throw new UsageError('missing --role ROLE (built-in: Owner, Developer, Runner, Viewer, Worker)');
  const { f, session, team } = await openTeam(input);
  const target = await workspaceOf(session, f);
  const role = await findWorkspaceRole(session.api, target.account_id, roleName);
  const [granted] = await session.api.put(TEAM_ACCESS, target, [{ team_id: team.id, workspace_role_id: role.id }]);
  if (f.json) printJson({ team: team.name, team_id: team.id, workspace: workspaceRef(target), workspace_role: role.name, access_id: granted?.id });
  else console.log(`Team "${team.name}" has workspace role ${role.name} on ${workspaceRef(target)}.`);
  return 0;
}

export async function teamRevoke(input: CommandInput): Promise<number> {
  const { f, session, team } = await openTeam(input);
  const target = await workspaceOf(session, f);
  const grants = await session.api.filterAll('/api/accounts/{account_id}/workspaces/{workspace_id}/team_access/filter', target);
  const grant = grants.find((g) => g.team_id === team.id);
  if (!grant) throw new Error(`team "${team.name}" has no role on workspace ${workspaceRef(target)}; nothing to revoke`);
  const roles = await workspaceRoleNames(session.api, target.account_id);
  await session.api.delete('/api/accounts/{account_id}/workspaces/{workspace_id}/team_access/{team_id}', { ...target, team_id: team.id });
  if (f.json) printJson({ team: team.name, team_id: team.id, workspace: workspaceRef(target), revoked: true });
  else console.log(`Revoked the role ${roles.get(grant.workspace_role_id) ?? grant.workspace_role_id} of team "${team.name}" on ${workspaceRef(target)}.`);
  return 0;
}
