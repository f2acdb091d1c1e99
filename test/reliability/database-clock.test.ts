// Expiry by the database clock on PostgreSQL: a key is valid just before its expiration and refused
// at and after it, whatever the wall clock of the Gatehouse process says. Real `gatehouse start`
// processes whose wall clock is set an hour ahead and an hour behind (test/support/skew-clock.mjs),
// against the database time read on the test's own connection; and the clock itself, in-process.
//
// SQLite is one machine with one clock (the process's), so this suite runs on PostgreSQL only.
import { Agent } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../support/build.js';
import { relayedPostgres, type TcpProxy } from '../support/tcp-proxy.js';
import { openStore, type Store } from '../../src/store/store.js';
import { startDatabaseClock, type DatabaseClock } from '../../src/store/database-clock.js';
import {
  PG_URL, STORE_KIND, bootstrapOwner, call, expectStatus, killAll, newStore, sleep, startGatehouse,
  type GatehouseProcess, type Owner, type StoreUnderTest,
} from './support.js';

const HOUR_MS = 3_600_000;
/** How far ahead of the database's time the key under test expires. */
const LIFETIME_MS = 3_000;
/** The key must work whenever the database's time is at least this far before its expiration. */
const ACCEPTED_BEFORE_MS = 500;
/** How long the key is tried after its expiration. */
const REFUSED_FOR_MS = 1_000;
const SKEW_PRELOAD = pathToFileURL(join(ROOT, 'test', 'support', 'skew-clock.mjs')).href;

/** The database's time in milliseconds (with its microseconds), by its own clock. */
async function databaseNow(client: pg.Client): Promise<number> {
  const { rows } = await client.query('select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms');
  return Number(rows[0].ms);
}

