// What every client command starts from: the selected profile, an API client holding its key, and
// the workspace it works on (the profile's current one or --workspace).
import { UsageError } from '../args.js';
import { GatehouseApi, normalizeUrl, type Answer } from './http.js';
import type { ConnectionFlags } from './flags.js';
import { DEFAULT_PROFILE, profilesPath, readProfiles, selectedProfileName, writeProfiles, type Profile } from './profiles.js';

/** One entry of GET /api/me/workspaces (Prefect Cloud's shape). */
export type MyWorkspace = Answer<'get', '/api/me/workspaces'>[number];

/** A workspace a command acts on. */
export interface WorkspaceTarget {
  account_id: string;
  account_handle: string;
  workspace_id: string;
  workspace_handle: string;
}

export interface Session {
  name: string;
  profile: Profile;
  api: GatehouseApi;
}

export function checkedUrl(given: string): string {
  const url = normalizeUrl(given);
  if (!url) throw new UsageError(`--url "${given}" must be the server's http:// or https:// address, such as http://127.0.0.1:4280`);
  return url;
}

export function openSession(flags: ConnectionFlags): Session {
  const path = profilesPath();
  const file = readProfiles(path);
  const name = selectedProfileName(file, flags.profile);
  const saved = file.profiles[name];
  if (!saved) {
    throw new Error(`no profile "${name}" in ${path}; log in first: gatehouse login --key KEY${name === DEFAULT_PROFILE ? '' : ` --profile ${name}`}`);
  }
  // --url, else GATEHOUSE_URL, else the profile's own address.
  const given = flags.url ?? process.env.GATEHOUSE_URL;
  const profile = { ...saved, url: given !== undefined ? checkedUrl(given) : saved.url };
  const hint = `the key saved in profile "${name}" is unknown, expired, revoked or rotated out; log in with a new one: gatehouse login --key NEW_KEY --profile ${name}`;
  return { name, profile, api: new GatehouseApi(profile.url, profile.key, hint) };
}

/** Changes one saved profile, re-reading the file first so other profiles are kept as they are now. */
export function updateProfile(name: string, change: Partial<Profile>): void {
  const path = profilesPath();
  const file = readProfiles(path);
  const saved = file.profiles[name];
  if (!saved) throw new Error(`profile "${name}" is no longer in ${path}; log in again`);
  file.profiles[name] = { ...saved, ...change };
  writeProfiles(file, path);
}

export const workspaceRef = (w: { account_handle: string; workspace_handle: string }) => `${w.account_handle}/${w.workspace_handle}`;

export async function myWorkspaces(api: GatehouseApi): Promise<MyWorkspace[]> {
  const list = await api.get('/api/me/workspaces');
  if (!Array.isArray(list)) throw new Error(`${api.url} answered GET /api/me/workspaces with something other than a list; is --url the address of a Gatehouse server?`);
  return list;
}

export function findWorkspace(list: MyWorkspace[], ref: string): MyWorkspace {
  const found = list.find((w) => workspaceRef(w) === ref);
  if (found) return found;
  const reachable = list.length ? `it reaches: ${list.map(workspaceRef).join(', ')}` : 'it reaches no workspace';
  throw new Error(`the key cannot reach workspace ${ref} (${reachable})`);
}

/** --workspace A/W when given (looked up with the key), else the profile's current workspace. */
export async function targetWorkspace(session: Session, ref: string | undefined): Promise<WorkspaceTarget> {
  if (ref === undefined) return session.profile;
  return findWorkspace(await myWorkspaces(session.api), ref);
}
