// Where each workspace's gateway forwards: the self-hosted Prefect server's API URL and its
// optional credential (Prefect's auth string). The credential is write-only: reads say whether one
// is set, never what it is; it is stored sealed (sealed.ts) and audit events never carry it.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction, type Deps } from '../deps.js';
import type { OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import { seal, unseal, type SecretKey } from './sealed.js';

export interface GatewaySetting {
  upstream_url: string | null;
  has_upstream_auth_string: boolean;
  updated: string | null;
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

export type UpstreamLookup = { ok: true; upstream: Upstream } | { ok: false; reason: 'not_configured' | 'credential_unreadable' };

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
  return ok(`${url.origin}${url.pathname.replace(/\/+$/, '')}`);
}

export function gatewayService(deps: Deps, secretKey: SecretKey) {
  const { store } = deps;

  /** The upstream row with its credential opened. */
  async function lookUpstream(workspaceId: string): Promise<UpstreamLookup> {
    const row = await store.db
      .selectFrom('workspace_gateways')
      .select(['upstream_url', 'upstream_auth_sealed'])
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    if (!row) return { ok: false, reason: 'not_configured' };
    let authString: string | null = null;
    if (row.upstream_auth_sealed) {
      const opened = unseal(secretKey, row.upstream_auth_sealed, workspaceId);
      if (!opened.ok) return { ok: false, reason: 'credential_unreadable' };
      authString = opened.value;
    }
    return { ok: true, upstream: { url: new URL(row.upstream_url), authString, basicAuthorization: authString === null ? null : `Basic ${Buffer.from(authString).toString('base64')}` } };
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

    async set(ctx: OpContext, accountId: string, workspaceId: string, input: GatewayInput): Promise<Result<GatewaySetting>> {
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
        return ok({ upstream_url: url.value, has_upstream_auth_string: sealed !== null, updated: now });
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

    /** The upstream of a workspace, with its credential opened, for the proxy: asked on every proxied request, so cached like keys. */
    upstream(workspaceId: string): Promise<UpstreamLookup> {
      return store.cache.through('upstream', workspaceId, () => lookUpstream(workspaceId));
    },
  };
}

export type GatewayService = ReturnType<typeof gatewayService>;
