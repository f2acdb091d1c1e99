// Browser sessions: sign in with email and password, an opaque token in an HttpOnly cookie (only
// its digest is stored), expiry, sign-out, listing and terminating one's own sessions.
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type Actor, type OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import { csrfTokenFor, digest, hashPassword, MIN_PASSWORD_LENGTH, newSecret, verifyPassword } from '../secrets.js';
import { normalizeEmail } from '../users/create.js';
import { addressKey, clearFailures, countAttempt, emailKey, passwordChangeKey, THROTTLE, uncountAttempt } from './throttle.js';
import type { PasswordChange } from './inputs.js';
import { passwordRefusal } from './sso-required.js';

export const DEFAULT_SESSION_TTL_SECONDS = 12 * 60 * 60;
/** How often a session's `updated` (last seen) is written: not on every request. */
const TOUCH_EVERY_MS = 5 * 60 * 1000;

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export interface NewSession {
  /** The cookie value: in this result only. */
  token: string;
  csrf_token: string;
  session_id: string;
  user_id: string;
  issued_at: string;
  expires_at: string;
}

export interface SessionView {
  id: string;
  created: string;
  updated: string;
  user_id: string;
  ip_address: string | null;
  location: null;
  user_agent: string | null;
  expires_at: number;
  restricted: boolean;
  current: boolean;
}

export async function createSession(tx: Executor, userId: string, client: ClientInfo, now: Date, ttlSeconds: number): Promise<NewSession> {
  const token = newSecret();
  const id = newId();
  const expires = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
  await tx
    .insertInto('sessions')
    .values({
      id,
      token_hash: digest(token),
      user_id: userId,
      ip_address: client.ip,
      user_agent: client.userAgent?.slice(0, 500) ?? null,
      created: now.toISOString(),
      updated: now.toISOString(),
      expires_at: expires,
    })
    .execute();
  await tx.updateTable('users').set({ last_login: now.toISOString() }).where('id', '=', userId).execute();
  return { token, csrf_token: csrfTokenFor(token), session_id: id, user_id: userId, issued_at: now.toISOString(), expires_at: expires };
}

