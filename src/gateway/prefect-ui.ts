// A workspace's own Prefect UI, through Gatehouse: `/w/{account_handle}/{workspace_handle}/` serves
// the real UI of the workspace's Prefect server to a person signed in to Gatehouse, and every API
// call that UI makes goes through the gateway's decision (route table, scopes of the person's
// workspace role) with the workspace's upstream credential, which never reaches the browser.
//
//   /w/{a}/{w}/api/…        the Prefect API: forwardApiRequest (http-proxy.ts), as for a key
//   /w/{a}/{w}/ui-settings  the upstream's UI settings, pointed at the path above, without BASIC auth
//   /w/{a}/{w}/…            the UI's files (GET/HEAD), moved under the prefix (prefect-ui-rewrite.ts)
//
// Who is asking: the Gatehouse session cookie alone (SameSite=Lax). Its state-changing requests
// come from the UI's own page: Origin must be Gatehouse's and Sec-Fetch-Site, when sent,
// same-origin (Prefect's UI cannot send Gatehouse's CSRF header). A person without access to the
// workspace, or a workspace that does not exist, gets the same 404. Signing out, losing access or a
// new role applies to the next request, as everywhere. Prefect 3.9.1's UI opens no websockets, so
// none are served here.
//
// The UI's scripts come from the workspace's Prefect server and run on Gatehouse's origin. Its
// Content-Security-Policy keeps them to the workspace's prefix (connect-src, form-action), out of
// frames, and its opener policy cuts them off from Gatehouse's own page opened in a popup
// (docs/prefect-ui.md, "What the UI's scripts can reach").
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { AuthCore } from '../auth/core.js';
import { SAFE_METHODS } from '../auth/credentials.js';
import type { Actor } from '../domain/context.js';
import type { Upstream } from '../domain/gateways/service.js';
import { ERRORS } from '../errors.js';
import { sendError } from '../http/error-envelope.js';
import { sessionToken } from '../http/session-cookie.js';
import type { GatewayTarget } from './authorize.js';
import { forwardApiRequest, type ProxyOptions } from './http-proxy.js';
import { installGatewayMetrics } from '../observability/metrics.js';
import { basePath, locationRewriter, type Forwarder } from './proxy.js';
import { noteRefusal, refusalIn } from './refusal-audit.js';
import { rewriteUiFile, uiBaseFor, uiFileKind } from './prefect-ui-rewrite.js';

export interface PrefectUiOptions extends ProxyOptions {
  auth: AuthCore;
  forwarder: Forwarder;
}

