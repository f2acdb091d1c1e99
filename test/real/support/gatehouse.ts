// A real `gatehouse` process for the real-client suites, set up through its HTTP API as an admin
// would: an account with its Owner (bootstrap), workspaces, service accounts with workspace roles,
// a workspace pointed at a real Prefect server. Also the Prefect commands themselves: one-shot CLI
// runs and a long-running worker, each with its own PREFECT_HOME.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WORKSPACE_ROLE_IDS } from '../../../src/authz/workspace-roles.js';
import { bootstrapOwner, call, freshSharedStore, startGatehouses, type GatehouseProcess, type SharedStore } from '../../support/processes.js';
import { ensurePrefect } from '../../../scripts/ensure-prefect.js';
import { isolatedPrefectEnv } from './prefect-server.js';

export type WorkspaceRoleName = keyof typeof WORKSPACE_ROLE_IDS;

export interface ServiceAccount {
  id: string;
  name: string;
  key: string;
}

export interface RealGatehouse {
  url: string;
  /** PREFECT_CLOUD_API_URL for the Prefect clients. */
  cloudApiUrl: string;
  accountId: string;
  accountHandle: string;
  ownerKey: string;
  process: GatehouseProcess;
  store: SharedStore;
  /** A call with the Owner's key unless another is given; throws unless the status is `expect`. */
  api(method: string, path: string, options?: { key?: string; body?: unknown; expect?: number }): Promise<any>;
  createWorkspace(handle: string): Promise<{ id: string; handle: string }>;
  createServiceAccount(name: string, grants?: { workspaceId: string; role: WorkspaceRoleName }[]): Promise<ServiceAccount>;
  /** `PREFECT_API_URL` of a workspace: `…/api/accounts/{a}/workspaces/{w}`. */
  workspaceApiUrl(workspaceId: string): string;
  /** Points the workspace at a Prefect server (PUT …/gateway). */
  setUpstream(workspaceId: string, upstreamUrl: string, authString: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startRealGatehouse(accountHandle = 'acme'): Promise<RealGatehouse> {
  const store = freshSharedStore();
  const owner = await bootstrapOwner(store, accountHandle);
  const [process] = await startGatehouses(store, 1);
  const base = process.url;
  const api: RealGatehouse['api'] = async (method, path, options = {}) => {
    const answer = await call(base, method, path, { key: options.key ?? owner.key, body: options.body });
    const expect = options.expect ?? (method === 'POST' && !path.endsWith('/filter') ? 201 : 200);
    if (answer.status !== expect) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)} (expected ${expect})`);
    return answer.body;
  };
  const account = `/api/accounts/${owner.accountId}`;
  return {
    url: base,
    cloudApiUrl: `${base}/api`,
    accountId: owner.accountId,
    accountHandle,
    ownerKey: owner.key,
    process,
    store,
    api,
    async createWorkspace(handle) {
      const made = await api('POST', `${account}/workspaces/`, { body: { name: handle, handle } });
      return { id: made.id, handle };
    },
    async createServiceAccount(name, grants = []) {
      const made = await api('POST', `${account}/bots/`, { body: { name } });
      for (const { workspaceId, role } of grants) {
        await api('POST', `${account}/workspaces/${workspaceId}/bot_access/`, {
          body: { bot_id: made.id, workspace_role_id: WORKSPACE_ROLE_IDS[role] },
          expect: 200,
        });
      }
      return { id: made.id, name, key: made.api_key.key };
    },
    workspaceApiUrl: (workspaceId) => `${base}${account}/workspaces/${workspaceId}`,
    async setUpstream(workspaceId, upstreamUrl, authString) {
      await api('PUT', `${account}/workspaces/${workspaceId}/gateway`, { body: { upstream_url: upstreamUrl, upstream_auth_string: authString } });
    },
    async stop() {
      await process.stop();
      await store.dispose();
    },
  };
}

/**
 * The requests the Gatehouse process answered with 4xx or 5xx since `sinceWallMs` (Date.now()), as
 * `STATUS METHOD PATH`, from its request log: what a real client asked for and did not get.
 */
/**
 * The requests Gatehouse answered 400 or more since `sinceWallMs`, as "STATUS METHOD PATH" (the
 * path after the workspace prefix), read from its access log (one line per request, on standard
 * output; Fastify's own request lines at debug are read too). A 5xx for a request that reached the
 * Prefect server (`reached`) is Prefect's own answer, not a refusal. The access log is written a
 * second at a time: this waits for the lines of requests already answered.
 */
export async function refusedSince(gh: RealGatehouse, sinceWallMs: number, reached: { method: string; path: string }[] = []): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const started = new Map<string, { method: string; url: string }>();
  const refused: string[] = [];
  for (const line of gh.process.output().split('\n')) {
    let entry: { time?: number; msg?: string; reqId?: string; method?: string; url?: string; statusCode?: number; req?: { method?: string; url?: string }; res?: { statusCode?: number } };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (!entry.reqId || (entry.time ?? 0) < sinceWallMs) continue;
    // An access line holds the whole request; Fastify's two lines hold it in halves.
    if (entry.msg === 'access' && entry.url !== undefined) started.set(entry.reqId, { method: entry.method ?? '', url: entry.url });
    else if (entry.req?.url) started.set(entry.reqId, { method: entry.req.method ?? '', url: entry.req.url });
    const status = (entry.msg === 'access' ? entry.statusCode : entry.res?.statusCode) ?? 0;
    const req = started.get(entry.reqId);
    if (status < 400 || !req) continue;
    const path = req.url.replace(/^\/api\/accounts\/[^/]+\/workspaces\/[^/]+/, '');
    if (status >= 500 && reached.some((r) => r.method === req.method && r.path === `/api${path.split('?')[0]}`)) continue;
    refused.push(`${status} ${req.method} ${path}`);
  }
  return refused;
}

export interface PrefectRun {
  code: number | null;
  /** Standard output and error together, in arrival order. */
  output: string;
}

/** A PREFECT_HOME of its own, removed by `dispose`. */
export function prefectHome(): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), 'gatehouse-prefect-home-'));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

const installs = new Map<string, ReturnType<typeof ensurePrefect>>();

function prefectBin(version: string, which: 'prefect' | 'python' = 'prefect'): string {
  // Once per test process: the check runs Python, synchronously.
  const installed = installs.get(version) ?? ensurePrefect(version);
  installs.set(version, installed);
  if (!installed.ok) throw new Error(`Prefect ${version} is not installed: ${installed.error}`);
  return installed[which];
}

/**
 * Runs one `prefect ARGS` command to completion (killed after `timeoutMs`); with `python`, runs that
 * snippet with the venv's interpreter instead (the SDK as a flow's author uses it).
 */
export function runPrefect(
  version: string,
  args: string[],
  options: { home: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; python?: string; input?: string },
): Promise<PrefectRun> {
  const [command, commandArgs] = options.python === undefined ? [prefectBin(version), args] : [prefectBin(version, 'python'), ['-c', options.python]];
  const child = spawn(command, commandArgs, {
    cwd: options.cwd ?? options.home,
    env: isolatedPrefectEnv(options.home, options.env),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  // Answers to the command's prompts (`y` to a confirmation), read from a pipe.
  child.stdin?.on('error', () => {});
  if (options.input !== undefined) child.stdin!.end(options.input);
  let output = '';
  child.on('error', (error) => (output += `\n[${error.message}]`));
  child.stdout!.on('data', (chunk: Buffer) => (output += String(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => (output += String(chunk)));
  const timer = setTimeout(() => {
    output += `\n[killed after ${options.timeoutMs ?? 120_000} ms]`;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 120_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

export interface RunningWorker {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches `pattern` (rejects after `timeoutMs` with the output so far). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `prefect worker start ARGS` (its own process group, so flow-run children end with it). */
export function startPrefectWorker(version: string, args: string[], options: { home: string; env?: NodeJS.ProcessEnv; cwd?: string }): RunningWorker {
  const child = spawn(prefectBin(version), ['worker', 'start', ...args], {
    cwd: options.cwd ?? options.home,
    env: isolatedPrefectEnv(options.home, options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.on('error', (error) => (output += `\n[${error.message}]`));
  const waiters = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    output += String(chunk);
    for (const wake of [...waiters]) wake();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let done = false;
  exited.then(() => {
    done = true;
    for (const wake of [...waiters]) wake();
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {}
  };
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 120_000) {
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (done || performance.now() - started > timeoutMs) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`the worker ${done ? 'exited' : `printed nothing matching ${pattern} within ${timeoutMs} ms`}:\n${output}`));
          }
        };
        const timer = setTimeout(check, timeoutMs + 10);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (done) return;
      signal('SIGTERM');
      const killer = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
