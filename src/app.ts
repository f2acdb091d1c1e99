// createApp builds the whole server from its dependencies; main, the CLI and every test use it.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Store } from './store/store.js';
import type { AuthCache } from './cache/auth-cache.js';
import { createServices, type Services } from './domain/services.js';
import { installErrorHandling } from './http/error-envelope.js';
import { createServer } from './http/server.js';
import { installAccessLog, type AccessRecorder } from './http/access-log.js';
import { installJsonParser } from './http/json.js';
import { installAuth } from './http/auth.js';
import { publicUrl } from './http/public-url.js';
import { readinessProblems } from './http/readiness.js';
import { clientAddress } from './http/client-address.js';
import { keyThrottle as createKeyThrottle } from './auth/key-throttle.js';
import { authCore } from './auth/core.js';
import { keyUseRecorder, writeKeyUses, type KeyUseRecorder } from './auth/key-use.js';
import { registerRoutes, type RouteDeps, type RouteSpec } from './http/route.js';
import { metaRoutes } from './http/routes/meta.js';
import { meRoutes } from './http/routes/me.js';
import { userRoutes } from './http/routes/users.js';
import { accountRoutes } from './http/routes/accounts.js';
import { keyPolicyRoutes } from './http/routes/key-policies.js';
import { ipAllowlistRoutes } from './http/routes/ip-allowlist.js';
import { installLeakReports, leakReportRoutes } from './http/routes/leak-reports.js';
import type { SigningKeys } from './leak-report-keys.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { noticeDelivery, type NoticeDelivery } from './domain/notices/delivery.js';
import { membershipRoutes } from './http/routes/memberships.js';
import { workloadIdentityRoutes } from './http/routes/workload-identity.js';
import { ssoRoutes } from './http/routes/sso.js';
import { serviceAccountRoutes } from './http/routes/service-accounts.js';
import { workspaceRoutes } from './http/routes/workspaces.js';
import { workspaceRoleRoutes } from './http/routes/workspace-roles.js';
import { accessRoutes } from './http/routes/access.js';
import { teamRoutes } from './http/routes/teams.js';
import { auditRoutes } from './http/routes/audit.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { setupRoutes } from './http/routes/setup.js';
import { invitationRoutes } from './http/routes/invitations.js';
import { scimRoutes } from './http/routes/scim.js';
import { scimTokenRoutes } from './http/routes/scim-tokens.js';
import { installScim } from './http/routes/scim-wire.js';
import type { Mailer } from './mail/mailer.js';
import { refusalRecorder, writeRefusals, type RefusalRecorder } from './domain/audit/refusals.js';
import { startAuditFeed, type AuditFeed } from './domain/audit/feed.js';
import type { FeedTarget } from './domain/audit/feed-sink.js';
import { scheduleAuditRetention } from './domain/audit/retention.js';
import type { SecretKey, SecretKeyring } from './secret-key.js';
import type { TrustProxy } from './config.js';
import { gatewayRoutes } from './http/routes/gateway.js';
import { installGatewayProxy } from './gateway/http-proxy.js';
import { installPrefectUi } from './gateway/prefect-ui.js';
import { forwardAuthRoute } from './gateway/forward-auth.js';
import { installWebsocketGateway, type WebsocketLimits } from './gateway/websocket.js';
import type { Tracing } from './tracing/tracing.js';

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
  /** How often the key policies' dormancy rule runs (default 1 hour; 0: never, for a process that only serves). */
  keyDormancyCheckMs?: number;
  /** How often keys' last uses are written (default 60 s: the most a crash loses). */
  keyUseIntervalMs?: number;
  /** Spans for requests, auth decisions and upstream calls (tracing/tracing.ts); absent or null: none, and no hook. */
  tracing?: Tracing | null;
  /**
   * The public keys a secret-scanning partner signs leak reports with (GATEHOUSE_LEAK_REPORT_KEYS_FILE);
   * without them POST /api/leak_reports answers 404 LEAK_REPORTS_NOT_CONFIGURED.
   */
  leakReportKeys?: SigningKeys | null;
  /** How often this process sends due notices (webhooks, mail; default 5 s; 0: never). */
  noticeDeliveryMs?: number;
  /** How often the time-based notices (keys expiring, expired, grace ended) are looked for (default 1 hour; 0: never). */
  keyExpiryCheckMs?: number;
  /** Webhook delivery: the receiver's time to answer, the first retry's delay (doubling), attempts in all. */
  webhookTimeoutMs?: number;
  webhookRetryBaseMs?: number;
  webhookMaxAttempts?: number;
  /** GATEHOUSE_AUDIT_FEED: where every audit event is also written as a JSON line (domain/audit/feed.ts); absent, nowhere. */
  auditFeed?: FeedTarget | null;
  /** How often the feed looks for new events (default 1 s). */
  auditFeedPollMs?: number;
  /** GATEHOUSE_AUDIT_RETENTION_DAYS: events older than this many days are pruned (default: kept forever). */
  auditRetentionDays?: number | null;
  /** How often retention prunes (default 1 hour). */
  auditPruneIntervalMs?: number;
  /** How often counted gateway refusals are written as audit rows (default 60 s). */
  refusalAuditIntervalMs?: number;
  /** Where each request's access line goes (http/access-log.ts); opened and closed by the caller. Default: none. */
  accessLog?: AccessRecorder | null;
  /** Write one of every N successful requests' access lines (default 1: all); errors always. */
  accessLogSample?: number;
}

