// The authentication cache (src/cache/) may keep keys and grants in memory only as long as no
// other process could have revoked them: these tests use two connections to one store as two
// processes, and check that a revoking call returns only once the other has forgotten.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import type { Store } from '../src/store/store.js';
import { localCoherence, sqliteCoherence } from '../src/cache/coherence.js';
import { authCache } from '../src/cache/auth-cache.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { STORE_KIND, startHarness, type Harness, type Opened } from './support/harness.js';
import { createBot, createWorkspace, grant } from './support/members.js';

let h: Harness;
let other: App;
let otherStore: Opened;
let owner: { accountId: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  otherStore = await h.handle.reopen();
  other = await createApp({ ...otherStore, clock: h.clock, keyFailureLimit: 1_000_000 });
  owner = await h.bootstrap();
});
afterAll(async () => {
  await other.server.close();
  await h.close();
});

const on = async (app: App, method: string, url: string, key: string) => (await app.server.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` } })).statusCode;

describe('the authentication cache', () => {
  it('is used: a key row removed behind the services’ back still authenticates from the cache', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    expect(await on(h.app, 'GET', '/api/me/', bot.key)).toBe(200);
    // Not through a service, so nothing invalidates: only the cache can still know the key. On
    // SQLite this is the same connection (data_version does not move for its own writes).
    await sql`delete from api_keys where bot_id = ${bot.id}`.execute(h.handle.store.db);
    expect(await on(h.app, 'GET', '/api/me/', bot.key)).toBe(200);
    // Any write through the services empties it.
    await createWorkspace(h, owner.accountId, owner.key);
    expect(await on(h.app, 'GET', '/api/me/', bot.key)).toBe(401);
  });

  it('keeps what it holds when a service account is created (nothing cached is about it), and the new key works in every process at once', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    expect(await on(h.app, 'GET', '/api/me/', bot.key)).toBe(200);
    await sql`delete from api_keys where bot_id = ${bot.id}`.execute(h.handle.store.db);
    const created = await createBot(h, owner.accountId, owner.key);
    // Still cached: the creation emptied nothing.
    expect(await on(h.app, 'GET', '/api/me/', bot.key)).toBe(200);
    // The new key is not in any cache (an unknown key is never kept) and is read from the store.
    expect(await on(h.app, 'GET', '/api/me/', created.key)).toBe(200);
    expect(await on(other, 'GET', '/api/me/', created.key)).toBe(200);
    // A change still empties it.
    expect((await h.request('POST', `/api/accounts/${owner.accountId}/bots/${created.id}/rotate_api_key`, { key: owner.key, body: {} })).status).toBe(201);
    expect(await on(h.app, 'GET', '/api/me/', bot.key)).toBe(401);
  });

  it('forgets in every process before a revoking call returns: key, service account, access, role', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const scopes = `/api/me/workspaces/${ws.id}/scopes`;
    for (const revoke of ['delete service account', 'remove access', 'change role'] as const) {
      const bot = await createBot(h, owner.accountId, owner.key);
      const access = await grant(h, owner.accountId, ws.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
      // Both "processes" have it cached.
      for (const app of [h.app, other, h.app, other]) expect(await on(app, 'GET', scopes, bot.key), revoke).toBe(200);
      const base = `/api/accounts/${owner.accountId}`;
      if (revoke === 'delete service account') expect(await on(h.app, 'DELETE', `${base}/bots/${bot.id}`, owner.key)).toBe(204);
      if (revoke === 'remove access') expect(await on(h.app, 'DELETE', `${base}/workspaces/${ws.id}/bot_access/${access.id}`, owner.key)).toBe(204);
      if (revoke === 'change role') await grant(h, owner.accountId, ws.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Viewer);
      // The other process answers from the store at once, with no waiting.
      const res = await other.server.inject({ method: 'GET', url: scopes, headers: { authorization: `Bearer ${bot.key}` } });
      if (revoke === 'change role') expect(res.json(), revoke).not.toContain('write_workers');
      else expect(res.statusCode, revoke).toBe(revoke === 'delete service account' ? 401 : 404);
    }
  });

  it('keeps expiry exact: a cached key stops at its expiration without any write', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, {
      key: owner.key,
      body: { api_key_expiration: new Date(h.clock.now().getTime() + 60_000).toISOString() },
    });
    const key = res.body.api_key.key;
    expect(await on(h.app, 'GET', '/api/me/', key)).toBe(200);
    h.clock.advance(59_000);
    expect(await on(h.app, 'GET', '/api/me/', key)).toBe(200);
    h.clock.advance(1_000);
    expect(await on(h.app, 'GET', '/api/me/', key)).toBe(401);
  });
});

describe.runIf(STORE_KIND === 'postgres')('leases on PostgreSQL', () => {
  it('makes a revoking call wait out the lease of a process that does not acknowledge, never less', async () => {
    const db = h.handle.store.db;
    const bot = await createBot(h, owner.accountId, owner.key);
    // A process that holds a fresh lease but will never answer (it hung, or its network did).
    await sql`insert into cache_nodes (id, lease_until, seen_seq) values ('silent', (extract(epoch from clock_timestamp()) * 1000)::bigint + 1500, 0)`.execute(db);
    const started = performance.now();
    expect(await on(h.app, 'DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, owner.key)).toBe(204);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1_000);
    await sql`delete from cache_nodes where id = 'silent'`.execute(db);
  });

  it('stops trusting its cache when its connection to the database is cut, and trusts again once caught up', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    expect(await on(other, 'GET', '/api/me/', bot.key)).toBe(200);
    const coherence = otherStore.cache.coherence;
    expect(coherence.trusted()).toBe(true);
    // Cut the listening connections of this store's processes (named by the store's channel), as a network failure would.
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${`gatehouse_cache_${createHash('sha256').update(h.handle.schema ?? '').digest('hex').slice(0, 16)}`} and pid <> pg_backend_pid()`.execute(h.handle.store.db);
    await until(() => !coherence.trusted());
    await until(() => coherence.trusted(), 5_000);
    expect(await on(other, 'GET', '/api/me/', bot.key)).toBe(200);
  });
});

