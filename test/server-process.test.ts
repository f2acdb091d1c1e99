// `gatehouse start` as a real process on a real port: start-up output, configuration from flags and
// environment, a bootstrap key working against it, and a clean drain on SIGTERM.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dropSchema, PG_URL, STORE_KIND } from './support/harness.js';
import { ROOT } from './support/build.js';
import { freePort } from './support/ports.js';



const cleanups: (() => Promise<void> | void)[] = [];
const children: ChildProcess[] = [];

/** Flags for a new, empty store of the kind under test. */
function freshStoreFlags(): string[] {
  if (STORE_KIND === 'postgres') {
    const schema = `gh_proc_${randomBytes(6).toString('hex')}`;
    cleanups.push(() => dropSchema(schema));
    return ['--database-url', PG_URL, '--database-schema', schema];
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-proc-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return ['--data-dir', dir];
}

interface Server {
  url: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the server and resolves once it prints where it serves. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const child = spawn('node', ['bin/gatehouse.js', 'start', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "serving on" line within 30 s:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += String(chunk);
      const match = /serving on (http:\/\/[^\s]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1], child, output: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk) => (out += String(chunk)));
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before serving:\n${out}`));
    });
  });
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', ['bin/gatehouse.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/** The shell words of a printed command line (double and single quotes, "$VAR" expanded). */
function shellWords(line: string, env: NodeJS.ProcessEnv): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    const word = m[1] !== undefined ? m[1].replace(/\$(\w+)/g, (_x, name: string) => env[name] ?? '') : (m[2] ?? m[3]);
    words.push(word);
  }
  return words;
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups) await cleanup();
});

describe('gatehouse start on an empty store', () => {
  let server: Server;
  beforeAll(async () => {
    server = await start(['--port', '0', ...freshStoreFlags()]);
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  it('listens on the real port chosen for --port 0 and answers health with 200 true', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toBe(true);
  });

  it('prints a bootstrap command whose flags reach this store, and its key authenticates here', async () => {
    // Printed after the "serving" line that start() waits for: it needs a setup token from the store first.
    await vi.waitFor(() => expect(server.output()).toContain('gatehouse bootstrap'), { timeout: 5_000 });
    const line = server.output().split('\n').find((l) => l.includes('gatehouse bootstrap'));
    expect(line, server.output()).toBeDefined();
    const words = shellWords(line!.trim(), process.env);
    expect(words.slice(0, 3)).toEqual(['npx', 'gatehouse', 'bootstrap']);
    for (const flag of ['--account-name', '--account-handle', '--email']) expect(words).toContain(flag);
    const run = await runCli([...words.slice(2), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { api_key, account_id } = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!);
    const res = await fetch(`${server.url}/api/me/workspaces`, { headers: { authorization: `Bearer ${api_key}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    const accounts = await (await fetch(`${server.url}/api/me/accounts`, { headers: { authorization: `Bearer ${api_key}` } })).json();
    expect(accounts.map((a: { account_id: string }) => a.account_id)).toEqual([account_id]);
    // Another last character (a key ending in "x" stayed the same key, and authenticated, 1 run in 62).
    const altered = `${api_key.slice(0, -1)}${api_key.endsWith('x') ? 'y' : 'x'}`;
    const refused = await fetch(`${server.url}/api/me/workspaces`, { headers: { authorization: `Bearer ${altered}` } });
    expect(refused.status).toBe(401);
  });
});

describe('gatehouse start and SIGTERM', () => {
  it('answers every request it accepted with 200 and exits 0 within 10 s', async () => {
    const flags = freshStoreFlags();
    const made = await runCli(['bootstrap', '--account-name', 'Drain', '--account-handle', 'drain', '--email', 'd@example.com', '--json', '--init', ...flags]);
    expect(made.code, made.stderr).toBe(0);
    const key = JSON.parse(made.stdout.trimEnd().split('\n').at(-1)!).api_key as string;
    // At debug: Fastify's "incoming request" line tells which requests were received.
    const server = await start(['--port', '0', '--log-level', 'debug', ...flags]);
    const warm = await fetch(`${server.url}/api/me/workspaces`, { headers: { authorization: `Bearer ${key}` } });
    expect(warm.status).toBe(200);

    // SIGTERM goes out once the server has logged receiving some of the burst: those are in flight.
    const received = () => server.output().split('"msg":"incoming request"').length - 1;
    const before = received();
    const requests = Array.from({ length: 50 }, (_, i) =>
      fetch(`${server.url}/api/${i % 2 ? 'health' : 'me/workspaces'}`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    );
    const waitUntil = Date.now() + 10_000;
    while (received() - before < 10 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 2));
    const inFlight = received() - before;
    expect(inFlight, 'the server logs each request it receives at the default level').toBeGreaterThanOrEqual(10);
    server.child.kill('SIGTERM');
    const settled = await Promise.allSettled(requests);
    const statuses = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    // Connection errors are allowed (sockets not yet accepted are reset); a response must be a 200.
    // A request arriving on an open keep-alive connection during the drain is still served
    // (src/app.ts: return503OnClosing false), so every answer is a 200.
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses.length).toBeGreaterThanOrEqual(inFlight);

    const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000));
    const result = await Promise.race([server.exited, deadline]);
    expect(result).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain('Received SIGTERM');
  });
});

