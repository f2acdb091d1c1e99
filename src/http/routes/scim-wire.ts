// What every SCIM route shares: the wire format (application/scim+json, list responses, SCIM's error
// shape with Gatehouse's `code` and `request_id` beside it), paging and filters, and the plugin
// context the routes live in, whose hook checks the account's SCIM token before the body is read.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { bearerKey } from '../../auth/credentials.js';
import type { Clock } from '../../clock.js';
import type { OpContext } from '../../domain/context.js';
import { parseFilter, type Attributes } from '../../domain/scim/filter.js';
import { property, SCHEMA, type Invalid } from '../../domain/scim/resources.js';
import type { ScimCaller } from '../../domain/scim/tokens.js';
import { ERRORS, fail, ok, type ErrorCode, type Failure, type Result } from '../../errors.js';
import { HttpError } from '../error-envelope.js';
import { parseJsonBody } from '../json.js';
import { registerRoutes, type RouteDeps, type RouteSpec } from '../route.js';
import { Uuid } from '../schemas.js';

export const SCIM_BASE = '/api/accounts/:account_id/scim/v2';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
export const TAGS = ['SCIM'];
export const MAX_COUNT = 200;
const DEFAULT_COUNT = 100;

/** SCIM's `scimType` for a catalog code (RFC 7644 §3.12). */
const SCIM_TYPE: Partial<Record<ErrorCode, string>> = {
  SCIM_INVALID_FILTER: 'invalidFilter',
  SCIM_INVALID_SYNTAX: 'invalidSyntax',
  INVALID_JSON: 'invalidSyntax',
  SCIM_INVALID_VALUE: 'invalidValue',
  SCIM_INVALID_PATH: 'invalidPath',
  SCIM_NO_TARGET: 'noTarget',
  SCIM_MUTABILITY: 'mutability',
  SCIM_UNIQUENESS: 'uniqueness',
};

export const ScimError = Type.Object({
  schemas: Type.Array(Type.String()),
  status: Type.String({ description: 'The HTTP status, as a string (RFC 7644 §3.12)' }),
  scimType: Type.Optional(Type.String()),
  detail: Type.String(),
  code: Type.String({ description: "Gatehouse's error code (docs/api.md)" }),
  request_id: Type.String(),
});

/** Every error a SCIM route may answer, in SCIM's shape. */
export const SCIM_ERRORS = Object.fromEntries([400, 401, 403, 404, 409, 413, 415, 429].map((s) => [s, ScimError])) as Record<number, TSchema>;

/** A SCIM resource: its schemas, id and attributes (RFC 7643). */
export const ScimResource = Type.Object({ schemas: Type.Array(Type.String()), id: Type.Optional(Type.String()) }, { additionalProperties: true });

export const ListResponse = Type.Object(
  { schemas: Type.Array(Type.String()), totalResults: Type.Integer(), startIndex: Type.Integer(), itemsPerPage: Type.Integer(), Resources: Type.Array(ScimResource) },
  { additionalProperties: true },
);

/** A SCIM request body (validated by the handler, which knows the SCIM error to answer). */
export const ScimBody = Type.Object({ schemas: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 10 })) }, { additionalProperties: true });

export const ListQuery = Type.Object(
  {
    filter: Type.Optional(Type.String({ maxLength: 2000, description: 'RFC 7644 §3.4.2.2, e.g. userName eq "ada@example.com"' })),
    startIndex: Type.Optional(Type.String({ maxLength: 12, description: '1-based index of the first result (default 1)' })),
    count: Type.Optional(Type.String({ maxLength: 12, description: `Results per page (default ${DEFAULT_COUNT}, at most ${MAX_COUNT})` })),
    excludedAttributes: Type.Optional(Type.String({ maxLength: 500, description: 'Groups: `members` leaves the members out' })),
  },
  { additionalProperties: true },
);

/** Whether `excludedAttributes` names `attribute`. */
export function excludes(query: { excludedAttributes?: string }, attribute: string): boolean {
  return (query.excludedAttributes ?? '').split(',').some((name) => name.trim().toLowerCase() === attribute.toLowerCase());
}

export const ReadQuery = Type.Object({ excludedAttributes: Type.Optional(Type.String({ maxLength: 500, description: 'Groups: `members` leaves the members out' })) }, { additionalProperties: true });

export const resourceParams = (name: string) => Type.Object({ account_id: Uuid, [name]: Type.String({ maxLength: 200 }) });
export const accountOnly = Type.Object({ account_id: Uuid });

/** Who is calling each SCIM request (set by the context's hook once its token checked out). */
const callers = new WeakMap<FastifyRequest, ScimCaller>();

export function scimContext(request: FastifyRequest, clock: Clock): OpContext {
  const caller = callers.get(request);
  if (!caller) throw new HttpError('SCIM_TOKEN_INVALID');
  return { actor: caller.actor, requestId: String(request.id), now: clock.now() };
}

