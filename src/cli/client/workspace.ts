// `gatehouse workspace ls | set | show | create | rm`: the workspaces a profile's key reaches, which
// one the profile works on, the Prefect server a workspace's gateway forwards to, and creating and
// deleting workspaces.
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { checkWorkspaceRef, type ConnectionFlags } from './flags.js';
import type { Answer } from './http.js';
import { prefectApiUrl, printJson, printLines, printTable, say } from './output.js';
import { confirm, interactive, readSecret } from './prompt.js';
import { findWorkspace, myWorkspaces, openSession, targetWorkspace, updateProfile, workspaceRef, type Session, type WorkspaceTarget } from './session.js';

const GATEWAY = '/api/accounts/{account_id}/workspaces/{workspace_id}/gateway';
/** GET/PUT …/gateway: where the workspace's Prefect requests go. */
type GatewaySettings = Answer<'get', typeof GATEWAY>;

export async function workspaceList({ flags }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const workspaces = await myWorkspaces(session.api);
  const isCurrent = (w: WorkspaceTarget) => w.workspace_id === session.profile.workspace_id;
  if (flags.json) {
    printJson(workspaces.map((w) => ({ ...w, current: isCurrent(w) })));
    return 0;
  }
  if (!workspaces.length) say('The key reaches no workspace.');
  else printTable(['', 'WORKSPACE', 'NAME', 'ID'], workspaces.map((w) => [isCurrent(w) ? '*' : '', workspaceRef(w), w.workspace_name, w.workspace_id]));
  return 0;
}

async function setCurrent(session: Session, ref: string, json: boolean): Promise<number> {
  const chosen = findWorkspace(await myWorkspaces(session.api), ref);
  updateProfile(session.name, {
    account_id: chosen.account_id,
    account_handle: chosen.account_handle,
    workspace_id: chosen.workspace_id,
    workspace_handle: chosen.workspace_handle,
  });
  say(`Profile "${session.name}" now works on workspace ${ref}.`);
  if (json) printJson({ profile: session.name, workspace: ref, account_id: chosen.account_id, workspace_id: chosen.workspace_id, prefect_api_url: prefectApiUrl(session.profile.url, chosen) });
  else printLines([`PREFECT_API_URL=${prefectApiUrl(session.profile.url, chosen)}`]);
  return 0;
}

interface UpstreamFlags {
  upstream?: string;
  'clear-upstream'?: boolean;
  'upstream-auth-string-stdin'?: boolean;
  'clear-upstream-auth-string'?: boolean;
  check?: boolean;
  json?: boolean;
}

/** Asks the workspace's Prefect server whether it answers, through Gatehouse and its stored credential. */
async function checkUpstream(session: Session, target: WorkspaceTarget, json: boolean): Promise<number> {
  const check = await session.api.post(`${GATEWAY}/check`, target, null);
  if (json) printJson({ workspace: workspaceRef(target), ...check });
  else console.log(`${check.reachable ? 'Connected' : 'Not connected'}: ${check.detail}`);
  return check.reachable ? 0 : 1;
}

