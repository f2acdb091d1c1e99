// The real Prefect Terraform provider managing objects inside a workspace: the provider sends these
// to `/api/accounts/{a}/workspaces/{w}/…`, which Gatehouse's gateway checks against the key's
// workspace role and forwards to the workspace's real Prefect server. A Developer service-account
// key applies, plans clean and destroys a work pool, a variable, a secret block, a flow and a
// deployment; a Viewer key is refused before anything reaches the Prefect server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatSuite } from './support/compat.js';
import { startRealGatehouse, type RealGatehouse, type ServiceAccount } from './support/gatehouse.js';
import { startPrefectServer, type PrefectServer } from './support/prefect-server.js';
import { requireTerraform, requiredProvider, tofuDir, tofuVersion, type TerraformTools, type TofuDir } from './support/terraform.js';

const claim = compatSuite('terraform-workspace');
let tools: TerraformTools;
let prefect: PrefectServer;
let gh: RealGatehouse;
let workspaceId: string;
let developer: ServiceAccount;
let viewer: ServiceAccount;
let asDeveloper: TofuDir;
let asViewer: TofuDir;
let version: string;
const SECRET = 'block-secret-value-4b1d';

function config(key: string): string {
  return `${requiredProvider(tools)}
provider "prefect" {
  endpoint     = "${gh.url}"
  api_key      = "${key}"
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
  tools = await requireTerraform();
  version = `${tools.providerVersion.slice(1)} (OpenTofu ${await tofuVersion(tools)})`;
  [prefect, gh] = await Promise.all([startPrefectServer(), startRealGatehouse('acme')]);
  workspaceId = (await gh.createWorkspace('prod')).id;
  await gh.setUpstream(workspaceId, prefect.apiUrl, prefect.authString);
  developer = await gh.createServiceAccount('tf-developer', [{ workspaceId, role: 'Developer' }]);
  viewer = await gh.createServiceAccount('tf-viewer', [{ workspaceId, role: 'Viewer' }]);
  asDeveloper = tofuDir(tools);
  asViewer = tofuDir(tools);
  asDeveloper.write(config(developer.key));
  asViewer.write(config(viewer.key));
  await Promise.all([asDeveloper.ok(['init', '-no-color']), asViewer.ok(['init', '-no-color'])]);
}, 900_000);

afterAll(async () => {
  asDeveloper?.dispose();
  asViewer?.dispose();
  await gh?.stop();
  await prefect?.stop();
});

describe('the Prefect Terraform provider through the workspace gateway, to a real Prefect server', () => {
  let outputs: Record<string, any>;

  it('applies a work pool, a variable, a secret block, a flow and a deployment with a Developer key', async () => {
    providerClaim(
      'tofu apply (Developer service-account key): prefect_work_pool, prefect_variable, prefect_block (secret), prefect_flow, prefect_deployment',
      'all created on the workspace\'s Prefect server through the gateway',
    );
    const before = prefect.reached().length;
    // One at a time: Prefect's own SQLite answers concurrent writes with 503 (database locked),
    // which the provider retries after 10-20 s; Gatehouse passes that 503 through unchanged.
    const apply = await asDeveloper.ok(['apply', '-auto-approve', '-no-color', '-parallelism=1']);
    expect(apply.stdout).toMatch(/Apply complete! Resources: 5 added, 0 changed, 0 destroyed\./);
    outputs = await asDeveloper.outputs();
    expect(prefect.reached().length).toBeGreaterThan(before);

    const pool = await upstream('GET', '/work_pools/tf-pool');
    expect(pool.status).toBe(200);
    expect(pool.body).toMatchObject({ name: 'tf-pool', type: 'process', is_paused: false });
    const variable = await upstream('GET', '/variables/name/region');
    expect(variable.body).toMatchObject({ name: 'region', value: 'eu-west-1', tags: ['terraform'] });
    const block = await upstream('GET', `/block_documents/${outputs.block_id}?include_secrets=true`);
    expect(block.body).toMatchObject({ name: 'tf-token', data: { value: SECRET } });
    const deployment = await upstream('GET', '/deployments/name/hello/hello-prod');
    expect(deployment.status).toBe(200);
    expect(deployment.body).toMatchObject({
      id: outputs.deployment_id,
      work_pool_name: 'tf-pool',
      entrypoint: 'flows/hello.py:hello',
      path: '/opt/flows',
      parameters: { name: 'world' },
    });
  });

  it('plans no changes right after the apply', async () => {
    providerClaim('tofu plan -detailed-exitcode after apply (Developer key)', 'no changes (exit code 0)');
    const plan = await asDeveloper.run(['plan', '-detailed-exitcode', '-no-color']);
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('No changes.');
  });

  it('refuses every write of a Viewer key with 403 before it reaches the Prefect server', async () => {
    providerClaim('tofu apply (Viewer service-account key): the same resources', 'refused: 403 from the gateway, nothing written upstream');
    const since = performance.now();
    const apply = await asViewer.run(['apply', '-auto-approve', '-no-color']);
    expect(apply.code).toBe(1);
    // The provider gives up at once on a 403 and shows Gatehouse's answer for each resource.
    for (const resource of ['Work Pool', 'Variable', 'Block Document', 'Flow']) expect(apply.stderr).toContain(`Error during create ${resource}`);
    expect(apply.stderr.match(/status_code=403/g)).toHaveLength(4);
    expect(apply.stderr.match(/"code":"FORBIDDEN"/g)).toHaveLength(4);
    expect(apply.stderr).toMatch(/needs the workspace scope\s+`write_variables`/);
    const writes = prefect.reachedSince(since).filter((r) => r.method !== 'GET' && !r.path.endsWith('/filter'));
    expect(writes).toEqual([]);
    // Nothing was made twice or under the Viewer's name.
    const pools = await upstream('POST', '/work_pools/filter', {});
    expect(pools.body.map((p: any) => p.name).filter((name: string) => name === 'tf-pool')).toHaveLength(1);
  });

  it('destroys everything with the Developer key', async () => {
    providerClaim('tofu destroy (Developer key)', 'every resource removed from the Prefect server');
    const destroy = await asDeveloper.ok(['destroy', '-auto-approve', '-no-color', '-parallelism=1']);
    expect(destroy.stdout).toMatch(/Destroy complete! Resources: 5 destroyed\./);
    expect((await upstream('GET', '/work_pools/tf-pool')).status).toBe(404);
    expect((await upstream('GET', '/variables/name/region')).status).toBe(404);
    expect((await upstream('GET', `/block_documents/${outputs.block_id}`)).status).toBe(404);
    expect((await upstream('GET', `/deployments/${outputs.deployment_id}`)).status).toBe(404);
  });
});
