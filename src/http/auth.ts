// The HTTP door of the auth core (auth/core.ts): every route's requirement is decided before its
// handler and before its body is read, and the answer is kept on `request.auth`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Requirement } from '../authz/requirements.js';
import type { AuthCore, Presented, Refusal, Target } from '../auth/core.js';
import type { Result } from '../errors.js';
import { HttpError } from './error-envelope.js';
import { sessionToken } from './session-cookie.js';

const UUID_ANY_CASE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a request presents to the auth core. */
export function presented(request: FastifyRequest): Presented {
  const { headers } = request;
  return {
    authorization: headers.authorization,
    sessionToken: () => sessionToken(request),
    method: request.method,
    csrfToken: headers['x-csrf-token'],
    address: request.ip,
    userAgent: headers['user-agent'],
  };
}

/** The caller of a public route that may be signed in (who is, if anyone): null for nobody. */
export async function identifyCaller(request: FastifyRequest, auth: AuthCore): Promise<void> {
  const identified = await auth.identify(presented(request));
  // A bad key on a public route is nobody; a throttled address or a missing CSRF token is refused.
  if (!identified.ok && identified.code !== 'UNAUTHENTICATED') throw new HttpError(identified.code, identified.detail, identified.retryAfter);
  const caller = identified.ok ? identified.value : null;
  if (!caller) return;
  Object.assign(request.auth, { actor: caller.actor, sessionId: caller.sessionId, csrfToken: caller.csrfToken });
}

export function installAuth(app: FastifyInstance, auth: AuthCore): void {
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
    const hook = authHook(requirement, pathParams(route.url), throttledAs401, auth);
    AUTH_HOOKS.add(hook);
    route.onRequest = [...hooks, hook];
  });
}

const AUTH_HOOKS = new WeakSet<object>();

/** Callback style: a request the cache can decide is decided without a promise. */
function authHook(requirement: Requirement, paramNames: string[], throttledAs401: boolean, auth: AuthCore) {
  const decided = (request: FastifyRequest, done: (error?: Error) => void, result: Result<NonNullable<FastifyRequest['auth']>>) => {
    if (result.ok) {
      request.auth = result.value;
      return done();
    }
    const refused = (result as Refusal).actor;
    if (refused) request.auth.refusedActor = refused;
    if (throttledAs401 && result.code === 'RATE_LIMITED') return done(new HttpError('UNAUTHENTICATED'));
    done(new HttpError(result.code, result.detail, result.retryAfter));
  };
  return (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    request.auth = { actor: null, account: null, scopes: null, sessionId: null, csrfToken: null };
    // A SCIM endpoint's token is checked by its own door (http/routes/scim.ts), never as a key.
    if (requirement.kind === 'public' || requirement.kind === 'scim') return done();
    let outcome: ReturnType<AuthCore['authorize']>;
    try {
      outcome = auth.authorize(requirement, presented(request), normalizedParams(request, paramNames));
    } catch (error) {
      return done(error as Error);
    }
    if (outcome instanceof Promise) outcome.then((result) => decided(request, done, result), done);
    else decided(request, done, outcome);
  };
}

/** The names of a route URL's path parameters (`:name`). */
function pathParams(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
}

/**
 * The route's path parameters, UUIDs lowercased: they are stored lowercase, and UUID parsers accept
 * any case. The pattern only runs on a value that has capitals.
 */
function normalizedParams(request: FastifyRequest, names: string[]): Target {
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  for (const name of names) {
    const value = params[name];
    if (!value) continue;
    const lower = value.toLowerCase();
    if (lower !== value && UUID_ANY_CASE.test(value)) params[name] = lower;
  }
  return params;
}
