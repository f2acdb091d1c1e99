// Prometheus metrics (docs/metrics.md), served on their own listener, never on the public port.
// The request path only adds to numbers held in plain cells made once per label set (a route, a
// workspace, a result): no label object, string or promise per request. prom-client formats them
// at scrape time, gathers the process's default metrics and runs the one scrape-time query (keys
// expiring soon). Until enableMetrics() is called every hook is a no-op, so a process without
// GATEHOUSE_METRICS_PORT pays a call to an empty function.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LogEvent } from 'kysely';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

type Labels = Record<string, string>;
/** A route of the gateway's table (gateway/route-table.ts), as far as its label needs. */
interface GatewayRoute {
  method: string;
  path: string;
}
/** Current keys expiring within a window, by holder (domain/api-keys/expiring.ts). */
export type ExpiringKeys = { within: string; holder: string; count: number }[];
interface Cell {
  value: number;
}

/** A counter family whose series are cells made once; prom-client reads them when scraped. */
class CounterFamily {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly series: { labels: Labels; cell: Cell }[] = [];
  constructor(readonly name: string, readonly help: string) {}
  cell(labels: Labels): Cell {
    const cell = { value: 0 };
    this.series.push({ labels, cell });
    return cell;
  }
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.series.map(({ labels, cell }) => ({ labels, value: cell.value })) };
  }
}

/** One histogram series: counts per bucket (not cumulative until scraped), sum and count. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i += 1;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

class HistogramFamily {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: { labels: Labels; cell: HistogramCell }[] = [];
  constructor(readonly name: string, readonly help: string, readonly bounds: readonly number[]) {}
  cell(labels: Labels): HistogramCell {
    const cell = new HistogramCell(this.bounds);
    this.series.push({ labels, cell });
    return cell;
  }
  async get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const { labels, cell } of this.series) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += cell.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cell.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: cell.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const QUERY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];
const WAIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** At most this many workspaces get their own series; later ones share the label "other". */
export const MAX_WORKSPACES = 1000;
const OTHER_WORKSPACE = 'other';

export type AuthResult = 'accepted' | 'refused' | 'throttled';
export type UpstreamFailure = 'timeout' | 'unreachable' | 'broken';
/** Route labels for gateway requests that never reached a route of the table. */
export const UNROUTED = '(unrouted)';
export const UNKNOWN_ROUTE = '(unknown)';

/** The hooks the request path calls; each is a no-op until enableMetrics(). */
export interface MetricHooks {
  keyAuthentication(result: AuthResult): void;
  sessionAuthentication(result: AuthResult): void;
  /** An address reached the limit of failed key authentications (once per address per window). */
  addressThrottled(): void;
  cacheHit(kind: string): void;
  cacheMiss(kind: string): void;
  /** A write's wait until every process forgot what it changed (Coherence.settle). */
  invalidationSettled(settling: Promise<void>): Promise<void>;
  /** The gateway request's route (or UNKNOWN_ROUTE) and workspace, once decided. */
  gatewayRouted(request: FastifyRequest, route: GatewayRoute | null, workspaceId: string): void;
  /** The upstream's answer (or failure) to a forwarded request, `startedAt` from performance.now(). */
  upstreamAnswered(workspaceId: string, startedAt: number, result: { ok: true } | { ok: false; failure: UpstreamFailure }): void;
  websocketOpened(socket: { once(event: 'close', listener: () => void): unknown }): void;
  /** Kysely's log hook (store/dialects). */
  storeQuery(event: LogEvent): void;
}

const noop = () => {};
export const metrics: MetricHooks = {
  keyAuthentication: noop,
  sessionAuthentication: noop,
  addressThrottled: noop,
  cacheHit: noop,
  cacheMiss: noop,
  invalidationSettled: (settling) => settling,
  gatewayRouted: noop,
  upstreamAnswered: noop,
  websocketOpened: noop,
  storeQuery: noop,
};

let registry: Registry | null = null;
let keyExpiry: { count: () => Promise<ExpiringKeys>; reuseMs: number } | null = null;

