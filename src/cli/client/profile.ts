// `gatehouse whoami | logout | profile ls | profile use`: who a saved profile's key is, forgetting a
// profile's key, and choosing among saved profiles. Only whoami calls the server.
import { maskKey, parseKey } from '../../domain/api-keys/key-format.js';
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import type { ConnectionFlags } from './flags.js';
import { ApiError } from './http.js';
import { printJson, printLines, printTable, say } from './output.js';
import { checkProfileName, profilesPath, readProfiles, selectedProfileName, writeProfiles } from './profiles.js';
import { openSession, workspaceRef } from './session.js';

export async function logoutCommand({ flags }: CommandInput): Promise<number> {
  const { profile: requested, json } = flags as ConnectionFlags;
  const path = profilesPath();
  const file = readProfiles(path);
  const name = selectedProfileName(file, requested);
  const saved = file.profiles[name];
  if (!saved) throw new Error(`no profile "${name}" in ${path}; nothing to log out of (gatehouse profile ls lists the saved ones)`);
  delete file.profiles[name];
  if (file.active === name) file.active = null;
  writeProfiles(file, path);
  if (json) printJson({ profile: name, removed: true, masked_key: maskKey(saved.key), url: saved.url });
  else console.log(`Logged out of profile "${name}" (${saved.url}): removed its key ${maskKey(saved.key)} from ${path}.`);
  say('The key itself still works until it expires or is revoked; revoke it on the web page or with gatehouse service-account rotate/rm if it may have leaked.');
  return 0;
}

export async function profileList({ flags }: CommandInput): Promise<number> {
  const path = profilesPath();
  const file = readProfiles(path);
  const rows = Object.entries(file.profiles).map(([name, p]) => ({
    name,
    active: file.active === name,
    url: p.url,
    workspace: workspaceRef(p),
    account_id: p.account_id,
    workspace_id: p.workspace_id,
    masked_key: maskKey(p.key),
  }));
  if (flags.json) printJson(rows);
  else if (!rows.length) say(`No saved profiles in ${path}; log in first: gatehouse login --key KEY`);
  else printTable(['', 'PROFILE', 'URL', 'WORKSPACE', 'KEY'], rows.map((r) => [r.active ? '*' : '', r.name, r.url, r.workspace, r.masked_key]));
  return 0;
}

export async function profileUse({ flags, args }: CommandInput): Promise<number> {
  const name = args[0]!;
  const path = profilesPath();
  const file = readProfiles(path);
  if (!Object.hasOwn(file.profiles, name)) {
    checkProfileName(name);
    const names = Object.keys(file.profiles);
    throw new UsageError(`no profile "${name}" in ${path}; ${names.length ? `the saved ones are: ${names.join(', ')}` : 'log in first: gatehouse login --key KEY --profile ' + name}`);
  }
  file.active = name;
  writeProfiles(file, path);
  if (flags.json) printJson({ profile: name, active: true });
  else console.log(`Profile "${name}" is now active (${file.profiles[name]!.url}, workspace ${workspaceRef(file.profiles[name]!)}).`);
  return 0;
}

interface Me {
  id: string;
  handle: string;
  email: string;
}

/** The key's expiry as the API shows it (masked keys only), or undefined when this key may not read it. */
async function keyExpiration(session: ReturnType<typeof openSession>, kind: 'user' | 'bot', meId: string): Promise<string | null | undefined> {
  const masked = maskKey(session.profile.key);
  try {
    if (kind === 'user') {
      const keys = await session.api.get<{ masked_key: string; expiration: string | null }[]>('/api/me/api_keys');
      const found = keys.find((k) => k.masked_key === masked);
      return found ? found.expiration : undefined;
    }
    const serviceAccount = await session.api.get<{ api_key: { masked_key: string; expiration: string | null } | null }>(
      `/api/accounts/${encodeURIComponent(session.profile.account_id)}/bots/${encodeURIComponent(meId)}`,
    );
    return serviceAccount.api_key?.masked_key === masked ? serviceAccount.api_key.expiration : undefined;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return undefined;
    throw error;
  }
}

export async function whoamiCommand({ flags }: CommandInput): Promise<number> {
  const session = openSession(flags as ConnectionFlags);
  const { api, profile } = session;
  const kind = parseKey(profile.key) === 'bot' ? 'bot' : 'user';
  const me = await api.get<Me>('/api/me/');
  const accounts = await api.get<{ account_id: string; account_handle: string; account_role_name: string }[]>('/api/me/accounts');
  const account = accounts.find((a) => a.account_id === profile.account_id);
  const expiration = await keyExpiration(session, kind, me.id);
  const expiryText = expiration === undefined ? 'not visible to this key' : expiration === null ? 'never' : expiration;
  if (flags.json) {
    printJson({
      profile: session.name,
      url: profile.url,
      type: kind === 'bot' ? 'service_account' : 'user',
      id: me.id,
      name: kind === 'bot' ? me.handle : me.email,
      account_id: profile.account_id,
      account: profile.account_handle,
      account_role: account?.account_role_name ?? null,
      workspace: workspaceRef(profile),
      workspace_id: profile.workspace_id,
      masked_key: maskKey(profile.key),
      key_expiration: expiration ?? null,
      key_expiration_known: expiration !== undefined,
    });
    return 0;
  }
  printLines([
    `Profile:    ${session.name} (${profile.url})`,
    kind === 'bot' ? `Service account: ${me.handle}` : `User:       ${me.email}`,
    `Account:    ${profile.account_handle}${account ? ` (${account.account_role_name})` : ' (no longer a member)'}`,
    `Workspace:  ${workspaceRef(profile)}`,
    `Key:        ${maskKey(profile.key)}, expires: ${expiryText}`,
  ]);
  return 0;
}
