// Real `gatehouse` processes (`node bin/gatehouse.js start --port 0 ...`) on one shared store, for
// the tests about separate OS processes: a fresh store of the kind under test, starting servers on
// it and reading the URL each prints, running CLI commands against it, a keep-alive HTTP client
// that times each request, a connection of the test's own to read what the processes wrote, and a
// relay that puts one process far from PostgreSQL.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/store.js';
import { PG_URL, STORE_KIND } from './harness.js';
import { ROOT } from './build.js';

export interface SharedStore {
  kind: 'sqlite' | 'postgres';
  /** The store flags every `gatehouse` command on this store takes. */
  flags: string[];
  /** PostgreSQL: the same flags with another URL for the same database (a relay to it). */
  flagsVia?(databaseUrl: string): string[];
  /** Extra environment for those commands: every process on one database needs the same secret key. */
  env: NodeJS.ProcessEnv;
  /** A connection of the test's own to the same data (close it before `dispose`). */
  open(): Promise<Store>;
  /** Removes the data: the temporary directory, or the PostgreSQL schema. */
  dispose(): Promise<void>;
}

/** A new, empty store of the kind under test (GATEHOUSE_TEST_STORE): a temp directory or a schema. */
export function freshSharedStore(): SharedStore {
  const env = { GATEHOUSE_SECRET_KEY: randomBytes(32).toString('base64') };
  if (STORE_KIND === 'postgres') {
    const schema = `gh_procs_${randomBytes(6).toString('hex')}`;
    return {
      kind: 'postgres',
      flags: ['--database-url', PG_URL, '--database-schema', schema],
      flagsVia: (databaseUrl) => ['--database-url', databaseUrl, '--database-schema', schema],
      env,
      open: () => openStore({ dataDir: '', databaseUrl: PG_URL, databaseSchema: schema }),
      async dispose() {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        try {
          await client.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await client.end();
        }
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-procs-'));
  return {
    kind: 'sqlite',
    flags: ['--data-dir', dir],
    env,
    open: () => openStore({ dataDir: dir }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

// Settings a developer's shell may hold that would steer a child away from the store under test.
const STEERING = [
  'GATEHOUSE_CONFIG', 'GATEHOUSE_DATA_DIR', 'GATEHOUSE_DATABASE_URL', 'GATEHOUSE_DATABASE_SCHEMA', 'GATEHOUSE_PORT', 'GATEHOUSE_HOST',
  'GATEHOUSE_LOG_LEVEL', 'GATEHOUSE_LOG_FORMAT', 'GATEHOUSE_SECRET_KEY', 'GATEHOUSE_SECRET_KEY_FILE', 'GATEHOUSE_PREVIOUS_SECRET_KEYS', 'GATEHOUSE_KEY_FAILURE_LIMIT', 'GATEHOUSE_FAILPOINTS', 'GATEHOUSE_AUTH_CACHE',
  'GATEHOUSE_METRICS_PORT', 'GATEHOUSE_METRICS_HOST',
];

function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of STEERING) delete env[name];
  return { ...env, ...extra };
}

export interface GatehouseProcess {
  /** Where it serves, as it printed it: `http://127.0.0.1:PORT`. */
  url: string;
  child: ChildProcess;
  /** Its standard output and error so far (the last 256 KiB). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then the exit (SIGKILL after 10 s). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const OUTPUT_KEPT = 256 * 1024;

/** Starts `gatehouse start ARGS` and resolves once it prints the URL it serves on. */
export function startGatehouse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<GatehouseProcess> {
  const child = spawn(process.execPath, ['bin/gatehouse.js', 'start', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  // Both pipes are always read: a child blocked on a full pipe stops answering.
  const keep = (chunk: Buffer) => {
    out += String(chunk);
    if (out.length > 2 * OUTPUT_KEPT) out = out.slice(-OUTPUT_KEPT);
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    try {
      return await exited;
    } finally {
      clearTimeout(killer);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse start printed no "serving on" line within 30 s:\n${out}`));
    }, 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      const match = /serving on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1], child, output: () => out, exited, stop });
      }
    });
    child.stderr!.on('data', keep);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse start exited (${code ?? signal}) before serving:\n${out}`));
    });
  });
}

/** Starts `count` servers on one store, each with `--port 0` and the store's flags. */
export async function startGatehouses(
  store: SharedStore,
  count: number,
  options: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<GatehouseProcess[]> {
  const args = ['--port', '0', ...store.flags, ...(options.args ?? [])];
  return Promise.all(Array.from({ length: count }, () => startGatehouse(args, { ...store.env, ...options.env })));
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse ARGS` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/gatehouse.js', ...args], { cwd: ROOT, env: childEnv(env), timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/** `gatehouse bootstrap --json --init` on the store (made if no server has yet): a new account, its Owner and the Owner's key. */
export async function bootstrapOwner(store: SharedStore, handle: string): Promise<{ accountId: string; userId: string; key: string }> {
  const run = await runCli(
    ['bootstrap', '--account-name', `Account ${handle}`, '--account-handle', handle, '--email', `owner-${handle}@example.com`, '--json', '--init', ...store.flags],
    store.env,
  );
  if (run.code !== 0) throw new Error(`gatehouse bootstrap exited ${run.code}:\n${run.stderr}`);
  const made = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!) as { account_id: string; user_id: string; api_key: string };
  return { accountId: made.account_id, userId: made.user_id, key: made.api_key };
}

export interface Answer {
  status: number;
  /** The JSON body, or the text when it is not JSON, or undefined when empty. */
  body: any;
  /** performance.now() just before the request was handed to the socket layer. */
  sentAt: number;
  /** Date.now() at the same moment: the servers' clock, for comparing with expirations. */
  sentAtWall: number;
  /** performance.now() when the response's status line and headers had arrived. */
  answeredAt: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One HTTP request with a Bearer key and a JSON body. A connection error or no answer within
 * 30 s rejects: a server that stops answering must fail the test, not hang it.
 */
export function call(base: string, method: string, path: string, options: { key?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const sentAtWall = Date.now();
    const sentAt = performance.now();
    const req = httpRequest(`${base}${path}`, { method, headers, agent, timeout: 30_000 }, (res) => {
      const answeredAt = performance.now();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        if (text) {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        resolve({ status: res.statusCode ?? 0, body, sentAt, sentAtWall, answeredAt });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${base}${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface SlowLink {
  /** The same database URL, through the relay. */
  url: string;
  close(): Promise<void>;
}

/**
 * A TCP relay to the PostgreSQL server of `databaseUrl` that holds every byte coming back from the
 * server for `delayMs` (in order): a process connected through it hears of other processes' writes
 * (NOTIFY) later than a client that talks to it directly, as when processes sit far from the database.
 */
export async function slowLinkTo(databaseUrl: string, delayMs: number): Promise<SlowLink> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    // Timers of one duration fire in the order they were set, so the bytes keep their order.
    upstream.on('data', (chunk: Buffer) => setTimeout(() => client.destroyed || client.write(chunk), delayMs));
    upstream.on('end', () => setTimeout(() => client.end(), delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Pino's error (50) and fatal (60) lines in a server's output: a 5xx leaves one. */
export function errorLogLines(output: string): string[] {
  return output.split('\n').filter((line) => /"level":(50|60)\b/.test(line));
}
