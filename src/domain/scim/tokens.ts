// An account's SCIM bearer tokens: what its identity provider presents on the SCIM endpoints, and
// nowhere else. Created by an Owner or Admin and shown once; only the SHA-256 digest is kept, as
// for API keys. Every SCIM request looks its token up in the store (no cache: SCIM traffic is a
// trickle), so a revoked token is refused by every process from the moment revoke() returns.
import { randomBytes } from 'node:crypto';
import { fail, ok, type Result } from '../../errors.js';
import { hashKey } from '../api-keys/key-format.js';
import { newId, type Actor, type OpContext } from '../context.js';
import type { Deps } from '../deps.js';
import { deleteRecorded, insertRecorded } from '../audit/service.js';
import { inTransaction } from '../transaction.js';
import { loadAddressPolicy, notAllowed } from '../ip-allowlist/service.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SCIM_TOKEN_PREFIX = 'scim_';
const TOKEN_PATTERN = /^scim_[0-9A-Za-z]{40}$/;
/** How often a token's last use is written (at most). */
const TOUCH_EVERY_MS = 60_000;

export function generateScimToken(): string {
  let out = '';
  while (out.length < 40) {
    for (const byte of randomBytes(80)) if (byte < 248 && out.length < 40) out += ALPHABET[byte % 62];
  }
  return SCIM_TOKEN_PREFIX + out;
}

export const maskScimToken = (token: string): string => `${token.slice(0, 9)}********`;

export interface ScimTokenView {
  id: string;
  name: string;
  created: string;
  created_by: string;
  masked_token: string;
  last_used_at: string | null;
  last_used_from: string | null;
}

export interface IssuedScimToken extends ScimTokenView {
  /** The token itself: in this one answer only. */
  token: string;
}

/** Who is calling on a SCIM endpoint: the identity provider, by its token. */
export interface ScimCaller {
  tokenId: string;
  accountId: string;
  actor: Actor;
}

export const scimActor = (accountId: string, token: { id: string; name: string }): Actor => ({
  type: 'system',
  id: null,
  actorId: null,
  name: `SCIM token "${token.name}" (${token.id.slice(0, 8)})`,
  accountId,
  apiKeyId: null,
});

const COLUMNS = ['id', 'name', 'created', 'created_by', 'masked_token', 'last_used_at', 'last_used_from'] as const;

export function scimTokenService(deps: Deps) {
  const { store } = deps;
  return {
    async list(accountId: string): Promise<ScimTokenView[]> {
      return store.db.selectFrom('scim_tokens').select(COLUMNS).where('account_id', '=', accountId).orderBy('created').orderBy('id').execute();
    },

    async create(ctx: OpContext, accountId: string, input: { name: string }): Promise<Result<IssuedScimToken>> {
      const token = generateScimToken();
      return inTransaction(
        deps,
        async (tx) => {
          const row = {
            id: newId(),
            account_id: accountId,
            name: input.name.trim(),
            token_hash: hashKey(token),
            masked_token: maskScimToken(token),
            created: ctx.now.toISOString(),
            created_by: ctx.actor.name,
            last_used_at: null,
            last_used_from: null,
          };
          await insertRecorded(tx, ctx, 'scim_tokens', row, { action: 'scim_token.created', targetType: 'scim_token', details: { name: row.name, masked_token: row.masked_token } });
          const { account_id: _a, token_hash: _h, ...view } = row;
          return ok({ ...view, token });
        },
        // A brand-new token is in no cached answer.
        { invalidates: false },
      );
    },

    async revoke(ctx: OpContext, accountId: string, tokenId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const row = await tx.selectFrom('scim_tokens').select(['id', 'account_id', 'name', 'masked_token']).where('account_id', '=', accountId).where('id', '=', tokenId).executeTakeFirst();
        if (!row) return fail('NOT_FOUND', 'SCIM token not found');
        await deleteRecorded(tx, ctx, 'scim_tokens', row, { action: 'scim_token.revoked', targetType: 'scim_token', details: { name: row.name, masked_token: row.masked_token } });
        return ok(null);
      });
    },

    /**
     * The identity provider behind a token presented on account `accountId`'s SCIM endpoints. A
     * malformed token is refused before the store is asked; another account's token is refused like
     * a wrong one. The account's IP allowlist binds SCIM calls as it binds every other.
     */
    async authenticate(token: string, accountId: string, address: string): Promise<Result<ScimCaller>> {
      if (!TOKEN_PATTERN.test(token)) return fail('SCIM_TOKEN_INVALID');
      const row = await store.db
        .selectFrom('scim_tokens')
        .select(['id', 'name', 'account_id', 'last_used_at'])
        .where('token_hash', '=', hashKey(token))
        .executeTakeFirst();
      if (!row || row.account_id !== accountId) return fail('SCIM_TOKEN_INVALID');
      const policy = await loadAddressPolicy(store.db, accountId);
      if (policy && policy.enforced && !policy.allows(address)) return notAllowed(address);
      const now = deps.clock.now();
      if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() > TOUCH_EVERY_MS) {
        await store.db.updateTable('scim_tokens').set({ last_used_at: now.toISOString(), last_used_from: address.slice(0, 100) }).where('id', '=', row.id).execute();
      }
      return ok({ tokenId: row.id, accountId, actor: scimActor(accountId, row) });
    },
  };
}

export type ScimTokenService = ReturnType<typeof scimTokenService>;
