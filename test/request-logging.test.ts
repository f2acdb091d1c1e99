// Request logs: each line a request writes carries its request id, and at a level that logs nothing
// for a request, nothing is written (the per-request logger is made only when a line is).
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
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
  const app = await createApp({ store: h.handle.store, clock: h.clock, logger: pino({ level }, sink) });
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
    const lines = await logsOf('info', (app) => app.server.inject({ method: 'GET', url: '/api/health', headers: { 'x-request-id': 'req-logged-1' } }));
    const own = lines.filter((line) => line.reqId === 'req-logged-1');
    expect(own.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
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