async function until(probe: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.runIf(STORE_KIND === 'sqlite')('looks at data_version on SQLite', () => {
  // Two more connections to the file, each with its own coherence: a reader that may go 300 ms
  // between looks (long enough to see), and a writer.
  const WINDOW = 300;
  let readerStore: Store;
  let writerStore: Store;
  beforeAll(async () => {
    readerStore = (await h.handle.reopen()).store;
    writerStore = (await h.handle.reopen()).store;
  });

  const counting = (store: Store) => {
    const counter = { reads: 0, read: () => (counter.reads++, store.dataVersion!()) };
    return counter;
  };
  const write = (store: Store) => sql`update cache_epoch set seq = seq + 1`.execute(store.db);

  it('looks at most once per window in a serving process, and on every authentication in one that does not serve', async () => {
    const serving = counting(readerStore);
    const reader = sqliteCoherence({ dataVersion: serving.read, db: readerStore.db, windowMs: WINDOW });
    await reader.start();
    const before = serving.reads;
    for (let i = 0; i < 1_000; i++) reader.glance();
    expect(serving.reads - before).toBeLessThanOrEqual(2);
    await reader.stop();

    const cli = counting(readerStore);
    const unregistered = sqliteCoherence({ dataVersion: cli.read, db: readerStore.db, windowMs: WINDOW });
    const start = cli.reads;
    for (let i = 0; i < 100; i++) unregistered.glance();
    expect(cli.reads - start).toBe(100);
  });

  it('makes an invalidating write wait out the window of another serving process, which then sees it', async () => {
    const reader = sqliteCoherence({ dataVersion: readerStore.dataVersion!, db: readerStore.db, windowMs: WINDOW });
    const writer = sqliteCoherence({ dataVersion: writerStore.dataVersion!, db: writerStore.db });
    await reader.start();
    try {
      reader.glance();
      const generation = reader.generation();
      await write(writerStore);
      const started = performance.now();
      await writer.settle(await writer.stamp(writerStore.db));
      expect(performance.now() - started).toBeGreaterThanOrEqual(WINDOW);
      // Had the write not waited, this glance would fall inside the reader's window and miss it.
      reader.glance();
      expect(reader.generation()).not.toBe(generation);
    } finally {
      await reader.stop();
    }
    // Stopped: the next write waits only for the other serving processes (1 ms windows).
    await write(writerStore);
    const started = performance.now();
    await writer.settle(0);
    expect(performance.now() - started).toBeLessThan(WINDOW / 3);
  });

  it('catches up when it starts serving: writes made before its row committed did not wait for it', async () => {
    const reader = sqliteCoherence({ dataVersion: readerStore.dataVersion!, db: readerStore.db, windowMs: WINDOW });
    const writer = sqliteCoherence({ dataVersion: writerStore.dataVersion!, db: writerStore.db });
    reader.glance();
    const generation = reader.generation();
    await write(writerStore);
    await writer.settle(0);
    await reader.start();
    try {
      reader.glance();
      expect(reader.generation()).not.toBe(generation);
    } finally {
      await reader.stop();
    }
  });

  it('forgets a process that died without stopping, and does not wait for it', async () => {
    const reader = sqliteCoherence({ dataVersion: readerStore.dataVersion!, db: readerStore.db, windowMs: WINDOW });
    await reader.start();
    const row = await readerStore.db.selectFrom('cache_processes').selectAll().where('pid', '=', process.pid).executeTakeFirstOrThrow();
    await reader.stop();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await readerStore.db.insertInto('cache_processes').values({ id: 'died', host: row.host, pid: dead, window_ms: 60_000 }).execute();
    const writer = sqliteCoherence({ dataVersion: writerStore.dataVersion!, db: writerStore.db });
    const started = performance.now();
    await writer.settle(0);
    expect(performance.now() - started).toBeLessThan(WINDOW / 3);
    expect(await readerStore.db.selectFrom('cache_processes').select('id').where('id', '=', 'died').executeTakeFirst()).toBeUndefined();
  });
});

describe('concurrent misses', () => {
  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('share one load of the store for one entry, and keep its answer', async () => {
    const cache = authCache(localCoherence());
    let loads = 0;
    const gate = deferred<string>();
    const load = () => (loads++, gate.promise);
    const answers = Array.from({ length: 50 }, () => cache.through('key', 'same', load));
    gate.resolve('holder');
    expect(await Promise.all(answers)).toEqual(Array(50).fill('holder'));
    expect(loads).toBe(1);
    expect(cache.peek('key', 'same')).toBe('holder');
  });

  it('never share a load begun before a write that has since returned', async () => {
    const coherence = localCoherence();
    const cache = authCache(coherence);
    const before = deferred<string>();
    const early = cache.through('key', 'k', () => before.promise);
    // A revoking write commits and returns while that load is still reading.
    await coherence.settle(await coherence.stamp(null as never));
    const late = cache.through('key', 'k', async () => 'after the write');
    before.resolve('before the write');
    expect(await late).toBe('after the write');
    expect(await early).toBe('before the write');
    // Only the answer read after the write is kept.
    expect(cache.peek('key', 'k')).toBe('after the write');
  });
});