export interface App {
  server: FastifyInstance;
  services: Services;
  routes: RouteSpec[];
  /** Keys' last uses, noted and not yet written (tests flush it). */
  keyUse: KeyUseRecorder;
  /** The notices worker (tests run it by hand). */
  notices: NoticeDelivery;
  /** Gateway refusals counted and not yet written (tests flush it). */
  refusals: RefusalRecorder;
  /** The live audit feed, when configured (tests poll it). */
  auditFeed: AuditFeed | null;
}

export async function createApp(options: AppOptions): Promise<App> {
  const { store, cache, clock, bodyLimit = 1_048_576 } = options;
  const { server, log } = createServer({ logger: options.logger, bodyLimit, trustProxy: options.trustProxy });
  const tracing = options.tracing ?? null;
  tracing?.install(server);
  if (options.accessLog) installAccessLog(server, options.accessLog, options.accessLogSample);

  // The authentication cache trusts nothing until its store's coherence runs (cache/coherence.ts).
  await cache.coherence.start();
  const services = createServices({ store, cache, clock }, { sessionTtlSeconds: options.sessionTtlSeconds, secretKey: options.secretKey });
  const keyThrottle = createKeyThrottle({ now: () => clock.now().getTime(), limit: options.keyFailureLimit });
  // Links and redirects use the configured public URL, else the address listened on: never Host.
  const links = publicUrl(options.publicUrl, () => server.server.address());
  // Each key's last use: noted in memory by the auth core, written in the background; the last
  // notes are written when the server closes.
  const keyUse = keyUseRecorder({ write: (batch) => writeKeyUses(store, batch), intervalMs: options.keyUseIntervalMs, onError: (error) => log.warn({ err: error }, "could not write API keys' last use; will try again") });
  server.addHook('onClose', () => keyUse.close());
  const core = authCore({ store, cache, clock, throttle: keyThrottle, sessions: services.sessions, keyUse });
  const auth = tracing ? tracing.auth(core) : core;
  // Refused gateway requests: counted per group in memory, a row per group written each interval.
  const refusals = refusalRecorder({
    write: (groups) => writeRefusals(store, groups),
    now: () => clock.now(),
    intervalMs: options.refusalAuditIntervalMs,
    onError: (error) => log.warn({ err: error }, 'could not write refused gateway requests to the audit trail; that interval is counted in the request log only'),
  });
  server.addHook('onClose', () => refusals.close());
  const auditFeed = options.auditFeed ? startAuditFeed({
    store,
    clock,
    target: options.auditFeed,
    pollMs: options.auditFeedPollMs,
    onError: (error) => log.warn({ err: error }, 'the audit feed could not be written; it tries again from its cursor'),
  }) : null;
  if (auditFeed) server.addHook('onClose', () => auditFeed.close());
  if (options.auditRetentionDays) {
    const retention = scheduleAuditRetention({
      store,
      now: () => clock.now(),
      days: options.auditRetentionDays,
      everyMs: options.auditPruneIntervalMs,
      onPruned: (removed, cutoff) => log.info({ event: 'audit_pruned', removed, cutoff }, 'pruned audit events past the retention'),
      onError: (error) => log.warn({ err: error }, 'audit retention pruning failed; it runs again at its next interval'),
    });
    server.addHook('onClose', () => retention.stop());
  }
  const deps: RouteDeps = { services, clock, auth, publicUrl: links };
  const notices = noticeDelivery({
    store,
    clock,
    ring: services.secretKeyring,
    mailer: options.mailer ?? null,
    timeoutMs: options.webhookTimeoutMs,
    retryBaseMs: options.webhookRetryBaseMs,
    maxAttempts: options.webhookMaxAttempts,
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
    ...metaRoutes(() => server.swagger(), () => readinessProblems(store, cache.coherence)),
    ...meRoutes(deps),
    ...userRoutes(deps, { mailer: options.mailer ?? null }),
    ...accountRoutes(deps),
    ...keyPolicyRoutes(deps),
    ...ipAllowlistRoutes(deps),
    ...webhookRoutes(deps, notices),
    ...membershipRoutes(deps),
    ...serviceAccountRoutes(deps),
    ...workloadIdentityRoutes(deps),
    ...workspaceRoutes(deps),
    ...workspaceRoleRoutes(deps),
    ...accessRoutes(deps),
    ...teamRoutes(deps),
    ...auditRoutes(deps),
    ...sessionRoutes(deps),
    ...ssoRoutes(deps),
    ...setupRoutes(deps),
    ...invitationRoutes(deps, { mailer: options.mailer ?? null }),
    ...scimTokenRoutes(deps),
    ...gatewayRoutes(deps, { checkTimeoutMs: options.upstreamCheckTimeoutMs }),
    forwardAuthRoute(auth, refusals),
  ];
  registerRoutes(server, routes);
  // Signed by a partner rather than authenticated: registered with a body parser of its own.
  const leakRoutes = leakReportRoutes(deps);
  await installLeakReports(server, leakRoutes, { keys: options.leakReportKeys ?? null, failureLimit: options.keyFailureLimit, now: () => clock.now().getTime() });
  routes.push(...leakRoutes);
  // SCIM: the account's SCIM token is the credential, checked in a context of its own.
  const scim = scimRoutes(deps);
  await installScim(server, scim, deps, (error) => store.isUnavailable(error));
  routes.push(...scim);
  const upstreamTimeouts = {
    connectTimeoutMs: options.upstreamConnectTimeoutMs ?? 5_000,
    responseTimeoutMs: options.upstreamResponseTimeoutMs ?? 60_000,
  };
  const proxyOptions = { services, bodyLimit, publicUrl: links, ...upstreamTimeouts, traceForwarder: tracing?.forwarder, refusals };
  const forwarder = await installGatewayProxy(server, proxyOptions);
  await installPrefectUi(server, { ...proxyOptions, auth, forwarder });
  installWebsocketGateway(server, {
    services,
    auth,
    ...upstreamTimeouts,
    recheckMs: options.websocketRecheckMs,
    limits: options.websocketLimits,
    refusals,
    clientAddress: clientAddress(options.trustProxy),
    log,
    traceOpen: tracing?.websocketOpen,
    isStoreUnavailable: (error) => store.isUnavailable(error),
  });
  if (hasWebPage) await serveWebPage(server, options.webRoot!);
  scheduleDormancyCheck(server, services, options.keyDormancyCheckMs ?? 3_600_000, log);
  every(server, options.keyExpiryCheckMs ?? 3_600_000, () => services.noticeExpiry.run(), log, 'the key expiry notice check');
  every(server, options.noticeDeliveryMs ?? 5_000, () => notices.deliverDue(), log, 'sending notices');
  await server.ready();
  return { server, services, routes, keyUse, notices, refusals, auditFeed };
}

/** Runs `job` every `everyMs` in the background, one run at a time; its failures are logged, never thrown. */
function every(server: FastifyInstance, everyMs: number, job: () => Promise<unknown>, log: FastifyBaseLogger, what: string): void {
  if (everyMs <= 0) return;
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = job()
      .catch((error: unknown) => log.warn({ err: error }, `${what} failed; it runs again at its next interval`))
      .finally(() => (running = null));
  }, everyMs);
  timer.unref();
  // A run in flight finishes before the store closes (bounded: a webhook waits at most its timeout).
  server.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
}

