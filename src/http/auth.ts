// Authentication and authorization for every route, before its handler and before its body is
// read: the Bearer key or session cookie names an actor, and authz/evaluate() decides the route's
// requirement.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { evaluate, type Grants, type Requirement } from '../authz/requirements.js';
import { cachedAccountGrant, cachedWorkspaceScopes, peekAccountGrant, peekWorkspaceScopes, type AccountGrant } from '../domain/access/grants.js';
import type { Services } from '../domain/services.js';
import type { Store } from '../store/store.js';
import { HttpError } from './errors.js';
import { constantTimeEqual } from '../domain/secrets.js';
import type { KeyThrottle } from './key-throttle.js';
import type { Actor } from '../domain/context.js';
import { hashKey } from '../domain/api-keys/key-format.js';
import { sessionToken } from './session-cookie.js';

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;
const UUID_ANY_CASE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const TOO_MANY_BAD_KEYS = 'Too many requests with invalid API keys from this address; wait and try again';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  return BEARER.exec(header)?.[1] ?? '';
}

/**
 * The actor a presented key stands for, or null; or, when this address has sent too many bad keys
 * and this one never worked from it, how many seconds it must wait (before any store lookup).
 */
export async function authenticateKey(
  services: Services,
  throttle: KeyThrottle,
  address: string,
  key: string,
): Promise<{ actor: Actor | null } | { retryAfter: number }> {
  const digest = hashKey(key);
  const wait = throttle.retryAfter(address, digest);
  if (wait !== null) return { retryAfter: wait };
  const actor = key ? await services.apiKeys.authenticate(key, digest) : null;
  if (actor) throttle.succeeded(address, digest);
  else throttle.failed(address);
  return { actor };
}

/**
 * Who is calling: a Bearer key when an Authorization header is sent (a bad one is never rescued by
 * a cookie), else a session cookie. A state-changing request made with a cookie must carry the
 * session's CSRF token; a cross-site page can make the browser send the cookie, not the header.
 */
export async function resolveCaller(request: FastifyRequest, services: Services, throttle: KeyThrottle, throttledAs401 = false): Promise<void> {
  const key = presentedKey(request);
  if (key !== null) {
    const outcome = await authenticateKey(services, throttle, request.ip, key);
    if ('actor' in outcome) request.auth.actor = outcome.actor;
    else if (!throttledAs401) throw new HttpError('RATE_LIMITED', TOO_MANY_BAD_KEYS, outcome.retryAfter);
    return;
  }
  const token = sessionToken(request);
  if (!token) return;
  const session = await services.sessions.authenticate(token);
  if (!session) return;
  if (!SAFE_METHODS.has(request.method)) {
    const sent = request.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !constantTimeEqual(sent, session.csrfToken)) throw new HttpError('CSRF_FAILED');
  }
  request.auth.actor = session.actor;
  request.auth.sessionId = session.sessionId;
  request.auth.csrfToken = session.csrfToken;
}

export function installAuth(app: FastifyInstance, deps: AuthDeps): void {
  app.decorateRequest('auth', null as never);

  // Each route gets its own onRequest hook, made when the route is registered: the requirement and
  // the names of its path parameters are looked up once, not on every request.
  app.addHook('onRoute', (route) => {
    const requirement = route.config?.requirement;
    if (!requirement) return; // unknown URLs reach the not-found handler; /api/ routes all declare one
    const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    if (hooks.some((hook) => AUTH_HOOKS.has(hook))) return; // the HEAD twin of a GET route, copied with its hooks
    // nginx turns any forward-auth answer but 2xx/401/403 into a 500: there a throttled address
    // is told 401 (still without a store lookup) rather than 429.
    const throttledAs401 = route.url === '/api/gateway/authorize';
    const hook = authHook(requirement, pathParams(route.url), throttledAs401, deps);
    AUTH_HOOKS.add(hook);
    route.onRequest = [...hooks, hook];
  });
}

const AUTH_HOOKS = new WeakSet<object>();

/**
 * Callback style: a request whose key, grant and scopes are all in the cache is decided without a
 * promise. Anything else (a miss, a session cookie, a bad or throttled key) asks the store.
 */
function authHook(requirement: Requirement, paramNames: string[], throttledAs401: boolean, deps: AuthDeps) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    request.auth = { actor: null, account: null, scopes: null, sessionId: null, csrfToken: null };
    if (requirement.kind === 'public') return done();
    const params = normalizedParams(request, paramNames);
    try {
      if (decideFromCache(request, requirement, params, deps)) return done();
    } catch (error) {
      return done(error as Error);
    }
    decideFromStore(request, requirement, params, throttledAs401, deps).then(() => done(), done);
  };
}

