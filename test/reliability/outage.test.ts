// Database outage: PostgreSQL goes away under load. Every authenticated request must fail closed,
// a 503 within 5 s (never a 200, never a hang, never a crash), and once the database is back the
// same process serves again without a restart.
//
// The machine's PostgreSQL cluster is shared with other tests running at the same time, so it is
// not stopped. Instead Gatehouse reaches it through a TCP relay (test/support/tcp-proxy.ts) that the
// test breaks: from Gatehouse's side of the socket that is indistinguishable from the server going
// down ('down': connections closed, new ones reset) or the network dropping everything ('blackhole':
// nothing answers, nothing is closed). The test process reaches PostgreSQL directly, around the relay.
//
// SQLite has no server to lose (the store is a file inside the process), so this suite runs on the
// PostgreSQL store only. GATEHOUSE_LONG=1 holds each outage longer.
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayedPostgres, type OutageMode, type TcpProxy } from '../support/tcp-proxy.js';
import {
  LONG, PG_URL, STORE_KIND, bootstrapOwner, call, expectStatus, isNetworkFailure, killAll, newStore, sleep, startGatehouse,
  type Answer, type GatehouseProcess, type NetworkFailure, type Owner, type StoreUnderTest,
} from './support.js';

const WORKER_ROLE_ID = 'b0000000-0000-4000-8000-000000000005';
/** The promise under test: how long a request may take to fail while the database is away. */
const FAIL_CLOSED_WITHIN_MS = 5_000;
/**
 * A request that succeeds across the start of the outage (a write that committed just before it)
 * may take longer than a refusal: after committing it must make sure other processes' caches have
 * forgotten what it changed, and with no database to tell them through it waits out their lease.
 * Taking longer than this is a hang.
 */
const SUCCESS_WITHIN_MS = 10_000;
/** The test's own give-up point for one request. */
const HANG_MS = 20_000;
const OUTAGE_MS: Record<OutageMode, number> = LONG ? { down: 15_000, blackhole: 30_000 } : { down: 2_500, blackhole: 5_000 };
const LOAD_WORKERS = 8;
/** How long a process may trust its cache after its last lease renewal (cache/pg-coherence.ts). */
const LEASE_MS = 2_000;
/**
 * Requests that need nothing but cached keys and grants once warm: the scopes answer, and a gateway
 * request (its workspace's upstream address is cached too; the upstream is Prefect, not the database).
 */
const CACHE_ONLY = new Set(['bot key: GET workspace scopes', 'bot key: gateway POST flows/filter']);

interface Sample {
  kind: string;
  sentAt: number;
  answeredAt: number;
  answer: Answer | NetworkFailure;
}

