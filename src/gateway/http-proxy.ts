// The gateway's HTTP proxy: every path under a workspace that is not one of Gatehouse's own goes
// to the workspace's Prefect server, once the auth hook (http/auth.ts) has read the caller's scopes
// there and decide() (authorize.ts) has allowed the Prefect route. proxy.ts forwards it.
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { workspace } from '../authz/requirements.js';
import type { Services } from '../domain/services.js';
import { ERRORS } from '../errors.js';
import { sendError } from '../http/error-envelope.js';
import type { PublicUrl } from '../http/public-url.js';
import { noteUpstream } from '../http/access-log.js';
import { decide, parseGatewayUri, type GatewayTarget } from './authorize.js';
import { installGatewayMetrics, metrics } from '../observability/metrics.js';
import type { RefusalRecorder } from '../domain/audit/refusals.js';
import { noteRefusal, refusalIn, refusedActor } from './refusal-audit.js';
import { createForwarder, downstreamResponseHeaders, locationRewriter, SMALL_BODY, upstreamRequestHeaders, type Forwarder } from './proxy.js';

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
  bodyLimit: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  publicUrl: PublicUrl;
  /** Wraps the forwarder: a client span per upstream call, traceparent sent on (tracing/tracing.ts). */
  traceForwarder?: (forwarder: Forwarder) => Forwarder;
  /** Counts refused requests for the audit trail (domain/audit/refusals.ts); absent, none are. */
  refusals?: RefusalRecorder;
}

const PROXY_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Every path under a workspace that is not one of Gatehouse's own goes to the workspace's Prefect
 * server. Registered in its own plugin so that no body parser reads the stream before it is sent on.
 */
export async function installGatewayProxy(server: FastifyInstance, options: ProxyOptions): Promise<Forwarder> {
  const plain = createForwarder(options);
  const forwarder = options.traceForwarder ? options.traceForwarder(plain) : plain;
  server.addHook('onClose', () => forwarder.close());
  await server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    installGatewayMetrics(scope);
    if (options.refusals) {
      const refusals = options.refusals;
      scope.addHook('onSend', (req, reply, payload, done) => {
        const refusal = refusalIn(reply, payload);
        if (refusal) {
          const target = parseGatewayUri(req.raw.url ?? '/', {});
          noteRefusal(refusals, {
            via: 'proxy',
            ...refusal,
            accountId: target.ok ? target.value.accountId : null,
            workspaceId: target.ok ? target.value.workspaceId : null,
            actor: refusedActor(req),
            address: req.ip,
            method: req.method,
            apiPath: target.ok ? target.value.apiPath : '',
            requestId: String(req.id),
          });
        }
        done(null, payload);
      });
    }
    scope.route({
      method: [...PROXY_METHODS],
      url: '/api/accounts/:account_id/workspaces/:workspace_id/*',
      exposeHeadRoute: false,
      config: { requirement: workspace(null) },
      schema: { hide: true },
      handler: (req, reply) => {
        const target = parseGatewayUri(req.raw.url ?? '/', {});
        if (!target.ok) return sendError(req, reply, 'GATEWAY_BAD_PATH', target.detail);
        return forwardApiRequest(req, reply, options, forwarder, target.value, req.auth.scopes ?? new Set<string>());
      },
    });
  });
  return forwarder;
}

/**
 * One request to a workspace's Prefect API, from a caller holding `scopes` there: decided by the
 * route table (reading the body when the route's scope depends on it), then forwarded with the
 * workspace's upstream credential. Used by the gateway and by the Prefect UI's door (prefect-ui.ts).
 */
export async function forwardApiRequest(
  req: FastifyRequest, reply: FastifyReply, options: ProxyOptions, forwarder: Forwarder, target: GatewayTarget, scopes: ReadonlySet<string>,
) {
  const { apiPath, query, rawPathAndQuery } = target;

  let verdict = decide({ method: req.method, apiPath, query, scopes, body: 'later' });
  let body: Buffer | null = null;
  if (verdict.kind === 'needs_body') {
    body = await readBody(req, options.bodyLimit);
    if (body === null) return sendError(req, reply, 'PAYLOAD_TOO_LARGE');
    const parsed = parseJson(body);
    verdict = decide({ method: req.method, apiPath, query, scopes, body: parsed.ok ? { value: parsed.value } : 'unreadable' });
  }
  metrics.gatewayRouted(req, verdict.kind === 'needs_body' ? null : (verdict.route ?? null), target.workspaceId);
  if (verdict.kind === 'redirect') {
    const location = `${publicBase(options.publicUrl, target)}${verdict.location}${target.search}`;
    return reply.code(307).header('location', location).send();
  }
  if (verdict.kind === 'deny') {
    if (verdict.code === 'GATEWAY_ROUTE_UNKNOWN') req.log.warn({ method: req.method, path: apiPath }, 'gateway refused a Prefect route it has no scope for');
    return sendError(req, reply, verdict.code, verdict.detail);
  }
  if (verdict.kind !== 'allow') return sendError(req, reply, 'FORBIDDEN');

  const label = () => options.services.gateways.label(target.workspaceId);
  const lookup = await options.services.gateways.upstream(target.workspaceId);
  if (!lookup.ok) {
    if (lookup.code === 'UPSTREAM_CREDENTIAL_UNREADABLE') return sendError(req, reply, lookup.code, `Workspace ${await label()}: ${ERRORS.UPSTREAM_CREDENTIAL_UNREADABLE.message}`);
    return sendError(req, reply, lookup.code, `Workspace ${await label()} ${ERRORS.GATEWAY_NOT_CONFIGURED.message.replace(/^This workspace /, '')}`);
  }
  const upstream = lookup.value;
  // A small body is read whole and sent in one write with the request head, not piped chunk by chunk.
  if (body === null && isSmallBody(req.headers)) {
    body = await readBody(req, options.bodyLimit);
    if (body === null) return sendError(req, reply, 'PAYLOAD_TOO_LARGE');
  }
  const sent = performance.now();
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
  metrics.upstreamAnswered(target.workspaceId, sent, result);
  noteUpstream(req, result.ok ? result.status : result.failure);
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
  const rewriteLocation = (location: string) => locationRewriter(upstream.url, publicBase(options.publicUrl, target))(location);
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