export const metricsEnabled = () => registry !== null;

/** Request fields the gateway's response hook reads (decorated, so every request has the same shape). */
const ROUTE_CELLS = Symbol('gatehouse.metrics.route');
const WORKSPACE_CELLS = Symbol('gatehouse.metrics.workspace');
type StatusCells = [Cell, Cell, Cell, Cell, Cell, Cell];
interface RouteCells {
  requests: StatusCells;
  duration: HistogramCell;
}
interface WorkspaceCells {
  requests: StatusCells;
  upstream: HistogramCell;
  failures: Record<UpstreamFailure, Cell>;
}
type Decorated = FastifyRequest & { [ROUTE_CELLS]: RouteCells | null; [WORKSPACE_CELLS]: WorkspaceCells | null };

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const statusIndex = (status: number) => (status >= 100 && status < 600 ? Math.floor(status / 100) : 0);

type ResponseHook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => void;
let onGatewayResponse: ResponseHook | null = null;
let onRoutedResponse: ResponseHook | null = null;

/**
 * Turns the hooks on and returns the registry (idempotent: one per process). Call before the
 * store is opened (its query hook is attached then) and before createApp (which installs the
 * gateway's response hook only when metrics are on).
 */
export function enableMetrics(): Registry {
  if (registry) return registry;
  const register = new Registry();
  const add = <T,>(family: T): T => {
    register.registerMetric(family as never);
    return family;
  };

  const auth = add(new CounterFamily('gatehouse_auth_decisions_total', 'Authentications by credential kind (key, session) and result (accepted, refused, throttled).'));
  const authCells = (credential: string) => ({
    accepted: auth.cell({ credential, result: 'accepted' }),
    refused: auth.cell({ credential, result: 'refused' }),
    throttled: auth.cell({ credential, result: 'throttled' }),
  });
  const keyCells = authCells('key');
  const sessionCells = { accepted: auth.cell({ credential: 'session', result: 'accepted' }), refused: auth.cell({ credential: 'session', result: 'refused' }), throttled: { value: 0 } };
  const throttled = add(new CounterFamily('gatehouse_throttled_addresses_total', 'Times a client address reached the limit of failed key authentications per minute (GATEHOUSE_KEY_FAILURE_LIMIT).')).cell({});

  const lookups = add(new CounterFamily('gatehouse_auth_cache_lookups_total', 'Authentication cache lookups by kind (key, grant, scopes, ip-allowlist, my-scopes, ...) and result (hit, miss).'));
  const cacheCells = new Map<string, { hit: Cell; miss: Cell }>();
  const cacheFor = (kind: string) => {
    let cells = cacheCells.get(kind);
    if (!cells) cacheCells.set(kind, (cells = { hit: lookups.cell({ kind, result: 'hit' }), miss: lookups.cell({ kind, result: 'miss' }) }));
    return cells;
  };
  const invalidation = add(new HistogramFamily('gatehouse_auth_cache_invalidation_wait_seconds', 'How long a write waited, after committing, until every process had forgotten what it changed.', WAIT_BUCKETS)).cell({});

  const gatewayRequests = add(new CounterFamily('gatehouse_gateway_requests_total', "Gateway requests to workspaces' Prefect APIs by route (the route table's method and path) and status class."));
  const gatewayDuration = add(new HistogramFamily('gatehouse_gateway_request_duration_seconds', 'Gateway requests from arrival until the answer was sent, by route.', LATENCY_BUCKETS));
  const workspaceRequests = add(new CounterFamily('gatehouse_gateway_workspace_requests_total', "Gateway requests let into a workspace, by workspace id and status class."));
  const upstreamDuration = add(new HistogramFamily('gatehouse_upstream_response_seconds', "Time until a workspace's Prefect server answered a forwarded request (its headers), by workspace id.", LATENCY_BUCKETS));
  const upstreamFailures = add(new CounterFamily('gatehouse_upstream_failures_total', "Forwarded requests a workspace's Prefect server failed: kind timeout, unreachable or broken (the answer broke off)."));
  const statusCells = (family: CounterFamily, labels: Labels) => STATUS_CLASSES.map((status) => family.cell({ ...labels, status })) as StatusCells;
  const routeCells = new Map<string, RouteCells>();
  const routeFor = (name: string) => {
    let cells = routeCells.get(name);
    if (!cells) routeCells.set(name, (cells = { requests: statusCells(gatewayRequests, { route: name }), duration: gatewayDuration.cell({ route: name }) }));
    return cells;
  };
  const routeByEntry = new WeakMap<GatewayRoute, RouteCells>();
  const unrouted = routeFor(UNROUTED);
  const workspaceCells = new Map<string, WorkspaceCells>();
  const workspaceFor = (id: string): WorkspaceCells => {
    let cells = workspaceCells.get(id);
    if (cells) return cells;
    if (workspaceCells.size >= MAX_WORKSPACES && id !== OTHER_WORKSPACE) return workspaceFor(OTHER_WORKSPACE);
    const workspace = { workspace: id };
    cells = {
      requests: statusCells(workspaceRequests, workspace),
      upstream: upstreamDuration.cell(workspace),
      failures: { timeout: upstreamFailures.cell({ ...workspace, kind: 'timeout' }), unreachable: upstreamFailures.cell({ ...workspace, kind: 'unreachable' }), broken: upstreamFailures.cell({ ...workspace, kind: 'broken' }) },
    };
    workspaceCells.set(id, cells);
    return cells;
  };

  let openSockets = 0;
  add(new Gauge({ name: 'gatehouse_gateway_websockets_open', help: 'Gateway websockets open now (let in and relaying to a Prefect server).', registers: [], collect() { this.set(openSockets); } }));
  const closed = () => void (openSockets -= 1);

  const queries = add(new HistogramFamily('gatehouse_store_query_duration_seconds', 'Database queries by operation (select, insert, update, delete, other), failed ones included.', QUERY_BUCKETS));
  const queryCells: Record<string, HistogramCell> = {};
  for (const operation of ['select', 'insert', 'update', 'delete', 'other']) queryCells[operation] = queries.cell({ operation });
  const queryErrors = add(new CounterFamily('gatehouse_store_query_errors_total', 'Database queries that failed (any error: constraint, timeout, lost connection).')).cell({});
  const OPERATION: Record<string, string> = { SelectQueryNode: 'select', InsertQueryNode: 'insert', UpdateQueryNode: 'update', DeleteQueryNode: 'delete' };

  add(expiringKeysGauge());
  collectDefaultMetrics({ register });

  const count = (request: FastifyRequest, reply: FastifyReply, route: RouteCells) => {
    const status = statusIndex(reply.statusCode);
    route.requests[status].value += 1;
    route.duration.observe(reply.elapsedTime / 1000);
    const workspace = (request as Decorated)[WORKSPACE_CELLS];
    if (workspace) workspace.requests[status].value += 1;
  };
  onGatewayResponse = (request, reply, done) => {
    count(request, reply, (request as Decorated)[ROUTE_CELLS] ?? unrouted);
    done();
  };
  onRoutedResponse = (request, reply, done) => {
    const route = (request as Decorated)[ROUTE_CELLS];
    if (route) count(request, reply, route);
    done();
  };

  Object.assign(metrics, {
    keyAuthentication: (result) => void (keyCells[result].value += 1),
    sessionAuthentication: (result) => void (sessionCells[result].value += 1),
    addressThrottled: () => void (throttled.value += 1),
    cacheHit: (kind) => void (cacheFor(kind).hit.value += 1),
    cacheMiss: (kind) => void (cacheFor(kind).miss.value += 1),
    invalidationSettled(settling) {
      const started = performance.now();
      return settling.finally(() => invalidation.observe((performance.now() - started) / 1000));
    },
    gatewayRouted(request, route, workspaceId) {
      let cells = route ? routeByEntry.get(route) : routeFor(UNKNOWN_ROUTE);
      if (!cells) routeByEntry.set(route!, (cells = routeFor(`${route!.method} ${route!.path}`)));
      (request as Decorated)[ROUTE_CELLS] = cells;
      (request as Decorated)[WORKSPACE_CELLS] = workspaceFor(workspaceId);
    },
    upstreamAnswered(workspaceId, startedAt, result) {
      const cells = workspaceFor(workspaceId);
      if (result.ok) cells.upstream.observe((performance.now() - startedAt) / 1000);
      else cells.failures[result.failure].value += 1;
    },
    websocketOpened(socket) {
      openSockets += 1;
      socket.once('close', closed);
    },
    storeQuery(event) {
      queryCells[OPERATION[event.query.query.kind] ?? 'other']!.observe(event.queryDurationMillis / 1000);
      if (event.level === 'error') queryErrors.value += 1;
    },
  } satisfies MetricHooks);
  registry = register;
  return register;
}

