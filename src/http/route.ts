// How a route is declared: method, Prefect path, the requirement it needs, its schemas and its
// handler, side by side. Registering a route without a requirement is an error (deny by default).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault, RouteGenericInterface } from 'fastify';
import { describeRequirement, type Requirement } from '../authz/requirements.js';
import type { Clock } from '../clock.js';
import type { Actor, OpContext } from '../domain/context.js';
import type { AccountGrant, AuthCore } from '../auth/core.js';
import type { Services } from '../domain/services.js';
import type { Result } from '../errors.js';
import { ErrorBody } from './schemas.js';
import { sendFailure } from './error-envelope.js';
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
  /** Set on a refused request whose key or session was good: who was refused (the gateway audits it). */
  refusedActor?: Actor | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthState;
  }
  interface FastifyContextConfig {
    requirement?: Requirement;
    formBody?: boolean;
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route's responses by status code (the catalog's error responses are added when registering). */
export type Responses = Record<number, TSchema>;

/** The schemas of one route, as Fastify's type provider reads them. */
interface Schemas<P, Q, B, R> {
  params: P;
  querystring: Q;
  body: B;
  response: R;
}

/** The request of a route: `params`, `query` and `body` are the `Static` types of its schemas. */
export type RouteRequest<P = undefined, Q = undefined, B = undefined, R extends Responses = Responses> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression,
  Schemas<P, Q, B, R>,
  TypeBoxTypeProvider
>;

/** The reply of a route: `reply.code(201).send(value)` is checked against the 201 schema. */
export type RouteReply<R extends Responses = Responses> = FastifyReply<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  unknown,
  Schemas<undefined, undefined, undefined, R>,
  TypeBoxTypeProvider
>;

/** What a handler may return: a value of one of its response schemas, or the reply it has sent. */
export type HandlerResult<R extends Responses> = { [C in keyof R]: R[C] extends TSchema ? Answer<Static<R[C]>> : never }[keyof R] | FastifyReply;

/** An array answer may be one the code keeps read-only (a catalogue, a cached list). */
type Answer<T> = T extends (infer E)[] ? readonly E[] : T;

export interface RouteSpec<P extends TSchema | undefined = TSchema | undefined, Q extends TSchema | undefined = TSchema | undefined, B extends TSchema | undefined = TSchema | undefined, R extends Responses = Responses>
  extends RouteParts<P, Q, B, R> {
  method: Method;
  url: string;
  requirement: Requirement;
  summary: string;
  tags: string[];
}

/** A route past its method, path, requirement, summary and tags: its schemas, options and handler. */
export interface RouteParts<P extends TSchema | undefined = TSchema | undefined, Q extends TSchema | undefined = TSchema | undefined, B extends TSchema | undefined = TSchema | undefined, R extends Responses = Responses> {
  params?: P;
  querystring?: Q;
  body?: B;
  response: R;
  /** Responses carrying a key are never cached by anyone on the way. */
  noStore?: boolean;
  /** Also takes an HTML form body (application/x-www-form-urlencoded), as OAuth token endpoints do; every other route refuses one. */
  formBody?: true;
  /** Largest request body this route accepts, in bytes, when it is below the server's. */
  bodyLimit?: number;
  /** Runs on every answer of this route, errors from its auth hook included. */
  onSend?: (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => void;
  /** Returns a promise, or undefined once it has sent the reply itself. */
  handler: (request: RouteRequest<P, Q, B, R>, reply: RouteReply<R>) => Promise<HandlerResult<R>> | undefined;
}

/** A route of any schemas, as `registerRoutes` takes them: each one was checked by `route()`. */
export type AnyRoute = RouteSpec<any, any, any, any>;

/**
 * Declares a route: the handler's `req.params`, `req.query` and `req.body` are inferred from the
 * schemas, and what it returns or sends is checked against the response schemas.
 */
export function route<P extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined, B extends TSchema | undefined = undefined, R extends Responses = Responses>(
  spec: RouteSpec<P, Q, B, R>,
): AnyRoute {
  return spec;
}

export interface RouteDeps {
  services: Services;
  clock: Clock;
  /** Who a caller is and what it may do (auth/core.ts). */
  auth: AuthCore;
  /** Where people reach Gatehouse, for links and the cookie's Secure flag (http/public-url.ts). */
  publicUrl: PublicUrl;
}

export function registerRoutes(app: FastifyInstance, routes: AnyRoute[]): void {
  for (const spec of routes) {
    // Each spec's handler was checked against its own schemas by `route()`; Fastify validates the
    // request against those same schemas before calling it.
    const handler = spec.handler as (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> | undefined;
    const errorResponses = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody };
    app.route({
      method: spec.method,
      url: spec.url,
      config: { requirement: spec.requirement, ...(spec.formBody ? { formBody: true } : {}) },
      ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}),
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
            return handler(request, reply);
          }
        : handler,
    });
  }
}

/** The acting caller, for domain services. Only called on routes that authenticate. */
export function opContext(request: FastifyRequest, clock: Clock): OpContext {
  if (!request.auth.actor) throw new Error('opContext on an unauthenticated request');
  return { actor: request.auth.actor, requestId: String(request.id), now: clock.now() };
}

/** The value a route answers with `status`: its response schema's `Static` type (a 204 has none). */
type ValueFor<R extends Responses, C extends number> = C extends 204 ? unknown : C extends keyof R ? Static<R[C]> : never;

/** Sends a domain result: the value with `status` (checked against that response schema), or the failure's error envelope. */
export function respond<R extends Responses, C extends number = 200>(
  request: FastifyRequest,
  reply: RouteReply<R>,
  result: Result<ValueFor<R, C>>,
  status?: C,
): FastifyReply {
  const plain = reply as FastifyReply;
  if (!result.ok) return sendFailure(request, plain, result);
  const code = status ?? 200;
  if (code === 204) return plain.code(204).send();
  return plain.code(code).send(result.value);
}

/** Answers 204 with no body (not even a content type). */
export function noContent(reply: RouteReply<{ 204: TSchema }>): FastifyReply {
  return (reply as FastifyReply).code(204).send();
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

/** A filter body as its schema types it: absent or null, or an object with page fields. */
type FilterBody = { limit?: number; offset?: number } | null | undefined;

/** Page fields of a filter body, with Prefect's defaults. */
export function page(body: FilterBody): { limit: number; offset: number } {
  return { limit: body?.limit ?? 200, offset: body?.offset ?? 0 };
}

type AnyOfField = { any_?: readonly unknown[] | null } | null | undefined;

/** `body.<collection>.<field>.any_`, or null when absent (no filter); the names are checked against the filter schema. */
export function anyOf<B extends FilterBody, C extends keyof NonNullable<B> & string, F extends keyof NonNullable<NonNullable<B>[C]> & string>(
  body: B,
  collection: C,
  field: F,
): string[] | null {
  const value = ((body as Record<C, unknown> | null | undefined)?.[collection] as Record<F, AnyOfField> | null | undefined)?.[field]?.any_;
  return Array.isArray(value) ? value.map(String) : null;
}
