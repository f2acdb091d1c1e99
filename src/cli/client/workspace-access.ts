// `gatehouse workspace-access grant | revoke`: give a service account or a user a workspace role on
// a workspace (the profile's current one or --workspace), or take their access away.
import { UsageError } from '../args.js';
import { checkWorkspaceRef, dispatch, parseCommand, type ConnectionFlags } from './flags.js';
import { findServiceAccount, findUserId, findWorkspaceRole } from './lookups.js';
import { openSession, targetWorkspace, workspacePath, workspaceRef, type Session, type WorkspaceTarget } from './session.js';

interface Flags extends ConnectionFlags {
  'service-account'?: string;
  user?: string;
  role?: string;
  workspace?: string;
}

/** Who the grant is for, in the API's terms: bot_access with bot_id, or user_access with user_id. */
interface Principal {
  path: 'bot_access' | 'user_access';
  field: 'bot_id' | 'user_id';
  id: string;
  label: string;
}

const options = {
  'service-account': { type: 'string' },
  user: { type: 'string' },
  workspace: { type: 'string' },
} as const;

async function resolveGrantee(flags: Flags): Promise<{ session: Session; target: WorkspaceTarget; principal: Principal }> {
  if ((flags['service-account'] === undefined) === (flags.user === undefined)) {
    throw new UsageError('Give one of --service-account NAME_OR_ID or --user EMAIL');
  }
  const ref = flags.workspace === undefined ? undefined : checkWorkspaceRef(flags.workspace, '--workspace');
  const session = openSession(flags);
  const target = await targetWorkspace(session, ref);
  let principal: Principal;
  if (flags['service-account'] !== undefined) {
    const bot = await findServiceAccount(session.api, target.account_id, flags['service-account']);
    principal = { path: 'bot_access', field: 'bot_id', id: bot.id, label: `service account "${bot.name}"` };
  } else {
    const userId = await findUserId(session.api, target.account_id, flags.user!);
    principal = { path: 'user_access', field: 'user_id', id: userId, label: `user ${flags.user!.trim().toLowerCase()}` };
  }
  return { session, target, principal };
}

async function grant(argv: string[]): Promise<number> {
  const { flags } = parseCommand<Flags>(argv, { ...options, role: { type: 'string' } }, { min: 0, names: [] });
  if (!flags.role) throw new UsageError('Missing --role WORKSPACE_ROLE_NAME (built-in: Owner, Developer, Runner, Viewer, Worker)');
  const { session, target, principal } = await resolveGrantee(flags);
  const role = await findWorkspaceRole(session.api, target.account_id, flags.role);
  await session.api.post(`${workspacePath(target)}/${principal.path}/`, { [principal.field]: principal.id, workspace_role_id: role.id });
  console.log(`Granted ${principal.label} workspace role ${role.name} on ${workspaceRef(target)}.`);
  return 0;
}

async function revoke(argv: string[]): Promise<number> {
  const { flags } = parseCommand<Flags>(argv, options, { min: 0, names: [] });
  const { session, target, principal } = await resolveGrantee(flags);
  const base = `${workspacePath(target)}/${principal.path}`;
  const grants = await session.api.filterAll<Record<string, string>>(`${base}/filter`);
  const existing = grants.find((g) => g[principal.field] === principal.id);
  if (!existing) throw new Error(`${principal.label} has no access to workspace ${workspaceRef(target)}; nothing to revoke`);
  await session.api.delete(`${base}/${existing.id}`);
  console.log(`Revoked the access of ${principal.label} to ${workspaceRef(target)}.`);
  return 0;
}

export const workspaceAccessCommand = (argv: string[]) => dispatch({ grant, revoke }, argv);