export function scimErrorBody(request: FastifyRequest, code: ErrorCode, detail?: string) {
  const scimType = SCIM_TYPE[code];
  return {
    schemas: [SCHEMA.error],
    status: String(ERRORS[code].status),
    ...(scimType ? { scimType } : {}),
    detail: detail ?? ERRORS[code].message,
    code,
    request_id: String(request.id),
  };
}

/** Sends a SCIM body (pre-serialized: a resource's attributes are whatever it holds). */
export function sendScim(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

export function sendScimFailure(request: FastifyRequest, reply: FastifyReply, failure: Failure): FastifyReply {
  if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter));
  return sendScim(reply, ERRORS[failure.code].status, scimErrorBody(request, failure.code, failure.detail));
}

export const invalid = (problem: Invalid): Failure => fail(problem.code ?? 'SCIM_INVALID_VALUE', problem.invalid);

/** `startIndex` and `count` as RFC 7644 §3.4.2.4 reads them: below 1 is 1, below 0 is 0. */
export function paging(query: { startIndex?: string; count?: string }): Result<{ startIndex: number; count: number }> {
  const read = (value: string | undefined, name: string, fallback: number): Result<number> => {
    if (value === undefined || value === '') return ok(fallback);
    if (!/^-?\d{1,10}$/.test(value)) return fail('SCIM_INVALID_VALUE', `${name} must be an integer`);
    return ok(Number(value));
  };
  const start = read(query.startIndex, 'startIndex', 1);
  if (!start.ok) return start;
  const count = read(query.count, 'count', DEFAULT_COUNT);
  if (!count.ok) return count;
  return ok({ startIndex: Math.max(1, start.value), count: Math.min(MAX_COUNT, Math.max(0, count.value)) });
}

export function filterOf(query: { filter?: string }, attributes: Attributes) {
  return query.filter === undefined || query.filter.trim() === '' ? ok(null) : parseFilter(query.filter, attributes);
}

export function listResponse(total: number, startIndex: number, resources: unknown[]) {
  return { schemas: [SCHEMA.list], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** The Operations of a PatchOp body. */
export function operationsOf(body: unknown): Result<unknown> {
  const operations = property(body, 'Operations');
  if (!Array.isArray(operations)) return fail('SCIM_INVALID_SYNTAX', 'A PATCH body is a PatchOp: {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [...]}');
  return ok(operations);
}

/** The catalog code of an error raised before a SCIM handler ran (parser, validation, hooks). */
function failureOf(error: FastifyError): Failure {
  if (error instanceof HttpError) {
    if (error.code === 'VALIDATION_FAILED') return fail('SCIM_INVALID_VALUE', typeof error.detail === 'string' ? error.detail : 'The request body is not valid');
    return { ok: false, code: error.code, detail: typeof error.detail === 'string' ? error.detail : undefined, retryAfter: error.retryAfter };
  }
  if (error.validation) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    return fail(error.validationContext === 'params' ? 'NOT_FOUND' : 'SCIM_INVALID_VALUE', error.validationContext === 'params' ? 'Not found' : `${where} ${first?.message ?? 'is not valid'}`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return fail('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return fail('UNSUPPORTED_MEDIA_TYPE', 'Send the SCIM request body as application/scim+json (or application/json)');
  }
  return fail('BAD_REQUEST');
}

/** Registers the SCIM routes in their own context: the token first, SCIM errors throughout. */
export async function installScim(server: FastifyInstance, routes: RouteSpec[], deps: RouteDeps, isStoreUnavailable: (error: unknown) => boolean): Promise<void> {
  await server.register(async (context) => {
    // Identity providers send `application/scim+json; charset=utf-8` (Entra ID): a parser by media
    // type, whatever its parameters.
    context.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string' }, (_request, body, done) => {
      const parsed = parseJsonBody(String(body));
      if (parsed instanceof HttpError) return done(parsed, undefined);
      done(null, parsed);
    });
    context.addHook('onRequest', async (request) => {
      const token = bearerKey(request.headers.authorization) ?? '';
      const accountId = String((request.params as { account_id?: string }).account_id ?? '').toLowerCase();
      const caller = await deps.services.scimTokens.authenticate(token, accountId, request.ip);
      if (!caller.ok) throw new HttpError(caller.code, caller.detail);
      callers.set(request, caller.value);
    });
    context.setErrorHandler((error: FastifyError, request, reply) => {
      if (!(error instanceof HttpError) && !error.validation && !(typeof error.statusCode === 'number' && error.statusCode < 500)) {
        if (isStoreUnavailable(error)) {
          request.log.error({ err: error }, 'store unavailable');
          reply.header('retry-after', '2');
          return sendScim(reply, 503, scimErrorBody(request, 'STORE_UNAVAILABLE'));
        }
        request.log.error({ err: error }, 'unhandled error');
        return sendScim(reply, 500, scimErrorBody(request, 'INTERNAL_ERROR'));
      }
      const failure = failureOf(error);
      if (failure.code === 'SCIM_TOKEN_INVALID') reply.header('www-authenticate', 'Bearer realm="SCIM"');
      return sendScimFailure(request, reply, failure);
    });
    registerRoutes(context, routes);
  });
}
