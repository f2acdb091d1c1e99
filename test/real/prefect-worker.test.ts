// The seed's story with the real tools: a real Prefect 3.9 server as the workspace's upstream, a
// Developer service-account key deploying a flow with `prefect deploy`, a Worker-role key running
// `prefect worker start`, the run reaching Completed and its logs read with a Viewer key; what the
// Worker key is refused; and revocation under a live worker, counted at the Prefect server's door.
// On both stores: revocation is a promise about every process on one database (contract 4).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFECT_VERSIONS } from '../../scripts/ensure-prefect.js';
import { compatSuite } from './support/compat.js';
import { prefectHome, refusedSince, runPrefect, startPrefectWorker, startRealGatehouse, type RealGatehouse, type ServiceAccount } from './support/gatehouse.js';
import { call } from '../support/processes.js';
import { startPrefectServer, type PrefectServer, type ReachedRequest } from './support/prefect-server.js';

const claim = compatSuite('prefect-worker');
const V3 = PREFECT_VERSIONS['3.9'];
const POOL = 'story-pool';
const TEST_TIMEOUT = 300_000;
/**
 * A request Gatehouse authenticated just before the revoking call returned may still be on its way
 * to the Prefect server when the call returns; this is how long such a request is given to arrive.
 */
const IN_FLIGHT_MS = 500;
/** How long a revoked worker is watched for any request reaching the Prefect server. */
const WATCH_MS = 6_000;

let server: PrefectServer;
let gh: RealGatehouse;
let prod: { id: string; handle: string };
let developer: ServiceAccount;
let viewer: ServiceAccount;
let worker: ServiceAccount;
let project: string;
let deploymentId: string;
const homes: { dispose(): void }[] = [];

function home(): string {
  const made = prefectHome();
  homes.push(made);
  return made.path;
}

/** The environment of an execution environment holding `key` for the workspace (no login). */
function keyEnv(key: string): NodeJS.ProcessEnv {
  return {
    PREFECT_CLOUD_API_URL: gh.cloudApiUrl,
    PREFECT_API_URL: gh.workspaceApiUrl(prod.id),
    PREFECT_API_KEY: key,
    // A chatty worker: polls every second, so a revoked key shows at once.
    PREFECT_WORKER_QUERY_SECONDS: '1',
    PREFECT_WORKER_HEARTBEAT_SECONDS: '2',
  };
}

const prefect = (key: string, args: string[], timeoutMs = 120_000) =>
  runPrefect(V3, args, { home: home(), cwd: project, env: keyEnv(key), timeoutMs });

/** Runs a Python snippet with the venv's interpreter (the SDK, as a flow's author would use it). */
const python = (key: string, code: string) => runPrefect(V3, [], { home: home(), cwd: project, env: keyEnv(key), timeoutMs: 120_000, python: code });

const api = (path: string) => `/api/accounts/${gh.accountId}/workspaces/${prod.id}${path}`;
const botPath = (id: string) => `/api/accounts/${gh.accountId}/bots/${id}`;

/** A flow run of the story deployment, created by the Owner through the gateway. */
async function scheduleRun(): Promise<string> {
  const run = await gh.api('POST', api(`/deployments/${deploymentId}/create_flow_run`), { body: {} });
  return run.id;
}

const polls = (entries: ReachedRequest[]) => entries.filter((e) => e.path.startsWith(`/api/work_pools/${POOL}/`) || e.kind !== 'http');