export function sessionService(deps: Deps, options: { ttlSeconds?: number } = {}) {
  const { store, cache, clock } = deps;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;

  async function storePassword(ctx: OpContext, userId: string, password: string, keepSessionId: string | null): Promise<Result<null>> {
    const hash = await hashPassword(password);
    return inTransaction(deps, async (tx) => {
      await tx.updateTable('users').set({ password_hash: hash, updated: ctx.now.toISOString() }).where('id', '=', userId).execute();
      let others = tx.deleteFrom('sessions').where('user_id', '=', userId);
      if (keepSessionId) others = others.where('id', '!=', keepSessionId);
      await others.execute();
      await recordEvent(tx, ctx, { action: 'user.password_changed', accountId: null, targetType: 'user', targetId: userId });
      return ok(null);
    });
  }

  return {
    ttlSeconds,

    async login(email: string, password: string, client: ClientInfo): Promise<Result<NewSession>> {
      const now = clock.now();
      const keys = [
        { key: emailKey(email), limit: THROTTLE.perEmail },
        ...(client.ip ? [{ key: addressKey(client.ip), limit: THROTTLE.perAddress }] : []),
      ];
      // Counted before the password is checked: a failure leaves its count, a success takes it back.
      const wait = await store.db.transaction().execute(async (tx) => {
        let longest = 0;
        for (const { key, limit } of keys) longest = Math.max(longest, await countAttempt(tx, key, limit, now));
        return longest;
      });
      if (wait > 0) {
        return { ok: false, code: 'RATE_LIMITED', detail: `Too many failed sign-ins; try again in ${wait} seconds`, retryAfter: wait };
      }
      const user = await store.db
        .selectFrom('users')
        .select(['id', 'actor_id', 'handle', 'password_hash'])
        .where('email', '=', normalizeEmail(email))
        .executeTakeFirst();
      const valid = await verifyPassword(user?.password_hash ?? null, password);
      if (!user || !valid) return fail('INVALID_LOGIN');
      // Asked only of someone who knows the password, so it tells a guesser nothing.
      const ssoOnly = await passwordRefusal(store.db, user.id);
      if (ssoOnly) return ssoOnly;
      return inTransaction(deps, async (tx) => {
        await clearFailures(tx, emailKey(email));
        if (client.ip) await uncountAttempt(tx, addressKey(client.ip));
        const session = await createSession(tx, user.id, client, now, ttlSeconds);
        await recordEvent(
          tx,
          { actor: { type: 'user', id: user.id, actorId: user.actor_id, name: user.handle, accountId: null, apiKeyId: null }, requestId: null, now },
          { action: 'user.signed_in', accountId: null, targetType: 'session', targetId: session.session_id, details: { ip_address: client.ip } },
        );
        return ok(session);
      });
    },

    /** The user a session cookie stands for, when the session exists and has not expired. */
    async authenticate(token: string): Promise<{ actor: Actor; sessionId: string; csrfToken: string } | null> {
      if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
      cache.poll(); // the grants this request reads next come from the cache
      const now = clock.now();
      const row = await store.db
        .selectFrom('sessions as s')
        .innerJoin('users as u', 'u.id', 's.user_id')
        .select(['s.id', 's.updated', 'u.id as user_id', 'u.actor_id', 'u.handle'])
        .where('s.token_hash', '=', digest(token))
        .where('s.expires_at', '>', now.toISOString())
        .executeTakeFirst();
      if (!row) return null;
      if (now.getTime() - new Date(row.updated).getTime() > TOUCH_EVERY_MS) {
        await store.db.updateTable('sessions').set({ updated: now.toISOString() }).where('id', '=', row.id).execute();
      }
      return {
        actor: { type: 'user', id: row.user_id, actorId: row.actor_id, name: row.handle, accountId: null, apiKeyId: null },
        sessionId: row.id,
        csrfToken: csrfTokenFor(token),
      };
    },

    async expiresAt(sessionId: string): Promise<string | null> {
      const row = await store.db.selectFrom('sessions').select('expires_at').where('id', '=', sessionId).executeTakeFirst();
      return row?.expires_at ?? null;
    },

    async list(userId: string, currentSessionId: string | null): Promise<SessionView[]> {
      const rows = await store.db
        .selectFrom('sessions')
        .select(['id', 'created', 'updated', 'user_id', 'ip_address', 'user_agent', 'expires_at'])
        .where('user_id', '=', userId)
        .where('expires_at', '>', clock.now().toISOString())
        .orderBy('created', 'desc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        created: r.created,
        updated: r.updated,
        user_id: r.user_id,
        ip_address: r.ip_address,
        location: null,
        user_agent: r.user_agent,
        expires_at: Math.floor(new Date(r.expires_at).getTime() / 1000),
        restricted: false,
        current: r.id === currentSessionId,
      }));
    },

    async terminate(ctx: OpContext, userId: string, sessionId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const deleted = await tx.deleteFrom('sessions').where('id', '=', sessionId).where('user_id', '=', userId).executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return fail('NOT_FOUND', 'Session not found');
        await recordEvent(tx, ctx, { action: 'session.terminated', accountId: null, targetType: 'session', targetId: sessionId });
        return ok(null);
      });
    },

    /**
     * Changes a password: the current one must be given. A user without a password cannot get one
     * here, or a leaked API key could become a sign-in that outlives the key's revocation; the
     * first password comes from setup, an invitation, or `gatehouse set-password` on the server.
     */
    async changePassword(
      ctx: OpContext,
      userId: string,
      input: PasswordChange,
      keepSessionId: string | null,
    ): Promise<Result<null>> {
      if (input.new_password.length < MIN_PASSWORD_LENGTH) return fail('PASSWORD_TOO_SHORT');
      const user = await store.db.selectFrom('users').select(['id', 'password_hash']).where('id', '=', userId).executeTakeFirst();
      if (!user) return fail('NOT_FOUND', 'User not found');
      if (!user.password_hash) return fail('NO_PASSWORD_YET');
      // Each check is an Argon2 hash: counted first, like a sign-in, so a stolen session or key
      // can neither guess the password at speed nor keep the server busy hashing.
      const key = passwordChangeKey(userId);
      const wait = await countAttempt(store.db, key, THROTTLE.perEmail, clock.now());
      if (wait > 0) return { ok: false, code: 'RATE_LIMITED', detail: `Too many wrong current passwords; try again in ${wait} seconds`, retryAfter: wait };
      if (!(await verifyPassword(user.password_hash, input.current_password ?? ''))) return fail('WRONG_PASSWORD');
      await clearFailures(store.db, key);
      return storePassword(ctx, userId, input.new_password, keepSessionId);
    },

    /** The server operator's path (`gatehouse set-password`): no current password; every session ends. */
    async setPassword(ctx: OpContext, email: string, newPassword: string): Promise<Result<{ userId: string }>> {
      if (newPassword.length < MIN_PASSWORD_LENGTH) return fail('PASSWORD_TOO_SHORT');
      const user = await store.db.selectFrom('users').select('id').where('email', '=', normalizeEmail(email)).executeTakeFirst();
      if (!user) return fail('NOT_FOUND', `No user with email ${normalizeEmail(email)}`);
      const stored = await storePassword(ctx, user.id, newPassword, null);
      return stored.ok ? ok({ userId: user.id }) : stored;
    },

    async logout(ctx: OpContext, sessionId: string): Promise<void> {
      await inTransaction(deps, async (tx) => {
        await tx.deleteFrom('sessions').where('id', '=', sessionId).execute();
        await recordEvent(tx, ctx, { action: 'user.signed_out', accountId: null, targetType: 'session', targetId: sessionId });
      });
    },
  };
}

export type SessionService = ReturnType<typeof sessionService>;
