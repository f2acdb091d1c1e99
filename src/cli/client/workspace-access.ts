// `gatehouse workspace-access ls | grant | revoke`: who has which role on a workspace (the profile's
// current one or --workspace); give a service account or a user a role, or take their access away.
// A grant that would change an existing role says so and asks first.
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { checkWorkspaceRef, type ConnectionFlags } from './flags.js';
import { findServiceAccount, findUserId, findWorkspaceRole, workspaceRoleNames } from './lookups.js';
import { printJson, printTable, say } from './output.js';
import { confirm, interactive } from './prompt.js';
import { openSession, targetWorkspace, workspacePath, workspaceRef, type Session, type WorkspaceTarget } from './session.js';

interface Flags extends ConnectionFlags {
  'service-account'?: string;
  user?: string;
  role?: string;
  workspace?: string;
  yes?: boolean;
}

/** Who the grant is for, in the API's terms: bot_access with bot_id, or user_access with user_id. */
interface Principal {
  path: 'bot_access' | 'user_access';
  field: 'bot_id' | 'user_id';
  id: string;
  label: string;
}

async function resolveGrantee(flags: Flags): Promise<{ session: Session; target: WorkspaceTarget; principal: Principal }> {
  if ((flags['service-account'] === undefined) === (flags.user === undefined)) {
    throw new UsageError('give one of --service-account NAME_OR_ID or --user EMAIL');
  }
  const ref = flags.workspace === undefined ? undefined : checkWorkspaceRef(flags.workspace, '--workspace');
  const session = openSession(flags);
  const target = await targetWorkspace(session, ref);
  let principal: Principal;
  if (flags['service-account'] !== undefined) {
    const serviceAccount = await findServiceAccount(session.api, target.account_id, flags['service-account']);
    principal = { path: 'bot_access', field: 'bot_id', id: serviceAccount.id, label: `service account "${serviceAccount.name}"` };
  } else {
    const userId = await findUserId(session.api, target.account_id, flags.user!);
    principal = { path: 'user_access', field: 'user_id', id: userId, label: `user ${flags.user!.trim().toLowerCase()}` };
  }
  return { session, target, principal };
}

interface Grant {
  id: string;
  workspace_role_id: string;
  user_id?: string;
  bot_id?: string;
}

async function existingGrant(session: Session, target: WorkspaceTarget, principal: Principal): Promise<Grant | undefined> {
  const grants = await session.api.filterAll<Grant>(`${workspacePath(target)}/${principal.path}/filter`);
  return grants.find((g) => g[principal.field] === principal.id);
}

export async function accessGrant(input: CommandInput): Promise<number> {
  const flags = input.flags as Flags;
  if (!flags.role) throw new UsageError('missing --role ROLE (built-in: Owner, Developer, Runner, Viewer, Worker)');
  const { session, target, principal } = await resolveGrantee(flags);
  const role = await findWorkspaceRole(session.api, target.account_id, flags.role);
  const existing = await existingGrant(session, target, principal);
  const where = workspaceRef(target);
  const previous = existing ? ((await workspaceRoleNames(session.api, target.account_id)).get(existing.workspace_role_id) ?? existing.workspace_role_id) : null;
  const report = (changed: boolean) =>
    printJson({ workspace: where, principal: principal.path === 'bot_access' ? 'service_account' : 'user', [principal.field]: principal.id, workspace_role: role.name, previous_workspace_role: previous, changed });
  if (existing && existing.workspace_role_id === role.id) {
    if (flags.json) report(false);
    else console.log(`${capitalize(principal.label)} already has workspace role ${role.name} on ${where}; nothing changed.`);
    return 0;
  }
  if (existing && !flags.yes) {
    const change = `${principal.label} has workspace role ${previous} on ${where}`;
    if (!interactive()) throw new UsageError(`${change}; pass --yes to change it to ${role.name}`);
    if (!(await confirm(`${capitalize(change)}. Change it to ${role.name}?`))) {
      say('Nothing changed.');
      return 1;
    }
  }
  await session.api.post(`${workspacePath(target)}/${principal.path}/`, { [principal.field]: principal.id, workspace_role_id: role.id });
  if (flags.json) report(true);
  else if (existing) console.log(`Changed the workspace role of ${principal.label} on ${where} from ${previous} to ${role.name}.`);
  else console.log(`Granted ${principal.label} workspace role ${role.name} on ${where}.`);
  return 0;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export async function accessRevoke(input: CommandInput): Promise<number> {
  const flags = input.flags as Flags;
  const { session, target, principal } = await resolveGrantee(flags);
  const existing = await existingGrant(session, target, principal);
  if (!existing) throw new Error(`${principal.label} has no access to workspace ${workspaceRef(target)}; nothing to revoke`);
  await session.api.delete(`${workspacePath(target)}/${principal.path}/${existing.id}`);
  if (flags.json) printJson({ workspace: workspaceRef(target), principal: principal.path === 'bot_access' ? 'service_account' : 'user', [principal.field]: principal.id, revoked: true });
  else console.log(`Revoked the access of ${principal.label} to ${workspaceRef(target)}.`);
  return 0;
}

interface UserGrant extends Grant {
  user_id: string;
  email: string;
  first_name: string;
  last_name: string;
}

interface ServiceAccountGrant extends Grant {
  bot_id: string;
  bot_name: string;
}

export async function accessList(input: CommandInput): Promise<number> {
  const flags = input.flags as Flags;
  const ref = flags.workspace === undefined ? undefined : checkWorkspaceRef(flags.workspace, '--workspace');
  const session = openSession(flags);
  const target = await targetWorkspace(session, ref);
  const [users, bots, roles] = await Promise.all([
    session.api.filterAll<UserGrant>(`${workspacePath(target)}/user_access/filter`),
    session.api.filterAll<ServiceAccountGrant>(`${workspacePath(target)}/bot_access/filter`),
    workspaceRoleNames(session.api, target.account_id),
  ]);
  const roleName = (id: string) => roles.get(id) ?? id;
  const rows = [
    ...users.map((u) => ({
      type: 'user' as const,
      name: u.email,
      user_id: u.user_id,
      workspace_role: roleName(u.workspace_role_id),
      workspace_role_id: u.workspace_role_id,
      access_id: u.id,
    })),
    ...bots.map((b) => ({
      type: 'service_account' as const,
      name: b.bot_name,
      bot_id: b.bot_id,
      workspace_role: roleName(b.workspace_role_id),
      workspace_role_id: b.workspace_role_id,
      access_id: b.id,
    })),
  ];
  if (flags.json) printJson({ workspace: workspaceRef(target), workspace_id: target.workspace_id, access: rows });
  else {
    say(`Access to workspace ${workspaceRef(target)} (account Owners and Admins also act as its Owner):`);
    if (!rows.length) say('No user or service account has been granted a role here.');
    else printTable(['TYPE', 'NAME', 'ROLE'], rows.map((r) => [r.type === 'user' ? 'user' : 'service account', r.name, r.workspace_role]));
  }
  return 0;
}
