// GET /metrics on the metrics listener (docs/metrics.md): Prometheus' text format, read back with a
// parser; the counters move with the requests they count; no key text ever appears in it; and the
// public port does not serve it.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { randomUUID } from 'node:crypto';
import { enableMetrics, MAX_WORKSPACES, metrics, serveMetrics, type MetricsListener } from '../src/observability/metrics.js';
import { loadConfig } from '../src/config.js';
import { countExpiringKeys } from '../src/domain/api-keys/expiring.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { startWebsocketGateway, type WebsocketGateway } from './support/websocket-gateway.js';
import { botWithRole, postBot, workspaceWithUpstream } from './support/members.js';
import { closedPort } from './support/ports.js';
import { freshSharedStore, startGatehouse } from './support/processes.js';

// Before any store opens: the store's query timing is attached when it is opened.
enableMetrics();

interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  type: string;
  metrics: Sample[];
}
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

let g: WebsocketGateway;
let listener: MetricsListener;
let worker: { key: string };
const DAY = 86_400_000;

beforeAll(async () => {
  g = await startWebsocketGateway();
  listener = await serveMetrics({ host: '127.0.0.1', port: 0, expiringKeys: () => countExpiringKeys(g.h.handle.store.db, g.h.clock.now()), keyExpiryReuseMs: 100 });
  worker = await botWithRole(g.h, g.owner, g.wsId, WORKSPACE_ROLE_IDS.Worker);
});
afterAll(async () => {
  await listener?.close();
  await g?.close();
});

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await fetch(listener.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  return { text, families: new Map(parse(text).map((family) => [family.name, family])) };
}

/** The sample of counter or gauge `name` whose labels include `labels`; 0 when absent. */
function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const sample = families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(sample?.value ?? 0);
}

/**
 * The observation count of histogram `name` summed over the series whose labels include `labels`,
 * read from the `_count` lines (the parser merges a labelled histogram's series into one).
 */
function countOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}_count(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!match) continue;
    const found = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) total += Number(match[2]);
  }
  return total;
}

const base = () => `/api/accounts/${g.owner.accountId}/workspaces/${g.wsId}`;