/** `/w/{account_handle}/{workspace_handle}` and the rest of the path, and the query. */
const UI_PATH = /^\/w\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})(\/[^?#]*)?(\?[^#]*)?$/;

/** The rewritten UI files kept in memory: content-hashed `assets/` files only, never a page. */
const ASSET_CACHE_BYTES = 64 * 1024 * 1024;
/** One UI file read whole to be rewritten: Prefect 3.9.1's largest is about 3 MB. */
const MAX_REWRITTEN_BYTES = 16 * 1024 * 1024;
const IMMUTABLE = 'private, max-age=31536000, immutable';

/** Upstream answer headers a UI file keeps (the rest, Set-Cookie above all, stay upstream). */
const FILE_HEADERS = ['content-type', 'etag', 'last-modified', 'content-language'];

interface CachedFile {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What the door's answers carry, whatever produced them: set in onSend, after any upstream headers. */
const ANSWER_HEADERS = new WeakMap<FastifyRequest, Record<string, string>>();

/** What the door learnt of a request before answering (who, which workspace, which API path), for its refusals' audit. */
const SEEN = new WeakMap<FastifyRequest, { actor?: Actor; accountId?: string; workspaceId?: string; apiPath?: string }>();

export async function installPrefectUi(server: FastifyInstance, options: PrefectUiOptions): Promise<void> {
  const files = new LRUCache<string, CachedFile>({ maxSize: ASSET_CACHE_BYTES, sizeCalculation: (file) => Math.max(1, file.body.length) });

  await server.register(async (scope) => {
    // The body goes on to the upstream untouched: no parser reads it here.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    installGatewayMetrics(scope, { routedOnly: true });
    scope.addHook('onSend', (request, reply, payload, done) => {
      reply.removeHeader('set-cookie');
      reply.removeHeader('content-security-policy');
      for (const [name, value] of Object.entries(ANSWER_HEADERS.get(request) ?? BASE_HEADERS)) reply.header(name, value);
      // The UI's files say how long they keep; everything else (API answers, settings, refusals) is not kept.
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      const refusal = options.refusals && refusalIn(reply, payload);
      if (refusal) {
        const seen = SEEN.get(request);
        noteRefusal(options.refusals, {
          via: 'prefect_ui',
          ...refusal,
          accountId: seen?.accountId ?? null,
          workspaceId: seen?.workspaceId ?? null,
          actor: seen?.actor ?? null,
          address: request.ip,
          method: request.method,
          apiPath: seen?.apiPath ?? '',
          requestId: String(request.id),
        });
      }
      done(null, payload);
    });
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
    scope.route({
      method: methods,
      url: '/w/*',
      exposeHeadRoute: false,
      schema: { hide: true },
      handler: (req, reply) => door(req, reply, options, files),
    });
  });
}

const BASE_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' };

/** Where people reach Gatehouse: the configured public URL, else the address this request used. */
function originOf(req: FastifyRequest, options: PrefectUiOptions): string {
  if (options.publicUrl.configured) return new URL(options.publicUrl.base()).origin;
  return `${options.publicUrl.secure(req) ? 'https' : 'http'}://${req.headers.host ?? options.publicUrl.host()}`;
}

/** A browser loading a page (rather than a script's request): it gets pages and redirects, not JSON. */
function isNavigation(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const mode = req.headers['sec-fetch-mode'];
  if (typeof mode === 'string') return mode === 'navigate';
  return String(req.headers.accept ?? '').includes('text/html');
}

async function door(req: FastifyRequest, reply: FastifyReply, options: PrefectUiOptions, files: LRUCache<string, CachedFile>) {
  const match = UI_PATH.exec(req.raw.url ?? '');
  if (!match) return sendError(req, reply, 'NOT_FOUND', 'No Prefect UI at this address: it is /w/{account_handle}/{workspace_handle}/');
  const [, accountHandle, workspaceHandle, path, search = ''] = match as unknown as [string, string, string, string?, string?];
  const prefix = `/w/${accountHandle}/${workspaceHandle}`;
  // The UI's relative addresses need the trailing slash.
  if (path === undefined) return reply.code(308).header('location', `${prefix}/${search}`).send();
  const rest = path;
  const origin = originOf(req, options);
  const socketOrigin = origin.replace(/^http/, 'ws');
  ANSWER_HEADERS.set(req, {
    ...BASE_HEADERS,
    'content-security-policy':
      `connect-src ${origin}${prefix}/ ${socketOrigin}${prefix}/; form-action ${origin}${prefix}/; frame-src 'none'; child-src 'none'; ` +
      "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'self'",
    'cross-origin-opener-policy': 'same-origin-allow-popups',
  });
  const navigation = isNavigation(req);

  // Who: the session cookie. Without one, a page load goes to sign-in and comes back.
  const token = sessionToken(req);
  const caller = token ? await options.auth.identifySession(token) : null;
  const seen: { actor?: Actor; accountId?: string; workspaceId?: string; apiPath?: string } = {};
  if (rest === '/api' || rest.startsWith('/api/')) seen.apiPath = rest.slice(4) || '/';
  SEEN.set(req, seen);
  if (!caller) {
    if (navigation) return reply.code(303).header('location', `/sign-in?next=${encodeURIComponent(`${prefix}${rest}${search}`)}`).send();
    return sendError(req, reply, 'UNAUTHENTICATED', 'Sign in to Gatehouse, then reload the Prefect UI');
  }
  seen.actor = caller.actor;
  // From where: a state-changing request must come from this origin's own pages.
  if (!SAFE_METHODS.has(req.method)) {
    const site = req.headers['sec-fetch-site'];
    if (req.headers.origin !== origin || (site !== undefined && site !== 'same-origin')) {
      return sendError(req, reply, 'CSRF_FAILED', `The Prefect UI's changes must come from its own page at ${origin}${prefix}/; reload it there`);
    }
  }
  // Which workspace, and the person's scopes there: the same 404 for "none" and "not yours".
  const found = await options.services.gateways.byHandles(accountHandle, workspaceHandle);
  const access = found ? await options.auth.workspaceScopes(caller.actor, found.accountId, found.workspaceId, req.ip) : null;
  // The audit row of a refusal goes to the account whose workspace was asked for (its Owners see
  // who tried); the person refused is told nothing more than "not found".
  if (found) Object.assign(seen, { accountId: found.accountId, workspaceId: found.workspaceId });
  if (access && !access.ok) {
    if (navigation) return problemPage(reply, 403, 'Not from this address', access.detail ?? 'Your address is not on this account\'s IP allowlist.');
    return sendError(req, reply, access.code, access.detail);
  }
  const scopes = access?.value ?? null;
  if (!found || !scopes) {
    if (navigation) return notFoundPage(reply, `${accountHandle}/${workspaceHandle}`);
    return sendError(req, reply, 'NOT_FOUND', 'Workspace not found');
  }

  if (rest === '/api' || rest.startsWith('/api/')) {
    const apiPath = rest.slice(4) || '/';
    const target: GatewayTarget = {
      accountId: found.accountId,
      workspaceId: found.workspaceId,
      prefix: `${prefix}/api`,
      apiPath,
      search,
      query: new URLSearchParams(search),
      rawPathAndQuery: `${apiPath}${search}`,
    };
    return forwardApiRequest(req, reply, options, options.forwarder, target, scopes);
  }

  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(req, reply, 'METHOD_NOT_ALLOWED', "The Prefect UI's files are only read (GET)");
  const lookup = await options.services.gateways.upstream(found.workspaceId);
  if (!lookup.ok) {
    const label = `${accountHandle}/${workspaceHandle}`;
    if (navigation) return problemPage(reply, ERRORS[lookup.code].status, `Workspace ${label} has no Prefect server Gatehouse can reach`, lookup.code === 'GATEWAY_NOT_CONFIGURED' ? 'A workspace Owner sets it on the Workspaces page ("Prefect server").' : ERRORS[lookup.code].message);
    return sendError(req, reply, lookup.code);
  }
  const upstream = uiUpstream(lookup.value);
  const publicPrefix = options.publicUrl.configured ? `${options.publicUrl.base()}${prefix}` : prefix;

  if (rest === '/ui-settings' || rest.endsWith('/ui-settings')) return uiSettings(req, reply, options, upstream, rest, origin, prefix);

  const cacheKey = rest.includes('/assets/') ? `${found.workspaceId}\n${upstream.url.href}\n${prefix}\n${rest}` : null;
  const cached = cacheKey ? files.get(cacheKey) : undefined;
  if (cached) return reply.code(cached.status).headers({ ...cached.headers, 'content-length': String(cached.body.length) }).send(req.method === 'HEAD' ? undefined : cached.body);

  const headers: Record<string, string> = { accept: String(req.headers.accept ?? '*/*'), 'accept-encoding': 'identity', 'x-request-id': String(req.id) };
  if (typeof req.headers['accept-language'] === 'string') headers['accept-language'] = req.headers['accept-language'];
  if (upstream.basicAuthorization) headers.authorization = upstream.basicAuthorization;
  headers.host = upstream.url.host;
  const result = await options.forwarder.forward({ upstream, method: req.method, pathAndQuery: `${rest}${search}`, headers, body: null });
  if (!result.ok) {
    req.log.warn({ workspace: `${accountHandle}/${workspaceHandle}`, upstream: upstream.url.origin, failure: result.failure, cause: result.cause }, 'prefect ui: the upstream failed');
    return sendError(req, reply, result.failure === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE', `Could not load the Prefect UI from the workspace's Prefect server: ${result.cause}; Gatehouse's log has its address under this request_id`);
  }
  const answer: Record<string, string> = {};
  for (const name of FILE_HEADERS) {
    const value = result.headers[name];
    if (typeof value === 'string') answer[name] = value;
  }
  const location = result.headers.location;
  if (typeof location === 'string') answer.location = locationRewriter(upstream.url, publicPrefix)(location);
  answer['cache-control'] = cacheKey && result.status === 200 ? IMMUTABLE : 'no-cache';

  const kind = result.status === 200 ? uiFileKind(answer['content-type']) : null;
  if (kind === null || req.method === 'HEAD') {
    if (Buffer.isBuffer(result.body)) {
      if (cacheKey && result.status === 200 && req.method === 'GET') files.set(cacheKey, { status: 200, headers: answer, body: result.body });
    } else reply.raw.once('close', () => (result.body as Readable).destroy());
    const length = result.headers['content-length'];
    if (typeof length === 'string') answer['content-length'] = length;
    return reply.code(result.status).headers(answer).send(req.method === 'HEAD' ? undefined : result.body);
  }
  const bytes = await readAll(result.body, MAX_REWRITTEN_BYTES);
  if (bytes === null) return sendError(req, reply, 'UPSTREAM_UNREACHABLE', `A Prefect UI file was larger than ${MAX_REWRITTEN_BYTES / 1024 / 1024} MiB`);
  const body = Buffer.from(rewriteUiFile(kind, bytes.toString('utf8'), uiBaseFor(rest), prefix));
  delete answer.etag;
  if (cacheKey) files.set(cacheKey, { status: 200, headers: answer, body });
  return reply.code(200).headers({ ...answer, 'content-length': String(body.length) }).send(body);
}

/** The upstream's UI lives at its API URL without the trailing `/api`. */
function uiUpstream(upstream: Upstream): Upstream {
  const url = new URL(upstream.url.href);
  url.pathname = basePath(url).replace(/\/api$/, '') || '/';
  return { ...upstream, url };
}

/**
 * The upstream's UI settings, as the UI behind Gatehouse needs them: its API under this prefix, no
 * BASIC auth prompt (Gatehouse holds the credential), and only the second UI (the first one cannot
 * be moved under a prefix: its router's base is fixed when the Prefect server starts).
 */
async function uiSettings(req: FastifyRequest, reply: FastifyReply, options: PrefectUiOptions, upstream: Upstream, rest: string, origin: string, prefix: string) {
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity', host: upstream.url.host, 'x-request-id': String(req.id) };
  if (upstream.basicAuthorization) headers.authorization = upstream.basicAuthorization;
  const result = await options.forwarder.forward({ upstream, method: 'GET', pathAndQuery: rest, headers, body: null });
  if (!result.ok) return sendError(req, reply, result.failure === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE', `Could not read the Prefect UI's settings from the workspace's Prefect server: ${result.cause}`);
  const bytes = await readAll(result.body, 1024 * 1024);
  let settings: Record<string, unknown> | null = null;
  try {
    settings = result.status === 200 && bytes ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) : null;
  } catch {}
  if (!settings || typeof settings !== 'object') {
    return sendError(req, reply, 'UPSTREAM_UNREACHABLE', `The workspace's Prefect server answered its UI settings with ${result.status} and no settings; is its UI enabled (PREFECT_UI_ENABLED)?`);
  }
  const uis = Array.isArray(settings.available_uis) ? (settings.available_uis as unknown[]) : [];
  const second = uis.includes('v2');
  return reply
    .code(200)
    .header('content-type', 'application/json')
    .send({
      ...settings,
      api_url: `${origin}${prefix}/api`,
      auth: null,
      ...(second ? { default_ui: 'v2', available_uis: ['v2'], v1_base_url: null, v2_base_url: `${prefix}/v2` } : {}),
    });
}

function readAll(body: Buffer | Readable, limit: number): Promise<Buffer | null> {
  if (Buffer.isBuffer(body)) return Promise.resolve(body.length > limit ? null : body);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        body.destroy();
        resolve(null);
      } else chunks.push(chunk);
    });
    body.on('end', () => resolve(Buffer.concat(chunks)));
    body.on('error', () => resolve(null));
  });
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small page in Gatehouse's words, for a person who opened an address in the browser. */
function problemPage(reply: FastifyReply, status: number, title: string, detail: string) {
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Gatehouse</title></head>` +
    `<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5">` +
    `<h1 style="font-size:1.4rem">${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p><p><a href="/workspaces">Back to Gatehouse</a></p></body></html>`;
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

function notFoundPage(reply: FastifyReply, label: string) {
  return problemPage(reply, 404, 'Workspace not found', `There is no workspace ${label} that you can reach. Ask a workspace Owner to share it with you, or check the address.`);
}
