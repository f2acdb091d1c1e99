// Forward-auth: the gateway's decision for a proxy that forwards by itself (nginx auth_request,
// Traefik ForwardAuth, Envoy ext_authz). The proxy asks `GET /api/gateway/authorize` with the
// caller's credentials and the original method and URI; Gatehouse answers 204, or a refusal whose
// reason travels in headers (docs/forward-auth.md).
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTHENTICATED } from '../authz/requirements.js';
import { ERRORS } from '../errors.js';
import { csrfHolds } from '../auth/credentials.js';
import type { AuthCore } from '../auth/core.js';
import type { RouteSpec } from '../http/route.js';
import { sendError } from '../http/error-envelope.js';
import { decide, parseGatewayUri } from './authorize.js';
import type { RefusalRecorder } from '../domain/audit/refusals.js';
import { noteRefusal, refusalIn, refusedActor } from './refusal-audit.js';

export function forwardAuthRoute(auth: AuthCore, refusals?: RefusalRecorder): RouteSpec {
  return {
    method: 'GET',
    url: '/api/gateway/authorize',
    requirement: AUTHENTICATED,
    summary:
      'Forward-auth for nginx auth_request, Traefik ForwardAuth or Envoy: 204 when the caller may send the original request (X-Original-Method/X-Original-URI or X-Forwarded-Method/X-Forwarded-Uri), else 401 or 403',
    tags: ['Gateway'],
    querystring: Type.Object(
      { account_id: Type.Optional(Type.String()), workspace_id: Type.Optional(Type.String()), api_prefix: Type.Optional(Type.String()) },
      { additionalProperties: false },
    ),
    response: { 204: Type.Null() },
    onSend: (req, reply, payload, done) => {
      const refusal = refusals && refusalIn(reply, payload);
      if (refusal) auditRefusal(req, refusals, refusal);
      refusalHeaders(req, reply, payload, done);
    },
    handler: async (req, reply) => forwardAuth(req, reply, auth),
  };
}

const header = (req: FastifyRequest, ...names: string[]) => {
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
};

/** A forward-auth refusal, for the audit trail: the workspace and route the original request named, as far as they can be read. */
function auditRefusal(req: FastifyRequest, refusals: RefusalRecorder, refusal: { code: string; detail?: string }): void {
  const method = header(req, 'x-original-method', 'x-forwarded-method') ?? '';
  const uri = header(req, 'x-original-uri', 'x-forwarded-uri');
  const target = uri ? parseGatewayUri(uri, req.query as { account_id?: string; workspace_id?: string; api_prefix?: string }) : null;
  noteRefusal(refusals, {
    via: 'forward_auth',
    ...refusal,
    accountId: target?.ok ? target.value.accountId : null,
    workspaceId: target?.ok ? target.value.workspaceId : null,
    actor: refusedActor(req),
    address: req.ip,
    method,
    apiPath: target?.ok ? target.value.apiPath : '',
    requestId: String(req.id),
  });
}

