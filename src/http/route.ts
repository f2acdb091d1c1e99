// How a route is declared: method, Prefect path, the requirement it needs, its schemas and its
// handler, side by side. Registering a route without a requirement is an error (deny by default).
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import { describeRequirement, type Requirement } from '../authz/requirements.js';
import type { Clock } from '../clock.js';
import type { Actor, OpContext } from '../domain/context.js';
import type { AccountGrant, AuthCore } from '../auth/core.js';
import type { Services } from '../domain/services.js';
import type { Result } from '../errors.js';
import { ErrorBody } from './schemas.js';
import { sendFailure } from './errors.js';
import type { PublicUrl } from './public-url.js';

export interface AuthState {
  actor: Actor | null;
  /** The caller's grant in `{account_id}`, when the route has one. */
  account: AccountGrant | null;
  /** The caller's scopes in `{workspace_id}`, when the route has one. */
  scopes: ReadonlySet<string> | null;
  /** Set when the caller signed in with a session cookie rather than a key. */
  sessionId: string | null;
  csrfToken: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthState;
  }
  interface FastifyContextConfig {
    requirement?: Requirement;
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  method: Method;
  url: string;
  requirement: Requirement;
  summary: string;
  tags: string[];
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  response: Record<number, TSchema>;
  /** Responses carrying a key are never cached by anyone on the way. */
  noStore?: boolean;
  /** Runs on every answer of this route, errors from its auth hook included. */
  onSend?: (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => void;
  /** Returns a promise, or undefined once it has sent the reply itself. */
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> | undefined;
}

export interface RouteDeps {
  services: Services;
  clock: Clock;
  /** Who a caller is and what it may do (auth/core.ts). */
  auth: AuthCore;
  /** Where people reach Gatehouse, for links and the cookie's Secure flag (http/public-url.ts). */
  publicUrl: PublicUrl;
}

export function registerRoutes(app: FastifyInstance, routes: RouteSpec[]): void {
  for (const spec of routes) {
    const errorResponses = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody };
    app.route({
      method: spec.method,
      url: spec.url,
      config: { requirement: spec.requirement },
      ...(spec.onSend ? { onSend: spec.onSend as onSendHookHandler } : {}),
      schema: {
        summary: spec.summary,
        description: describeRequirement(spec.requirement),
        tags: spec.tags,
        ...(spec.requirement.kind === 'public' ? {} : { security: [{ bearerAuth: [] }] }),
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.querystring ? { querystring: spec.querystring } : {}),
        ...(spec.body ? { body: spec.body } : {}),
        response: { ...errorResponses, ...spec.response },
      },
      handler: spec.noStore
        ? (request, reply) => {
            reply.header('cache-control', 'no-store');
            return spec.handler(request, reply);
          }
        : spec.handler,
    });
  }
}

/** The acting caller, for domain services. Only called on routes that authenticate. */
export function opContext(request: FastifyRequest, clock: Clock): OpContext {
  if (!request.auth.actor) throw new Error('opContext on an unauthenticated request');
  return { actor: request.auth.actor, requestId: String(request.id), now: clock.now() };
}

/** Sends a domain result: the value with `status`, or the failure's error envelope. */
export function respond<T>(request: FastifyRequest, reply: FastifyReply, result: Result<T>, status = 200) {
  if (!result.ok) return sendFailure(request, reply, result);
  if (status === 204) return reply.code(204).send();
  return reply.code(status).send(result.value);
}

const serialized = new WeakMap<object, string>();

/**
 * Sends a value the cache keeps (never changed once made) as JSON, serialized once per value rather
 * than once per request. Only for a plain array or object whose JSON is what its response schema
 * would write.
 */
export function sendCachedJson(reply: FastifyReply, value: object) {
  let json = serialized.get(value);
  if (json === undefined) serialized.set(value, (json = JSON.stringify(value)));
  return reply.type('application/json; charset=utf-8').send(json);
}

/** Page fields of a filter body, with Prefect's defaults. */
export function page(body: unknown): { limit: number; offset: number } {
  const b = (body ?? {}) as { limit?: number; offset?: number };
  return { limit: b.limit ?? 200, offset: b.offset ?? 0 };
}

/** `body.<collection>.<field>.any_`, or null when absent (no filter). */
export function anyOf(body: unknown, collection: string, field: string): string[] | null {
  const value = (body as Record<string, Record<string, { any_?: unknown }> | undefined> | null)?.[collection]?.[field]?.any_;
  return Array.isArray(value) ? value.map(String) : null;
}
