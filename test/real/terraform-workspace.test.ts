// The real Prefect Terraform provider managing objects inside a workspace: the provider sends these
// to `/api/accounts/{a}/workspaces/{w}/…`, which Gatehouse's gateway checks against the key's
// workspace role and forwards to the workspace's real Prefect server. Terraform (with the Owner's
// key) makes a Developer and a Viewer service account; the Developer key applies, plans clean and
// destroys work pools and queues, variables, blocks, flows, deployments and their schedules,
// concurrency limits and automations; the Viewer key is
// refused before anything reaches the Prefect server; rotating the Developer key by Terraform
// shuts the old key out of the gateway at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatSuite } from './support/compat.js';
import { call } from '../support/processes.js';
import { startRealGatehouse, type RealGatehouse } from './support/gatehouse.js';
import { startPrefectServer, type PrefectServer } from './support/prefect-server.js';
import { requireTerraform, requiredProvider, TERRAFORM_UNAVAILABLE, tofuDir, tofuVersion, type TerraformTools, type TofuDir } from './support/terraform.js';

const claim = compatSuite('terraform-workspace');
let tools: TerraformTools;
let prefect: PrefectServer;
let gh: RealGatehouse;
let workspaceId: string;
let keys: { developer: string; viewer: string };
let asOwner: TofuDir;
let asDeveloper: TofuDir;
let asViewer: TofuDir;
let version: string;
const SECRET = 'block-secret-value-4b1d';
// Whole seconds, as RFC 3339 in UTC: what the provider sends and reads back.
const inDays = (days: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + days * 86_400_000).toISOString().replace('.000Z', 'Z');

/** The Owner's configuration: the two service accounts and their access to the workspace. */
function accessConfig(developerKeyExpiration: string): string {
  return `${requiredProvider(tools)}
provider "prefect" {
  endpoint   = "${gh.url}"
  api_key    = "${gh.ownerKey}"
  account_id = "${gh.accountId}"
}

data "prefect_workspace_role" "developer" {
  name = "Developer"
}

data "prefect_workspace_role" "viewer" {
  name = "Viewer"
}

resource "prefect_service_account" "developer" {
  name               = "tf-developer"
  api_key_expiration = "${developerKeyExpiration}"
}

resource "prefect_service_account" "viewer" {
  name = "tf-viewer"
}

resource "prefect_workspace_access" "developer" {
  accessor_type     = "SERVICE_ACCOUNT"
  accessor_id       = prefect_service_account.developer.id
  workspace_id      = "${workspaceId}"
  workspace_role_id = data.prefect_workspace_role.developer.id
}

resource "prefect_workspace_access" "viewer" {
  accessor_type     = "SERVICE_ACCOUNT"
  accessor_id       = prefect_service_account.viewer.id
  workspace_id      = "${workspaceId}"
  workspace_role_id = data.prefect_workspace_role.viewer.id
}

output "developer_key" {
  value     = prefect_service_account.developer.api_key
  sensitive = true
}

output "viewer_key" {
  value     = prefect_service_account.viewer.api_key
  sensitive = true
}
`;
}

/** The workspace objects, managed with the key given as TF_VAR_api_key. */
function config(): string {
  return `${requiredProvider(tools)}
variable "api_key" {
  type      = string
  sensitive = true
}

provider "prefect" {
  endpoint     = "${gh.url}"
  api_key      = var.api_key
  account_id   = "${gh.accountId}"
  workspace_id = "${workspaceId}"
}

resource "prefect_work_pool" "pool" {
  name   = "tf-pool"
  type   = "process"
  paused = false
}

resource "prefect_variable" "region" {
  name  = "region"
  value = "eu-west-1"
  tags  = ["terraform"]
}

resource "prefect_block" "token" {
  name      = "tf-token"
  type_slug = "secret"
  data      = jsonencode({ value = "${SECRET}" })
}

resource "prefect_flow" "hello" {
  name = "hello"
  tags = ["terraform"]
}

resource "prefect_deployment" "hello" {
  name           = "hello-prod"
  flow_id        = prefect_flow.hello.id
  work_pool_name = prefect_work_pool.pool.name
  entrypoint     = "flows/hello.py:hello"
  path           = "/opt/flows"
  parameters     = jsonencode({ name = "world" })
  tags           = ["terraform"]
}

resource "prefect_work_queue" "urgent" {
  name           = "urgent"
  work_pool_name = prefect_work_pool.pool.name
  priority       = 2
}

resource "prefect_deployment_schedule" "hourly" {
  deployment_id = prefect_deployment.hello.id
  active        = true
  cron          = "0 * * * *"
  timezone      = "UTC"
}

resource "prefect_global_concurrency_limit" "db" {
  name   = "db-connections"
  limit  = 3
  active = true
}

resource "prefect_task_run_concurrency_limit" "db" {
  tag               = "db"
  concurrency_limit = 2
}

resource "prefect_automation" "cancel_failed" {
  name    = "cancel-on-failure"
  enabled = true
  trigger = {
    event = {
      posture   = "Reactive"
      expect    = ["prefect.flow-run.Failed"]
      threshold = 1
      within    = 0
    }
  }
  actions = [{ type = "cancel-flow-run" }]
}

data "prefect_work_pools" "all" {}

data "prefect_worker_metadata" "defaults" {}

output "automation_id" {
  value = prefect_automation.cancel_failed.id
}

output "deployment_id" {
  value = prefect_deployment.hello.id
}

output "block_id" {
  value = prefect_block.token.id
}
`;
}