/**
 * The gateway's response hook, for a plugin scope that serves workspaces' Prefect APIs: counts
 * each answer by route and status class, and times it; `routedOnly` skips the answers that never
 * reached the route table (the Prefect UI's own files). Installs nothing while metrics are off.
 */
export function installGatewayMetrics(scope: FastifyInstance, options: { routedOnly?: boolean } = {}): void {
  if (!onGatewayResponse || !onRoutedResponse) return;
  if (!scope.hasRequestDecorator(ROUTE_CELLS as never)) {
    scope.decorateRequest(ROUTE_CELLS as never, null as never);
    scope.decorateRequest(WORKSPACE_CELLS as never, null as never);
  }
  scope.addHook('onResponse', options.routedOnly ? onRoutedResponse : onGatewayResponse);
}

/** Kysely's `log` option for a store: present only when metrics are on (else Kysely times nothing). */
export function storeQueryLog(): ((event: LogEvent) => void) | undefined {
  return registry ? (event) => metrics.storeQuery(event) : undefined;
}

/** How long one count of expiring keys is reused: scrapes in quick succession ask the store once. */
export const KEY_EXPIRY_CACHE_MS = 10_000;

/**
 * Current keys (not old keys in their rotation grace) that expire within 7 and 30 days, by holder:
 * one indexed range query (api_keys_expiration_idx) at scrape time, reused for a few seconds.
 */
