// Graceful shutdown under load: SIGTERM arrives while keep-alive connections carry reads, writes
// and slow gateway requests. Every request the server accepted (it logged receiving it) is answered
// in full with its normal status, writes among them are in the audit log, requests it never accepted
// fail to connect rather than get an error answer, and the process exits 0 within 10 s.
// GATEHOUSE_LONG=1 runs more rounds with more connections.
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LONG, STORE_KIND, bootstrapOwner, call, expectStatus, isNetworkFailure, killAll, newStore, sleep, startGatehouse,
  type Answer, type NetworkFailure, type Owner, type StoreUnderTest,
} from './support.js';

const ROUNDS = LONG ? 5 : 1;
const CONNECTIONS = LONG ? 32 : 16;
/** How long the stand-in Prefect server takes to answer: gateway requests are in flight at SIGTERM. */
const UPSTREAM_DELAY_MS = 1_500;
const EXIT_WITHIN_MS = 10_000;

interface Sample {
  kind: string;
  requestId: string;
  sentAt: number;
  answer: Answer | NetworkFailure;
}

/** A slow stand-in for a workspace's Prefect server: every answer takes UPSTREAM_DELAY_MS. */
async function slowUpstream(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    }, UPSTREAM_DELAY_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, server };
}

/** Request ids the server logged as received (Fastify's "incoming request" lines on stdout, at debug). */
function receivedIds(output: string): Set<string> {
  const ids = new Set<string>();
  for (const line of output.split('\n')) {
    if (!line.includes('"incoming request"')) continue;
    try {
      ids.add(String(JSON.parse(line).reqId));
    } catch {
      // a line cut by the kill of a previous test, or not JSON: not a log record
    }
  }
  return ids;
}

