// createApp builds the whole server from its dependencies; main, the CLI and every test use it.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Store } from './store/store.js';
import type { AuthCache } from './cache/auth-cache.js';
import { createServices, type Services } from './domain/services.js';
import { errorBody, installErrorHandling } from './http/error-envelope.js';
import { installJsonParser, urlError } from './http/json.js';
import { installAuth } from './http/auth.js';
import { lazyChildLogger, ProbeQuietLogController } from './http/request-logger.js';
import { logSerializers } from './http/log-redaction.js';
import { publicUrl } from './http/public-url.js';
import { clientAddress } from './http/client-address.js';
import { keepTickShape } from './http/tick-shape.js';
import { keyThrottle as createKeyThrottle } from './auth/key-throttle.js';
import { authCore } from './auth/core.js';
import { registerRoutes, type RouteDeps, type RouteSpec } from './http/route.js';
import { metaRoutes } from './http/routes/meta.js';
import { meRoutes } from './http/routes/me.js';
import { userRoutes } from './http/routes/users.js';
import { accountRoutes } from './http/routes/accounts.js';
import { membershipRoutes } from './http/routes/memberships.js';
import { serviceAccountRoutes } from './http/routes/service-accounts.js';
import { workspaceRoutes } from './http/routes/workspaces.js';
import { workspaceRoleRoutes } from './http/routes/workspace-roles.js';
import { accessRoutes } from './http/routes/access.js';
import { auditRoutes } from './http/routes/audit.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { setupRoutes } from './http/routes/setup.js';
import { invitationRoutes } from './http/routes/invitations.js';
import type { Mailer } from './mail/mailer.js';
import type { SecretKey, SecretKeyring } from './secret-key.js';
import type { TrustProxy } from './config.js';
import { gatewayRoutes } from './http/routes/gateway.js';
import { installGatewayProxy } from './gateway/http-proxy.js';
import { forwardAuthRoute } from './gateway/forward-auth.js';
import { installWebsocketGateway, type WebsocketLimits } from './gateway/websocket.js';

export interface AppOptions {
  store: Store;
  /** The store's authentication cache (cache/open.ts): opened and closed by the caller, beside the store. */
  cache: AuthCache;
  clock: Clock;
  logger?: Logger | false;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** The built web page (dist/web); served at / when present. */
  webRoot?: string;
  /**
   * Which reverse proxies to believe about the client (X-Forwarded-For/-Proto/-Host): a number of
   * hops nearest Gatehouse, or the proxies' addresses/CIDRs. Default: none.
   */
  trustProxy?: TrustProxy;
  /**
   * The address people reach Gatehouse at, for invitation links, gateway redirects and the cookie's
   * Secure flag. Default: the address the server listens on (redirects then carry a path only).
   */
  publicUrl?: string;
  sessionTtlSeconds?: number;
  /** Mails invitation links when SMTP is configured; without it the link is only shown to the inviter. */
  mailer?: Mailer | null;
  /** Seals workspace upstream credentials; every process on one database needs the same key. */
  secretKey?: SecretKey | SecretKeyring;
  /** Gateway: how long to wait to connect to a workspace's Prefect server, and for its answer. */
  upstreamConnectTimeoutMs?: number;
  upstreamResponseTimeoutMs?: number;
  /** How long POST .../gateway/check waits for the upstream (default 5 s); tests use a short one. */
  upstreamCheckTimeoutMs?: number;
  /** Failed key authentications one client address may make per minute before 429 (default 30). */
  keyFailureLimit?: number;
  /** How often an open gateway websocket's access is checked again (default 5 s). */
  websocketRecheckMs?: number;
  /** Replaces some of the gateway websockets' limits (WEBSOCKET_LIMITS); tests use small ones. */
  websocketLimits?: Partial<WebsocketLimits>;
}