describe('the metrics listener', () => {
  it('answers Prometheus text that parses, with the process metrics and every Gatehouse family', async () => {
    const { families } = await scrape();
    for (const name of [
      'gatehouse_auth_decisions_total', 'gatehouse_throttled_addresses_total', 'gatehouse_auth_cache_lookups_total',
      'gatehouse_auth_cache_invalidation_wait_seconds', 'gatehouse_gateway_requests_total', 'gatehouse_gateway_request_duration_seconds',
      'gatehouse_gateway_workspace_requests_total', 'gatehouse_upstream_response_seconds', 'gatehouse_upstream_failures_total',
      'gatehouse_gateway_websockets_open', 'gatehouse_api_keys_expiring', 'gatehouse_store_query_duration_seconds',
      'gatehouse_store_query_errors_total', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds',
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    expect(families.get('gatehouse_auth_decisions_total')!.type).toBe('COUNTER');
    expect(families.get('gatehouse_gateway_request_duration_seconds')!.type).toBe('HISTOGRAM');
  });

  it('answers 404 for another path, and the public port does not serve the metrics', async () => {
    expect((await fetch(new URL('/', listener.url))).status).toBe(404);
    expect((await g.h.request('GET', '/metrics')).status).toBe(404);
    const pub = await fetch(`http://127.0.0.1:${g.port}/metrics`);
    expect(pub.status).toBe(404);
    expect(await pub.text()).not.toContain('gatehouse_');
  });
});

describe('counters move with requests', () => {
  it('counts a refused key under result "refused" and an accepted one under "accepted"', async () => {
    const before = (await scrape()).families;
    const refused = await g.h.request('GET', '/api/me/', { key: `pnu_${'A'.repeat(36)}` });
    expect(refused.status).toBe(401);
    const accepted = await g.h.request('GET', '/api/me/', { key: g.owner.key });
    expect(accepted.status).toBe(200);
    const after = (await scrape()).families;
    const delta = (result: string) => valueOf(after, 'gatehouse_auth_decisions_total', { credential: 'key', result }) - valueOf(before, 'gatehouse_auth_decisions_total', { credential: 'key', result });
    expect(delta('refused')).toBe(1);
    expect(delta('accepted')).toBe(1);
    expect(delta('throttled')).toBe(0);
  });

  it("counts a gateway request under its route's name and status class, and its workspace, never the raw path", async () => {
    const { text: beforeText, families: before } = await scrape();
    const res = await g.h.request('POST', `${base()}/flows/filter`, { key: worker.key, body: {} });
    expect(res.status).toBe(200);
    const flowId = '0b8a1c7e-3f2d-4c1e-9a6b-5d4e3f2a1b0c';
    const denied = await g.h.request('DELETE', `${base()}/flows/${flowId}`, { key: worker.key });
    expect(denied.status).toBe(403);
    const { text, families: after } = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('gatehouse_gateway_requests_total', { route: 'POST /flows/filter', status: '2xx' })).toBe(1);
    expect(delta('gatehouse_gateway_requests_total', { route: 'DELETE /flows/{id:uuid}', status: '4xx' })).toBe(1);
    const observed = (name: string, labels: Record<string, string>) => countOf(text, name, labels) - countOf(beforeText, name, labels);
    expect(observed('gatehouse_gateway_request_duration_seconds', { route: 'POST /flows/filter' })).toBe(1);
    expect(delta('gatehouse_gateway_workspace_requests_total', { workspace: g.wsId, status: '2xx' })).toBe(1);
    expect(observed('gatehouse_upstream_response_seconds', { workspace: g.wsId })).toBe(1);
    expect(text).not.toContain(flowId);
  });

  it('counts a request refused before routing under "(unrouted)" with no workspace', async () => {
    const before = (await scrape()).families;
    const res = await g.h.request('POST', `${base()}/flows/filter`, { key: `pnb_${'B'.repeat(36)}`, body: {} });
    expect(res.status).toBe(401);
    const after = (await scrape()).families;
    const labels = { route: '(unrouted)', status: '4xx' };
    expect(valueOf(after, 'gatehouse_gateway_requests_total', labels) - valueOf(before, 'gatehouse_gateway_requests_total', labels)).toBe(1);
  });

  it("counts an unreachable upstream under its workspace and kind", async () => {
    const down = await workspaceWithUpstream(g.h, g.owner, `http://127.0.0.1:${await closedPort()}/api`);
    const res = await g.h.request('POST', `${down.base}/flows/filter`, { key: g.owner.key, body: {} });
    expect(res.status).toBe(502);
    const after = (await scrape()).families;
    expect(valueOf(after, 'gatehouse_upstream_failures_total', { workspace: down.id, kind: 'unreachable' })).toBe(1);
  });

  it('counts cache hits and misses, invalidation waits and store queries', async () => {
    const { text: beforeText, families: before } = await scrape();
    for (let i = 0; i < 2; i += 1) expect((await g.h.request('POST', `${base()}/flows/filter`, { key: worker.key, body: {} })).status).toBe(200);
    // Granting a workspace role invalidates every process's cache before it returns.
    await botWithRole(g.h, g.owner, g.wsId, WORKSPACE_ROLE_IDS.Developer);
    const { text, families: after } = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    const observed = (name: string, labels: Record<string, string> = {}) => countOf(text, name, labels) - countOf(beforeText, name, labels);
    expect(delta('gatehouse_auth_cache_lookups_total', { kind: 'key', result: 'hit' })).toBeGreaterThan(0);
    expect(delta('gatehouse_auth_cache_lookups_total', { kind: 'key', result: 'miss' })).toBeGreaterThan(0);
    expect(observed('gatehouse_auth_cache_invalidation_wait_seconds')).toBeGreaterThan(0);
    expect(observed('gatehouse_store_query_duration_seconds', { operation: 'insert' })).toBeGreaterThan(0);
    expect(observed('gatehouse_store_query_duration_seconds', { operation: 'select' })).toBeGreaterThan(0);
  });

  it('counts an open gateway websocket while it is open', async () => {
    const socket = new WebSocket(g.url('/events/out'), ['prefect'], { headers: { authorization: `Bearer ${g.owner.key}` } });
    await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
    await expect.poll(async () => valueOf((await scrape()).families, 'gatehouse_gateway_websockets_open'), { timeout: 5_000 }).toBe(1);
    socket.close();
    await expect.poll(async () => valueOf((await scrape()).families, 'gatehouse_gateway_websockets_open'), { timeout: 5_000 }).toBe(0);
  });
});

describe('keys expiring soon', () => {
  it('counts current service-account keys expiring within 7 and 30 days', async () => {
    const before = (await scrape()).families;
    const now = g.h.clock.now().getTime();
    await postBot(g.h, g.owner.accountId, g.owner.key, { api_key_expiration: new Date(now + 3 * DAY).toISOString() });
    await postBot(g.h, g.owner.accountId, g.owner.key, { api_key_expiration: new Date(now + 20 * DAY).toISOString() });
    await postBot(g.h, g.owner.accountId, g.owner.key, { api_key_expiration: new Date(now + 90 * DAY).toISOString() });
    // The count is reused for a moment (here 100 ms): wait it out.
    await expect
      .poll(async () => {
        const after = (await scrape()).families;
        const d = (within: string) => valueOf(after, 'gatehouse_api_keys_expiring', { within, holder: 'service_account' }) - valueOf(before, 'gatehouse_api_keys_expiring', { within, holder: 'service_account' });
        return [d('7d'), d('30d')];
      }, { timeout: 5_000, interval: 150 })
      .toEqual([1, 2]);
  });
});

describe('no secret in the output', () => {
  it('holds no API key, key prefix or upstream credential', async () => {
    const { text } = await scrape();
    for (const secret of [g.owner.key, worker.key]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(4, 16));
    }
    expect(text).not.toMatch(/pn[bu]_/);
  });
});