describe('SIGTERM under load', () => {
  let store: StoreUnderTest;
  let owner: Owner;
  let upstream: { url: string; server: Server };

  beforeAll(async () => {
    store = newStore('gh_shutdown');
    owner = await bootstrapOwner(store, 'shutdown');
    upstream = await slowUpstream();
  });

  afterAll(async () => {
    await killAll();
    await new Promise((resolve) => upstream?.server.close(resolve));
    await store?.dispose();
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`answers every accepted request in full and exits 0 within 10 s${ROUNDS > 1 ? ` (round ${round})` : ''}`, async () => {
      // At debug: Fastify's "incoming request" line tells which requests were received.
      const proc = await startGatehouse(store, { GATEHOUSE_LOG_LEVEL: 'debug' });
      const key = owner.key;
      const accounts = `/api/accounts/${owner.accountId}`;
      const handle = `shutdown-${round}`;
      const ws = expectStatus(await call(proc.url, 'POST', `${accounts}/workspaces/`, { key, body: { name: handle, handle } }), 201, 'create workspace');
      const workspace = `${accounts}/workspaces/${ws.body.id}`;
      expectStatus(await call(proc.url, 'PUT', `${workspace}/gateway`, { key, body: { upstream_url: upstream.url } }), 200, 'set upstream');
      const bot = expectStatus(await call(proc.url, 'POST', `${accounts}/bots/`, { key, body: { name: handle } }), 201, 'create bot');

      const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
      const kinds = [
        { kind: 'read: GET /api/me/workspaces', ok: 200, send: (requestId: string) => call(proc.url, 'GET', '/api/me/workspaces', { key, agent, requestId }) },
        { kind: 'read: POST bots/filter', ok: 200, send: (requestId: string) => call(proc.url, 'POST', `${accounts}/bots/filter`, { key, body: {}, agent, requestId }) },
        { kind: 'bot key: GET /api/me/workspaces', ok: 200, send: (requestId: string) => call(proc.url, 'GET', '/api/me/workspaces', { key: bot.body.api_key.key, agent, requestId }) },
        { kind: 'write: PATCH workspace', ok: 204, send: (requestId: string) => call(proc.url, 'PATCH', workspace, { key, body: { description: requestId }, agent, requestId }) },
        { kind: 'gateway: POST flows/filter (slow upstream)', ok: 200, send: (requestId: string) => call(proc.url, 'POST', `${workspace}/flows/filter`, { key, body: {}, agent, requestId }) },
      ];
      const okStatus = new Map(kinds.map((k) => [k.kind, k.ok]));

      const samples: Sample[] = [];
      let serving = true;
      let counter = 0;
      const workers = Array.from({ length: CONNECTIONS }, async (_, worker) => {
        // Each worker keeps sending until its own connection fails: requests race the drain.
        // A quarter of the connections carry the slow gateway requests, the rest the fast ones.
        const mine = worker % 4 === 0 ? kinds.filter((k) => k.kind.startsWith('gateway')) : kinds.filter((k) => !k.kind.startsWith('gateway'));
        while (serving) {
          const { kind, send } = mine[counter++ % mine.length];
          const requestId = `shutdown-${round}-${worker}-${counter}`;
          const sentAt = Date.now();
          const answer = await send(requestId);
          samples.push({ kind, requestId, sentAt, answer });
          if (isNetworkFailure(answer)) return;
        }
      });

      // Let every connection open and the slow gateway requests get under way.
      await sleep(UPSTREAM_DELAY_MS / 2 + 300);
      const signalAt = Date.now();
      proc.child.kill('SIGTERM');
      const exit = await Promise.race([proc.exited, sleep(EXIT_WITHIN_MS + 5_000).then(() => 'still running' as const)]);
      const exitMs = Date.now() - signalAt;
      serving = false;
      await Promise.all(workers);
      agent.destroy();

      expect(exit, proc.output().slice(-3000)).toEqual({ code: 0, signal: null });
      expect(exitMs, 'SIGTERM to exit').toBeLessThanOrEqual(EXIT_WITHIN_MS);
      expect(proc.output(), 'no request may end in the 500 path').not.toContain('unhandled error');

      const received = receivedIds(proc.output());
      const accepted = samples.filter((s) => received.has(s.requestId));
      const notAccepted = samples.filter((s) => !received.has(s.requestId));
      const inFlightAtSignal = accepted.filter((s) => s.sentAt < signalAt && s.sentAt + s.answer.ms >= signalAt);
      const sentAfterSignal = accepted.filter((s) => s.sentAt >= signalAt);
      const describe = (s: Sample) =>
        `${s.kind} ${s.requestId} → ${isNetworkFailure(s.answer) ? `network failure (${s.answer.error}, response started: ${s.answer.responseStarted})` : s.answer.status}`;

      // Accepted: answered in full with its normal status (no 503 "closing", no cut-off body).
      expect(accepted.filter((s) => s.answer.status !== okStatus.get(s.kind)).map(describe), 'accepted requests').toEqual([]);
      // Never accepted: the connection was refused or closed before the server read the request.
      expect(notAccepted.filter((s) => !isNetworkFailure(s.answer) || s.answer.responseStarted).map(describe), 'requests the server never logged').toEqual([]);
      expect(inFlightAtSignal.filter((s) => s.kind.startsWith('gateway')).length, 'slow gateway requests in flight at SIGTERM').toBeGreaterThan(0);

      // Writes answered before the exit are in the audit log, each exactly once.
      const writes = accepted.filter((s) => s.kind.startsWith('write'));
      const db = await store.open();
      try {
        const ids = writes.map((s) => s.requestId);
        const rows = ids.length ? await db.db.selectFrom('audit_events').select('request_id').where('request_id', 'in', ids).execute() : [];
        expect(rows.length, 'audit events of the answered writes').toBe(ids.length);
      } finally {
        await db.close();
      }

      console.log(
        `shutdown on ${STORE_KIND}${ROUNDS > 1 ? ` round ${round}` : ''}: ${samples.length} requests over ${CONNECTIONS} keep-alive connections; ` +
          `${inFlightAtSignal.length} in flight at SIGTERM (${inFlightAtSignal.filter((s) => s.kind.startsWith('gateway')).length} slow gateway requests), ` +
          `${sentAfterSignal.length} accepted after it, all answered in full; ${notAccepted.length} not accepted (connection refused/closed); ` +
          `${writes.length} writes audited; exit 0 after ${exitMs} ms`,
      );
    });
  }
});