/**
 * The key policies' dormancy rule, on a timer in every process: it is idempotent (a key is disabled
 * and audited once, whichever process gets there first), so no process needs to be elected.
 */
function scheduleDormancyCheck(server: FastifyInstance, services: Services, everyMs: number, log: FastifyBaseLogger): void {
  if (everyMs <= 0) return;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    services.keyPolicies
      .disableDormantKeys()
      .then((disabled) => {
        for (const key of disabled) log.info({ event: 'api_key_disabled', reason: 'dormant', ...key }, 'disabled a service-account key unused past its account key policy');
      })
      .catch((error: unknown) => log.warn({ err: error }, 'the key dormancy check failed; it runs again at its next interval'))
      .finally(() => (running = false));
  }, everyMs);
  timer.unref();
  server.addHook('onClose', async () => clearInterval(timer));
}

/**
 * The page loads only its own scripts, styles and API; no other site may frame it (clickjacking);
 * no Referer leaves it (the invitation page's address names the invitation).
 */
export const WEB_PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  // A Prefect UI served under /w/ (gateway/prefect-ui.ts) that opens this page in a popup gets no handle on it.
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The Prefect CLI's browser login (/auth/client) hands the new key to the CLI's callback with fetch;
 * this page alone may also connect to this computer's loopback interface, which is all it posts to.
 */