async function forwardAuth(req: FastifyRequest, reply: FastifyReply, auth: AuthCore) {
  // nginx sets X-Original-*, Traefik X-Forwarded-*; a proxy passes the caller's other headers on,
  // so a pair the caller made up could sit beside the proxy's: two pairs must agree.
  const original = { method: header(req, 'x-original-method')?.toUpperCase(), uri: header(req, 'x-original-uri') };
  const forwarded = { method: header(req, 'x-forwarded-method')?.toUpperCase(), uri: header(req, 'x-forwarded-uri') };
  const given = [original, forwarded].filter((pair) => pair.method || pair.uri);
  if (given.length === 2 && (original.method !== forwarded.method || original.uri !== forwarded.uri)) {
    return sendError(req, reply, 'FORBIDDEN', 'X-Original-* and X-Forwarded-* name different requests: have the proxy send one pair');
  }
  const { method, uri } = given[0] ?? {};
  if (!method || !uri) {
    return sendError(req, reply, 'FORBIDDEN', 'Send the original request as X-Original-Method and X-Original-URI (or X-Forwarded-Method and X-Forwarded-Uri)');
  }
  const query = req.query as { account_id?: string; workspace_id?: string; api_prefix?: string };
  const target = parseGatewayUri(uri, query);
  if (!target.ok) return sendError(req, reply, 'FORBIDDEN', target.detail);
  // The authorize URL fixes the workspace the proxy fronts; a URI naming another is not for it.
  const named = [query.account_id, query.workspace_id].map((id) => id?.toLowerCase());
  if ((named[0] && named[0] !== target.value.accountId) || (named[1] && named[1] !== target.value.workspaceId)) {
    return sendError(req, reply, 'FORBIDDEN', 'The URI names another workspace than the authorize URL');
  }
  // A browser session authorizing a change must carry its CSRF token, as on Gatehouse's own routes.
  if (req.auth.sessionId && !csrfHolds(method, req.headers['x-csrf-token'], req.auth.csrfToken)) return sendError(req, reply, 'CSRF_FAILED');
  const access = req.auth.actor ? await auth.workspaceScopes(req.auth.actor, target.value.accountId, target.value.workspaceId, req.ip) : null;
  if (access && !access.ok) return sendError(req, reply, access.code, access.detail);
  const scopes = access?.value ?? null;
  // Forward-auth can only answer 2xx, 401 or 403: no access to the workspace is a 403 here.
  if (!scopes) return sendError(req, reply, 'FORBIDDEN', 'You have no access to this workspace');
  const verdict = decide({ method, apiPath: target.value.apiPath, query: target.value.query, scopes, body: 'unseen' });
  if (verdict.kind === 'deny') {
    if (verdict.code === 'GATEWAY_ROUTE_UNKNOWN') req.log.warn({ method, path: target.value.apiPath }, 'gateway refused a Prefect route it has no scope for');
    return sendError(req, reply, ERRORS[verdict.code].status === 403 ? verdict.code : 'FORBIDDEN', verdict.detail);
  }
  return reply.code(204).send();
}

/** Longest X-Gatehouse-Error sent: proxies limit header sizes (nginx: 4 KB per buffer by default). */
const ERROR_HEADER_MAX = 400;

/**
 * A detail as one header value a proxy can also put inside a JSON string: printable ASCII without
 * `"` or `\` (accents dropped, anything else a `?`), at most ERROR_HEADER_MAX characters.
 */
export function headerSafeDetail(detail: string): string {
  const ascii = detail
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= ERROR_HEADER_MAX ? ascii : `${ascii.slice(0, ERROR_HEADER_MAX - 3)}...`;
}

/**
 * A proxy's auth_request keeps only the status and headers of the answer, and nginx turns any
 * status but 2xx, 401 and 403 into its own 500: the reason and request id travel in headers, and a
 * refusal that is not about the caller's credentials (a 400 for a misconfigured authorize URL, say)
 * is answered 403 with its own code. A 5xx stays one: the proxy then fails closed.
 */
function refusalHeaders(req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void {
  reply.header('x-gatehouse-request-id', String(req.id));
  const status = reply.statusCode;
  if (status >= 400 && typeof payload === 'string') {
    let body: { code?: unknown; detail?: unknown } = {};
    try {
      body = JSON.parse(payload) as typeof body;
    } catch {
      // not the error envelope: the status alone goes out
    }
    if (typeof body.code === 'string') reply.header('x-gatehouse-error-code', body.code);
    const detail = Array.isArray(body.detail)
      ? body.detail.map((item: { loc?: unknown[]; msg?: unknown }) => `${(item.loc ?? []).join('.')}: ${String(item.msg)}`).join('; ')
      : body.detail;
    if (typeof detail === 'string') reply.header('x-gatehouse-error', headerSafeDetail(detail));
  }
  done(null, payload);
}
