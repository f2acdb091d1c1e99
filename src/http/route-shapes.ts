// The shapes most routes share, as builders: read one thing by the ids in its path, create one,
// list with a filter body and paging, update one (204, or 200 with it) or delete one (204), and `on`
// for any other route. A call names the route's path, requirement and summary first, then its schemas
// and the service call (or, with `on`, the method first and a handler last); the builder adds the
// group's tags, the path's params schema and, but for `on`, the method, the status codes and the
// plumbing from request to reply.
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Requirement } from '../authz/requirements.js';
import type { Clock } from '../clock.js';
import type { OpContext } from '../domain/context.js';
import type { Result } from '../errors.js';
import { type AnyRoute, type Method, opContext, respond, route, type Responses, type RouteParts, type RouteReply } from './route.js';
import { idParams, Uuid } from './schemas.js';

/** The `:name` segments of a path, e.g. `'account_id' | 'bot_id'`. */
type PathIds<U extends string> = U extends `${string}:${infer N}/${infer Rest}` ? N | PathIds<Rest> : U extends `${string}:${infer N}` ? N : never;

/** The params of a path: every `:name` in it is a UUID. */
type Ids<U extends string> = Record<PathIds<U>, string>;

/** The params schema of a path: each of its `:name` segments, in order, a UUID. */
type PathParams<U extends string> = TObject<Record<PathIds<U>, typeof Uuid>>;

/** The params schema of a path, its `:name` segments in order (what `idParams(...)` would say). */
function pathParams<U extends string>(url: U): PathParams<U> {
  const names = [...url.matchAll(/:([a-z_]+)/g)].map((m) => m[1]) as PathIds<U>[];
  return idParams(...names);
}

/** Builders for one group of routes: `tags` is the group's heading in the API description. */
export function routeShapes(clock: Clock, tags: string[]) {
  // The handlers' own request and reply types depend on their schemas; past `route()`, any will do.
  const plain = (request: unknown, reply: unknown) => [request as FastifyRequest, reply as RouteReply] as const;
  const head = <U extends string>(method: Method, url: U, requirement: Requirement, summary: string) => {
    const params = pathParams(url);
    return { method, url, requirement, summary, tags, ...(Object.keys(params.properties).length ? { params } : {}) };
  };
  return {
    /**
     * Any route: the handler's `req.params` are the path's ids (UUIDs) unless `spec.params` gives
     * another schema, and its query, body and answers are typed by the schemas as with `route()`.
     */
    on<U extends string, P extends TSchema = PathParams<U>, Q extends TSchema | undefined = undefined, B extends TSchema | undefined = undefined, R extends Responses = Responses>(
      method: Method,
      url: U,
      requirement: Requirement,
      summary: string,
      spec: RouteParts<P, Q, B, R>,
    ): AnyRoute {
      return { ...head(method, url, requirement, summary), ...spec };
    },

    /** GET one thing: 200 with it, or the service's failure (404 when it is not there). */
    readOne<U extends string, T extends TSchema>(url: U, requirement: Requirement, summary: string, spec: { response: T; read: (ids: Ids<U>) => Promise<Result<Static<T>>> }): AnyRoute {
      return route({
        ...head('GET', url, requirement, summary),
        response: { 200: spec.response },
        handler: async (req, reply) => respond(...plain(req, reply), await spec.read(req.params as Ids<U>)),
      });
    },

    /** POST a new thing: 201 with it. `noStore` when the answer carries a key. */
    createOne<U extends string, B extends TSchema, T extends TSchema>(
      url: U,
      requirement: Requirement,
      summary: string,
      spec: { body: B; response: T; noStore?: true; create: (ctx: OpContext, ids: Ids<U>, body: Static<B>) => Promise<Result<Static<T>>> },
    ): AnyRoute {
      return route({
        ...head('POST', url, requirement, summary),
        body: spec.body,
        response: { 201: spec.response },
        ...(spec.noStore ? { noStore: true } : {}),
        handler: async (req, reply) => respond(...plain(req, reply), await spec.create(opContext(req, clock), req.params as Ids<U>, req.body as Static<B>), 201),
      });
    },

    /** POST `.../filter`: 200 with a page of things; an absent or `null` body means "everything". */
    filterMany<U extends string, B extends TSchema, T extends TSchema>(
      url: U,
      requirement: Requirement,
      summary: string,
      spec: { body: B; item: T; list: (ids: Ids<U>, body: Static<B>, request: FastifyRequest) => Promise<readonly Static<T>[]> },
    ): AnyRoute {
      return route({
        ...head('POST', url, requirement, summary),
        body: spec.body,
        response: { 200: Type.Array(spec.item) },
        // `route()` cannot resolve the array schema of a generic `T`; `list` is typed against it above.
        handler: async (req) => spec.list(req.params as Ids<U>, req.body as Static<B>, req as FastifyRequest) as Promise<never>,
      });
    },

    /**
     * Change one thing, with PATCH unless `method` says otherwise: 204, or with a `response` schema
     * 200 and the thing as it is now; else the service's failure.
     */
    updateOne<U extends string, B extends TSchema, T extends TSchema = TSchema>(
      url: U,
      requirement: Requirement,
      summary: string,
      spec: {
        method?: 'PUT' | 'POST';
        body: B;
        response?: T;
        update: (ctx: OpContext, ids: Ids<U>, body: Static<B>, request: FastifyRequest) => Promise<Result<Static<T>>>;
      },
    ): AnyRoute {
      const status = spec.response ? 200 : 204;
      return route({
        ...head(spec.method ?? 'PATCH', url, requirement, summary),
        body: spec.body,
        response: spec.response ? { 200: spec.response } : { 204: Type.Null() },
        handler: async (req, reply) => respond(...plain(req, reply), await spec.update(opContext(req, clock), req.params as Ids<U>, req.body as Static<B>, req as FastifyRequest), status),
      });
    },

    /** DELETE one thing: 204, or the service's failure. */
    removeOne<U extends string>(url: U, requirement: Requirement, summary: string, remove: (ctx: OpContext, ids: Ids<U>) => Promise<Result<unknown>>): AnyRoute {
      return route({
        ...head('DELETE', url, requirement, summary),
        response: { 204: Type.Null() },
        handler: async (req, reply) => respond(...plain(req, reply), await remove(opContext(req, clock), req.params as Ids<U>), 204),
      });
    },
  };
}
