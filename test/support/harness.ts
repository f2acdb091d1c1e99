// One Gatehouse per test file, built with createApp exactly as production builds it, on the store
// chosen by GATEHOUSE_TEST_STORE (sqlite: a fresh temp directory; postgres: a fresh schema).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { openStore, type Store } from '../../src/store/store.js';
import { openCache } from '../../src/cache/open.js';
import type { AuthCache } from '../../src/cache/auth-cache.js';
import { migrate } from '../../src/store/migrate.js';
import { SYSTEM_ACTOR } from '../../src/domain/context.js';

export const STORE_KIND = (process.env.GATEHOUSE_TEST_STORE ?? 'sqlite') as 'sqlite' | 'postgres';
export const PG_URL = process.env.GATEHOUSE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Real time plus an offset that tests move forward to cross expirations. */
export class TestClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** A store and its authentication cache, as a process opens them. */
export interface Opened {
  store: Store;
  cache: AuthCache;
}

/** Opens a store and its cache; closing closes both (the cache first). */
async function openWithCache(config: { dataDir: string; databaseUrl?: string; databaseSchema?: string }): Promise<Opened & { close(): Promise<void> }> {
  const store = await openStore(config);
  const cache = openCache(store, config);
  return {
    store,
    cache,
    async close() {
      await cache.close();
      await store.close();
    },
  };
}

export interface StoreHandle {
  store: Store;
  cache: AuthCache;
  /** Where the data lives, for a second process or a scan: a directory or a schema. */
  dataDir?: string;
  schema?: string;
  /** Another connection to the same data, with its own cache (a second "process" in-process). */
  reopen(): Promise<Opened>;
  dispose(): Promise<void>;
}

export async function freshStore(): Promise<StoreHandle> {
  if (STORE_KIND === 'postgres') {
    const schema = `gh_test_${randomBytes(6).toString('hex')}`;
    const opened = await openWithCache({ dataDir: '', databaseUrl: PG_URL, databaseSchema: schema });
    const { store } = opened;
    const dropSchema = async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    };
    try {
      await migrate(store);
    } catch (error) {
      await opened.close();
      await dropSchema();
      throw error;
    }
    const extra: Array<{ close(): Promise<void> }> = [];
    return {
      store,
      cache: opened.cache,
      schema,
      reopen: async () => {
        const s = await openWithCache({ dataDir: '', databaseUrl: PG_URL, databaseSchema: schema });
        extra.push(s);
        return s;
      },
      dispose: async () => {
        for (const s of extra) await s.close();
        await opened.close();
        await dropSchema();
      },
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const opened = await openWithCache({ dataDir });
  const { store } = opened;
  await migrate(store);
  const extra: Array<{ close(): Promise<void> }> = [];
  return {
    store,
    cache: opened.cache,
    dataDir,
    reopen: async () => {
      const s = await openWithCache({ dataDir });
      extra.push(s);
      return s;
    },
    dispose: async () => {
      for (const s of extra) await s.close();
      await opened.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Response {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface Harness {
  app: App;
  handle: StoreHandle;
  clock: TestClock;
  request(method: string, url: string, options?: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response>;
  bootstrap(handle?: string, email?: string): Promise<{ accountId: string; userId: string; key: string }>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<Omit<AppOptions, 'store' | 'cache' | 'clock'>> = {}): Promise<Harness> {
  const handle = await freshStore();
  const clock = new TestClock();
  // Tests send many bad keys from one address on purpose; test/key-throttle.test.ts sets a real limit.
  const app = await createApp({ keyFailureLimit: 1_000_000, ...options, store: handle.store, cache: handle.cache, clock });
  let counter = 0;
  return {
    app,
    handle,
    clock,
    async request(method, url, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.key) headers.authorization = `Bearer ${options.key}`;
      let payload: string | undefined;
      if (options.rawBody !== undefined) payload = options.rawBody;
      else if (options.body !== undefined) {
        payload = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.server.inject({ method: method as never, url, headers, payload });
      let body: unknown = undefined;
      try {
        body = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        body = res.body;
      }
      return { status: res.statusCode, body, headers: res.headers as Response['headers'], text: res.body };
    },
    async bootstrap(accountHandle, email) {
      counter += 1;
      const h = accountHandle ?? `acct-${counter}-${randomBytes(3).toString('hex')}`;
      const result = await app.services.accounts.bootstrap(
        { actor: SYSTEM_ACTOR, requestId: null, now: clock.now() },
        { accountName: `Account ${h}`, accountHandle: h, email: email ?? `owner-${h}@example.com` },
      );
      if (!result.ok) throw new Error(`bootstrap failed: ${result.code}`);
      return { accountId: result.value.account_id, userId: result.value.user_id, key: result.value.api_key };
    },
    async close() {
      await app.server.close();
      await handle.dispose();
    },
  };
}
