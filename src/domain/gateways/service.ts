// Where each workspace's gateway forwards: the self-hosted Prefect server's API URL and its
// optional credential (Prefect's auth string). The credential is write-only: reads say whether one
// is set, never what it is; it is stored sealed (sealed.ts) and audit events never carry it.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import { seal, sealedKeyId, unseal } from './sealed.js';
import { heldKeyIds, type SecretKeyring } from '../../secret-key.js';
import { checkUpstream, type UpstreamCheck } from './check.js';

export interface GatewaySetting {
  upstream_url: string | null;
  has_upstream_auth_string: boolean;
  updated: string | null;
}

/** What a save answers: the setting as stored, and what about it looks like a slip. */
export interface SavedGatewaySetting extends GatewaySetting {
  warnings: string[];
}

export interface GatewayInput {
  upstream_url: string;
  /** Omitted: keep the stored credential; null: remove it. */
  upstream_auth_string?: string | null;
}

/** What the proxy needs to reach a workspace's upstream. */
export interface Upstream {
  url: URL;
  /** The credential to send as HTTP Basic auth, or null when the upstream needs none. */
  authString: string | null;
  /** The Authorization header that carries authString as HTTP Basic, made once per lookup. */
  basicAuthorization: string | null;
}

/** The upstream, or GATEWAY_NOT_CONFIGURED, or UPSTREAM_CREDENTIAL_UNREADABLE. */
export type UpstreamLookup = Result<Upstream>;

const MAX_URL_LENGTH = 2048;
const MAX_AUTH_STRING_LENGTH = 1024;

/** The upstream URL as stored: http(s), no credentials, query or fragment, no trailing slash. */
export function normalizeUpstreamUrl(text: string): Result<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('VALIDATION_FAILED', 'upstream_url must be an absolute http:// or https:// URL, e.g. http://prefect:4200/api');
  }
  if (text.length > MAX_URL_LENGTH) return fail('VALIDATION_FAILED', `upstream_url must be at most ${MAX_URL_LENGTH} characters`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail('VALIDATION_FAILED', 'upstream_url must start with http:// or https://, e.g. http://prefect:4200/api');
  }
  if (url.username || url.password) {
    // A URL is returned by reads; the credential must not be.
    return fail('VALIDATION_FAILED', 'Put the credential in upstream_auth_string, not in upstream_url (the URL is shown to readers)');
  }
  if (url.search || url.hash) return fail('VALIDATION_FAILED', 'upstream_url must not have a query or a fragment');
  // `http://prefect:4200//api/` is `http://prefect:4200/api`: the proxy puts Prefect paths right after it.
  return ok(`${url.origin}${url.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '')}`);
}

/**
 * What looks like a slip in a stored upstream URL. Prefect serves its API under /api (a proxy in
 * front may move it, e.g. to /prefect/api), so a path that does not end with /api is allowed but
 * usually means requests will reach Prefect's web page rather than its API.
 */
export function upstreamWarnings(storedUrl: string): string[] {
  const path = new URL(storedUrl).pathname;
  if (path === '/api' || path.endsWith('/api')) return [];
  return [
    `Prefect's API is usually served at /api; requests will go to ${storedUrl}/flows/… and the like. ` +
      `If that is not where this Prefect server serves its API, set ${storedUrl}/api instead (Check connection tells whether Prefect answers).`,
  ];
}

/** Why a process may not serve this database with its keys, in words that say what to do. */
export type KeyClaim = { ok: true } | { ok: false; detail: string };

/** What `reseal` did, per workspace whose credential it touched. */
export interface ResealReport {
  resealed: number;
  alreadyCurrent: number;
  /** Workspaces whose credential no held key opens: left as they are, or removed with dropUnreadable. */
  unreadable: { workspaceId: string; keyId: string | null }[];
  dropped: number;
}

const SLOT = 'current';

