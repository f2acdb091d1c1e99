// Keyless workload identity with the real tools (issue 21, item 4): a local OIDC issuer signs the
// token a CI job or a pod would hold, the real `gatehouse exchange` turns it into environment lines
// (as a CI step writes them to $GITHUB_ENV), and the real Prefect 3.9 worker, started with only
// those lines as its Prefect settings (no stored key anywhere), polls its pool through the gateway
// and runs a flow run to Completed. Deleting the trust rule cuts the worker off at once: nothing it
// sends reaches the Prefect server afterwards, Gatehouse's access log shows the 401s, and the
// worker's own log shows them too. On both stores.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFECT_VERSIONS } from '../../scripts/ensure-prefect.js';
import { compatSuite } from './support/compat.js';
import { prefectHome, refusedSince, runPrefect, startPrefectWorker, startRealGatehouse, type RealGatehouse, type ServiceAccount } from './support/gatehouse.js';
import { startPrefectServer, type PrefectServer } from './support/prefect-server.js';
import { gatehouseAt } from '../support/cli.js';
import { ROOT } from '../support/build.js';
import { call } from '../support/processes.js';
import { startLocalIssuer, type LocalIssuer } from '../support/oidc-issuer.js';

const claim = compatSuite('prefect-worker-exchanged');
const V3 = PREFECT_VERSIONS['3.9'];
const POOL = 'keyless-pool';
const SUBJECT = 'repo:acme/flows:ref:refs/heads/main';
const TEST_TIMEOUT = 300_000;
/** A request Gatehouse let through just before the deleting call returned may still be on its way. */
const IN_FLIGHT_MS = 500;
/** How long the cut-off worker is watched for anything reaching the Prefect server. */
const WATCH_MS = 6_000;

let server: PrefectServer;
let gh: RealGatehouse;
let issuer: LocalIssuer;
let prod: { id: string; handle: string };
let developer: ServiceAccount;
let workerAccount: { id: string };
let project: string;
let ciHome: string;
const homes: { dispose(): void }[] = [];

function home(): string {
  const made = prefectHome();
  homes.push(made);
  return made.path;
}

const api = (path: string) => `/api/accounts/${gh.accountId}/workspaces/${prod.id}${path}`;
const rules = () => `/api/accounts/${gh.accountId}/bots/${workerAccount.id}/trust_rules/`;

