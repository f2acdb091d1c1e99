// `gatehouse service-account ls | create | rotate | rm`: service accounts of the profile's account,
// through /api/accounts/{account_id}/bots. A new key is printed once, as the settings that put a
// Prefect execution environment on the profile's current workspace.
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { expirationFlags, integerFlag } from './flags.js';
import { findServiceAccount, findWorkspaceRole, listServiceAccounts, serviceAccountAccess, type ServiceAccount } from './lookups.js';
import { expirationText, prefectApiUrl, prefectEnvironment, printJson, printLines, printTable, say } from './output.js';
import { ask, confirm, interactive } from './prompt.js';
import { openSession, workspaceRef, type Session } from './session.js';
import type { ConnectionFlags } from './flags.js';
import type { Answer } from './http.js';

/** A service account with its new key in full: what creating one or rotating its key answers. */
type ServiceAccountWithKey = Answer<'post', '/api/accounts/{account_id}/bots/'>;

export async function serviceAccountList({ flags }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const { api, profile } = session;
  const bots: ServiceAccount[] = await listServiceAccounts(api, profile.account_id);
  const access = await serviceAccountAccess(session);
  const listed = bots.map((b) => ({ ...b, workspace_access: access.get(b.id) ?? [] }));
  if (flags.json) printJson(listed);
  else if (!bots.length) say(`No service accounts in account ${profile.account_handle}.`);
  else {
    printTable(
      ['NAME', 'ID', 'KEY', 'EXPIRATION', 'LAST USED', 'WORKSPACE ROLES'],
      listed.map((b) => [
        b.name,
        b.id,
        b.api_key?.masked_key ?? 'none',
        b.api_key ? (b.api_key.expiration ?? 'never') : '',
        b.api_key ? lastUse(b.api_key, Date.now()) : '',
        b.workspace_access.length ? b.workspace_access.map((a) => `${a.workspace}:${a.workspace_role}`).join(', ') : 'none',
      ]),
    );
    for (const b of listed) if (b.api_key?.leak_reported_at) console.log(leakLine(b.name, b.api_key));
  }
  return 0;
}

/** "REPORTED LEAKED ci: pnb_abcd******** found at URL (commit) on 2026-12-07 14:31 UTC; it no longer works" */
export function leakLine(name: string, key: { masked_key: string | null; expiration: string | null; leak_reported_at: string | null; leak_url: string | null; leak_source: string | null }, now = Date.now()): string {
  const at = key.leak_reported_at ?? '';
  const where = key.leak_url ? `found at ${key.leak_url}` : 'found';
  const disabled = key.expiration !== null && Date.parse(key.expiration) <= now ? 'it no longer works' : 'it still works (flagged only): rotate it';
  return `REPORTED LEAKED ${name}: ${key.masked_key ?? ''} ${where} (${key.leak_source ?? 'unknown'}) on ${at.slice(0, 16).replace('T', ' ')} UTC; ${disabled}`;
}

/** "3 minutes ago from 10.0.0.4 · prefect/3.9.1" (the client cut to 40 characters), or "never used". */
export function lastUse(key: { last_used_at: string | null; last_used_from: string | null; last_used_client: string | null }, now: number): string {
  if (!key.last_used_at) return 'never used';
  const seconds = Math.max(0, Math.round((now - Date.parse(key.last_used_at)) / 1000));
  const [unit, size] = ([['day', 86_400], ['hour', 3_600], ['minute', 60], ['second', 1]] as const).find(([, s]) => seconds >= s) ?? ['second', 1];
  const count = Math.floor(seconds / size);
  const ago = seconds < 5 ? 'just now' : `${count} ${unit}${count === 1 ? '' : 's'} ago`;
  const client = key.last_used_client && (key.last_used_client.length > 40 ? `${key.last_used_client.slice(0, 39)}…` : key.last_used_client);
  return `${ago}${key.last_used_from ? ` from ${key.last_used_from}` : ''}${client ? ` · ${client}` : ''}`;
}

/** The one time a key is shown: on standard output, with the workspace settings around it. */
function showNewKey(session: Session, bot: ServiceAccountWithKey, asJson: boolean, extra: Record<string, unknown>): void {
  const { profile } = session;
  say('The API key below is shown once and cannot be shown again: store it somewhere safe now.');
  if (asJson) {
    printJson({
      id: bot.id,
      name: bot.name,
      account_id: bot.account_id,
      api_key_id: bot.api_key.id,
      api_key_expiration: bot.api_key.expiration,
      api_key: bot.api_key.key,
      workspace: workspaceRef(profile),
      prefect_api_url: prefectApiUrl(profile.url, profile),
      ...extra,
    });
  } else {
    say(`Settings for workspace ${workspaceRef(profile)} (NAME=value lines on standard output):`);
    printLines(prefectEnvironment(profile.url, profile, bot.api_key.key));
  }
}

interface CreateFlags {
  expires?: string;
  'never-expire'?: boolean;
  role?: string;
  json?: boolean;
}

/**
 * Without --expires or --never-expire: at a terminal, ask; elsewhere the key never expires (as the
 * API does), and a note on standard error says so, so that nobody gets an eternal key unawares.
 */