describe('the setting', () => {
  it('is off unless a port is given; the host defaults to 127.0.0.1', () => {
    expect(loadConfig({}, {})).toMatchObject({ ok: true, config: { metricsPort: undefined, metricsHost: '127.0.0.1' } });
    expect(loadConfig({}, { GATEHOUSE_METRICS_PORT: '9464' })).toMatchObject({ ok: true, config: { metricsPort: 9464, metricsHost: '127.0.0.1' } });
    expect(loadConfig({ 'metrics-port': '9465', 'metrics-host': '0.0.0.0' }, { GATEHOUSE_METRICS_PORT: '9464' })).toMatchObject({ ok: true, config: { metricsPort: 9465, metricsHost: '0.0.0.0' } });
  });

  it("refuses a bad port, and the API's own port", () => {
    expect(loadConfig({}, { GATEHOUSE_METRICS_PORT: 'x' })).toEqual({ ok: false, error: 'Invalid GATEHOUSE_METRICS_PORT "x": a number from 0 to 65535, or unset for no metrics' });
    const same = loadConfig({}, { GATEHOUSE_METRICS_PORT: '4280' });
    expect(same.ok).toBe(false);
    expect(!same.ok && same.error).toContain("is the API's port");
  });
});

describe('gatehouse start --metrics-port', () => {
  it('serves the metrics on their own loopback listener, named in the start output, and stops it on SIGTERM', async () => {
    const store = freshSharedStore();
    const server = await startGatehouse(['--port', '0', '--metrics-port', '0', ...store.flags], store.env);
    try {
      await expect.poll(() => /metrics: (http:\/\/\S+)/.exec(server.output())?.[1], { timeout: 5_000 }).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const url = /metrics: (http:\/\/\S+)/.exec(server.output())![1]!;
      expect(new URL(url).port).not.toBe(new URL(server.url).port);
      const text = await (await fetch(url)).text();
      expect(parse(text).some((family) => family.name === 'gatehouse_auth_decisions_total')).toBe(true);
      // Migrations ran after the hooks were on: the store's queries were timed from the start.
      expect(countOf(text, 'gatehouse_store_query_duration_seconds')).toBeGreaterThan(0);
      // The public port answers /metrics as any page path of the web page: never with the metrics.
      const pub = await fetch(`${server.url}/metrics`);
      expect(pub.headers.get('content-type')).not.toContain('version=0.0.4');
      expect(await pub.text()).not.toContain('gatehouse_auth_decisions_total');
    } finally {
      expect((await server.stop()).code).toBe(0);
      await store.dispose();
    }
  });
});

describe('bounded series', () => {
  // Last in this file: it fills the workspace series up to their cap.
  it(`gives at most ${MAX_WORKSPACES} workspaces their own series; later ones count under "other"`, async () => {
    for (let i = 0; i < MAX_WORKSPACES + 50; i += 1) metrics.upstreamAnswered(randomUUID(), 0, { ok: false, failure: 'timeout' });
    const samples = (await scrape()).families.get('gatehouse_upstream_failures_total')!.metrics.filter((m) => m.labels?.kind === 'timeout');
    expect(new Set(samples.map((m) => m.labels!.workspace)).size).toBe(MAX_WORKSPACES + 1);
    expect(Number(samples.find((m) => m.labels!.workspace === 'other')?.value)).toBeGreaterThanOrEqual(50);
    expect(samples.reduce((sum, m) => sum + Number(m.value), 0)).toBe(MAX_WORKSPACES + 50);
  });
});