beforeAll(async () => {
  [server, gh] = await Promise.all([startPrefectServer({ version: '3.9' }), startRealGatehouse('acme')]);
  prod = await gh.createWorkspace('prod');
  await gh.setUpstream(prod.id, server.apiUrl, server.authString);
  developer = await gh.createServiceAccount('ci-deployer', [{ workspaceId: prod.id, role: 'Developer' }]);
  viewer = await gh.createServiceAccount('dashboards', [{ workspaceId: prod.id, role: 'Viewer' }]);
  worker = await gh.createServiceAccount('prod-worker', [{ workspaceId: prod.id, role: 'Worker' }]);
  project = mkdtempSync(join(tmpdir(), 'gatehouse-flow-'));
  writeFileSync(
    join(project, 'flow.py'),
    ['from prefect import flow, get_run_logger', '', '', '@flow', 'def hello(name: str = "gatehouse"):', '    get_run_logger().info("hello from %s", name)', '    return 42', ''].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  for (const made of homes) made.dispose();
  if (project) rmSync(project, { recursive: true, force: true });
  await Promise.all([server?.stop(), gh?.stop()]);
});

describe(`Prefect ${V3} worker through the gateway`, { timeout: TEST_TIMEOUT }, () => {
  it('a Developer key creates a process pool, deploys a flow and starts a run; a Worker key runs it to Completed; a Viewer key reads its logs', async () => {
    claim({ tool: 'Prefect CLI', version: V3, command: `prefect work-pool create ${POOL} --type process`, expectation: 'Developer service-account key: pool created' });
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect deploy flow.py:hello -n story -p story-pool', expectation: 'Developer service-account key: deployment created' });
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect deployment run hello/story', expectation: 'Developer service-account key: flow run created' });
    claim({ tool: 'Prefect worker', version: V3, command: `prefect worker start --pool ${POOL} --type process --run-once`, expectation: 'Worker service-account key: flow run Completed, heartbeats and events pass' });
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect flow-run inspect ID; prefect flow-run logs ID', expectation: 'Viewer service-account key: state and logs read' });

    const pool = await prefect(developer.key, ['work-pool', 'create', POOL, '--type', 'process']);
    expect(pool.output).toContain(`Created work pool '${POOL}'!`);
    expect(pool.code).toBe(0);
    const deploy = await prefect(developer.key, ['--no-prompt', 'deploy', 'flow.py:hello', '-n', 'story', '-p', POOL]);
    expect(deploy.output).toContain("Deployment 'hello/story' successfully created");
    expect(deploy.code).toBe(0);
    deploymentId = /Deployment 'hello\/story' successfully created with id\s+│?\s*'([0-9a-f-]{36})'/.exec(deploy.output)![1];
    const start = await prefect(developer.key, ['deployment', 'run', 'hello/story']);
    expect(start.code).toBe(0);
    const flowRunId = /UUID: ([0-9a-f-]{36})/.exec(start.output)![1];

    const before = performance.now();
    const beforeWall = Date.now();
    const run = await prefect(worker.key, ['worker', 'start', '--pool', POOL, '--type', 'process', '--run-once'], 180_000);
    expect(run.output).toContain('Finished in state Completed()');
    expect(run.code).toBe(0);
    // Gatehouse refused the worker and its flow run nothing they asked for.
    expect(await refusedSince(gh, beforeWall, server.reachedSince(before))).toEqual([]);
    const workerTraffic = server.reachedSince(before);
    // The worker's heartbeats and state changes went through to the Prefect server…
    expect(workerTraffic.some((e) => e.method === 'POST' && e.path === `/api/work_pools/${POOL}/workers/heartbeat`)).toBe(true);
    expect(workerTraffic.some((e) => e.method === 'POST' && e.path === `/api/flow_runs/${flowRunId}/set_state`)).toBe(true);
    // …and so did the events of the worker and its flow run, over the events websocket.
    expect(workerTraffic.some((e) => e.kind === 'ws-data' && e.path.startsWith('/api/events/in'))).toBe(true);
    // The worker and its flow run never ask for what only run_deployments/write_deployments may do:
    // no flow run created from a deployment, no job variables or parameters changed.
    for (const entry of workerTraffic) {
      if (entry.method === 'POST' && /^\/api\/flow_runs\/?$/.test(entry.path)) throw new Error(`the worker created a flow run: ${entry.body}`);
      if (entry.method === 'PATCH' && entry.path.startsWith('/api/flow_runs/')) {
        expect(Object.keys(JSON.parse(entry.body || '{}'))).not.toContain('job_variables');
        expect(Object.keys(JSON.parse(entry.body || '{}'))).not.toContain('parameters');
      }
    }

    const inspect = await prefect(viewer.key, ['flow-run', 'inspect', flowRunId]);
    expect(inspect.code).toBe(0);
    expect(inspect.output).toContain("type=StateType.COMPLETED");
    const logs = await prefect(viewer.key, ['flow-run', 'logs', flowRunId]);
    expect(logs.code).toBe(0);
    expect(logs.output).toContain('hello from gatehouse');
  });

  it('refuses the Worker key a deployment, a secret value and a change to the pool, with 403 in the client output', async () => {
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect deploy flow.py:hello -n sneaky -p story-pool', expectation: 'Worker key: refused (403)' });
    claim({ tool: 'Prefect SDK', version: V3, command: "Secret.load('db-password').get()", expectation: 'Worker key: refused (403); Developer key: reads it' });
    claim({ tool: 'Prefect CLI', version: V3, command: `prefect work-pool set-concurrency-limit ${POOL} 5`, expectation: 'Worker key: refused (403)' });
    const saved = await python(developer.key, "from prefect.blocks.system import Secret\nSecret(value='s3cret-value').save('db-password', overwrite=True)\nprint('saved')");
    expect(saved.output).toContain('saved');
    expect(saved.code).toBe(0);

    const refusalsFrom = Date.now();
    const deploy = await prefect(worker.key, ['--no-prompt', 'deploy', 'flow.py:hello', '-n', 'sneaky', '-p', POOL]);
    expect(deploy.code).not.toBe(0);
    expect(deploy.output).toContain('403 Forbidden');
    const secret = await python(worker.key, "from prefect.blocks.system import Secret\nprint(Secret.load('db-password').get())");
    expect(secret.code).not.toBe(0);
    expect(secret.output).toContain('403 Forbidden');
    expect(secret.output).not.toContain('s3cret-value');
    const limit = await prefect(worker.key, ['work-pool', 'set-concurrency-limit', POOL, '5']);
    expect(limit.code).not.toBe(0);
    expect(limit.output).toContain('403 Forbidden');
    // Gatehouse's log shows the refusals (which also proves the story's "nothing refused" is not vacuous).
    expect((await refusedSince(gh, refusalsFrom)).filter((r) => r.startsWith('403 ')).length).toBeGreaterThanOrEqual(3);
    // Nothing of it reached the Prefect server: the deployment does not exist, the pool is unchanged.
    const readBack = await gh.api('GET', api(`/work_pools/${POOL}`));
    expect(readBack.concurrency_limit).toBeNull();
    await gh.api('GET', api('/deployments/name/hello/sneaky'), { expect: 404 });
    const readable = await python(developer.key, "from prefect.blocks.system import Secret\nprint(Secret.load('db-password').get())");
    expect(readable.output).toContain('s3cret-value');
  });

  describe('revocation under a live worker', () => {
    // The story above creates the pool; when it was filtered out (-t), the Developer creates it here.
    beforeAll(async () => {
      const found = await call(gh.url, 'GET', api(`/work_pools/${POOL}`), { key: gh.ownerKey });
      if (found.status === 404) {
        const made = await prefect(developer.key, ['work-pool', 'create', POOL, '--type', 'process']);
        if (made.code !== 0) throw new Error(made.output);
      }
      if (!deploymentId) {
        const made = await prefect(developer.key, ['--no-prompt', 'deploy', 'flow.py:hello', '-n', 'story', '-p', POOL]);
        deploymentId = /successfully created with id\s+│?\s*'([0-9a-f-]{36})'/.exec(made.output)?.[1] ?? '';
        if (!deploymentId) throw new Error(made.output);
      }
    }, 240_000);

    /** A new Worker service account with a worker polling the pool through the gateway. */
    async function liveWorker(name: string) {
      const account = await gh.createServiceAccount(name, [{ workspaceId: prod.id, role: 'Worker' }]);
      const started = performance.now();
      const live = startPrefectWorker(V3, ['--pool', POOL, '--type', 'process', '--name', name], { home: home(), env: keyEnv(account.key) });
      // Polling: at least two polls of the pool reached the Prefect server.
      const deadline = started + 120_000;
      while (polls(server.reachedSince(started)).filter((e) => e.path.endsWith('/get_scheduled_flow_runs')).length < 2) {
        if (performance.now() > deadline) throw new Error(`the worker never polled:\n${live.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return { account, live };
    }

    /**
     * Asserts that nothing the worker sent reached the Prefect server after `returnedAt` (+ in-flight)
     * for WATCH_MS. Control frames (Gatehouse closing the upstream socket) are Gatehouse's own.
     */
    async function expectSilenceAfter(returnedAt: number) {
      await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
      const late = server.reachedSince(returnedAt + IN_FLIGHT_MS).filter((e) => e.kind !== 'ws-control');
      expect(late.map((e) => `${e.kind} ${e.method} ${e.path}`)).toEqual([]);
    }

    it('rotating the key with no grace cuts the worker off at once; its log shows the 401', async () => {
      claim({ tool: 'Prefect worker', version: V3, command: 'rotate_api_key (old_key_expires_in_seconds: null) under a polling worker', expectation: 'nothing reaches the Prefect server after the call returns; worker logs 401' });
      const { account, live } = await liveWorker('rotated-worker');
      try {
        await gh.api('POST', `${botPath(account.id)}/rotate_api_key`, { body: { api_key_expiration: null, old_key_expires_in_seconds: null } });
        const returnedAt = performance.now();
        await expectSilenceAfter(returnedAt);
        await live.waitFor(/401 Unauthorized/, 30_000);
        expect(live.output()).toContain('Invalid authentication credentials');
      } finally {
        await live.stop();
      }
    });

    it('removing the service account cuts the worker off at once; its log shows the 401', async () => {
      claim({ tool: 'Prefect worker', version: V3, command: 'DELETE …/bots/{id} under a polling worker', expectation: 'nothing reaches the Prefect server after the call returns; worker logs 401' });
      const { account, live } = await liveWorker('removed-worker');
      try {
        await gh.api('DELETE', botPath(account.id), { expect: 204 });
        const returnedAt = performance.now();
        await expectSilenceAfter(returnedAt);
        await live.waitFor(/401 Unauthorized/, 30_000);
      } finally {
        await live.stop();
      }
    });

    it('rotating with a grace keeps the worker running until the grace ends; restarted with the new key it runs a flow', async () => {
      claim({ tool: 'Prefect worker', version: V3, command: 'rotate_api_key (old_key_expires_in_seconds: 10) under a polling worker; restart with the new key', expectation: 'old key works until the grace ends, then 401; new key runs a flow to Completed' });
      const GRACE_S = 10;
      const { account, live } = await liveWorker('graceful-worker');
      let newKey: string;
      try {
        const rotated = await gh.api('POST', `${botPath(account.id)}/rotate_api_key`, { body: { api_key_expiration: null, old_key_expires_in_seconds: GRACE_S } });
        newKey = rotated.api_key.key;
        const returnedAt = performance.now();
        await live.waitFor(/401 Unauthorized/, (GRACE_S + 30) * 1000);
        const cutAt = performance.now();
        // It kept polling through the grace…
        const during = server.reachedSince(returnedAt).filter((e) => e.at < returnedAt + (GRACE_S - 2) * 1000);
        expect(during.filter((e) => e.path.endsWith('/get_scheduled_flow_runs')).length).toBeGreaterThanOrEqual(3);
        // …and was cut off once it ended (the key expired no later than GRACE_S after the call returned).
        expect(cutAt - returnedAt).toBeGreaterThan((GRACE_S - 1) * 1000);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        const late = server.reachedSince(returnedAt + GRACE_S * 1000 + IN_FLIGHT_MS).filter((e) => e.kind !== 'ws-control');
        expect(late.map((e) => `${e.kind} ${e.method} ${e.path}`)).toEqual([]);
      } finally {
        await live.stop();
      }
      const flowRunId = await scheduleRun();
      const again = await prefect(newKey!, ['worker', 'start', '--pool', POOL, '--type', 'process', '--run-once'], 180_000);
      expect(again.output).toContain('Finished in state Completed()');
      expect(again.code).toBe(0);
      const finished = await gh.api('GET', api(`/flow_runs/${flowRunId}`));
      expect(finished.state.type).toBe('COMPLETED');
    });
  });
});