describe.skipIf(STORE_KIND !== 'postgres')('PostgreSQL outage under load, seen through a TCP relay', () => {
  let proxy: TcpProxy;
  let store: StoreUnderTest;
  let owner: Owner;
  let proc: GatehouseProcess;
  let workspaceId: string;
  let botId: string;
  let botKey: string;
  /** Stands in for the workspace's Prefect server: a gateway request reaching it was let through. */
  let upstream: Server;
  const agent = new Agent({ keepAlive: true, maxSockets: LOAD_WORKERS });

  beforeAll(async () => {
    const relayed = await relayedPostgres(PG_URL);
    proxy = relayed.proxy;
    store = newStore('gh_outage', relayed.url);
    owner = await bootstrapOwner(store, 'outage');
    upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    proc = await startGatehouse(store);
    const key = owner.key;
    const ws = expectStatus(await call(proc.url, 'POST', `/api/accounts/${owner.accountId}/workspaces/`, { key, body: { name: 'Outage', handle: 'outage' } }), 201, 'create workspace');
    workspaceId = ws.body.id;
    const bot = expectStatus(await call(proc.url, 'POST', `/api/accounts/${owner.accountId}/bots/`, { key, body: { name: 'outage-bot' } }), 201, 'create bot');
    botId = bot.body.id;
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/api`;
    expectStatus(await call(proc.url, 'PUT', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/gateway`, { key, body: { upstream_url: upstreamUrl } }), 200, 'set upstream');
    botKey = bot.body.api_key.key;
    expectStatus(
      await call(proc.url, 'POST', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/bot_access/`, { key, body: { bot_id: botId, workspace_role_id: WORKER_ROLE_ID } }),
      200,
      'grant access',
    );
  });

  afterAll(async () => {
    agent.destroy();
    await killAll();
    await proxy?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    await store?.dispose();
  });

  /** The load: a key lookup alone, account and workspace authorization, the gateway, a write. */
  const kinds = () => [
    { kind: 'bot key: GET /api/me/workspaces', send: () => call(proc.url, 'GET', '/api/me/workspaces', { key: botKey, agent, timeoutMs: HANG_MS }) },
    { kind: 'bot key: GET workspace scopes', send: () => call(proc.url, 'GET', `/api/me/workspaces/${workspaceId}/scopes`, { key: botKey, agent, timeoutMs: HANG_MS }) },
    { kind: 'bot key: gateway POST flows/filter', send: () => call(proc.url, 'POST', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/flows/filter`, { key: botKey, body: {}, agent, timeoutMs: HANG_MS }) },
    { kind: 'owner: POST bots/filter', send: () => call(proc.url, 'POST', `/api/accounts/${owner.accountId}/bots/filter`, { key: owner.key, body: {}, agent, timeoutMs: HANG_MS }) },
    { kind: 'owner: GET workspace gateway', send: () => call(proc.url, 'GET', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/gateway`, { key: owner.key, agent, timeoutMs: HANG_MS }) },
    { kind: 'owner: PATCH bot (write)', send: () => call(proc.url, 'PATCH', `/api/accounts/${owner.accountId}/bots/${botId}`, { key: owner.key, body: { name: 'outage-bot' }, agent, timeoutMs: HANG_MS }) },
  ];
  const OK_STATUS: Record<string, number> = { 'owner: PATCH bot (write)': 204 };
  const okStatus = (kind: string) => OK_STATUS[kind] ?? 200;

  for (const mode of ['down', 'blackhole'] as const) {
    it(`${mode}: every request fails closed with 503 within 5 s, and the same process serves again once PostgreSQL is back`, async () => {
      const samples: Sample[] = [];
      let stop = false;
      let turn = 0;
      const workers = Array.from({ length: LOAD_WORKERS }, async () => {
        const list = kinds();
        while (!stop) {
          const { kind, send } = list[turn++ % list.length];
          const sentAt = Date.now();
          const answer = await send();
          samples.push({ kind, sentAt, answeredAt: Date.now(), answer });
          // Failing requests come back fast; keep the load steady rather than a tight spin.
          if (answer.status !== okStatus(kind)) await sleep(20);
        }
      });

      await sleep(800);
      const cutAt = Date.now();
      proxy.fail(mode);
      await sleep(OUTAGE_MS[mode]);
      const acceptedBeforeRestore = proxy.accepted();
      const restoredAt = Date.now();
      proxy.restore();

      // Recovered: every kind of request has succeeded again, sent after the restore.
      const kindNames = kinds().map((k) => k.kind);
      const recoveredBy = restoredAt + 30_000;
      let recoveredAt = 0;
      while (!recoveredAt && Date.now() < recoveredBy && proc.child.exitCode === null) {
        await sleep(50);
        const back = new Set(samples.filter((s) => s.sentAt > restoredAt && s.answer.status === okStatus(s.kind)).map((s) => s.kind));
        if (kindNames.every((k) => back.has(k))) recoveredAt = Date.now();
      }
      await sleep(500);
      const settledAt = Date.now();
      // Then a round of answers to requests sent after that (on a loaded machine one round can
      // take longer than half a second).
      const settledBy = settledAt + 10_000;
      do await sleep(500);
      while (samples.filter((s) => s.sentAt >= settledAt).length < LOAD_WORKERS && Date.now() < settledBy);
      stop = true;
      await Promise.all(workers);

      expect(proc.child.exitCode, `the process must survive the outage:\n${proc.output().slice(-2000)}`).toBeNull();
      const before = samples.filter((s) => s.answeredAt < cutAt);
      expect(before.filter((s) => s.answer.status !== okStatus(s.kind)).map(describeSample), 'answers before the outage').toEqual([]);

      // Everything that overlapped the outage: 503 or success, never another answer, never a hang.
      const overlapping = samples.filter((s) => s.answeredAt >= cutAt && s.sentAt < restoredAt);
      expect(overlapping.filter((s) => s.answer.status !== 503 && s.answer.status !== okStatus(s.kind)).map(describeSample), 'answers overlapping the outage').toEqual([]);
      const refusals = overlapping.filter((s) => s.answer.status === 503);
      const successes = overlapping.filter((s) => s.answer.status !== 503);
      const worst503 = Math.max(...refusals.map((s) => s.answer.ms));
      const worstSuccess = Math.max(0, ...successes.map((s) => s.answer.ms));
      expect(refusals.filter((s) => s.answer.ms > FAIL_CLOSED_WITHIN_MS).map(describeSample), '503 answers slower than 5 s').toEqual([]);
      expect(successes.filter((s) => s.answer.ms > SUCCESS_WITHIN_MS).map(describeSample), 'successes slower than 10 s').toEqual([]);

      // Sent once the relay was broken and answered before it was mended: the database was away
      // for the whole request. Each must be a 503 in Gatehouse's error envelope, except a request
      // that needs nothing but cached keys and grants, sent while the process's lease (renewed just
      // before the cut at the latest) may still run: that one may be answered from the cache
      // (docs/security.md, "Cached answers during an outage").
      const during = samples.filter((s) => s.sentAt >= cutAt && s.answeredAt < restoredAt);
      expect(during.length, 'requests sent and answered during the outage').toBeGreaterThan(0);
      const fromCacheWithinLease = (s: Sample) => s.sentAt < cutAt + LEASE_MS && s.answer.status === okStatus(s.kind) && CACHE_ONLY.has(s.kind);
      expect(
        during.filter((s) => !fromCacheWithinLease(s) && (s.answer.status !== 503 || (s.answer as Answer).body?.code !== 'STORE_UNAVAILABLE')).map(describeSample),
        'answers during the outage',
      ).toEqual([]);

      expect(recoveredAt, 'every kind of request succeeds again after the restore').toBeGreaterThan(0);
      const after = samples.filter((s) => s.sentAt >= settledAt);
      expect(after.length).toBeGreaterThan(0);
      expect(after.filter((s) => s.answer.status !== okStatus(s.kind)).map(describeSample), 'answers after recovery').toEqual([]);
      expect(proc.output(), 'no request may end in the 500 path').not.toContain('unhandled error');

      console.log(
        `outage '${mode}' on postgres: ${samples.length} requests by ${LOAD_WORKERS} workers; outage ${restoredAt - cutAt} ms: ` +
          `${during.length} answered during it (${during.filter(fromCacheWithinLease).length} from the cache within the lease, the rest 503); of those overlapping it, ${refusals.length} answered 503 (slowest ${worst503} ms) ` +
          `and ${successes.length} succeeded (slowest ${worstSuccess} ms); ` +
          `recovered ${recoveredAt - restoredAt} ms after the restore (relay connections: ${acceptedBeforeRestore} before, ${proxy.accepted()} after)`,
      );
    }, OUTAGE_MS[mode] + 60_000);
  }

  it('the process that went through both outages still drains and exits 0 on SIGTERM', async () => {
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });
});

function describeSample(s: Sample): string {
  const answer = isNetworkFailure(s.answer) ? `network failure: ${s.answer.error}` : `${s.answer.status} ${JSON.stringify(s.answer.body)?.slice(0, 200)}`;
  return `${s.kind} → ${answer} after ${s.answer.ms} ms`;
}
