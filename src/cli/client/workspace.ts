// `gatehouse workspace ls | set | show`: the workspaces a profile's key reaches, which one the
// profile works on, and the Prefect server a workspace's gateway forwards to.
import { UsageError } from '../args.js';
import { checkWorkspaceRef, dispatch, parseCommand } from './flags.js';
import { prefectApiUrl, printJson, printLines, printTable, say } from './output.js';
import { readSecret } from './prompt.js';
import { findWorkspace, myWorkspaces, openSession, targetWorkspace, updateProfile, workspacePath, workspaceRef, type Session, type WorkspaceTarget } from './session.js';

/** GET/PUT .../gateway (the lead's contract): where the workspace's Prefect requests go. */
interface GatewaySettings {
  upstream_url: string | null;
  has_upstream_auth_string: boolean;
  updated: string | null;
}

const json = { json: { type: 'boolean' } } as const;

async function list(argv: string[]): Promise<number> {
  const { flags } = parseCommand<{ json?: boolean }>(argv, json, { min: 0, names: [] });
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

async function setCurrent(session: Session, ref: string): Promise<number> {
  const chosen = findWorkspace(await myWorkspaces(session.api), ref);
  updateProfile(session.name, {
    account_id: chosen.account_id,
    account_handle: chosen.account_handle,
    workspace_id: chosen.workspace_id,
    workspace_handle: chosen.workspace_handle,
  });
  say(`Profile "${session.name}" now works on workspace ${ref}.`);
  printLines([`PREFECT_API_URL=${prefectApiUrl(session.profile.url, chosen)}`]);
  return 0;
}

interface UpstreamFlags {
  upstream?: string;
  'clear-upstream'?: boolean;
  'upstream-auth-string-stdin'?: boolean;
  'clear-upstream-auth-string'?: boolean;
  json?: boolean;
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
  const settings = await session.api.put<GatewaySettings>(`${workspacePath(target)}/gateway`, body);
  if (flags.json) printJson(settings);
  else printGateway(target, settings, session);
  const hint = upstreamPathHint(settings.upstream_url);
  if (hint) console.error(hint);
  return 0;
}

/** Prefect serves its API under /api: another path is allowed (a proxy may move it) but usually a slip. */
export function upstreamPathHint(url: string | null): string | null {
  if (url === null) return null;
  const path = new URL(url).pathname.replace(/\/+$/, '');
  if (path.endsWith('/api')) return null;
  return `Note: a Prefect server serves its API under /api, and ${url} does not end with /api; if requests through the gateway answer 404, set --upstream ${url.replace(/\/+$/, '')}/api`;
}

async function clearUpstream(session: Session, ref: string | undefined): Promise<number> {
  const target = await targetWorkspace(session, ref);
  await session.api.delete(`${workspacePath(target)}/gateway`);
  console.log(`Workspace ${workspaceRef(target)} no longer forwards to a Prefect server; set one again with --upstream URL.`);
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

async function set(argv: string[]): Promise<number> {
  const { flags, args } = parseCommand<UpstreamFlags>(
    argv,
    {
      upstream: { type: 'string' },
      'clear-upstream': { type: 'boolean' },
      'upstream-auth-string-stdin': { type: 'boolean' },
      'clear-upstream-auth-string': { type: 'boolean' },
      ...json,
    },
    { min: 0, names: ['ACCOUNT_HANDLE/WORKSPACE_HANDLE'] },
  );
  const ref = args[0] === undefined ? undefined : checkWorkspaceRef(args[0], 'The workspace');
  if (flags['clear-upstream'] && flags.upstream !== undefined) throw new UsageError('Give --upstream URL or --clear-upstream, not both');
  if (flags.upstream === undefined && (flags['upstream-auth-string-stdin'] || flags['clear-upstream-auth-string'] || flags.json)) {
    throw new UsageError('--upstream-auth-string-stdin, --clear-upstream-auth-string and --json go with --upstream URL');
  }
  if (ref === undefined && flags.upstream === undefined && !flags['clear-upstream']) {
    throw new UsageError('Missing ACCOUNT_HANDLE/WORKSPACE_HANDLE (or --upstream URL, or --clear-upstream)');
  }
  const session = openSession(flags);
  if (flags.upstream !== undefined) return setUpstream(session, ref, flags);
  if (flags['clear-upstream']) return clearUpstream(session, ref);
  return setCurrent(session, ref!);
}

async function show(argv: string[]): Promise<number> {
  const { flags, args } = parseCommand<{ json?: boolean }>(argv, json, { min: 0, names: ['ACCOUNT_HANDLE/WORKSPACE_HANDLE'] });
  const session = openSession(flags);
  const target = await targetWorkspace(session, args[0] === undefined ? undefined : checkWorkspaceRef(args[0], 'The workspace'));
  const settings = await session.api.get<GatewaySettings>(`${workspacePath(target)}/gateway`);
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

export const workspaceCommand = (argv: string[]) => dispatch({ ls: list, set, show }, argv);