/** Reads the Prefect server directly (not through Gatehouse), with its own credential. */
async function upstream(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${prefect.directApiUrl}${path}`, {
    method,
    headers: { authorization: prefect.basicAuthorization, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const providerClaim = (command: string, expectation: string) =>
  claim({ tool: 'Terraform provider prefecthq/prefect', version, command, expectation });

beforeAll(async () => {
  if (TERRAFORM_UNAVAILABLE) return;
  tools = await requireTerraform();
  version = `${tools.providerVersion.slice(1)} (OpenTofu ${await tofuVersion(tools)})`;
  [prefect, gh] = await Promise.all([startPrefectServer(), startRealGatehouse('acme')]);
  workspaceId = (await gh.createWorkspace('prod')).id;
  await gh.setUpstream(workspaceId, prefect.apiUrl, prefect.authString);
  asOwner = tofuDir(tools);
  asDeveloper = tofuDir(tools);
  asViewer = tofuDir(tools);
  asOwner.write(accessConfig(inDays(30)));
  asDeveloper.write(config());
  asViewer.write(config());
  await Promise.all([asOwner.ok(['init', '-no-color']), asDeveloper.ok(['init', '-no-color']), asViewer.ok(['init', '-no-color'])]);
  await asOwner.ok(['apply', '-auto-approve', '-no-color']);
  const made = await asOwner.outputs();
  keys = { developer: made.developer_key, viewer: made.viewer_key };
}, 900_000);

afterAll(async () => {
  asOwner?.dispose();
  asDeveloper?.dispose();
  asViewer?.dispose();
  await gh?.stop();
  await prefect?.stop();
});

describe.skipIf(TERRAFORM_UNAVAILABLE)('the Prefect Terraform provider through the workspace gateway, to a real Prefect server', () => {
  let outputs: Record<string, any>;

  it('applies work pool and queue, variable, secret block, flow, deployment and schedule, concurrency limits and an automation with a Developer key', async () => {
    providerClaim(
      'tofu apply (Developer service-account key): prefect_work_pool, prefect_work_queue, prefect_variable, prefect_block (secret), prefect_flow, prefect_deployment, prefect_deployment_schedule, prefect_global_concurrency_limit, prefect_task_run_concurrency_limit, prefect_automation; data sources prefect_work_pools, prefect_worker_metadata',
      'all created on the workspace\'s Prefect server through the gateway',
    );
    const before = prefect.reached().length;
    // One at a time: Prefect's own SQLite answers concurrent writes with 503 (database locked),
    // which the provider retries after 10-20 s; Gatehouse passes that 503 through unchanged.
    const apply = await asDeveloper.ok(['apply', '-auto-approve', '-no-color', '-parallelism=1'], { TF_VAR_api_key: keys.developer });
    expect(apply.stdout).toMatch(/Apply complete! Resources: 10 added, 0 changed, 0 destroyed\./);
    outputs = await asDeveloper.outputs();
    expect(prefect.reached().length).toBeGreaterThan(before);

    const pool = await upstream('GET', '/work_pools/tf-pool');
    expect(pool.status).toBe(200);
    expect(pool.body).toMatchObject({ name: 'tf-pool', type: 'process', is_paused: false });
    const variable = await upstream('GET', '/variables/name/region');
    expect(variable.body).toMatchObject({ name: 'region', value: 'eu-west-1', tags: ['terraform'] });
    const block = await upstream('GET', `/block_documents/${outputs.block_id}?include_secrets=true`);
    expect(block.body).toMatchObject({ name: 'tf-token', data: { value: SECRET } });
    const queue = await upstream('GET', '/work_pools/tf-pool/queues/urgent');
    expect(queue.body).toMatchObject({ name: 'urgent', priority: 2 });
    const limit = await upstream('GET', '/v2/concurrency_limits/db-connections');
    expect(limit.body).toMatchObject({ name: 'db-connections', limit: 3, active: true });
    const tagLimit = await upstream('GET', '/concurrency_limits/tag/db');
    expect(tagLimit.body).toMatchObject({ tag: 'db', concurrency_limit: 2 });
    const automation = await upstream('GET', `/automations/${outputs.automation_id}`);
    expect(automation.body).toMatchObject({ name: 'cancel-on-failure', enabled: true, actions: [{ type: 'cancel-flow-run' }] });
    const deployment = await upstream('GET', '/deployments/name/hello/hello-prod');
    expect(deployment.status).toBe(200);
    expect(deployment.body).toMatchObject({
      id: outputs.deployment_id,
      work_pool_name: 'tf-pool',
      entrypoint: 'flows/hello.py:hello',
      path: '/opt/flows',
      parameters: { name: 'world' },
    });
    expect(deployment.body.schedules).toEqual([expect.objectContaining({ active: true, schedule: expect.objectContaining({ cron: '0 * * * *', timezone: 'UTC' }) })]);
  });

  it('plans no changes right after the apply', async () => {
    providerClaim('tofu plan -detailed-exitcode after apply (Developer key)', 'no changes (exit code 0)');
    const plan = await asDeveloper.run(['plan', '-detailed-exitcode', '-no-color'], { TF_VAR_api_key: keys.developer });
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('No changes.');
  });

  it('refuses every write of a Viewer key with 403 before it reaches the Prefect server', async () => {
    providerClaim('tofu apply (Viewer service-account key): the same resources', 'refused: 403 from the gateway, nothing written upstream');
    const since = performance.now();
    const apply = await asViewer.run(['apply', '-auto-approve', '-no-color'], { TF_VAR_api_key: keys.viewer });
    expect(apply.code).toBe(1);
    // The provider gives up at once on a 403 and shows Gatehouse's answer for each resource.
    for (const resource of ['Work Pool', 'Variable', 'Block Document', 'Flow']) expect(apply.stderr).toContain(`Error during create ${resource}`);
    // Every error is Gatehouse's 403, nothing else.
    const errors = apply.stderr.match(/^Error: /gm) ?? [];
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(apply.stderr.match(/status(_code=|\s+code=)403/g)).toHaveLength(errors.length);
    expect(apply.stderr.match(/"code":"FORBIDDEN"/g)).toHaveLength(errors.length);
    expect(apply.stderr).toMatch(/needs the workspace scope\s+`write_variables`/);
    const writes = prefect.reachedSince(since).filter((r) => r.method !== 'GET' && !r.path.endsWith('/filter'));
    expect(writes).toEqual([]);
    // Nothing was made twice or under the Viewer's name.
    const pools = await upstream('POST', '/work_pools/filter', {});
    expect(pools.body.map((p: any) => p.name).filter((name: string) => name === 'tf-pool')).toHaveLength(1);
  });

  it('rotates the Developer key by a new api_key_expiration: the old key is refused at the gateway at once, the new one works', async () => {
    providerClaim(
      'tofu apply (Owner key): prefect_service_account with a new api_key_expiration',
      'old key refused by the gateway (401) with nothing reaching the Prefect server; the new key manages the workspace',
    );
    const oldKey = keys.developer;
    asOwner.write(accessConfig(inDays(60)));
    const apply = await asOwner.ok(['apply', '-auto-approve', '-no-color']);
    expect(apply.stdout).toMatch(/Apply complete! Resources: 0 added, 1 changed, 0 destroyed\./);
    keys.developer = (await asOwner.outputs()).developer_key;
    expect(keys.developer).not.toBe(oldKey);

    const poolPath = `/api/accounts/${gh.accountId}/workspaces/${workspaceId}/work_pools/tf-pool`;
    const since = performance.now();
    const refused = await call(gh.url, 'GET', poolPath, { key: oldKey });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('UNAUTHENTICATED');
    expect(prefect.reachedSince(since)).toEqual([]);
    const plan = await asDeveloper.run(['plan', '-detailed-exitcode', '-no-color'], { TF_VAR_api_key: oldKey });
    expect(plan.code).toBe(1);
    const errors = plan.stderr.match(/^Error: /gm) ?? [];
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(plan.stderr.match(/code=401\s+Unauthorized/g)).toHaveLength(errors.length);
    expect(plan.stderr).toMatch(/"code":"UNAUTHENTICATED"/);
    const works = await call(gh.url, 'GET', poolPath, { key: keys.developer });
    expect(works.status).toBe(200);
    expect(works.body.name).toBe('tf-pool');
  });

  it('destroys everything with the Developer key', async () => {
    providerClaim('tofu destroy (Developer key)', 'every resource removed from the Prefect server');
    const destroy = await asDeveloper.ok(['destroy', '-auto-approve', '-no-color', '-parallelism=1'], { TF_VAR_api_key: keys.developer });
    expect(destroy.stdout).toMatch(/Destroy complete! Resources: 10 destroyed\./);
    expect((await upstream('GET', '/work_pools/tf-pool')).status).toBe(404);
    expect((await upstream('GET', '/variables/name/region')).status).toBe(404);
    expect((await upstream('GET', `/block_documents/${outputs.block_id}`)).status).toBe(404);
    expect((await upstream('GET', `/deployments/${outputs.deployment_id}`)).status).toBe(404);
    expect((await upstream('GET', `/automations/${outputs.automation_id}`)).status).toBe(404);
    expect((await upstream('GET', '/v2/concurrency_limits/db-connections')).status).toBe(404);
  });
});
