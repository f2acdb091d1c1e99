// The authentication core: who a caller is, and whether it may do what it asks. Every door is a
// thin adapter over it: Gatehouse's own routes (http/auth.ts), the gateway's HTTP proxy and
// forward-auth, its websockets (gateway/), and any later one.
//
// A request goes:  credential → authenticate (throttle, key cache, store) → grants (cache, store)
//                  → authz/evaluate(requirement, grants) → allow, or a Failure from the catalog.
//
// A credential is parsed, hashed, throttled and looked up once. What the cache holds is answered
// without a promise (the common case: a worker's key, over and over); only a miss waits for the
// store, and it goes on from where the cache stopped. Every answer is trusted only as the store's
// coherence allows (cache/auth-cache.ts): once a revoking call has returned, no process uses what
// it revoked.
import { evaluate, type Grants, type Requirement } from '../authz/requirements.js';
import { fail, ok, type Failure, type Result } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../domain/context.js';
import type { Store } from '../store/store.js';
import type { AuthCache } from '../cache/auth-cache.js';
import { hashKey, KEY_PREFIX, parseKey, type KeyKind } from '../domain/api-keys/key-format.js';
import { bearerKey, csrfHolds } from './credentials.js';
import { loadAccountGrant, loadWorkspaceAccount, loadWorkspaceScopes, type AccountGrant } from './grants.js';
import { loadKeyHolder, type KeyHolder } from './keys.js';
import type { KeyThrottle } from './key-throttle.js';
import { loadAddressPolicy, notAllowed } from '../domain/ip-allowlist/service.js';
import type { KeyUseRecorder } from './key-use.js';
import { metrics } from '../observability/metrics.js';

export type { AccountGrant } from './grants.js';

/** A value now, or later: the cache answers now, the store later. */
export type Maybe<T> = T | Promise<T>;

/** `next(value)`, without a promise when `value` is not one. (Not named `then`: a module exporting `then` is a thenable to import().) */
export function andThen<T, U>(value: Maybe<T>, next: (value: T) => Maybe<U>): Maybe<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** What a request presents, read by its door. */
export interface Presented {
  /** The Authorization header as sent (a string, or undefined). */
  authorization: unknown;
  /** The session cookie's token; read only when no Authorization header was sent. */
  sessionToken: () => string | null | undefined;
  method: string;
  /** The X-CSRF-Token header as sent. */
  csrfToken: unknown;
  /** The client's address (for the throttle of failed keys, and a key's last use). */
  address: string;
  /** The User-Agent header as sent (a key's last use). */
  userAgent?: unknown;
}

export interface Caller {
  actor: Actor;
  /** Set when the caller signed in with a session cookie rather than a key. */
  sessionId: string | null;
  csrfToken: string | null;
}

export interface Decision extends Caller {
  /** The caller's grant in `{account_id}`, when the requirement reads one. */
  account: AccountGrant | null;
  /** The caller's scopes in `{workspace_id}`, when the requirement reads them. */
  scopes: ReadonlySet<string> | null;
}

/** A route's path parameters that name what it acts on. */
export interface Target {
  account_id?: string;
  workspace_id?: string;
  user_id?: string;
}

export interface SessionLookup {
  authenticate(token: string): Promise<Caller | null>;
}

export interface AuthCoreDeps {
  store: Store;
  cache: AuthCache;
  clock: Clock;
  throttle: KeyThrottle;
  sessions: SessionLookup;
  /** Notes each key's last use (auth/key-use.ts); absent, nothing is noted. */
  keyUse?: KeyUseRecorder;
}

/** What a route that reads no grants holds (shared: never changed). */
const NOTHING_HELD = Object.freeze({ account: null, scopes: null });

const TOO_MANY_BAD_KEYS = 'Too many requests with invalid API keys from this address; wait and try again';