export interface App {
  server: FastifyInstance;
  services: Services;
  routes: RouteSpec[];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request id in the shape of a UUID: a random prefix per process and a counter. Unique without
 * drawing random bytes for every request (ids identify, they guard nothing).
 */
function requestIds(): () => string {
  const prefix = randomUUID().slice(0, 24);
  let counter = 0;
  return () => prefix + (++counter).toString(16).padStart(12, '0');
}
const nextRequestId = requestIds();

/**
 * Fastify's trustProxy for ours. A hop count becomes a function: Fastify takes a bare number as
 * "trust no hop". A client's own X-Forwarded-For entries lie beyond the trusted hops and are ignored.
 */
export function fastifyTrustProxy(trust: TrustProxy | undefined): false | string[] | ((address: string, hop: number) => boolean) {
  if (trust === undefined || trust === false || trust === 0) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust;
}

export async function createApp(options: AppOptions): Promise<App> {
  const { store, cache, clock, bodyLimit = 1_048_576 } = options;
  // Every line a request writes shows its URL and errors with credentials in a query string redacted.
  const logger = options.logger ? options.logger.child({}, { serializers: logSerializers }) : false;
  // Before the routes are compiled: their garbage collections must not cost every later tick.
  keepTickShape();
  // Fastify's logger costs every request (its child logger, two response listeners, timing) even
  // when nothing is logged. At a level above info no request line is written, so Fastify gets no
  // logger then: the global hook gives each request its own (made only when a line is), and
  // Fastify's own per-request lines (through request.log and reply.log) still reach it.
  const quietLogger = logger && !logger.isLevelEnabled('info') ? logger : null;
  const server = Fastify({
    ...(logger && !quietLogger ? { loggerInstance: logger, childLoggerFactory: lazyChildLogger, logController: new ProbeQuietLogController() } : { logger: false }),
    bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    // A caller's X-Request-Id is kept when it is sane, so one id follows a request across systems.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    // During a drain, requests on open keep-alive connections are still served (with
    // Connection: close) rather than refused with a bare 503.
    return503OnClosing: false,
    trustProxy: fastifyTrustProxy(options.trustProxy),
    // A URL the router cannot even decode (bad percent-encoding) gets the same envelope as any 400.
    frameworkErrors: (error, request, reply) => {
      const detail = error.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid: check its percent-encoding' : undefined;
      void (reply as FastifyReply)
        .code(400)
        .header('x-request-id', String(request.id))
        .type('application/json')
        .send(errorBody(request as FastifyRequest, 'BAD_REQUEST', detail));
    },
  }) as unknown as FastifyInstance;

  // The authentication cache trusts nothing until its store's coherence runs (cache/coherence.ts).
  await cache.coherence.start();
  const services = createServices({ store, cache, clock }, { sessionTtlSeconds: options.sessionTtlSeconds, secretKey: options.secretKey });
  const keyThrottle = createKeyThrottle({ now: () => clock.now().getTime(), limit: options.keyFailureLimit });
  // Links and redirects use the configured public URL, else the address listened on: never Host.
  const links = publicUrl(options.publicUrl, () => server.server.address());
  const auth = authCore({ store, cache, clock, throttle: keyThrottle, sessions: services.sessions });
  const deps: RouteDeps = { services, clock, auth, publicUrl: links };

  // Callback style (not async) for the hooks every request runs: no promise to settle. One hook for
  // the request id and the URL check: each hook is a turn of Fastify's hook runner.
  server.addHook('onRequest', (request, reply, done) => {
    if (quietLogger) request.log = lazyChildLogger(quietLogger, { reqId: request.id }, {});
    reply.header('x-request-id', String(request.id));
    done(urlError(request));
  });
  const hasWebPage = Boolean(options.webRoot && existsSync(join(options.webRoot, 'index.html')));
  installErrorHandling(server, (error) => store.isUnavailable(error), hasWebPage ? webPageFallback : undefined);
  installJsonParser(server);
  installAuth(server, auth);

  server.addHook('onRoute', (route) => {
    if (!route.config || !(route.config as { requirement?: unknown }).requirement) {
      if (String(route.url).startsWith('/api/')) throw new Error(`Route ${route.method} ${route.url} declares no requirement`);
    }
  });

  await server.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Gatehouse',
        description: "Prefect Cloud's access model, self-hosted: accounts, workspaces, service accounts, API keys and roles.",
        version: '0.1.0',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A pnu_ or pnb_ API key' } } },
    },
  });

  const routes = [
    ...metaRoutes(() => server.swagger()),
    ...meRoutes(deps),
    ...userRoutes(deps, { mailer: options.mailer ?? null }),
    ...accountRoutes(deps),
    ...membershipRoutes(deps),
    ...serviceAccountRoutes(deps),
    ...workspaceRoutes(deps),
    ...workspaceRoleRoutes(deps),
    ...accessRoutes(deps),
    ...auditRoutes(deps),
    ...sessionRoutes(deps),
    ...setupRoutes(deps),
    ...invitationRoutes(deps, { mailer: options.mailer ?? null }),
    ...gatewayRoutes(deps, { checkTimeoutMs: options.upstreamCheckTimeoutMs }),
    forwardAuthRoute(auth),
  ];
  registerRoutes(server, routes);
  const upstreamTimeouts = {
    connectTimeoutMs: options.upstreamConnectTimeoutMs ?? 5_000,
    responseTimeoutMs: options.upstreamResponseTimeoutMs ?? 60_000,
  };
  await installGatewayProxy(server, { services, bodyLimit, publicUrl: links, ...upstreamTimeouts });
  installWebsocketGateway(server, { services, auth, ...upstreamTimeouts, recheckMs: options.websocketRecheckMs, limits: options.websocketLimits, clientAddress: clientAddress(options.trustProxy), log: quietLogger ?? server.log });
  if (hasWebPage) await serveWebPage(server, options.webRoot!);
  await server.ready();
  return { server, services, routes };
}

/**
 * The page loads only its own scripts, styles and API; no other site may frame it (clickjacking);
 * no Referer leaves it (the invitation page's address names the invitation).
 */
export const WEB_PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The web page: its files, and index.html for any other non-API path (the page routes itself). */
async function serveWebPage(server: FastifyInstance, root: string): Promise<void> {
  // wildcard: true looks files up per request, so a rebuilt page is served without a restart.
  await server.register(fastifyStatic, {
    root,
    wildcard: true,
    index: ['index.html'],
    // Also applies to index.html answered for the page's own paths (reply.sendFile).
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(WEB_PAGE_HEADERS)) res.setHeader(name, value);
    },
  });
}

/** Paths the web page routes itself (history API): answered with its index.html. */
function webPageFallback(request: FastifyRequest, reply: FastifyReply): boolean {
  const path = request.url.split('?')[0];
  if ((request.method !== 'GET' && request.method !== 'HEAD') || path === '/api' || path.startsWith('/api/')) return false;
  // A missing file (an old asset name, a typo) is a 404, not the page.
  if (path.startsWith('/assets/') || /\.[A-Za-z0-9]+$/.test(path)) return false;
  reply.header('cache-control', 'no-cache').sendFile('index.html');
  return true;
}