describe.skipIf(STORE_KIND !== 'postgres')('key expiry by the database clock, whatever the process clock says', () => {
  let store: StoreUnderTest;
  let owner: Owner;
  let db: pg.Client;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  beforeAll(async () => {
    store = newStore('gh_dbclock');
    owner = await bootstrapOwner(store, 'dbclock');
    db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
  });

  afterAll(async () => {
    agent.destroy();
    await killAll();
    await db?.end();
    await store?.dispose();
  });

  for (const [label, skewMs] of [['an hour ahead of', HOUR_MS], ['an hour behind', -HOUR_MS]] as const) {
    describe(`a process whose wall clock is ${label} the database's`, () => {
      let proc: GatehouseProcess;
      const botsUrl = () => `/api/accounts/${owner.accountId}/bots/`;

      beforeAll(async () => {
        proc = await startGatehouse(store, {
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${SKEW_PRELOAD}`.trim(),
          GATEHOUSE_TEST_CLOCK_SKEW_MS: String(skewMs),
          // The test presents the expired key over and over from one address.
          GATEHOUSE_KEY_FAILURE_LIMIT: '1000000',
        });
      });

      afterAll(async () => {
        if (!proc) return;
        proc.child.kill('SIGTERM');
        const { code } = await proc.exited;
        expect(code).toBe(0);
      });

      it('really runs with its wall clock skewed (its log lines are stamped by it)', async () => {
        expectStatus(await call(proc.url, 'GET', '/api/me/', { key: owner.key, agent }), 200, 'owner reads /api/me/');
        let stamp: number | undefined;
        for (let tries = 0; stamp === undefined && tries < 100; tries += 1) {
          const line = proc.output().split('\n').find((text) => text.startsWith('{') && text.includes('"time":'));
          if (line) stamp = JSON.parse(line).time as number;
          else await sleep(20);
        }
        expect(stamp, proc.output()).toBeDefined();
        expect(Math.abs(stamp! - (Date.now() + skewMs))).toBeLessThan(60_000);
      });

      it('accepts a key until the database clock reaches its expiration, and refuses it at and after it', async () => {
        const before = await databaseNow(db);
        const expiresAt = Math.ceil(before) + LIFETIME_MS;
        const expiration = new Date(expiresAt).toISOString();
        const created = expectStatus(
          await call(proc.url, 'POST', botsUrl(), { key: owner.key, agent, body: { name: `expiring-${skewMs}`, api_key_expiration: expiration } }),
          201,
          'create a service account whose key expires in 3 s by the database clock',
        );
        const after = await databaseNow(db);
        expect(created.body.api_key.expiration).toBe(expiration);
        const key = created.body.api_key.key as string;

        // Each use is bracketed by two readings of the database clock: the process decided at a
        // database time between `sent` and `answered`.
        const samples: { sent: number; answered: number; status: number | 'network' }[] = [];
        for (;;) {
          const sent = await databaseNow(db);
          if (sent >= expiresAt + REFUSED_FOR_MS) break;
          const answer = await call(proc.url, 'GET', '/api/me/', { key, agent });
          const answered = await databaseNow(db);
          samples.push({ sent, answered, status: answer.status });
          // Back to back near the expiration, to see how close to it the answer changes.
          if (Math.abs(expiresAt - sent) > 50) await sleep(5);
        }

        const wellBefore = samples.filter((s) => s.answered <= expiresAt - ACCEPTED_BEFORE_MS);
        const atOrAfter = samples.filter((s) => s.sent >= expiresAt);
        expect(wellBefore.length).toBeGreaterThan(10);
        expect(atOrAfter.length).toBeGreaterThan(10);
        expect(wellBefore.filter((s) => s.status !== 200)).toEqual([]);
        expect(atOrAfter.filter((s) => s.status !== 401)).toEqual([]);
        // Once refused, never accepted again.
        const firstRefusal = samples.findIndex((s) => s.status === 401);
        expect(samples.slice(firstRefusal).filter((s) => s.status !== 401)).toEqual([]);
        expect(samples.slice(0, firstRefusal).filter((s) => s.status !== 200)).toEqual([]);

        // The creation time is the database's too, not the process's.
        const createdAt = Date.parse(created.body.api_key.created);
        expect(createdAt).toBeGreaterThanOrEqual(Math.floor(before) - 1_000);
        expect(createdAt).toBeLessThanOrEqual(after + 1_000);

        const lastAccepted = samples[firstRefusal - 1];
        const refused = samples[firstRefusal];
        const offset = (ms: number) => `${ms - expiresAt >= 0 ? '+' : '−'}${Math.abs(ms - expiresAt).toFixed(2)} ms`;
        console.log(
          `[database-clock] wall clock ${label} the database's: ${wellBefore.length} uses ≥ ${ACCEPTED_BEFORE_MS} ms before the expiration all accepted, ` +
            `${atOrAfter.length} uses at or after it all refused; last accepted sent at expiration ${offset(lastAccepted.sent)}, ` +
            `first refused sent at expiration ${offset(refused.sent)} (database clock)`,
        );
      });

      it('refuses an expiration already past by the database clock with 422', async () => {
        const past = new Date(Math.floor(await databaseNow(db)) - 60_000).toISOString();
        const res = await call(proc.url, 'POST', botsUrl(), { key: owner.key, agent, body: { name: `past-${skewMs}`, api_key_expiration: past } });
        expect(res.status).toBe(422);
        expect((res as { body: { code: string } }).body.code).toBe('EXPIRATION_IN_PAST');
      });
    });
  }
});

describe.skipIf(STORE_KIND !== 'postgres')('the database clock', () => {
  let proxy: TcpProxy;
  let store: Store;
  let db: pg.Client;
  let clock: DatabaseClock | undefined;

  beforeAll(async () => {
    const relayed = await relayedPostgres(PG_URL);
    proxy = relayed.proxy;
    store = await openStore({ dataDir: '', databaseUrl: relayed.url });
    db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
  });

  afterEach(() => {
    clock?.stop();
    clock = undefined;
    vi.useRealTimers();
    proxy.restore();
  });

  afterAll(async () => {
    await store?.close();
    await db?.end();
    await proxy?.close();
  });

  /** The clock's reading lies between two readings of the database's own clock around it. */
  async function expectDatabaseTime(reading: () => Date, slackMs = 5) {
    const before = await databaseNow(db);
    const read = reading().getTime();
    const after = await databaseNow(db);
    // Never earlier than the database's time (the error is toward later), and close to it.
    expect(read).toBeGreaterThanOrEqual(Math.floor(before) - 1);
    expect(read).toBeLessThanOrEqual(after + slackMs);
  }

  it('reads the database time, not the process wall clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + HOUR_MS);
    clock = await startDatabaseClock(store.db);
    await expectDatabaseTime(() => clock!.now());
    expect(Date.now() - clock.now().getTime()).toBeGreaterThan(HOUR_MS - 60_000);
    vi.setSystemTime(Date.now() - 2 * HOUR_MS);
    await expectDatabaseTime(() => clock!.now());
    expect(clock.now().getTime() - Date.now()).toBeGreaterThan(HOUR_MS - 60_000);
  });

  it('advances on the monotonic clock between readings', async () => {
    clock = await startDatabaseClock(store.db, { resyncMs: 60_000 });
    const first = clock.now().getTime();
    const started = performance.now();
    await sleep(300);
    const elapsed = performance.now() - started;
    expect(clock.now().getTime() - first).toBeGreaterThanOrEqual(Math.floor(elapsed) - 1);
    expect(clock.now().getTime() - first).toBeLessThanOrEqual(elapsed + 5);
    await expectDatabaseTime(() => clock!.now());
  });

  it('keeps time from the last reading while the database cannot be read, and follows it again after', async () => {
    const failures: unknown[] = [];
    clock = await startDatabaseClock(store.db, { resyncMs: 50, onResyncError: (error) => failures.push(error) });
    proxy.fail('down');
    await expect(clock.sync()).rejects.toBeDefined();
    await sleep(300);
    expect(failures.length).toBeGreaterThan(0);
    await expectDatabaseTime(() => clock!.now());
    proxy.restore();
    // A re-sync begun during the outage may still be failing: the next one reads the database again.
    let synced = false;
    for (let tries = 0; !synced && tries < 40; tries += 1) synced = await clock.sync().then(() => true, () => sleep(50).then(() => false));
    expect(synced).toBe(true);
    await expectDatabaseTime(() => clock!.now());
  });
});
