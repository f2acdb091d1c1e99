// One Gatehouse per test file, built with createApp exactly as production builds it, on the store
// chosen by GATEHOUSE_TEST_STORE (sqlite: a fresh temp directory; postgres: a fresh schema).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { openStore, type Store, type StoreConfig } from '../../src/store/store.js';
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
async function openWithCache(config: StoreConfig): Promise<Opened & { close(): Promise<void> }> {
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

/** Drops a test's PostgreSQL schema and all it holds. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
}

/** `wrapDialect`: e.g. the store's queries as spans (test/tracing.test.ts). */
export async function freshStore({ wrapDialect }: Pick<StoreConfig, 'wrapDialect'> = {}): Promise<StoreHandle> {
  const postgres = STORE_KIND === 'postgres';
  const schema = postgres ? `gh_test_${randomBytes(6).toString('hex')}` : undefined;
  const dataDir = postgres ? undefined : mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const open = () => (postgres ? openWithCache({ dataDir: '', databaseUrl: PG_URL, databaseSchema: schema, wrapDialect }) : openWithCache({ dataDir: dataDir!, wrapDialect }));
  const remove = async () => (postgres ? dropSchema(schema!) : rmSync(dataDir!, { recursive: true, force: true }));
  const opened = await open();
  const { store } = opened;
  try {
    await migrate(store);
  } catch (error) {
    await opened.close();
    await remove();
    throw error;
  }
  const extra: Array<{ close(): Promise<void> }> = [];
  return {
    store,
    cache: opened.cache,
    ...(postgres ? { schema } : { dataDir }),
    reopen: async () => {
      const s = await open();
      extra.push(s);
      return s;
    },
    dispose: async () => {
      for (const s of extra) await s.close();
      await opened.close();
      await remove();
    },
  };
}

export interface Response {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer …`. */
  key?: string | null;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, with no content type of its own. */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One request to an app in-process; the body is parsed when it is JSON and kept as text when not. */
export async function inject(app: App, method: string, url: string, options: RequestOptions = {}): Promise<Response> {
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
}

export interface Harness {
  app: App;
  handle: StoreHandle;
  clock: TestClock;
  request(method: string, url: string, options?: RequestOptions): Promise<Response>;
  bootstrap(handle?: string, email?: string): Promise<{ accountId: string; userId: string; key: string }>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<Omit<AppOptions, 'store' | 'cache' | 'clock'>> = {}): Promise<Harness> {
  const handle = await freshStore({ wrapDialect: options.tracing?.dialect });
  const clock = new TestClock();
  // Tests send many bad keys from one address on purpose; test/key-throttle.test.ts sets a real limit.
  const app = await createApp({ keyFailureLimit: 1_000_000, ...options, store: handle.store, cache: handle.cache, clock });
  let counter = 0;
  return {
    app,
    handle,
    clock,
    request: (method, url, options) => inject(app, method, url, options),
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

/**
 * The harness of the enclosing file or describe block: started (with `options`) before its tests,
 * closed after them. Read its fields from hooks and tests, not while the file is being collected.
 */
export function useHarness(options: Partial<Omit<AppOptions, 'store' | 'clock'>> = {}): Harness {
  let current: Harness | undefined;
  beforeAll(async () => {
    current = await startHarness(options);
  });
  afterAll(async () => {
    await current?.close();
  });
  const started = (): Harness => {
    if (!current) throw new Error('the harness is read before its beforeAll ran');
    return current;
  };
  return {
    get app() {
      return started().app;
    },
    get handle() {
      return started().handle;
    },
    get clock() {
      return started().clock;
    },
    request: (method, url, options) => started().request(method, url, options),
    bootstrap: (handle, email) => started().bootstrap(handle, email),
    close: () => started().close(),
  };
}

/** A second server process on the same database as `h` (in-process), sharing its clock. */
export async function secondApp(h: Harness, options: Partial<Omit<AppOptions, 'store' | 'cache' | 'clock'>> = {}): Promise<App> {
  return createApp({ ...options, ...(await h.handle.reopen()), clock: h.clock });
}

/** Freezes the app's clock at `at` for the rest of the test (undone by `vi.restoreAllMocks()`). */
export function freezeClock(h: Harness, at: number): void {
  vi.spyOn(h.clock, 'now').mockImplementation(() => new Date(at));
}

/** 200 when the key authenticates, 401 (with the one message every refused key gets) when not. */
export async function authStatus(h: Harness, key: string): Promise<number> {
  const res = await h.request('GET', '/api/me/workspaces', { key });
  if (res.status === 401) expect(res.body.detail).toBe('Invalid authentication credentials');
  return res.status;
}
