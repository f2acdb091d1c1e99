// Tracing as an operator turns it on (docs/tracing.md): a server started with the standard OTLP
// variables exports its spans as OTLP/HTTP JSON to the collector (here a tiny receiver on
// 127.0.0.1); with tracing off, or no endpoint, no tracer is registered and nothing is sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/main.js';
import { tracingWanted } from '../src/tracing/tracing-setting.js';
import { dropSchema, PG_URL, STORE_KIND } from './support/harness.js';
import { listenLocal } from './support/ports.js';

/** What the receiver got: one entry per export request. */
interface Export {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

const exports: Export[] = [];
let receiver: Server;
let endpoint: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      exports.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  endpoint = `http://127.0.0.1:${await listenLocal(receiver)}`;
});

afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

const OTEL_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_SERVICE_NAME', 'GATEHOUSE_TRACING'];
afterEach(() => {
  for (const name of OTEL_VARIABLES) delete process.env[name];
});

/** The OpenTelemetry API's registry of global providers (the API keeps it on globalThis). */
const registeredTracer = () => (globalThis as Record<symbol, { trace?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')]?.trace;

/** Starts Gatehouse as `gatehouse start` does, on this run's store, with `env` as its environment; stops it after `use`. */
async function serve(env: Record<string, string>, use: (url: string) => Promise<void>): Promise<void> {
  Object.assign(process.env, env);
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-tracing-'));
  const schema = `gh_test_${randomBytes(6).toString('hex')}`;
  const flags = STORE_KIND === 'postgres' ? { 'database-url': PG_URL, 'database-schema': schema } : { 'data-dir': dataDir };
  const loaded = loadConfig({ port: '0', 'log-level': 'silent', ...flags }, process.env);
  if (!loaded.ok) throw new Error(loaded.error);
  const running = await startServer(loaded.config, () => {});
  try {
    await use(running.url);
  } finally {
    await running.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (STORE_KIND === 'postgres') await dropSchema(schema);
  }
}

const allSpans = (from: Export[]) => from.flatMap((e) => e.body.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans.map((span: any) => ({ ...span, resource: r.resource })))));
const attribute = (owner: { attributes: { key: string; value: Record<string, unknown> }[] }, key: string) => {
  const found = owner.attributes.find((a) => a.key === key);
  return found ? Object.values(found.value)[0] : undefined;
};

describe('with tracing off', () => {
  it('registers no tracer and sends nothing, even with an endpoint set, when GATEHOUSE_TRACING=off', async () => {
    await serve({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, GATEHOUSE_TRACING: 'off' }, async (url) => {
      expect((await fetch(`${url}/api/ready`)).status).toBe(200);
      expect(registeredTracer()).toBeUndefined();
    });
    expect(exports).toEqual([]);
  });

  it('is off by default: no endpoint variable, no tracer', async () => {
    await serve({}, async (url) => {
      expect((await fetch(`${url}/api/ready`)).status).toBe(200);
      expect(registeredTracer()).toBeUndefined();
    });
    expect(exports).toEqual([]);
  });

  it('reads the standard variables and the SDK off switches', () => {
    expect(tracingWanted('auto', {})).toBe(false);
    expect(tracingWanted('auto', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingWanted('auto', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingWanted('on', {})).toBe(true);
    expect(tracingWanted('off', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
    expect(tracingWanted('on', { OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingWanted('auto', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('refuses a GATEHOUSE_TRACING it does not know, saying what it takes', () => {
    const loaded = loadConfig({}, { GATEHOUSE_TRACING: 'yes' });
    expect(loaded).toEqual({ ok: false, error: 'Invalid GATEHOUSE_TRACING "yes": auto (export traces when OTEL_EXPORTER_OTLP_ENDPOINT is set), on or off' });
  });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it("exports the request's spans as OTLP/HTTP JSON, continuing the caller's trace, under OTEL_SERVICE_NAME", async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    await serve({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'gatehouse-edge' }, async (url) => {
      expect(registeredTracer()).toBeDefined();
      const res = await fetch(`${url}/api/ready`, { headers: { traceparent: `00-${traceId}-${parent}-01` } });
      expect(res.status).toBe(200);
    });
    // Stopping the server flushed the batch.
    expect(exports.length).toBeGreaterThan(0);
    expect(exports.every((e) => e.path === '/v1/traces' && e.headers['content-type'] === 'application/json')).toBe(true);
    const spans = allSpans(exports).filter((span) => span.traceId === traceId);
    const server = spans.find((span) => span.name === 'GET /api/ready');
    expect(server).toMatchObject({ parentSpanId: parent, kind: 2 });
    expect(attribute(server, 'http.response.status_code')).toBe(200);
    expect(attribute(server.resource, 'service.name')).toBe('gatehouse-edge');
    // The readiness check's query is in the same trace, under the request.
    const query = spans.find((span) => attribute(span, 'db.system.name') !== undefined);
    expect(query).toBeDefined();
    expect(attribute(query, 'db.system.name')).toBe(STORE_KIND === 'postgres' ? 'postgresql' : 'sqlite');
    // Stopping the server gave the API back: nothing stays registered.
    expect(registeredTracer()).toBeUndefined();
  });
});