interface AuthDeps {
  services: Services;
  store: Store;
  throttle: KeyThrottle;
}

/** The names of a route URL's path parameters (`:name`). */
function pathParams(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
}

/**
 * The route's path parameters, UUIDs lowercased: they are stored lowercase, and UUID parsers accept
 * any case. The pattern only runs on a value that has capitals.
 */
function normalizedParams(request: FastifyRequest, names: string[]): Record<string, string | undefined> {
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  for (const name of names) {
    const value = params[name];
    if (!value) continue;
    const lower = value.toLowerCase();
    if (lower !== value && UUID_ANY_CASE.test(value)) params[name] = lower;
  }
  return params;
}

const needsAccount = (requirement: Requirement, params: Record<string, string | undefined>) =>
  (requirement.kind === 'account' || requirement.kind === 'workspace') && Boolean(params.account_id);
const needsWorkspace = (requirement: Requirement, params: Record<string, string | undefined>) =>
  requirement.kind === 'workspace' && Boolean(params.account_id && params.workspace_id);

/**
 * Decides from the cache alone when the request carries a key and everything it needs is cached:
 * true once decided (allowed, or an HttpError thrown), false when only the store can tell.
 */
function decideFromCache(request: FastifyRequest, requirement: Requirement, params: Record<string, string | undefined>, deps: AuthDeps): boolean {
  const key = presentedKey(request);
  if (!key) return false;
  const digest = hashKey(key);
  if (deps.throttle.retryAfter(request.ip, digest) !== null) return false;
  const actor = deps.services.apiKeys.authenticateCached(key, digest);
  if (!actor?.actorId) return false;
  let account: AccountGrant | null = null;
  let scopes: ReadonlySet<string> | null = null;
  if (needsAccount(requirement, params)) {
    const cached = peekAccountGrant(deps.store, params.account_id!, actor.actorId);
    if (cached === undefined) return false;
    account = cached;
  }
  if (needsWorkspace(requirement, params)) {
    const cached = peekWorkspaceScopes(deps.store, params.account_id!, params.workspace_id!, actor.actorId);
    if (cached === undefined) return false;
    scopes = cached;
  }
  deps.throttle.succeeded(request.ip, digest);
  Object.assign(request.auth, { actor, account, scopes });
  conclude(request, requirement, params);
  return true;
}

async function decideFromStore(
  request: FastifyRequest,
  requirement: Requirement,
  params: Record<string, string | undefined>,
  throttledAs401: boolean,
  deps: AuthDeps,
): Promise<void> {
  await resolveCaller(request, deps.services, deps.throttle, throttledAs401);
  const actor = request.auth.actor;
  if (!actor) throw new HttpError('UNAUTHENTICATED');
  if (needsAccount(requirement, params) && actor.actorId) {
    request.auth.account = await cachedAccountGrant(deps.store, params.account_id!, actor.actorId);
  }
  if (needsWorkspace(requirement, params) && actor.actorId) {
    request.auth.scopes = await cachedWorkspaceScopes(deps.store, params.account_id!, params.workspace_id!, actor.actorId, request.auth.account);
  }
  conclude(request, requirement, params);
}

/** Allows the request (returns) or throws the HttpError the requirement calls for. */
function conclude(request: FastifyRequest, requirement: Requirement, params: Record<string, string | undefined>): void {
  const actor = request.auth.actor!;
  const grants: Grants = { authenticated: true };
  if (requirement.kind === 'self') grants.isSelf = actor.type === 'user' && actor.id === params.user_id;
  if (needsAccount(requirement, params) && actor.actorId) grants.accountPermissions = request.auth.account?.permissions ?? null;
  if (needsWorkspace(requirement, params) && actor.actorId) grants.workspaceScopes = request.auth.scopes;

  const decision = evaluate(requirement, grants);
  if (decision === 'allow') return;
  if (decision === 'unauthenticated') throw new HttpError('UNAUTHENTICATED');
  if (decision === 'not_found') {
    const what = requirement.kind === 'workspace' ? 'Workspace' : requirement.kind === 'self' ? 'User' : 'Account';
    throw new HttpError('NOT_FOUND', `${what} not found`);
  }
  const needed = requirement.kind === 'account' ? `account permission \`${requirement.permission}\`` : `workspace scope \`${(requirement as { scope: string }).scope}\``;
  throw new HttpError('FORBIDDEN', `You do not have the ${needed} this action needs; ask an account Owner or Admin`);
}
