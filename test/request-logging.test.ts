// Request logs: each line a request writes carries its request id, and at a level that logs nothing
// for a request, nothing is written (the per-request logger is made only when a line is).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { logFormat } from '../src/main.js';
import { startGatehouse } from './support/processes.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function logsOf(level: string, send: (app: App) => Promise<unknown>) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, next) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      next();
    },
  });
  const app = await createApp({ store: h.handle.store, cache: h.handle.cache, clock: h.clock, logger: pino({ level }, sink) });
  try {
    await send(app);
  } finally {
    await app.server.close();
  }
  return lines;
}

describe('request ids', () => {
  it('gives each request its own id in the shape of a UUID when the caller sends none', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(String((await h.request('GET', '/api/health')).headers['x-request-id']));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(3);
  });
});

describe('request logging', () => {
  it('binds the request id to every line a request logs', async () => {
    const lines = await logsOf('debug', (app) => app.server.inject({ method: 'GET', url: '/api/workspace_scopes', headers: { 'x-request-id': 'req-logged-1' } }));
    const own = lines.filter((line) => line.reqId === 'req-logged-1');
    expect(own.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
  });

  it("writes no line per request at info: Fastify's two lines are for debug, the access log has the record", async () => {
    const lines = await logsOf('info', (app) => app.server.inject({ method: 'GET', url: '/api/workspace_scopes', headers: { 'x-request-id': 'req-info-1' } }));
    expect(lines.filter((line) => line.reqId === 'req-info-1')).toEqual([]);
  });

  it('writes nothing for a quiet request at warn, and still binds the id to a warning', async () => {
    const quiet = await logsOf('warn', (app) => app.server.inject({ method: 'GET', url: '/api/health' }));
    expect(quiet).toEqual([]);
    const owner = await h.bootstrap();
    const ws = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/`, { key: owner.key, body: { name: 'Logs', handle: 'logs' } });
    expect(ws.status).toBe(201);
    const warned = await logsOf('warn', (app) =>
      app.server.inject({
        method: 'GET',
        // A Prefect route the gateway has no scope for is refused and logged as a warning.
        url: `/api/accounts/${owner.accountId}/workspaces/${ws.body.id}/no_such_prefect_route`,
        headers: { authorization: `Bearer ${owner.key}`, 'x-request-id': 'req-warned-1' },
      }),
    );
    expect(warned.length).toBeGreaterThan(0);
    for (const line of warned) expect(line.reqId).toBe('req-warned-1');
  });
});

describe('health probes', () => {
  it('are logged at debug, not info: a probe every few seconds does not fill the log', async () => {
    const probe = (app: App) => app.server.inject({ method: 'GET', url: '/api/health', headers: { 'x-request-id': 'req-probe-1' } });
    expect(await logsOf('info', probe)).toEqual([]);
    const debug = await logsOf('debug', probe);
    const own = debug.filter((line) => line.reqId === 'req-probe-1');
    expect(own.map((line) => [line.level, line.msg])).toEqual([
      [20, 'incoming request'],
      [20, 'request completed'],
    ]);
  });

  it("leave other requests' lines at info, a refused one included", async () => {
    const lines = await logsOf('debug', (app) => app.server.inject({ method: 'GET', url: '/api/me/', headers: { 'x-request-id': 'req-refused-1' } }));
    const own = lines.filter((line) => line.reqId === 'req-refused-1');
    expect(own.map((line) => [line.level, line.msg])).toEqual([
      [30, 'incoming request'],
      [30, 'request completed'],
    ]);
    expect((own[1]!.res as { statusCode: number }).statusCode).toBe(401);
  });
});

describe('log format', () => {
  it('is pretty at a terminal and JSON elsewhere by default; GATEHOUSE_LOG_FORMAT overrides both ways', () => {
    expect(logFormat('auto', true)).toBe('pretty');
    expect(logFormat('auto', false)).toBe('json');
    expect(logFormat('json', true)).toBe('json');
    expect(logFormat('pretty', false)).toBe('pretty');
  });

  it('reads GATEHOUSE_LOG_FORMAT, auto when unset, and refuses anything else naming the choices', () => {
    const format = (value?: string) => {
      const loaded = loadConfig({}, value === undefined ? {} : { GATEHOUSE_LOG_FORMAT: value });
      return loaded.ok ? loaded.config.logFormat : loaded.error;
    };
    expect(format()).toBe('auto');
    expect(format('JSON')).toBe('json');
    expect(format('pretty')).toBe('pretty');
    expect(format('yaml')).toBe('Invalid GATEHOUSE_LOG_FORMAT "yaml": json, pretty or auto (pretty when standard output is a terminal)');
  });

  it('writes pretty lines with GATEHOUSE_LOG_FORMAT=pretty and JSON lines without it (stdout a pipe)', async () => {
    const lines = async (env: NodeJS.ProcessEnv) => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-logs-'));
      const server = await startGatehouse(['--port', '0', '--data-dir', dir], env);
      try {
        const res = await fetch(`${server.url}/api/workspace_scopes`, { headers: { 'x-request-id': 'req-format-1' } });
        expect(res.status).toBe(200);
        // The access line: written within a second (pretty: at once).
        for (let waited = 0; !server.output().includes('req-format-1') && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
        return server.output();
      } finally {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const pretty = await lines({ GATEHOUSE_LOG_FORMAT: 'pretty', NO_COLOR: '1' });
    expect(pretty).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: access\n {4}reqId: "req-format-1"$/m);
    expect(pretty).not.toMatch(/^\{/m);
    const json = (await lines({})).split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(json.filter((line) => line.reqId === 'req-format-1').map((line) => line.msg)).toEqual(['access']);
  }, 60_000);
});
