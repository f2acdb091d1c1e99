// Prefect 2.20, still widely deployed, against the same Gatehouse: its CLI deploys with a Developer
// key and its worker runs the flow with a Worker key, through the gateway to a real Prefect 2.20
// server (which has no API auth string of its own: Gatehouse's Basic credential is ignored there).
// What 2.20 sends differs little from 3.x at the gateway; one store is enough (the store-dependent
// promises are proven by prefect-worker.test.ts on both).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFECT_VERSIONS } from '../../scripts/ensure-prefect.js';
import { STORE_KIND } from '../support/harness.js';
import { compatSuite } from './support/compat.js';
import { prefectHome, refusedSince, runPrefect, startRealGatehouse, type RealGatehouse, type ServiceAccount } from './support/gatehouse.js';
import { startPrefectServer, type PrefectServer } from './support/prefect-server.js';

const claim = compatSuite('prefect-2-worker');
const V2 = PREFECT_VERSIONS['2.20'];
const POOL = 'legacy-pool';

let server: PrefectServer;
let gh: RealGatehouse;
let legacy: { id: string; handle: string };
let developer: ServiceAccount;
let worker: ServiceAccount;
let project: string;
const homes: { dispose(): void }[] = [];

function keyEnv(key: string): NodeJS.ProcessEnv {
  return { PREFECT_CLOUD_API_URL: gh.cloudApiUrl, PREFECT_API_URL: gh.workspaceApiUrl(legacy.id), PREFECT_API_KEY: key };
}

function prefect(key: string, args: string[], timeoutMs = 180_000) {
  const made = prefectHome();
  homes.push(made);
  return runPrefect(V2, args, { home: made.path, cwd: project, env: keyEnv(key), timeoutMs });
}

describe.runIf(STORE_KIND === 'sqlite')(`Prefect ${V2} through the gateway`, { timeout: 420_000 }, () => {
  beforeAll(async () => {
    [server, gh] = await Promise.all([startPrefectServer({ version: '2.20' }), startRealGatehouse('acme')]);
    legacy = await gh.createWorkspace('legacy');
    await gh.setUpstream(legacy.id, server.apiUrl, server.authString);
    developer = await gh.createServiceAccount('ci-deployer', [{ workspaceId: legacy.id, role: 'Developer' }]);
    worker = await gh.createServiceAccount('legacy-worker', [{ workspaceId: legacy.id, role: 'Worker' }]);
    project = mkdtempSync(join(tmpdir(), 'gatehouse-flow2-'));
    writeFileSync(
      join(project, 'flow.py'),
      ['from prefect import flow, get_run_logger', '', '', '@flow', 'def hello(name: str = "gatehouse"):', '    get_run_logger().info("hello from %s", name)', '    return 42', ''].join('\n'),
    );
  }, 240_000);

  afterAll(async () => {
    for (const made of homes) made.dispose();
    if (project) rmSync(project, { recursive: true, force: true });
    await Promise.all([server?.stop(), gh?.stop()]);
  });

  it('a Developer key deploys and starts a run with the 2.20 CLI; a Worker key runs it to Completed with the 2.20 worker', async () => {
    claim({ tool: 'Prefect CLI', version: V2, command: `prefect work-pool create ${POOL} --type process; prefect deploy flow.py:hello -n legacy -p ${POOL}; prefect deployment run hello/legacy`, expectation: 'Developer service-account key: pool, deployment and flow run created (Prefect 2.20 server upstream)' });
    claim({ tool: 'Prefect worker', version: V2, command: `prefect worker start --pool ${POOL} --type process --run-once`, expectation: 'Worker service-account key: flow run Completed (Prefect 2.20 server upstream)' });
    const pool = await prefect(developer.key, ['work-pool', 'create', POOL, '--type', 'process']);
    expect(pool.output).toContain(`Created work pool '${POOL}'`);
    expect(pool.code).toBe(0);
    const deploy = await prefect(developer.key, ['deploy', 'flow.py:hello', '-n', 'legacy', '-p', POOL]);
    expect(deploy.output).toContain("Deployment 'hello/legacy' successfully created");
    expect(deploy.code).toBe(0);
    const start = await prefect(developer.key, ['deployment', 'run', 'hello/legacy']);
    expect(start.code).toBe(0);
    const flowRunId = /UUID: ([0-9a-f-]{36})/.exec(start.output)![1];

    const before = performance.now();
    const beforeWall = Date.now();
    const run = await prefect(worker.key, ['worker', 'start', '--pool', POOL, '--type', 'process', '--run-once'], 240_000);
    expect(run.output).toContain('Finished in state Completed()');
    expect(run.code).toBe(0);
    // Gatehouse refused the worker and its flow run nothing they asked for.
    expect(await refusedSince(gh, beforeWall, server.reachedSince(before))).toEqual([]);
    const traffic = server.reachedSince(before);
    expect(traffic.some((e) => e.method === 'POST' && e.path === `/api/work_pools/${POOL}/workers/heartbeat`)).toBe(true);
    for (const entry of traffic) {
      if (entry.method === 'POST' && /^\/api\/flow_runs\/?$/.test(entry.path)) throw new Error(`the 2.20 worker created a flow run: ${entry.body}`);
      if (entry.method === 'PATCH' && entry.path.startsWith('/api/flow_runs/')) {
        const fields = Object.keys(JSON.parse(entry.body || '{}'));
        expect(fields).not.toContain('job_variables');
        expect(fields).not.toContain('parameters');
      }
    }
    const finished = await gh.api('GET', `/api/accounts/${gh.accountId}/workspaces/${legacy.id}/flow_runs/${flowRunId}`);
    expect(finished.state.type).toBe('COMPLETED');
  });
});