/** `KEY=VALUE` lines, as `gatehouse exchange` prints them, as an environment. */
function envOf(lines: string): Record<string, string> {
  return Object.fromEntries(
    lines
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** The `curl` one-liner of docs/workload-identity.md, exactly as the page shows it. */
function documentedOneLiner(): string {
  const lines = readFileSync(join(ROOT, 'docs/workload-identity.md'), 'utf8').split('\n');
  const marker = lines.findIndex((l) => l.includes('test/real/prefect-worker-exchanged.test.ts runs this block as written'));
  if (marker === -1 || lines[marker + 1] !== '```bash') throw new Error('docs/workload-identity.md lost its tested curl block');
  const end = lines.findIndex((l, i) => i > marker + 1 && l === '```');
  return lines.slice(marker + 2, end).join('\n');
}

/** Runs a shell block as a CI step would (bash -eo pipefail) with `env`. */
function runBlock(code: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile('bash', ['-euo', 'pipefail', '-c', code], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    ),
  );
}

beforeAll(async () => {
  [server, gh, issuer] = await Promise.all([startPrefectServer({ version: '3.9' }), startRealGatehouse('acme'), startLocalIssuer()]);
  prod = await gh.createWorkspace('prod');
  await gh.setUpstream(prod.id, server.apiUrl, server.authString);
  developer = await gh.createServiceAccount('ci-deployer', [{ workspaceId: prod.id, role: 'Developer' }]);
  // The worker's service account: its key from creation is never used; the worker gets exchanged ones.
  workerAccount = await gh.createServiceAccount('keyless-worker', [{ workspaceId: prod.id, role: 'Worker' }]);
  project = mkdtempSync(join(tmpdir(), 'gatehouse-flow-'));
  ciHome = mkdtempSync(join(tmpdir(), 'gatehouse-ci-'));
  writeFileSync(
    join(project, 'flow.py'),
    ['from prefect import flow, get_run_logger', '', '', '@flow', 'def keyless(name: str = "an exchanged key"):', '    get_run_logger().info("hello from %s", name)', '    return 7', ''].join('\n'),
  );
  const developerEnv = { PREFECT_CLOUD_API_URL: gh.cloudApiUrl, PREFECT_API_URL: gh.workspaceApiUrl(prod.id), PREFECT_API_KEY: developer.key };
  const pool = await runPrefect(V3, ['work-pool', 'create', POOL, '--type', 'process'], { home: home(), cwd: project, env: developerEnv });
  if (pool.code !== 0) throw new Error(pool.output);
  const deploy = await runPrefect(V3, ['--no-prompt', 'deploy', 'flow.py:keyless', '-n', 'keyless', '-p', POOL], { home: home(), cwd: project, env: developerEnv, timeoutMs: 180_000 });
  if (deploy.code !== 0) throw new Error(deploy.output);
}, 240_000);

afterAll(async () => {
  for (const made of homes) made.dispose();
  for (const dir of [project, ciHome]) if (dir) rmSync(dir, { recursive: true, force: true });
  await Promise.all([server?.stop(), gh?.stop(), issuer?.close()]);
});

describe(`Prefect ${V3} worker started with an exchanged key`, { timeout: TEST_TIMEOUT }, () => {
  it('runs a flow run to Completed with only what `gatehouse exchange` printed, and is cut off at once when the trust rule is deleted', async () => {
    claim({
      tool: 'Prefect worker',
      version: V3,
      command: 'gatehouse exchange --token-env TOKEN …; prefect worker start --pool POOL --type process (PREFECT_API_KEY = exchanged key)',
      expectation: 'Worker service account, key exchanged for a local OIDC issuer token: flow run Completed',
    });
    claim({
      tool: 'Prefect worker',
      version: V3,
      command: 'DELETE …/bots/{id}/trust_rules/{rule_id} under a worker polling with a key exchanged under it',
      expectation: 'nothing reaches the Prefect server after the call returns; worker logs 401',
    });
    const rule = await gh.api('POST', rules(), {
      body: { issuer: issuer.issuer, audience: 'gatehouse', subject_pattern: 'repo:acme/flows:ref:refs/heads/*', required_claims: { repository_owner: 'acme' }, key_lifetime_seconds: 3600, description: 'CI worker' },
    });

    // The CI job: its platform's token in a variable, `gatehouse exchange` with no profile and no key.
    const token = await issuer.token({ sub: SUBJECT, aud: 'gatehouse', repository_owner: 'acme' });
    const exchanged = await gatehouseAt(join(ciHome, 'gh'), ['exchange', '--url', gh.url, '--service-account', workerAccount.id, '--token-env', 'CI_OIDC_TOKEN'], { env: { CI_OIDC_TOKEN: token } });
    expect(exchanged.code, exchanged.stderr).toBe(0);
    const settings = envOf(exchanged.stdout);
    expect(Object.keys(settings)).toEqual(['PREFECT_API_URL', 'PREFECT_API_KEY', 'PREFECT_CLOUD_API_URL']);
    expect(settings.PREFECT_API_URL).toBe(gh.workspaceApiUrl(prod.id));
    expect(settings.PREFECT_API_KEY).toMatch(/^pnb_[A-Za-z0-9]{36}$/);
    expect(exchanged.stderr).toMatch(/The key works until .* \(3600 seconds\)\./);
    const listed = await gh.api('GET', `/api/accounts/${gh.accountId}/bots/${workerAccount.id}/exchanged_keys`);
    expect(listed).toEqual([expect.objectContaining({ subject: SUBJECT, trust_rule_id: rule.id, masked_key: `${settings.PREFECT_API_KEY!.slice(0, 8)}********` })]);

    const deployment = await gh.api('GET', api('/deployments/name/keyless/keyless'));
    const flowRun = await gh.api('POST', api(`/deployments/${deployment.id}/create_flow_run`), { body: {} });

    // The worker: the exchanged lines are its Prefect settings; the two intervals only make it quick to watch.
    const started = performance.now();
    const startedWall = Date.now();
    const live = startPrefectWorker(V3, ['--pool', POOL, '--type', 'process', '--name', 'keyless-worker'], {
      home: home(),
      env: { ...settings, PREFECT_WORKER_QUERY_SECONDS: '1', PREFECT_WORKER_HEARTBEAT_SECONDS: '2' },
    });
    try {
      await live.waitFor(/Finished in state Completed\(\)/, 180_000);
      const finished = await gh.api('GET', api(`/flow_runs/${flowRun.id}`));
      expect(finished.state.type).toBe('COMPLETED');
      const traffic = server.reachedSince(started);
      expect(traffic.some((e) => e.method === 'POST' && e.path === `/api/work_pools/${POOL}/get_scheduled_flow_runs`)).toBe(true);
      expect(traffic.some((e) => e.method === 'POST' && e.path === `/api/flow_runs/${flowRun.id}/set_state`)).toBe(true);
      // Gatehouse refused the worker and its flow run nothing they asked for.
      expect(await refusedSince(gh, startedWall, traffic)).toEqual([]);

      // The page's curl one-liner, for a runner without the gatehouse command: a working key, and a replay refused with the reason.
      const oneLiner = documentedOneLiner();
      const ciToken = await issuer.token({ sub: SUBJECT, aud: 'gatehouse', repository_owner: 'acme' });
      const ciEnv = { GATEHOUSE_URL: gh.url, SERVICE_ACCOUNT_ID: workerAccount.id, OIDC_TOKEN: ciToken };
      const curled = await runBlock(oneLiner, ciEnv);
      expect(curled.code, curled.stderr).toBe(0);
      expect(curled.stdout).toMatch(/^PREFECT_API_KEY=pnb_[A-Za-z0-9]{36}\n$/);
      const curledKey = curled.stdout.trim().slice('PREFECT_API_KEY='.length);
      expect((await call(gh.url, 'GET', `/api/me/workspaces/${prod.id}/scopes`, { key: curledKey })).status).toBe(200);
      const replayed = await runBlock(oneLiner, ciEnv);
      expect(replayed.code).toBe(1);
      expect(replayed.stdout).toBe('');
      expect(replayed.stderr).toContain('this token was already exchanged');

      // Deleting the rule: the worker's next request is refused, and nothing of it reaches Prefect.
      const deletedWall = Date.now();
      await gh.api('DELETE', `${rules()}${rule.id}`, { expect: 204 });
      const returnedAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
      const late = server.reachedSince(returnedAt + IN_FLIGHT_MS).filter((e) => e.kind !== 'ws-control');
      expect(late.map((e) => `${e.kind} ${e.method} ${e.path}`)).toEqual([]);
      const refused = await refusedSince(gh, deletedWall);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((r) => r.startsWith('401 '))).toBe(true);
      // The worker's own loops are refused: its poll, the pool read before its heartbeat, or its
      // cancellation watch, whichever comes first (a 4xx ends Prefect's service loop and the worker
      // with it, so only the first may ever be sent).
      const ownLoop = /^401 (GET|POST) \/(work_pools|flow_runs|work_queues|deployments)\//;
      let sinceDeleted = refused;
      for (const until = Date.now() + 30_000; !sinceDeleted.some((r) => ownLoop.test(r)) && Date.now() < until; ) sinceDeleted = await refusedSince(gh, deletedWall);
      expect(sinceDeleted.filter((r) => ownLoop.test(r)), `refused since the rule went: ${sinceDeleted.join(', ')}`).not.toEqual([]);
      await live.waitFor(/401 Unauthorized/, 30_000);
      expect(await gh.api('GET', `/api/accounts/${gh.accountId}/bots/${workerAccount.id}/exchanged_keys`)).toEqual([]);
      expect((await call(gh.url, 'GET', `/api/me/workspaces/${prod.id}/scopes`, { key: curledKey })).status).toBe(401);
    } finally {
      await live.stop();
    }
  });
});
