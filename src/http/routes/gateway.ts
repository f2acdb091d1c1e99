// The workspace gateway over HTTP: where a workspace forwards (`.../gateway`), the proxy itself
// (every other path under `/api/accounts/{account_id}/workspaces/{workspace_id}/`), and the
// forward-auth endpoint for teams that enforce in their own nginx, Traefik or Envoy.
import type { IncomingHttpHeaders } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUTHENTICATED, workspace } from '../../authz/requirements.js';
import type { Services } from '../../domain/services.js';
import type { Store } from '../../store/store.js';
import { ERRORS } from '../../errors.js';
import { decide, parseGatewayUri, type GatewayTarget } from '../../gateway/authorize.js';
import { createForwarder, downstreamResponseHeaders, locationRewriter, SMALL_BODY, upstreamRequestHeaders, type Forwarder } from '../../gateway/proxy.js';
import { csrfHolds } from '../../auth/credentials.js';
import type { AuthCore } from '../../auth/core.js';
import { opContext, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { idParams, Nullable, Timestamp } from '../schemas.js';
import { sendError } from '../errors.js';
import type { PublicUrl } from '../public-url.js';

const GatewaySchema = Type.Object({
  upstream_url: Nullable(Type.String()),
  has_upstream_auth_string: Type.Boolean(),
  updated: Nullable(Timestamp),
});

const SavedGatewaySchema = Type.Object({
  upstream_url: Nullable(Type.String()),
  has_upstream_auth_string: Type.Boolean(),
  updated: Nullable(Timestamp),
  warnings: Type.Array(Type.String(), { description: 'What looks like a slip in the URL (a path that does not end with /api); empty when nothing does' }),
});

const UpstreamCheckSchema = Type.Object({
  reachable: Type.Boolean({ description: "Prefect's API answered at the upstream URL and took the stored credential (or needed none)" }),
  status_code: Nullable(Type.Integer({ description: 'The HTTP status of the answer the detail is about; null when none came' })),
  elapsed_ms: Type.Number(),
  upstream_url: Type.String(),
  detail: Type.String({ description: 'What happened, and what to do about it' }),
});

/** How long the connection check waits for the upstream, both requests together. */
export const UPSTREAM_CHECK_TIMEOUT_MS = 5_000;

const GatewayBody = Type.Object(
  {
    upstream_url: Type.String({ minLength: 1, maxLength: 2048 }),
    upstream_auth_string: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
  },
  { additionalProperties: false },
);

type Params = { account_id: string; workspace_id: string };

export function gatewayRoutes(deps: RouteDeps, options: { checkTimeoutMs?: number } = {}): RouteSpec[] {
  const { services, clock } = deps;
  const tags = ['Gateway'];
  const base = '/api/accounts/:account_id/workspaces/:workspace_id/gateway';
  return [
    {
      method: 'GET',
      url: base,
      requirement: workspace('see_workspace_settings'),
      summary: "Where the workspace's gateway forwards (its Prefect server); the credential is never returned",
      tags,
      params: idParams('account_id', 'workspace_id'),
      response: { 200: GatewaySchema },
      handler: async (req) => services.gateways.read((req.params as Params).workspace_id),
    },
    {
      method: 'PUT',
      url: base,
      requirement: workspace('manage_workspace_settings'),
      summary: 'Point the workspace at its self-hosted Prefect server (upstream_auth_string: omit to keep, null to remove)',
      tags,
      params: idParams('account_id', 'workspace_id'),
      body: GatewayBody,
      response: { 200: SavedGatewaySchema },
      handler: async (req, reply) => {
        const { account_id, workspace_id } = req.params as Params;
        return respond(req, reply, await services.gateways.set(opContext(req, clock), account_id, workspace_id, req.body as { upstream_url: string }));
      },
    },
    {
      method: 'DELETE',
      url: base,
      requirement: workspace('manage_workspace_settings'),
      summary: 'Stop forwarding: the workspace has no Prefect server behind it',
      tags,
      params: idParams('account_id', 'workspace_id'),
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const { account_id, workspace_id } = req.params as Params;
        return respond(req, reply, await services.gateways.clear(opContext(req, clock), account_id, workspace_id), 204);
      },
    },
    {
      method: 'POST',
      url: `${base}/check`,
      // Read-only, and tells no more than GET .../gateway does: the same requirement, no audit event.
      requirement: workspace('see_workspace_settings'),
      summary:
        "Ask the workspace's Prefect server whether it answers: GET {upstream_url}/health, then {upstream_url}/version with the stored credential (5 s in all); 200 with reachable and a detail saying what to do",
      tags,
      params: idParams('account_id', 'workspace_id'),
      response: { 200: UpstreamCheckSchema },
      handler: async (req, reply) => {
        const { workspace_id } = req.params as Params;
        return respond(req, reply, await services.gateways.check(workspace_id, { timeoutMs: options.checkTimeoutMs ?? UPSTREAM_CHECK_TIMEOUT_MS }));
      },
    },
    {
      method: 'GET',
      url: '/api/gateway/authorize',
      requirement: AUTHENTICATED,
      summary:
        'Forward-auth for nginx auth_request, Traefik ForwardAuth or Envoy: 204 when the caller may send the original request (X-Original-Method/X-Original-URI or X-Forwarded-Method/X-Forwarded-Uri), else 401 or 403',
      tags,
      querystring: Type.Object(
        { account_id: Type.Optional(Type.String()), workspace_id: Type.Optional(Type.String()), api_prefix: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
      response: { 204: Type.Null() },
      onSend: refusalHeaders,
      handler: async (req, reply) => forwardAuth(req, reply, deps.auth),
    },
  ];
}

const header = (req: FastifyRequest, ...names: string[]) => {
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
};

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
  const scopes = req.auth.actor ? await auth.workspaceScopes(req.auth.actor, target.value.accountId, target.value.workspaceId) : null;
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
    if (status < 500 && status !== 401 && status !== 403) reply.code(403);
  }
  done(null, payload);
}

