// `gatehouse service-account ls | create | rotate | rm`: service accounts of the profile's account,
// through /api/accounts/{account_id}/bots. A new key is printed once, as the settings that put a
// Prefect execution environment on the profile's current workspace.
import { UsageError } from '../args.js';
import { dispatch, expirationFlags, integerFlag, parseCommand } from './flags.js';
import { findServiceAccount, findWorkspaceRole, listServiceAccounts, type ServiceAccount } from './lookups.js';
import { expirationText, prefectApiUrl, prefectEnvironment, printJson, printLines, printTable, say } from './output.js';
import { confirm, interactive } from './prompt.js';
import { openSession, workspacePath, workspaceRef, type Session } from './session.js';

interface ServiceAccountWithKey {
  id: string;
  name: string;
  account_id: string;
  api_key: { id: string; expiration: string | null; key: string };
}

const botsPath = (session: Session) => `/api/accounts/${encodeURIComponent(session.profile.account_id)}/bots`;
const json = { json: { type: 'boolean' } } as const;
const expiry = { expires: { type: 'string' }, 'never-expire': { type: 'boolean' } } as const;

async function list(argv: string[]): Promise<number> {
  const { flags } = parseCommand<{ json?: boolean }>(argv, json, { min: 0, names: [] });
  const session = openSession(flags);
  const bots: ServiceAccount[] = await listServiceAccounts(session.api, session.profile.account_id);
  if (flags.json) printJson(bots);
  else if (!bots.length) say(`No service accounts in account ${session.profile.account_handle}.`);
  else {
    printTable(
      ['NAME', 'ID', 'KEY', 'EXPIRATION'],
      bots.map((b) => [b.name, b.id, b.api_key?.masked_key ?? 'none', b.api_key ? (b.api_key.expiration ?? 'never') : '']),
    );
  }
  return 0;
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

async function create(argv: string[]): Promise<number> {
  const { flags, args } = parseCommand<CreateFlags>(argv, { ...expiry, role: { type: 'string' }, ...json }, { min: 1, names: ['NAME'] });
  const expiration = expirationFlags(flags);
  const session = openSession(flags);
  const { api, profile } = session;
  const here = workspaceRef(profile);
  // Resolved first, so that a mistyped role name creates nothing.
  const role = flags.role === undefined ? null : await findWorkspaceRole(api, profile.account_id, flags.role);
  const bot = await api.post<ServiceAccountWithKey>(`${botsPath(session)}/`, {
    name: args[0],
    ...(expiration === undefined ? {} : { api_key_expiration: expiration }),
  });
  say(`Created service account "${bot.name}" (${bot.id}); its key ${expirationText(bot.api_key.expiration)}.`);
  let grantFailure: string | null = null;
  if (role) {
    try {
      await api.post(`${workspacePath(profile)}/bot_access/`, { bot_id: bot.id, workspace_role_id: role.id });
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
    console.error(`gatehouse service-account: ${grantFailure}`);
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

async function rotate(argv: string[]): Promise<number> {
  const { flags, args } = parseCommand<RotateFlags>(argv, { ...expiry, 'keep-old-key-hours': { type: 'string' }, ...json }, { min: 1, names: ['NAME_OR_ID'] });
  const expiration = expirationFlags(flags);
  const keepHours = flags['keep-old-key-hours'] === undefined ? undefined : integerFlag(flags['keep-old-key-hours'], '--keep-old-key-hours', 0, 48);
  const session = openSession(flags);
  const found = await findServiceAccount(session.api, session.profile.account_id, args[0]);
  const bot = await session.api.post<ServiceAccountWithKey>(`${botsPath(session)}/${found.id}/rotate_api_key`, {
    ...(expiration === undefined ? {} : { api_key_expiration: expiration }),
    ...(keepHours === undefined ? {} : { old_key_expires_in_seconds: keepHours * 3600 }),
  });
  say(`Rotated the key of service account "${bot.name}"; the new key ${expirationText(bot.api_key.expiration)}.`);
  say(keepHours ? `The old key keeps working for up to ${keepHours} hour${keepHours === 1 ? '' : 's'} (never past its own expiration).` : 'The old key no longer works.');
  showNewKey(session, bot, flags.json ?? false, { old_key_expires_in_seconds: keepHours === undefined ? null : keepHours * 3600 });
  return 0;
}

async function remove(argv: string[]): Promise<number> {
  const { flags, args } = parseCommand<{ yes?: boolean }>(argv, { yes: { type: 'boolean' } }, { min: 1, names: ['NAME_OR_ID'] });
  if (!flags.yes && !interactive()) {
    throw new UsageError(`Removing service account "${args[0]}" deletes its keys and workspace access at once; pass --yes to confirm`);
  }
  const session = openSession(flags);
  const bot = await findServiceAccount(session.api, session.profile.account_id, args[0]);
  if (!flags.yes && !(await confirm(`Remove service account "${bot.name}"? Its keys stop working at once.`))) {
    say('Nothing removed.');
    return 1;
  }
  await session.api.delete(`${botsPath(session)}/${bot.id}`);
  console.log(`Removed service account "${bot.name}": its keys no longer work and its workspace access is gone.`);
  return 0;
}

export const serviceAccountCommand = (argv: string[]) => dispatch({ ls: list, create, rotate, rm: remove }, argv);