export async function workspaceCheck({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const target = await targetWorkspace(session, args[0] === undefined ? undefined : checkWorkspaceRef(args[0], 'the workspace'));
  return checkUpstream(session, target, Boolean(flags.json));
}

async function setUpstream(session: Session, ref: string | undefined, flags: UpstreamFlags): Promise<number> {
  if (flags['upstream-auth-string-stdin'] && flags['clear-upstream-auth-string']) {
    throw new UsageError('Give --upstream-auth-string-stdin or --clear-upstream-auth-string, not both');
  }
  const target = await targetWorkspace(session, ref);
  const body: { upstream_url: string; upstream_auth_string?: string | null } = { upstream_url: flags.upstream! };
  if (flags['clear-upstream-auth-string']) body.upstream_auth_string = null;
  if (flags['upstream-auth-string-stdin']) {
    const secret = await readSecret('Upstream auth string (user:password): ');
    if (!secret) throw new UsageError('--upstream-auth-string-stdin read nothing: pipe the auth string in, or type it when asked');
    body.upstream_auth_string = secret;
  }
  const settings = await session.api.put(GATEWAY, target, body);
  if (flags.check && flags.json) {
    const check = await session.api.post(`${GATEWAY}/check`, target, null);
    printJson({ ...settings, check });
    return check.reachable ? 0 : 1;
  }
  if (flags.json) printJson(settings);
  else printGateway(target, settings, session);
  const hint = upstreamPathHint(settings.upstream_url);
  if (hint) console.error(hint);
  return flags.check ? checkUpstream(session, target, false) : 0;
}

/** Prefect serves its API under /api: another path is allowed (a proxy may move it) but usually a slip. */
export function upstreamPathHint(url: string | null): string | null {
  if (url === null) return null;
  const path = new URL(url).pathname.replace(/\/+$/, '');
  if (path.endsWith('/api')) return null;
  return `Note: a Prefect server serves its API under /api, and ${url} does not end with /api; if requests through the gateway answer 404, set --upstream ${url.replace(/\/+$/, '')}/api`;
}

async function clearUpstream(session: Session, ref: string | undefined, json: boolean): Promise<number> {
  const target = await targetWorkspace(session, ref);
  await session.api.delete(GATEWAY, target);
  if (json) printJson({ workspace: workspaceRef(target), upstream_url: null, has_upstream_auth_string: false });
  else console.log(`Workspace ${workspaceRef(target)} no longer forwards to a Prefect server; set one again with --upstream URL.`);
  return 0;
}

function printGateway(target: WorkspaceTarget, settings: GatewaySettings, session: Session): void {
  printLines([
    `Workspace:            ${workspaceRef(target)}`,
    `PREFECT_API_URL=${prefectApiUrl(session.profile.url, target)}`,
    `Upstream Prefect API: ${settings.upstream_url ?? 'none (Prefect requests to this workspace are answered 404 until one is set)'}`,
    `Upstream auth string: ${settings.has_upstream_auth_string ? 'set' : 'none'}`,
    ...(settings.updated ? [`Updated:              ${settings.updated}`] : []),
  ]);
}

export async function workspaceSet(input: CommandInput): Promise<number> {
  const flags = input.flags as UpstreamFlags & ConnectionFlags;
  const { args } = input;
  const ref = args[0] === undefined ? undefined : checkWorkspaceRef(args[0], 'the workspace');
  if (flags['clear-upstream'] && flags.upstream !== undefined) throw new UsageError('give --upstream URL or --clear-upstream, not both');
  if (flags.upstream === undefined && (flags['upstream-auth-string-stdin'] || flags['clear-upstream-auth-string'] || flags.check)) {
    throw new UsageError('--upstream-auth-string-stdin, --clear-upstream-auth-string and --check go with --upstream URL (gatehouse workspace check checks a saved one)');
  }
  if (ref === undefined && flags.upstream === undefined && !flags['clear-upstream']) {
    throw new UsageError('missing ACCOUNT/WORKSPACE (or --upstream URL, or --clear-upstream)');
  }
  const session = openSession(flags);
  if (flags.upstream !== undefined) return setUpstream(session, ref, flags);
  if (flags['clear-upstream']) return clearUpstream(session, ref, flags.json ?? false);
  return setCurrent(session, ref!, flags.json ?? false);
}

export async function workspaceShow({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const target = await targetWorkspace(session, args[0] === undefined ? undefined : checkWorkspaceRef(args[0], 'the workspace'));
  const settings = await session.api.get(GATEWAY, target);
  if (flags.json) {
    printJson({
      workspace: workspaceRef(target),
      account_id: target.account_id,
      workspace_id: target.workspace_id,
      prefect_api_url: prefectApiUrl(session.profile.url, target),
      ...settings,
    });
  } else printGateway(target, settings, session);
  return 0;
}

export async function workspaceCreate(input: CommandInput): Promise<number> {
  const flags = input.flags as { name?: string; description?: string } & ConnectionFlags;
  const [handle] = input.args;
  if (!flags.name) throw new UsageError(`missing --name NAME (the workspace's display name, such as "${handle}")`);
  const session = openSession(flags);
  const { profile } = session;
  const created = await session.api.post('/api/accounts/{account_id}/workspaces/', profile, {
    name: flags.name,
    handle,
    ...(flags.description === undefined ? {} : { description: flags.description }),
  });
  const ref = `${profile.account_handle}/${created.handle}`;
  const target = { account_id: profile.account_id, workspace_id: created.id };
  if (flags.json) printJson({ ...created, workspace: ref, prefect_api_url: prefectApiUrl(profile.url, target) });
  else {
    console.log(`Created workspace ${ref} ("${created.name}"); you are its Owner.`);
    say(`Work on it with: gatehouse workspace set ${ref}`);
  }
  return 0;
}

export async function workspaceRemove(input: CommandInput): Promise<number> {
  const flags = input.flags as { yes?: boolean } & ConnectionFlags;
  const ref = checkWorkspaceRef(input.args[0]!, 'the workspace');
  if (!flags.yes && !interactive()) throw new UsageError(`deleting workspace ${ref} removes every access grant to it at once; pass --yes to confirm`);
  const session = openSession(flags);
  const target = await targetWorkspace(session, ref);
  if (!flags.yes && !(await confirm(`Delete workspace ${ref} and every access grant to it?`))) {
    say('Nothing deleted.');
    return 1;
  }
  await session.api.delete('/api/accounts/{account_id}/workspaces/{workspace_id}', target);
  if (flags.json) printJson({ workspace: ref, workspace_id: target.workspace_id, deleted: true });
  else console.log(`Deleted workspace ${ref}.`);
  if (session.profile.workspace_id === target.workspace_id) {
    say(`Profile "${session.name}" worked on it: choose another with gatehouse workspace set ACCOUNT/WORKSPACE`);
  }
  return 0;
}