function expiringKeysGauge(): Gauge {
  let last: { at: number; count: () => Promise<ExpiringKeys>; rows: ExpiringKeys } | null = null;
  return new Gauge({
    name: 'gatehouse_api_keys_expiring',
    help: 'Current API keys that expire within the given window (7d, 30d), by holder (service_account, user).',
    labelNames: ['within', 'holder'],
    registers: [],
    async collect() {
      if (!keyExpiry) return;
      const { count } = keyExpiry;
      if (last && last.count !== count) last = null;
      const at = Date.now();
      if (!last || at - last.at >= keyExpiry.reuseMs) {
        try {
          last = { at, count, rows: await count() };
        } catch {
          // The store is unreachable: no value rather than an old one (readiness says why).
          last = null;
          this.reset();
          return;
        }
      }
      for (const row of last.rows) this.set({ within: row.within, holder: row.holder }, row.count);
    },
  });
}

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  close(): Promise<void>;
}

/**
 * The metrics listener: GET /metrics in Prometheus' text format, on its own address (default
 * 127.0.0.1), apart from the API's. `expiringKeys` answers the expiring-keys gauges.
 */
export async function serveMetrics(options: { host: string; port: number; expiringKeys: () => Promise<ExpiringKeys>; keyExpiryReuseMs?: number }): Promise<MetricsListener> {
  const register = enableMetrics();
  const expiry = { count: options.expiringKeys, reuseMs: options.keyExpiryReuseMs ?? KEY_EXPIRY_CACHE_MS };
  keyExpiry = expiry;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Gatehouse serves its metrics at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET /metrics\n');
      return;
    }
    register.metrics().then(
      (text) => res.writeHead(200, { 'content-type': register.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Collecting the metrics failed\n'),
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        if (keyExpiry === expiry) keyExpiry = null;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
