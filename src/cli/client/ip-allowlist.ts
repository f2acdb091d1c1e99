// `gatehouse ip-allowlist ls | add | remove | enable | disable`: the IP allowlist of the profile's
// account, through the same routes as `prefect cloud ip-allowlist`. Gatehouse refuses a change that
// would lock the caller out (IP_ALLOWLIST_LOCKOUT); `enable` asks my_access first and says why.
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { parseNetwork } from '../../domain/ip-allowlist/networks.js';
import type { ConnectionFlags } from './flags.js';
import { printJson, printTable, say } from './output.js';
import { openSession, type Session } from './session.js';

const LIST = '/api/accounts/{account_id}/ip_allowlist';
const SETTINGS = '/api/accounts/{account_id}/settings';

interface Flags extends ConnectionFlags {
  description?: string;
  disabled?: boolean;
}

/** The canonical form of a NETWORK argument, as the server stores it; a usage error when it is none. */
function network(given: string | undefined): string {
  const parsed = parseNetwork(given ?? '');
  if (typeof parsed === 'string') throw new UsageError(parsed);
  return parsed.text;
}

async function state(session: Session) {
  const ids = { account_id: session.profile.account_id };
  const [list, settings, access] = await Promise.all([
    session.api.get(LIST, ids),
    session.api.get(SETTINGS, ids),
    session.api.get('/api/accounts/{account_id}/ip_allowlist/my_access', ids),
  ]);
  return { ids, entries: list.entries, enforced: settings.enforce_ip_allowlist, access };
}

function show(session: Session, s: Awaited<ReturnType<typeof state>>, json: boolean | undefined): void {
  if (json) {
    printJson({ account: session.profile.account_handle, enforced: s.enforced, entries: s.entries, my_access: s.access });
    return;
  }
  if (!s.entries.length) say(`The IP allowlist of account ${session.profile.account_handle} is empty.`);
  else printTable(['NETWORK', 'ENABLED', 'DESCRIPTION'], s.entries.map((e) => [e.ip_network, e.enabled ? 'yes' : 'no', e.description ?? '']));
  say(`Enforcement is ${s.enforced ? 'ENABLED' : 'DISABLED'}. ${s.access.detail}.`);
}

export async function ipAllowlistList({ flags }: CommandInput): Promise<number> {
  const session = openSession(flags);
  show(session, await state(session), flags.json as boolean | undefined);
  return 0;
}

export async function ipAllowlistAdd({ flags, args }: CommandInput): Promise<number> {
  const f = flags as Flags;
  const text = network(args[0]);
  const session = openSession(f);
  const before = await state(session);
  const entry = { ip_network: text, enabled: !f.disabled, description: f.description ?? null };
  const replaced = before.entries.some((e) => e.ip_network === text);
  const entries = replaced ? before.entries.map((e) => (e.ip_network === text ? entry : e)) : [...before.entries, entry];
  await session.api.put(LIST, before.ids, { entries });
  if (!f.json) say(`${replaced ? 'Replaced' : 'Added'} ${text} on the IP allowlist of account ${session.profile.account_handle}.`);
  show(session, await state(session), f.json);
  return 0;
}

export async function ipAllowlistRemove({ flags, args }: CommandInput): Promise<number> {
  const text = network(args[0]);
  const session = openSession(flags);
  const before = await state(session);
  if (!before.entries.some((e) => e.ip_network === text)) throw new Error(`${text} is not on the IP allowlist of account ${session.profile.account_handle}; \`gatehouse ip-allowlist ls\` shows it`);
  await session.api.put(LIST, before.ids, { entries: before.entries.filter((e) => e.ip_network !== text) });
  if (!flags.json) say(`Removed ${text} from the IP allowlist of account ${session.profile.account_handle}.`);
  show(session, await state(session), flags.json as boolean | undefined);
  return 0;
}

async function enforce(input: CommandInput, on: boolean): Promise<number> {
  const session = openSession(input.flags);
  const before = await state(session);
  // The server refuses a lock-out too; asking first gives the reason before anything is sent.
  if (on && !before.access.allowed) throw new Error(`not enabled: ${before.access.detail}`);
  if (before.enforced !== on) await session.api.patch(SETTINGS, before.ids, { enforce_ip_allowlist: on });
  if (!input.flags.json) say(before.enforced === on ? `The IP allowlist is already ${on ? 'enabled' : 'disabled'}.` : `IP allowlist ${on ? 'enabled' : 'disabled'}.`);
  show(session, await state(session), input.flags.json as boolean | undefined);
  return 0;
}

export const ipAllowlistEnable = (input: CommandInput) => enforce(input, true);
export const ipAllowlistDisable = (input: CommandInput) => enforce(input, false);
