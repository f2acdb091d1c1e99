// Shared by the reliability suites (crash, outage, shutdown): real `gatehouse start` processes on a
// store of the kind under test, an owner created in-process through the domain service, a small
// HTTP client that reports network failures as values, and the CI/long-mode switch.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, PG_URL, STORE_KIND } from '../support/harness.js';
import { ROOT } from '../support/build.js';
import { openStore, type Store } from '../../src/store/store.js';
import { openCache } from '../../src/cache/open.js';
import { migrate } from '../../src/store/migrate.js';
import { createServices } from '../../src/domain/services.js';
import { systemClock } from '../../src/clock.js';
import { SYSTEM_ACTOR } from '../../src/domain/context.js';

/** GATEHOUSE_LONG=1 runs the deeper versions (more cycles, longer load). */
export const LONG = process.env.GATEHOUSE_LONG === '1';

export { STORE_KIND, PG_URL };

export interface StoreUnderTest {
  /** `gatehouse start` flags reaching this store. */
  flags: string[];
  /** Environment for those processes: every process on one database needs the same secret key. */
  env: NodeJS.ProcessEnv;
  /** The same data opened from the test process, for checks the API cannot make. */
  open(): Promise<Store>;
  dispose(): Promise<void>;
}

/** A new, empty store of the kind under test; a schema name prefix for PostgreSQL. */
export function newStore(prefix: string, databaseUrl = PG_URL): StoreUnderTest {
  const env = { GATEHOUSE_SECRET_KEY: randomBytes(32).toString('base64') };
  if (STORE_KIND === 'postgres') {
    const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
    return {
      flags: ['--database-url', databaseUrl, '--database-schema', schema],
      env,
      open: async () => openStore({ dataDir: '', databaseUrl: PG_URL, databaseSchema: schema }),
      dispose: () => dropSchema(schema),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return {
    flags: ['--data-dir', dir],
    env,
    open: async () => openStore({ dataDir: dir }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Owner {
  accountId: string;
  key: string;
}

/**
 * Migrates the store and creates an account with its Owner through the accounts service. `on`: the
 * database the cache listens on, when not the suite's PostgreSQL (the failover suite's HAProxy).
 */
export async function bootstrapOwner(store: StoreUnderTest, handle: string, on: { databaseUrl: string; databaseSchema?: string } = { databaseUrl: PG_URL }): Promise<Owner> {
  const db = await store.open();
  const cache = openCache(db, on);
  try {
    await migrate(db);
    const services = createServices({ store: db, cache, clock: systemClock });
    const made = await services.accounts.bootstrap(
      { actor: SYSTEM_ACTOR, requestId: null, now: systemClock.now() },
      { accountName: `Account ${handle}`, accountHandle: handle, email: `owner-${handle}@example.com` },
    );
    if (!made.ok) throw new Error(`bootstrap failed: ${made.code}`);
    return { accountId: made.value.account_id, key: made.value.api_key };
  } finally {
    await cache.close();
    await db.close();
  }
}

export interface GatehouseProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Starts `gatehouse start --port 0` on the store and resolves once it prints where it serves. */
export function startGatehouse(store: StoreUnderTest, env: NodeJS.ProcessEnv = {}): Promise<GatehouseProcess> {
  const child = spawn('node', ['bin/gatehouse.js', 'start', '--port', '0', ...store.flags], {
    cwd: ROOT,
    env: { ...process.env, GATEHOUSE_FAILPOINTS: '', ...store.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  child.stdout!.on('data', (chunk) => (out += String(chunk)));
  child.stderr!.on('data', (chunk) => (out += String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse printed no "serving on" line within 30 s:\n${out}`)), 30_000);
    const poll = setInterval(() => {
      const match = /serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (!match) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${match[1]}`, port: Number(match[1]), child, output: () => out, exited });
    }, 10);
    exited.then(({ code, signal }) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`gatehouse exited (${code ?? signal}) before serving:\n${out}`));
    });
  });
}

/** SIGKILLs whatever a suite left running (afterAll). */
export async function killAll(): Promise<void> {
  const waits = [...running].map((child) => new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  }));
  await Promise.all(waits);
}

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
  /** Milliseconds from sending to the end of the response. */
  ms: number;
}

/** The request never got a whole response: refused, reset, or cut mid-answer. */
export interface NetworkFailure {
  status: 'network';
  error: string;
  /** Whether the status line had arrived before the failure. */
  responseStarted: boolean;
  ms: number;
}

export interface CallOptions {
  key?: string;
  body?: unknown;
  requestId?: string;
  agent?: Agent;
  /** Give up (and report a network failure) after this long. */
  timeoutMs?: number;
}

/** One HTTP request to a Gatehouse process; a network failure is a value, not a throw. */
export function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Answer | NetworkFailure> {
  const started = Date.now();
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.requestId) headers['x-request-id'] = options.requestId;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve) => {
    let responseStarted = false;
    let settled = false;
    const settle = (value: Answer | NetworkFailure) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    const failed = (error: Error) => settle({ status: 'network', error: error.message, responseStarted, ms: Date.now() - started });
    const req = httpRequest(new URL(path, base), { method, headers, agent: options.agent ?? false }, (res) => {
      responseStarted = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', failed);
      res.on('aborted', () => failed(new Error('response aborted')));
      res.on('end', () => {
        if (!res.complete) return failed(new Error('response ended before it was complete'));
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        settle({ status: res.statusCode!, body, headers: res.headers, ms: Date.now() - started });
      });
    });
    req.on('error', failed);
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.end(payload);
  });
}

export const isNetworkFailure = (answer: Answer | NetworkFailure): answer is NetworkFailure => answer.status === 'network';

/** Throws unless the answer has the expected status; for setup steps that must work. */
export function expectStatus(answer: Answer | NetworkFailure, status: number, what: string): Answer {
  if (answer.status !== status) {
    const detail = isNetworkFailure(answer) ? answer.error : JSON.stringify(answer.body);
    throw new Error(`${what}: expected ${status}, got ${answer.status} ${detail}`);
  }
  return answer as Answer;
}

/** A small seeded PRNG (mulberry32): a failing run can be repeated with its printed seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from GATEHOUSE_SEED, or a new one; print it with the results. */
export function seedFromEnv(): number {
  const given = Number(process.env.GATEHOUSE_SEED);
  return Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