export function gatewayService(deps: Deps, keys: SecretKeyring) {
  const { store, cache } = deps;
  const secretKey = keys.current;

  /** Every key id the database relies on: the one it records, and those of its sealed credentials. */
  async function keyIdsInUse(): Promise<Set<string>> {
    const ids = new Set<string>();
    const recorded = await store.db.selectFrom('sealing_key').select('key_id').where('slot', '=', SLOT).executeTakeFirst();
    if (recorded) ids.add(recorded.key_id);
    const sealed = await store.db.selectFrom('workspace_gateways').select('upstream_auth_sealed').where('upstream_auth_sealed', 'is not', null).execute();
    for (const row of sealed) {
      const id = sealedKeyId(row.upstream_auth_sealed!);
      if (id) ids.add(id);
    }
    return ids;
  }

  function missingKeysDetail(missing: string[]): string {
    const them = missing.length === 1 ? `secret key ${missing[0]}` : `secret keys ${missing.join(', ')}`;
    return (
      `This database's upstream credentials are sealed with ${them}, which this process does not have ` +
      `(its key, from ${keys.source}, is ${secretKey.id}). Every Gatehouse process on one database needs the same key: ` +
      'set GATEHOUSE_SECRET_KEY (or GATEHOUSE_SECRET_KEY_FILE) to the key the other processes use; during a rotation, ' +
      'give the old key in GATEHOUSE_PREVIOUS_SECRET_KEYS. If that key is lost, `gatehouse secret-key reseal --drop-unreadable` ' +
      "removes the credentials it sealed (set them again with `gatehouse workspace set … --upstream-auth-string-stdin`)."
    );
  }

  async function workspaceLabel(workspaceId: string): Promise<string | null> {
    const names = await store.db
      .selectFrom('workspaces as w')
      .innerJoin('accounts as a', 'a.id', 'w.account_id')
      .select(['a.handle as account', 'w.handle as workspace'])
      .where('w.id', '=', workspaceId)
      .executeTakeFirst();
    return names ? `${names.account}/${names.workspace}` : null;
  }

  /** The upstream row with its credential opened. */
  async function lookUpstream(workspaceId: string): Promise<UpstreamLookup> {
    const row = await store.db
      .selectFrom('workspace_gateways')
      .select(['upstream_url', 'upstream_auth_sealed'])
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    if (!row) return fail('GATEWAY_NOT_CONFIGURED');
    let authString: string | null = null;
    if (row.upstream_auth_sealed) {
      const opened = unseal(keys, row.upstream_auth_sealed, workspaceId);
      if (!opened.ok) return fail('UPSTREAM_CREDENTIAL_UNREADABLE');
      authString = opened.value;
    }
    return ok({ url: new URL(row.upstream_url), authString, basicAuthorization: authString === null ? null : `Basic ${Buffer.from(authString).toString('base64')}` });
  }

  return {
    async read(workspaceId: string): Promise<GatewaySetting> {
      const row = await store.db.selectFrom('workspace_gateways').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
      return {
        upstream_url: row?.upstream_url ?? null,
        has_upstream_auth_string: Boolean(row?.upstream_auth_sealed),
        updated: row?.updated ?? null,
      };
    },

    async set(ctx: OpContext, accountId: string, workspaceId: string, input: GatewayInput): Promise<Result<SavedGatewaySetting>> {
      const url = normalizeUpstreamUrl(input.upstream_url);
      if (!url.ok) return url;
      const auth = input.upstream_auth_string;
      if (typeof auth === 'string' && (auth.length === 0 || auth.length > MAX_AUTH_STRING_LENGTH || /[\r\n]/.test(auth))) {
        return fail('VALIDATION_FAILED', `upstream_auth_string must be 1 to ${MAX_AUTH_STRING_LENGTH} characters on one line (Prefect's "user:password"), or null to remove it`);
      }
      const now = ctx.now.toISOString();
      const result = await inTransaction(deps, async (tx) => {
        const existing = await tx.selectFrom('workspace_gateways').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst();
        const sealed = auth === undefined ? (existing?.upstream_auth_sealed ?? null) : auth === null ? null : seal(secretKey, auth, workspaceId);
        if (existing) {
          await tx
            .updateTable('workspace_gateways')
            .set({ upstream_url: url.value, upstream_auth_sealed: sealed, updated: now })
            .where('workspace_id', '=', workspaceId)
            .execute();
        } else {
          await tx
            .insertInto('workspace_gateways')
            .values({ workspace_id: workspaceId, upstream_url: url.value, upstream_auth_sealed: sealed, created: now, updated: now })
            .execute();
        }
        await recordEvent(tx, ctx, {
          action: 'workspace.gateway.updated',
          accountId,
          workspaceId,
          targetType: 'workspace',
          targetId: workspaceId,
          details: { upstream_url: url.value, upstream_auth_string: auth === undefined ? 'kept' : auth === null ? 'removed' : 'set' },
        });
        return ok({ upstream_url: url.value, has_upstream_auth_string: sealed !== null, updated: now, warnings: upstreamWarnings(url.value) });
      }, { onUniqueViolation: fail('CONCURRENT_CHANGE'), onForeignKeyViolation: fail('NOT_FOUND', 'Workspace not found') });
      return result;
    },

    async clear(ctx: OpContext, accountId: string, workspaceId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const removed = await tx.deleteFrom('workspace_gateways').where('workspace_id', '=', workspaceId).executeTakeFirst();
        if (Number(removed.numDeletedRows) > 0) {
          await recordEvent(tx, ctx, {
            action: 'workspace.gateway.removed',
            accountId,
            workspaceId,
            targetType: 'workspace',
            targetId: workspaceId,
          });
        }
        return ok(null);
      });
    },

    /**
     * At start: refuses a process whose keys cannot open what the database holds, and records the
     * key that seals from now on. A process with the previous key as well moves the record to its
     * current key (a rotation); a process holding only an older key is refused from then on.
     */
    async claimSecretKey(now: Date): Promise<KeyClaim> {
      const held = new Set(heldKeyIds(keys));
      const missing = [...(await keyIdsInUse())].filter((id) => !held.has(id));
      if (missing.length > 0) return { ok: false, detail: missingKeysDetail(missing) };
      const updated = now.toISOString();
      await store.db.insertInto('sealing_key').values({ slot: SLOT, key_id: secretKey.id, updated }).onConflict((oc) => oc.column('slot').doNothing()).execute();
      // Only a key this process holds may be replaced: two processes with different keys starting
      // at once on an empty database cannot both win.
      await store.db
        .updateTable('sealing_key')
        .set({ key_id: secretKey.id, updated })
        .where('slot', '=', SLOT)
        .where('key_id', 'in', [...held])
        .execute();
      const recorded = await store.db.selectFrom('sealing_key').select('key_id').where('slot', '=', SLOT).executeTakeFirstOrThrow();
      return recorded.key_id === secretKey.id ? { ok: true } : { ok: false, detail: missingKeysDetail([recorded.key_id]) };
    },

    /**
     * Seals every upstream credential again under the current key, in one transaction, so the
     * previous key can be retired. A credential no held key opens stops the whole run, unless
     * `dropUnreadable`: then it is removed (the workspace keeps its upstream URL) and audited.
     */
    async reseal(ctx: OpContext, options: { dropUnreadable?: boolean } = {}): Promise<Result<ResealReport>> {
      return inTransaction(deps, async (tx) => {
        const rows = await tx
          .selectFrom('workspace_gateways as g')
          .innerJoin('workspaces as w', 'w.id', 'g.workspace_id')
          .select(['g.workspace_id', 'g.upstream_auth_sealed', 'w.account_id'])
          .where('g.upstream_auth_sealed', 'is not', null)
          .execute();
        const report: ResealReport = { resealed: 0, alreadyCurrent: 0, unreadable: [], dropped: 0 };
        const now = ctx.now.toISOString();
        for (const row of rows) {
          const sealed = row.upstream_auth_sealed!;
          const opened = unseal(keys, sealed, row.workspace_id);
          if (!opened.ok) {
            report.unreadable.push({ workspaceId: row.workspace_id, keyId: sealedKeyId(sealed) });
            continue;
          }
          if (sealedKeyId(sealed) === secretKey.id) {
            report.alreadyCurrent += 1;
            continue;
          }
          await tx.updateTable('workspace_gateways').set({ upstream_auth_sealed: seal(secretKey, opened.value, row.workspace_id), updated: now }).where('workspace_id', '=', row.workspace_id).execute();
          await recordEvent(tx, ctx, { action: 'workspace.gateway.resealed', accountId: row.account_id, workspaceId: row.workspace_id, targetType: 'workspace', targetId: row.workspace_id, details: { key_id: secretKey.id } });
          report.resealed += 1;
        }
        if (report.unreadable.length > 0 && !options.dropUnreadable) {
          const list = report.unreadable.map((u) => `${u.workspaceId} (key ${u.keyId ?? 'unknown'})`).join(', ');
          return fail('VALIDATION_FAILED', `No key this process holds opens the upstream credential of ${report.unreadable.length === 1 ? 'workspace' : 'workspaces'} ${list}: give the key that sealed it in GATEHOUSE_PREVIOUS_SECRET_KEYS, or run again with --drop-unreadable to remove it`);
        }
        for (const { workspaceId } of report.unreadable) {
          const row = rows.find((r) => r.workspace_id === workspaceId)!;
          await tx.updateTable('workspace_gateways').set({ upstream_auth_sealed: null, updated: now }).where('workspace_id', '=', workspaceId).execute();
          await recordEvent(tx, ctx, { action: 'workspace.gateway.updated', accountId: row.account_id, workspaceId, targetType: 'workspace', targetId: workspaceId, details: { upstream_auth_string: 'removed', reason: 'unreadable with the server\'s secret keys' } });
          report.dropped += 1;
        }
        await tx.insertInto('sealing_key').values({ slot: SLOT, key_id: secretKey.id, updated: now }).onConflict((oc) => oc.column('slot').doUpdateSet({ key_id: secretKey.id, updated: now })).execute();
        return ok(report);
      });
    },

    /**
     * Asks the workspace's Prefect server whether it answers, with the stored credential (check.ts).
     * Reads the stored row, not the cache: the check is about what was just saved.
     */
    async check(workspaceId: string, options: { timeoutMs: number }): Promise<Result<UpstreamCheck>> {
      const lookup = await lookUpstream(workspaceId);
      if (!lookup.ok) return lookup;
      const target = (await workspaceLabel(workspaceId)) ?? 'ACCOUNT/WORKSPACE';
      const url = `${lookup.value.url.origin}${lookup.value.url.pathname === '/' ? '' : lookup.value.url.pathname}`;
      return ok(await checkUpstream(lookup.value, { timeoutMs: options.timeoutMs, setCredentialHint: `gatehouse workspace set ${target} --upstream ${url} --upstream-auth-string-stdin` }));
    },

    /** "account-handle/workspace-handle", for messages a person can act on; the id when it is gone. */
    async label(workspaceId: string): Promise<string> {
      return (await workspaceLabel(workspaceId)) ?? workspaceId;
    },

    /**
     * The workspace at `/w/{account_handle}/{workspace_handle}/` (the Prefect UI's address), or null:
     * asked on every request the UI makes, so a found one is cached like the upstream (a rename or a
     * removal empties the cache); "not found" always asks the store.
     */
    byHandles(accountHandle: string, workspaceHandle: string): Promise<{ accountId: string; workspaceId: string } | null> {
      return cache.through('ui-workspace', `${accountHandle}/${workspaceHandle}`, async () => {
        const row = await store.db
          .selectFrom('workspaces as w')
          .innerJoin('accounts as a', 'a.id', 'w.account_id')
          .select(['a.id as accountId', 'w.id as workspaceId'])
          .where('a.handle', '=', accountHandle)
          .where('w.handle', '=', workspaceHandle)
          .executeTakeFirst();
        return row ?? null;
      });
    },

    /** The upstream of a workspace, with its credential opened, for the proxy: asked on every proxied request, so cached like keys. */
    upstream(workspaceId: string): Promise<UpstreamLookup> {
      return cache.through('upstream', workspaceId, () => lookUpstream(workspaceId));
    },
  };
}

export type GatewayService = ReturnType<typeof gatewayService>;