export function authCore({ store, cache, clock, throttle, sessions, keyUse }: AuthCoreDeps) {

  /** A key's use, noted into a map (never a write, never a promise: the flush is in the background). */
  function noteKeyUse(actor: Actor, presented: Pick<Presented, 'address' | 'userAgent'>, workspaceId: string | null | undefined): void {
    if (keyUse && actor.apiKeyId) keyUse.note(actor.apiKeyId, { at: clock.now(), address: presented.address, client: presented.userAgent, workspaceId });
  }

  /** The trusted cache entry, else the store's answer through the cache. */
  function cached<V>(kind: string, entry: string, load: () => Promise<V>): Maybe<V> {
    const hit = cache.peek<V>(kind, entry);
    return hit !== undefined ? hit : cache.through(kind, entry, load);
  }

  /** The holder's actor while the key is unexpired and of the kind presented (a pnb_ key is a service account's). */
  function holderActor(holder: KeyHolder | null, kind: KeyKind): Actor | null {
    if (!holder || holder.kind !== kind) return null;
    return holder.expiresAt !== null && holder.expiresAt <= clock.now().getTime() ? null : holder.actor;
  }

  /** Notes the outcome for the throttle and answers it. */
  function settle(address: string, digest: string, actor: Actor | null): Result<Actor> {
    metrics.keyAuthentication(actor ? 'accepted' : 'refused');
    if (!actor) {
      throttle.failed(address);
      return fail('UNAUTHENTICATED');
    }
    throttle.succeeded(address, digest);
    return ok(actor);
  }

  /**
   * The actor behind a presented key. An address that has sent too many bad keys is answered 429
   * before any lookup, unless this key already worked from it. A malformed key or a bad checksum
   * is refused before the store is asked. Only a key that passed parseKey is ever cached under its
   * digest, so a cache hit needs no format check: its kind is its prefix.
   */
  function authenticateKey(key: string, address: string): Maybe<Result<Actor>> {
    const digest = hashKey(key);
    const wait = throttle.retryAfter(address, digest);
    if (wait !== null) {
      metrics.keyAuthentication('throttled');
      return { ok: false, code: 'RATE_LIMITED', detail: TOO_MANY_BAD_KEYS, retryAfter: wait };
    }
    cache.poll();
    const hit = cache.peek<KeyHolder>('key', digest);
    if (hit !== undefined) return settle(address, digest, holderActor(hit, key.startsWith(KEY_PREFIX.bot) ? 'bot' : 'user'));
    const kind = key ? parseKey(key) : null;
    if (!kind) return settle(address, digest, null);
    return cache.through('key', digest, () => loadKeyHolder(store.db, digest)).then((holder) => settle(address, digest, holderActor(holder, kind)));
  }

  /**
   * Who is calling: a Bearer key when an Authorization header is sent (a bad one is never rescued
   * by a cookie), else a session cookie, else nobody (ok(null)). A state-changing request made with
   * a cookie must carry the session's CSRF token.
   */
  function identify(presented: Presented): Maybe<Result<Caller | null>> {
    const key = bearerKey(presented.authorization);
    if (key !== null) {
      return andThen(authenticateKey(key, presented.address), (outcome) => (outcome.ok ? ok({ actor: outcome.value, sessionId: null, csrfToken: null }) : outcome));
    }
    const token = presented.sessionToken();
    if (!token) return ok(null);
    return sessions.authenticate(token).then((session) => {
      metrics.sessionAuthentication(session ? 'accepted' : 'refused');
      if (!session) return ok(null);
      return csrfHolds(presented.method, presented.csrfToken, session.csrfToken) ? ok(session) : fail('CSRF_FAILED');
    });
  }

  const grantEntry = (accountId: string, actorId: string) => `${accountId}/${actorId}`;
  const scopesEntry = (accountId: string, workspaceId: string, actorId: string) => `${accountId}/${workspaceId}/${actorId}`;

  /** The actor's grant in an account: its role and that role's permissions; null without one. */
  function accountGrant(actorId: string, accountId: string): Maybe<AccountGrant | null> {
    return cached('grant', grantEntry(accountId, actorId), () => loadAccountGrant(store.db, accountId, actorId));
  }

  /** The actor's scopes in a workspace of an account; null without access (or no such workspace). */
  function workspaceScopes(actorId: string, accountId: string, workspaceId: string, account: AccountGrant | null): Maybe<ReadonlySet<string> | null> {
    if (!account) return null;
    return cached('scopes', scopesEntry(accountId, workspaceId, actorId), () => loadWorkspaceScopes(store.db, accountId, workspaceId, actorId, account));
  }

  /**
   * Whether an account's IP allowlist admits the caller's address: null when it does (or the
   * account enforces none), else the refusal. The compiled list is cached per account, as coherent
   * as grants: a change to the list or the setting is in force everywhere once its call returns.
   */
  function addressRefusal(accountId: string, address: string): Maybe<Failure | null> {
    return andThen(cached('ip-allowlist', accountId, () => loadAddressPolicy(store.db, accountId)), (policy) =>
      !policy || !policy.enforced || policy.allows(address) ? null : notAllowed(address),
    );
  }

  /** What the requirement reads of the caller's grants: the account's, then the workspace's. */
  function grantsFor(actor: Actor, requirement: Requirement, target: Target): Maybe<{ account: AccountGrant | null; scopes: ReadonlySet<string> | null }> {
    const { actorId } = actor;
    const accountId = target.account_id;
    if (!actorId || !accountId || (requirement.kind !== 'account' && requirement.kind !== 'workspace')) return NOTHING_HELD;
    return andThen(accountGrant(actorId, accountId), (account) => {
      const workspaceId = target.workspace_id;
      if (requirement.kind !== 'workspace' || !workspaceId) return { account, scopes: null };
      return andThen(workspaceScopes(actorId, accountId, workspaceId, account), (scopes) => ({ account, scopes }));
    });
  }

  /**
   * The requirement's verdict on what the caller holds: allowed, or the catalog's refusal. Every
   * request ends here, so the grants and the decision are built whole (one shape, no spreads).
   */
  function conclude(requirement: Requirement, caller: Caller, held: { account: AccountGrant | null; scopes: ReadonlySet<string> | null }, target: Target): Result<Decision> {
    const { actor } = caller;
    const { kind } = requirement;
    const named = Boolean(actor.actorId && target.account_id);
    const grants: Grants = {
      authenticated: true,
      isSelf: kind === 'self' && actor.type === 'user' && actor.id === target.user_id,
      accountPermissions: named && (kind === 'account' || kind === 'workspace') ? (held.account?.permissions ?? null) : undefined,
      workspaceScopes: named && kind === 'workspace' && target.workspace_id ? held.scopes : undefined,
    };
    const decision = evaluate(requirement, grants);
    if (decision !== 'allow') return refusal(requirement, decision);
    return ok({ actor, sessionId: caller.sessionId, csrfToken: caller.csrfToken, account: held.account, scopes: held.scopes });
  }

  return {
    authenticateKey,
    noteKeyUse,

    /** identify(), noting a key's use (a route that names no workspace). */
    identify(presented: Presented): Maybe<Result<Caller | null>> {
      return andThen(identify(presented), (outcome) => {
        if (outcome.ok && outcome.value && outcome.value.sessionId === null) noteKeyUse(outcome.value.actor, presented, null);
        return outcome;
      });
    },

    /**
     * The person behind a session cookie, with no CSRF check: for a door that proves a request's
     * origin its own way (the Prefect UI's, gateway/prefect-ui.ts, checks Origin and Sec-Fetch-Site).
     */
    identifySession(token: string): Promise<Caller | null> {
      return sessions.authenticate(token).then((session) => (metrics.sessionAuthentication(session ? 'accepted' : 'refused'), session));
    },

    /**
     * The whole decision for a route: who is calling, what it holds where the route acts, and
     * whether the route's requirement allows it. Without a promise when the cache knows it all.
     */
    authorize(requirement: Requirement, presented: Presented, target: Target): Maybe<Result<Decision>> {
      return andThen(identify(presented), (identified) => {
        if (!identified.ok) return identified;
        const caller = identified.value;
        if (!caller) return fail('UNAUTHENTICATED');
        return andThen(grantsFor(caller.actor, requirement, target), (held): Maybe<Result<Decision>> => {
          const decision = withActor(conclude(requirement, caller, held, target), caller.actor);
          // A key's use, with the workspace the route names when the key was let in there: only a
          // workspace requirement checked access to it (a route that only authenticates, such as
          // /api/me/workspaces/{id}/scopes, answers 404 itself for another account's workspace,
          // whose id must not become this key's last workspace).
          if (caller.sessionId === null) noteKeyUse(caller.actor, presented, decision.ok && requirement.kind === 'workspace' ? target.workspace_id : null);
          // An account's IP allowlist binds whoever acts in it, once they would otherwise be let in
          // (someone with no access still gets the same 404 as for an account that does not exist).
          const accountId = target.account_id;
          if (!decision.ok || !accountId || (requirement.kind !== 'account' && requirement.kind !== 'workspace')) return decision;
          return andThen(addressRefusal(accountId, presented.address), (refused) => (refused ? withActor(refused, caller.actor) : decision));
        });
      });
    },

    /**
     * The actor's scopes in a workspace (the gateway's question): null without access, and the
     * refusal when the account's IP allowlist does not admit `address`.
     */
    workspaceScopes(actor: Actor, accountId: string, workspaceId: string, address: string): Maybe<Result<ReadonlySet<string> | null>> {
      const { actorId } = actor;
      if (!actorId) return ok(null);
      return andThen(accountGrant(actorId, accountId), (account) =>
        andThen(workspaceScopes(actorId, accountId, workspaceId, account), (scopes) =>
          scopes === null ? ok(null) : andThen(addressRefusal(accountId, address), (refused): Result<ReadonlySet<string> | null> => refused ?? ok(scopes)),
        ),
      );
    },

    /**
     * The actor's scopes in a workspace named by its id alone, sorted: asked on every start of a
     * Prefect client, so the answer itself is kept. "Not found" always asks the store. The
     * account's IP allowlist binds this answer too (`address`: the caller's).
     */
    myWorkspaceScopes(actor: Actor, workspaceId: string, address: string): Maybe<Result<string[]>> {
      const { actorId } = actor;
      if (!actorId) return fail('NOT_FOUND', 'Workspace not found');
      const held = cached('my-scopes', `${workspaceId}/${actorId}`, async () => {
        const accountId = await loadWorkspaceAccount(store.db, workspaceId);
        if (!accountId) return null;
        const scopes = await workspaceScopes(actorId, accountId, workspaceId, await accountGrant(actorId, accountId));
        return scopes ? { accountId, sorted: [...scopes].sort() } : null;
      });
      return andThen(held, (found): Maybe<Result<string[]>> => {
        if (!found) return fail('NOT_FOUND', 'Workspace not found');
        return andThen(addressRefusal(found.accountId, address), (refused) => refused ?? ok(found.sorted));
      });
    },

    /** The actor's account permissions, sorted; refused like the account's routes by its IP allowlist. */
    myAccountPermissions(actor: Actor, accountId: string, address: string): Maybe<Result<string[]>> {
      if (!actor.actorId) return fail('NOT_FOUND', 'Account not found');
      return andThen(accountGrant(actor.actorId, accountId), (grant): Maybe<Result<string[]>> => {
        if (!grant) return fail('NOT_FOUND', 'Account not found');
        return andThen(addressRefusal(accountId, address), (refused) => refused ?? ok([...grant.permissions].sort()));
      });
    },
  };
}

export type AuthCore = ReturnType<typeof authCore>;

/** A refusal of a caller whose credential was good names it (the gateway audits who was refused). */
export type Refusal = Failure & { actor?: Actor };
function withActor<T>(result: Result<T>, actor: Actor): Result<T> {
  if (result.ok) return result;
  const refusal: Refusal = { ...result, actor };
  return refusal;
}

/** The refusal for an evaluate() verdict other than allow. */
function refusal(requirement: Requirement, decision: Exclude<ReturnType<typeof evaluate>, 'allow'>): Failure {
  if (decision === 'unauthenticated') return fail('UNAUTHENTICATED');
  if (decision === 'not_found') {
    const what = requirement.kind === 'workspace' ? 'Workspace' : requirement.kind === 'self' ? 'User' : 'Account';
    return fail('NOT_FOUND', `${what} not found`);
  }
  const needed = requirement.kind === 'account' ? `account permission \`${requirement.permission}\`` : `workspace scope \`${(requirement as { scope: string }).scope}\``;
  return fail('FORBIDDEN', `You do not have the ${needed} this action needs; ask an account Owner or Admin`);
}