/** Reads the whole request body, up to `limit` bytes; null when it is larger. */
function readBody(req: FastifyRequest, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.raw.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.raw.removeAllListeners('data');
        req.raw.resume();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.raw.on('end', () => resolve(Buffer.concat(chunks)));
    req.raw.on('error', reject);
  });
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: body.length === 0 ? null : JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

export interface ProxyOptions {
  services: Services;
  store: Store;
  bodyLimit: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  publicUrl: PublicUrl;
}

const PROXY_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Every path under a workspace that is not one of Gatehouse's own goes to the workspace's Prefect
 * server. Registered in its own plugin so that no body parser reads the stream before it is sent on.
 */
export async function installGatewayProxy(server: FastifyInstance, options: ProxyOptions): Promise<void> {
  const forwarder = createForwarder(options);
  server.addHook('onClose', () => forwarder.close());
  await server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    scope.route({
      method: [...PROXY_METHODS],
      url: '/api/accounts/:account_id/workspaces/:workspace_id/*',
      exposeHeadRoute: false,
      config: { requirement: workspace(null) },
      schema: { hide: true },
      handler: (req, reply) => proxy(req, reply, options, forwarder),
    });
  });
}

async function proxy(req: FastifyRequest, reply: FastifyReply, options: ProxyOptions, forwarder: Forwarder) {
  const target = parseGatewayUri(req.raw.url ?? '/', {});
  if (!target.ok) return sendError(req, reply, 'GATEWAY_BAD_PATH', target.detail);
  const { apiPath, query, rawPathAndQuery } = target.value;
  const scopes = req.auth.scopes ?? new Set<string>();

  let verdict = decide({ method: req.method, apiPath, query, scopes, body: 'later' });
  let body: Buffer | null = null;
  if (verdict.kind === 'needs_body') {
    body = await readBody(req, options.bodyLimit);
    if (body === null) return sendError(req, reply, 'PAYLOAD_TOO_LARGE');
    const parsed = parseJson(body);
    verdict = decide({ method: req.method, apiPath, query, scopes, body: parsed.ok ? { value: parsed.value } : 'unreadable' });
  }
  if (verdict.kind === 'redirect') {
    const location = `${publicBase(options.publicUrl, target.value)}${verdict.location}${target.value.search}`;
    return reply.code(307).header('location', location).send();
  }
  if (verdict.kind === 'deny') {
    if (verdict.code === 'GATEWAY_ROUTE_UNKNOWN') req.log.warn({ method: req.method, path: apiPath }, 'gateway refused a Prefect route it has no scope for');
    return sendError(req, reply, verdict.code, verdict.detail);
  }
  if (verdict.kind !== 'allow') return sendError(req, reply, 'FORBIDDEN');

  const label = () => workspaceLabel(options.store, target.value);
  const lookup = await options.services.gateways.upstream(target.value.workspaceId);
  if (!lookup.ok) {
    if (lookup.reason === 'credential_unreadable') return sendError(req, reply, 'UPSTREAM_CREDENTIAL_UNREADABLE', `Workspace ${await label()}: ${ERRORS.UPSTREAM_CREDENTIAL_UNREADABLE.message}`);
    return sendError(req, reply, 'GATEWAY_NOT_CONFIGURED', `Workspace ${await label()} ${ERRORS.GATEWAY_NOT_CONFIGURED.message.replace(/^This workspace /, '')}`);
  }
  const { upstream } = lookup;
  // A small body is read whole and sent in one write with the request head, not piped chunk by chunk.
  if (body === null && isSmallBody(req.headers)) {
    body = await readBody(req, options.bodyLimit);
    if (body === null) return sendError(req, reply, 'PAYLOAD_TOO_LARGE');
  }
  const result = await forwarder.forward({
    upstream,
    method: req.method,
    pathAndQuery: rawPathAndQuery,
    headers: upstreamRequestHeaders(req.headers, upstream, String(req.id), {
      address: req.ip,
      proto: options.publicUrl.secure(req) ? 'https' : 'http',
      host: options.publicUrl.host(),
    }),
    body: body ?? (hasBody(req) ? req.raw : null),
  });
  if (!result.ok) {
    // The upstream's address is for the operator's log only: `GET .../gateway` withholds it from
    // Viewers, so an error any role can provoke must not tell it either.
    const workspaceName = await label();
    req.log.warn({ workspace: workspaceName, upstream: `${upstream.url.origin}${upstream.url.pathname}`, failure: result.failure, cause: result.cause }, 'gateway: the upstream failed');
    const where = `the Prefect server of workspace ${workspaceName}`;
    const hint = "; Gatehouse's log has its address under this request_id";
    if (result.failure === 'broken') return sendError(req, reply, 'UPSTREAM_UNREACHABLE', `${capitalize(where)} broke off its answer: ${result.cause}${hint}`);
    return result.failure === 'timeout'
      ? sendError(req, reply, 'UPSTREAM_TIMEOUT', `${capitalize(where)} did not answer in time: ${result.cause}${hint}`)
      : sendError(req, reply, 'UPSTREAM_UNREACHABLE', `Could not reach ${where}: ${result.cause}${hint}`);
  }
  const { body: answer } = result;
  // The caller going away ends a streamed upstream answer too.
  if (!Buffer.isBuffer(answer)) reply.raw.once('close', () => answer.destroy());
  // Built only for an answer that has a Location: most have none.
  const rewriteLocation = (location: string) => locationRewriter(upstream.url, publicBase(options.publicUrl, target.value))(location);
  reply.code(result.status).headers(downstreamResponseHeaders(result.headers, rewriteLocation));
  return reply.send(answer);
}

/** A body of known length that is small (and not chunked): cheaper read whole than streamed. */
function isSmallBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] === undefined && length !== undefined && length !== '0' && Number(length) <= SMALL_BODY;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Where this workspace's Prefect API lives behind Gatehouse: under the configured public URL, else
 * a path alone (a relative Location, resolved by the client against the address it used). Never
 * built from the request's Host, which the caller chooses.
 */
function publicBase(publicUrl: PublicUrl, target: GatewayTarget): string {
  return publicUrl.configured ? `${publicUrl.base()}${target.prefix}` : target.prefix;
}

/** "account-handle/workspace-handle", for error details a person can act on. */
async function workspaceLabel(store: Store, target: GatewayTarget): Promise<string> {
  const row = await store.db
    .selectFrom('workspaces as w')
    .innerJoin('accounts as a', 'a.id', 'w.account_id')
    .select(['a.handle as account', 'w.handle as workspace'])
    .where('w.id', '=', target.workspaceId)
    .executeTakeFirst();
  return row ? `${row.account}/${row.workspace}` : target.workspaceId;
}