describe('gatehouse start when its output fails', () => {
  const bootstrapKey = async (flags: string[]) => {
    const made = await runCli(['bootstrap', '--account-name', 'Out', '--account-handle', 'out', '--email', 'o@example.com', '--json', '--init', ...flags]);
    expect(made.code, made.stderr).toBe(0);
    return JSON.parse(made.stdout.trimEnd().split('\n').at(-1)!).api_key as string;
  };

  it('keeps serving after the reader of its output goes away (EPIPE), and still drains and exits 0', async () => {
    const flags = freshStoreFlags();
    const key = await bootstrapKey(flags);
    // Debug: Fastify and the access record write lines on every request, after the pipe is gone.
    const server = await start(['--port', '0', '--log-level', 'debug', ...flags]);
    server.child.stdout!.destroy();
    server.child.stderr!.destroy();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${server.url}/api/me/workspaces`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    server.child.kill('SIGTERM'); // its "Received SIGTERM" line goes to the closed pipe too
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('keeps serving when its output is a full disk (ENOSPC), and still drains and exits 0', async () => {
    const flags = freshStoreFlags();
    const key = await bootstrapKey(flags);
    const port = await freePort();
    const full = openSync('/dev/full', 'w');
    const child = spawn('node', ['bin/gatehouse.js', 'start', '--port', String(port), '--log-level', 'debug', ...flags], { cwd: ROOT, env: process.env, stdio: ['ignore', full, full] });
    closeSync(full);
    children.push(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const url = `http://127.0.0.1:${port}`;
    await vi.waitFor(async () => expect((await fetch(`${url}/api/health`)).status).toBe(200), { timeout: 30_000, interval: 100 });
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${url}/api/me/workspaces`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});

describe('gatehouse start configuration', () => {
  it('takes its port and host from GATEHOUSE_PORT and GATEHOUSE_HOST', async () => {
    const port = await freePort();
    const server = await start(freshStoreFlags(), { GATEHOUSE_PORT: String(port), GATEHOUSE_HOST: '127.0.0.2' });
    try {
      expect(server.url).toBe(`http://127.0.0.2:${port}`);
      const res = await fetch(`${server.url}/api/health`);
      expect(res.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
  });

  it('exits 2 with a clear message for an invalid port, from a flag or the environment', async () => {
    const runs = await Promise.all([
      runCli(['start', '--port', 'abc', ...freshStoreFlags()]),
      runCli(['start', '--port', '70000', ...freshStoreFlags()]),
      runCli(['start', '--port=-1', ...freshStoreFlags()]),
      runCli(['start', ...freshStoreFlags()], { GATEHOUSE_PORT: 'eighty' }),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/Invalid (--port|GATEHOUSE_PORT) "[^"]*": use a number from 0 to 65535/);
    }
    expect(runs[0].stderr).toContain('Invalid --port "abc"');
    expect(runs[3].stderr).toContain('Invalid GATEHOUSE_PORT "eighty"');
  });

  it('exits 1 promptly, saying the port is in use, when it is taken', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    try {
      const port = String((holder.address() as AddressInfo).port);
      const child = spawn('node', ['bin/gatehouse.js', 'start', '--port', port, ...freshStoreFlags()], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let stderr = '';
      let saidAt = 0;
      child.stderr!.on('data', (chunk) => {
        stderr += String(chunk);
        if (!saidAt && /already in use/.test(stderr)) saidAt = Date.now();
      });
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      // A database pool left open would hold the process for its idle timeout (10 s) after saying so.
      expect(Date.now() - saidAt).toBeLessThan(4_000);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
