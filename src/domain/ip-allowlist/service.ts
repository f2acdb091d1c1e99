// An account's IP allowlist, as Prefect Cloud's clients read and replace it (whole, with PUT), and
// what it means for an address. The auth core asks `loadAddressPolicy` through its cache; a change
// here invalidates that cache in every process before it returns (inTransaction).
import type { Kysely, Transaction } from 'kysely';
import { fail, ok, type Failure, type Result } from '../../errors.js';
import type { Database } from '../../store/schema.js';
import { parseJsonColumn } from '../../store/json-column.js';
import { inTransaction } from '../transaction.js';
import { newId, type OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import type { Deps } from '../deps.js';
import { compileNetworks, parseNetwork, plainAddress, type AddressMatcher, type Network } from './networks.js';

/** One entry as the wire has it (Prefect's IPAllowlistEntry); `last_seen` is not tracked: always null. */
export interface IpAllowlistEntry {
  ip_network: string;
  enabled: boolean;
  description: string | null;
  last_seen: string | null;
}

export interface IpAllowlist {
  entries: IpAllowlistEntry[];
}

export interface IpAllowlistInput {
  entries: { ip_network: string; enabled: boolean; description?: string | null }[];
}

/** What the auth core keeps per account: whether it enforces a list, and the compiled list. */
export type AddressPolicy = { enforced: false } | { enforced: true; allows: AddressMatcher };

/** `my_access`'s answer (Prefect's IPAllowlistMyAccessResponse). */
export interface MyAccess {
  allowed: boolean;
  detail: string;
}

type Db = Kysely<Database> | Transaction<Database>;

async function readEntries(db: Db, accountId: string) {
  return db.selectFrom('ip_allowlist_entries').select(['ip_network', 'description', 'enabled']).where('account_id', '=', accountId).orderBy('position').execute();
}

async function enforces(db: Db, accountId: string): Promise<boolean | null> {
  const row = await db.selectFrom('accounts').select('settings').where('id', '=', accountId).executeTakeFirst();
  if (!row) return null;
  return parseJsonColumn<{ enforce_ip_allowlist?: boolean }>(row.settings, {}).enforce_ip_allowlist === true;
}

/**
 * An enforced allowlist admits an address inside one of its enabled entries. An account that does
 * not enforce it, or whose list is empty (Prefect: "if the allowlist is non-empty"), admits anyone.
 */
function policyOf(enforced: boolean, entries: readonly { ip_network: string; enabled: number | boolean }[]): AddressPolicy {
  if (!enforced || entries.length === 0) return { enforced: false };
  const networks = entries.filter((e) => Boolean(e.enabled)).map((e) => parseNetwork(e.ip_network)).filter((n): n is Network => typeof n !== 'string');
  return { enforced: true, allows: compileNetworks(networks) };
}

/** The account's policy, compiled; null when there is no such account (so no cache keeps it). */
export async function loadAddressPolicy(db: Kysely<Database>, accountId: string): Promise<AddressPolicy | null> {
  const enforced = await enforces(db, accountId);
  if (enforced === null) return null;
  return policyOf(enforced, enforced ? await readEntries(db, accountId) : []);
}

/** The refusal for an address an enforced allowlist does not admit: it names the address and what to do. */
export function notAllowed(address: string): Failure {
  const shown = plainAddress(address) || 'unknown';
  return fail(
    'IP_NOT_ALLOWED',
    `Your address ${shown} is not on this account's IP allowlist: connect from an allowed network, or ask an account Owner or Admin to add it (\`prefect cloud ip-allowlist add ${shown}\` or \`gatehouse ip-allowlist add ${shown}\`)`,
  );
}

/** Would `address` still get in with these entries enforced? The answer my_access and the lock-out check give. */
function accessWith(entries: readonly { ip_network: string; enabled: number | boolean }[], address: string): MyAccess {
  const shown = plainAddress(address) || 'unknown';
  if (entries.length === 0) return { allowed: true, detail: `The IP allowlist is empty, so it restricts nothing; your address is ${shown}` };
  const policy = policyOf(true, entries);
  if (policy.enforced && policy.allows(address)) return { allowed: true, detail: `Your address ${shown} is on the IP allowlist` };
  return {
    allowed: false,
    detail: `Your address ${shown} is not on the IP allowlist's enabled entries, so enforcing this list would lock you out: add ${shown} (or a network holding it) first`,
  };
}

const lockedOut = (access: MyAccess): Failure => fail('IP_ALLOWLIST_LOCKOUT', access.detail);

/**
 * Inside an account update: refuses to start enforcing the allowlist when it would lock the caller
 * out. `address` is null for a caller with no address (the operator's own tools).
 */
export async function checkEnforcement(tx: Transaction<Database>, accountId: string, enforce: boolean | undefined, address: string | null): Promise<Failure | null> {
  if (enforce !== true || address === null) return null;
  const access = accessWith(await readEntries(tx, accountId), address);
  return access.allowed ? null : lockedOut(access);
}

const toEntry = (row: { ip_network: string; description: string | null; enabled: number }): IpAllowlistEntry => ({
  ip_network: row.ip_network,
  enabled: Boolean(row.enabled),
  description: row.description,
  last_seen: null,
});

export function ipAllowlistService(deps: Deps) {
  const { store } = deps;
  return {
    async read(accountId: string): Promise<Result<IpAllowlist>> {
      if ((await enforces(store.db, accountId)) === null) return fail('NOT_FOUND', 'Account not found');
      return ok({ entries: (await readEntries(store.db, accountId)).map(toEntry) });
    },

    /** Whether the caller at `address` would get in were the list enforced as it stands. */
    async myAccess(accountId: string, address: string): Promise<Result<MyAccess>> {
      if ((await enforces(store.db, accountId)) === null) return fail('NOT_FOUND', 'Account not found');
      return ok(accessWith(await readEntries(store.db, accountId), address));
    },

    /**
     * Replaces the whole list (Prefect's PUT). While the account enforces it, a list that would not
     * admit the caller's own address is refused (422): the caller could not undo it.
     */
    async replace(ctx: OpContext, accountId: string, input: IpAllowlistInput, address: string | null): Promise<Result<IpAllowlist>> {
      const parsed: { network: Network; enabled: boolean; description: string | null }[] = [];
      const seen = new Set<string>();
      for (const [index, entry] of input.entries.entries()) {
        const network = parseNetwork(entry.ip_network);
        if (typeof network === 'string') return fail('VALIDATION_FAILED', `entries[${index}].ip_network: ${network}`);
        if (seen.has(network.text)) return fail('VALIDATION_FAILED', `entries[${index}].ip_network: ${network.text} is on the list twice; send each network once`);
        seen.add(network.text);
        parsed.push({ network, enabled: entry.enabled, description: entry.description ?? null });
      }
      const rows = parsed.map((p) => ({ ip_network: p.network.text, enabled: p.enabled ? 1 : 0, description: p.description }));
      return inTransaction(deps, async (tx) => {
        const enforced = await enforces(tx, accountId);
        if (enforced === null) return fail('NOT_FOUND', 'Account not found');
        if (enforced && address !== null) {
          const access = accessWith(rows, address);
          const shown = plainAddress(address) || 'unknown';
          if (!access.allowed) {
            return lockedOut({ allowed: false, detail: `Your address ${shown} is not on this list's enabled entries, and the account enforces its IP allowlist: saving it would lock you out. Keep ${shown} (or a network holding it) on the list and enabled` });
          }
        }
        const now = ctx.now.toISOString();
        const before = await readEntries(tx, accountId);
        await tx.deleteFrom('ip_allowlist_entries').where('account_id', '=', accountId).execute();
        if (rows.length > 0) {
          await tx
            .insertInto('ip_allowlist_entries')
            .values(rows.map((row, position) => ({ id: newId(), account_id: accountId, ...row, position, created: now, updated: now })))
            .execute();
        }
        await recordEvent(tx, ctx, {
          action: 'ip_allowlist.updated',
          accountId,
          targetType: 'account',
          targetId: accountId,
          details: {
            before: before.map((r) => `${r.ip_network}${r.enabled ? '' : ' (disabled)'}`),
            after: rows.map((r) => `${r.ip_network}${r.enabled ? '' : ' (disabled)'}`),
          },
        });
        return ok({ entries: rows.map(toEntry) });
      });
    },
  };
}

export type IpAllowlistService = ReturnType<typeof ipAllowlistService>;