export const CLI_LOGIN_PAGE_HEADERS = {
  ...WEB_PAGE_HEADERS,
  'content-security-policy': WEB_PAGE_HEADERS['content-security-policy'].replace("connect-src 'self'", "connect-src 'self' http://localhost:* http://127.0.0.1:*"),
};

/** The headers of the page's answer for `url` (the request's path and query). */
export function webPageHeaders(url: string | undefined): Record<string, string> {
  const path = (url ?? '').split('?')[0]!.replace(/\/+$/, '');
  return path === '/auth/client' ? CLI_LOGIN_PAGE_HEADERS : WEB_PAGE_HEADERS;
}

/** The web page: its files, and index.html for any other non-API path (the page routes itself). */
async function serveWebPage(server: FastifyInstance, root: string): Promise<void> {
  // wildcard: true looks files up per request, so a rebuilt page is served without a restart.
  await server.register(fastifyStatic, {
    root,
    wildcard: true,
    index: ['index.html'],
    // Also applies to index.html answered for the page's own paths (reply.sendFile).
    // `res` is the reply's raw ServerResponse, whose `req` names the page asked for.
    setHeaders: (res) => {
      const url = (res as unknown as { req?: { url?: string } }).req?.url;
      for (const [name, value] of Object.entries(webPageHeaders(url))) res.setHeader(name, value);
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