async function chosenExpiration(flags: CreateFlags): Promise<string | null> {
  const given = expirationFlags(flags);
  if (given !== undefined) return given;
  if (!interactive()) {
    say('Note: the new key never expires (no --expires given); pass --expires YYYY-MM-DD for a key that stops working, or --never-expire to say so and hide this note.');
    return null;
  }
  for (;;) {
    const answer = await ask('When should the key expire? A date YYYY-MM-DD (end of that day, UTC), or "never": ');
    if (answer === null) throw new UsageError('no expiry chosen: pass --expires YYYY-MM-DD or --never-expire');
    const text = answer.trim();
    if (/^never$/i.test(text)) return null;
    try {
      return expirationFlags({ expires: text })!;
    } catch (error) {
      say((error as Error).message);
    }
  }
}

export async function serviceAccountCreate(input: CommandInput): Promise<number> {
  const flags = input.flags as CreateFlags & ConnectionFlags;
  const { args } = input;
  expirationFlags(flags); // both flags at once: refused before anything is asked
  const session = openSession(flags);
  const { api, profile } = session;
  const here = workspaceRef(profile);
  // Resolved first, so that a mistyped role name creates nothing.
  const role = flags.role === undefined ? null : await findWorkspaceRole(api, profile.account_id, flags.role);
  const expiration = await chosenExpiration(flags);
  const bot = await api.post('/api/accounts/{account_id}/bots/', profile, { name: args[0], api_key_expiration: expiration });
  say(`Created service account "${bot.name}" (${bot.id}); its key ${expirationText(bot.api_key.expiration)}.`);
  let grantFailure: string | null = null;
  if (role) {
    try {
      await api.post('/api/accounts/{account_id}/workspaces/{workspace_id}/bot_access/', profile, { bot_id: bot.id, workspace_role_id: role.id });
      say(`Granted it workspace role ${role.name} on ${here}.`);
    } catch (error) {
      grantFailure = `created service account "${bot.name}", but granting it ${role.name} on ${here} failed: ${(error as Error).message}`;
    }
  } else {
    say(`It has no workspace access yet: gatehouse workspace-access grant --service-account ${bot.name} --role Worker`);
  }
  // Printed even when the grant failed: this is the only chance to see the key.
  showNewKey(session, bot, flags.json ?? false, { workspace_role: grantFailure ? null : (role?.name ?? null) });
  if (grantFailure) {
    if (flags.json) console.error(JSON.stringify({ detail: grantFailure, code: null, status: null }));
    else console.error(`gatehouse service-account create: ${grantFailure}`);
    return 1;
  }
  return 0;
}

interface RotateFlags {
  expires?: string;
  'never-expire'?: boolean;
  'keep-old-key-hours'?: string;
  json?: boolean;
}

export async function serviceAccountRotate(input: CommandInput): Promise<number> {
  const flags = input.flags as RotateFlags & ConnectionFlags;
  const { args } = input;
  const expiration = expirationFlags(flags);
  const keepHours = flags['keep-old-key-hours'] === undefined ? undefined : integerFlag(flags['keep-old-key-hours'], '--keep-old-key-hours', 0, 48);
  const session = openSession(flags);
  const found = await findServiceAccount(session.api, session.profile.account_id, args[0]);
  const bot = await session.api.post('/api/accounts/{account_id}/bots/{bot_id}/rotate_api_key', { account_id: session.profile.account_id, bot_id: found.id }, {
    ...(expiration === undefined ? {} : { api_key_expiration: expiration }),
    ...(keepHours === undefined ? {} : { old_key_expires_in_seconds: keepHours * 3600 }),
  });
  say(`Rotated the key of service account "${bot.name}"; the new key ${expirationText(bot.api_key.expiration)}.`);
  say(keepHours ? `The old key keeps working for up to ${keepHours} hour${keepHours === 1 ? '' : 's'} (never past its own expiration).` : 'The old key no longer works.');
  showNewKey(session, bot, flags.json ?? false, { old_key_expires_in_seconds: keepHours === undefined ? null : keepHours * 3600 });
  return 0;
}

export async function serviceAccountRemove(input: CommandInput): Promise<number> {
  const flags = input.flags as { yes?: boolean } & ConnectionFlags;
  const { args } = input;
  if (!flags.yes && !interactive()) {
    throw new UsageError(`removing service account "${args[0]}" deletes its keys and workspace access at once; pass --yes to confirm`);
  }
  const session = openSession(flags);
  const bot = await findServiceAccount(session.api, session.profile.account_id, args[0]);
  if (!flags.yes && !(await confirm(`Remove service account "${bot.name}"? Its keys stop working at once.`))) {
    say('Nothing removed.');
    return 1;
  }
  await session.api.delete('/api/accounts/{account_id}/bots/{bot_id}', { account_id: session.profile.account_id, bot_id: bot.id });
  if (flags.json) printJson({ removed: true, id: bot.id, name: bot.name });
  else console.log(`Removed service account "${bot.name}": its keys no longer work and its workspace access is gone.`);
  return 0;
}
