// The real Prefect Terraform provider managing teams against a real `gatehouse start`: `prefect_team`
// (with and without a description), `prefect_team_access` for a service account and an invited user,
// `prefect_workspace_access` with accessor TEAM, the `prefect_team` data source; a clean second plan;
// the team member's scopes in the workspace are the team's, follow a change of the team's role, and
// end once Terraform takes the member out of the team; destroy. Each step is a row in
// test/real/results/terraform-teams.<store>.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_WORKSPACE_ROLES } from '../../src/authz/workspace-roles.js';
import { call } from '../support/processes.js';
import { startRealGatehouse, type RealGatehouse } from './support/gatehouse.js';
import { requireTerraform, requiredProvider, TERRAFORM_UNAVAILABLE, tofuDir, tofuVersion, type TerraformTools, type TofuDir } from './support/terraform.js';
import { compatSuite } from './support/compat.js';

const claim = compatSuite('terraform-teams');
let tools: TerraformTools;
let gh: RealGatehouse;
let work: TofuDir;
let provider: string;
let core: string;
let workspaceId: string;
let memberUserId: string;
const MEMBER_EMAIL = 'marvin@example.com';

const scopesOf = (name: string) => [...BUILTIN_WORKSPACE_ROLES.find((r) => r.name === name)!.scopes].sort();

function config(options: { role: 'Developer' | 'Viewer'; botInTeam: boolean }): string {
  return `${requiredProvider(tools)}
provider "prefect" {
  endpoint   = "${gh.url}"
  api_key    = "${gh.ownerKey}"
  account_id = "${gh.accountId}"
}

data "prefect_workspace_role" "team_role" {
  name = "${options.role}"
}

data "prefect_account_member" "marvin" {
  email = "${MEMBER_EMAIL}"
}

resource "prefect_team" "platform" {
  name        = "platform"
  description = "Runs the data platform"
}

# No description: the provider sends null and reads back "".
resource "prefect_team" "bare" {
  name = "bare"
}

resource "prefect_service_account" "ci" {
  name = "ci"
}
${
  options.botInTeam
    ? `
resource "prefect_team_access" "ci" {
  team_id         = prefect_team.platform.id
  member_type     = "service_account"
  member_id       = prefect_service_account.ci.id
  member_actor_id = prefect_service_account.ci.actor_id
}
`
    : ''
}
resource "prefect_team_access" "marvin" {
  team_id         = prefect_team.platform.id
  member_type     = "user"
  member_id       = data.prefect_account_member.marvin.user_id
  member_actor_id = data.prefect_account_member.marvin.actor_id
}

resource "prefect_workspace_access" "platform" {
  accessor_type     = "TEAM"
  accessor_id       = prefect_team.platform.id
  workspace_id      = "${workspaceId}"
  workspace_role_id = data.prefect_workspace_role.team_role.id
}

data "prefect_team" "platform" {
  name       = prefect_team.platform.name
  depends_on = [prefect_team.platform]
}

output "team_id" {
  value = prefect_team.platform.id
}

output "bare_description" {
  value = prefect_team.bare.description
}

output "read_back" {
  value = {
    id          = data.prefect_team.platform.id
    description = data.prefect_team.platform.description
  }
}

output "ci_id" {
  value = prefect_service_account.ci.id
}

output "ci_key" {
  value     = prefect_service_account.ci.api_key
  sensitive = true
}
`;
}

const providerClaim = (command: string, expectation: string) =>
  claim({ tool: 'Terraform provider prefecthq/prefect', version: `${provider.slice(1)} (${core})`, command, expectation });

beforeAll(async () => {
  if (TERRAFORM_UNAVAILABLE) return;
  tools = await requireTerraform();
  provider = tools.providerVersion;
  core = `OpenTofu ${await tofuVersion(tools)}`;
  gh = await startRealGatehouse('acme');
  workspaceId = (await gh.createWorkspace('analytics')).id;
  // A second user joins the account through an invitation, as a Member; Terraform puts them in a team.
  const roles = await call(gh.url, 'POST', `/api/accounts/${gh.accountId}/account_roles/filter`, { key: gh.ownerKey, body: {} });
  const member = roles.body.find((r: { name: string }) => r.name === 'Member');
  const invited = await call(gh.url, 'POST', `/api/accounts/${gh.accountId}/invitations/`, { key: gh.ownerKey, body: { email: MEMBER_EMAIL, account_role_id: member.id } });
  expect(invited.status).toBe(201);
  const link = new URL(invited.body.accept_url);
  const code = new URLSearchParams(link.hash.slice(1)).get('invite_code') ?? '';
  const accepted = await call(gh.url, 'POST', `/api/invitations/${invited.body.id}/accept?invite_code=${encodeURIComponent(code)}`, {
    body: { password: 'a long enough password', first_name: 'Marvin' },
  });
  expect(accepted.status).toBe(200);
  memberUserId = accepted.body.user_id;
  work = tofuDir(tools);
}, 900_000);

afterAll(async () => {
  work?.dispose();
  await gh?.stop();
});

const api = (method: string, path: string, body?: unknown) => call(gh.url, method, `/api/accounts/${gh.accountId}${path}`, { key: gh.ownerKey, body });
const scopes = (key: string) => call(gh.url, 'GET', `/api/me/workspaces/${workspaceId}/scopes`, { key });

describe.skipIf(TERRAFORM_UNAVAILABLE)('the Prefect Terraform provider against Gatehouse (teams)', () => {
  let outputs: Record<string, any>;

  it('applies teams, their members and a TEAM workspace access, and reads them back', async () => {
    providerClaim(
      'tofu apply: prefect_team (with and without description), prefect_team_access (service_account and user), prefect_workspace_access (TEAM → Developer); data sources prefect_team, prefect_account_member',
      'all created as configured; the team lists both members by actor id; its member service account holds the Developer scopes in the workspace',
    );
    work.write(config({ role: 'Developer', botInTeam: true }));
    await work.ok(['init', '-no-color']);
    const apply = await work.ok(['apply', '-auto-approve', '-no-color']);
    expect(apply.stdout).toMatch(/Apply complete! Resources: 6 added, 0 changed, 0 destroyed\./);
    outputs = await work.outputs();
    expect(outputs.bare_description).toBe('');
    expect(outputs.read_back).toEqual({ id: outputs.team_id, description: 'Runs the data platform' });

    const team = await api('GET', `/teams/${outputs.team_id}`);
    expect(team.status).toBe(200);
    expect(team.body).toMatchObject({ name: 'platform', description: 'Runs the data platform' });
    const bot = await api('GET', `/bots/${outputs.ci_id}`);
    expect(team.body.memberships.map((m: any) => [m.type, m.member_id]).sort()).toEqual(
      [['service_account', outputs.ci_id], ['user', memberUserId]].sort(),
    );
    expect(team.body.memberships.map((m: any) => m.id)).toContain(bot.body.actor_id);
    expect(team.body.workspaces).toEqual([{ workspace_id: workspaceId, workspace_handle: 'analytics', workspace_role_id: expect.any(String), workspace_role_name: 'Developer' }]);
    const access = await call(gh.url, 'POST', `/api/accounts/${gh.accountId}/workspaces/${workspaceId}/team_access/filter`, { key: gh.ownerKey });
    expect(access.body.map((a: any) => [a.team_id, a.team_name])).toEqual([[outputs.team_id, 'platform']]);

    // The service account has no grant of its own: its scopes are the team's.
    expect((await api('POST', `/workspaces/${workspaceId}/bot_access/filter`, {})).body).toEqual([]);
    const held = await scopes(outputs.ci_key);
    expect([held.status, held.body]).toEqual([200, scopesOf('Developer')]);
    expect((await call(gh.url, 'GET', `/api/accounts/${gh.accountId}/workspaces/${workspaceId}`, { key: outputs.ci_key })).status).toBe(200);
  });

  it('plans no changes right after the apply', async () => {
    providerClaim('tofu plan -detailed-exitcode after apply (teams)', 'no changes (exit code 0)');
    const plan = await work.run(['plan', '-detailed-exitcode', '-no-color']);
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('No changes.');
  });

  it("changes the team's workspace role in place, and the member's scopes follow at once", async () => {
    providerClaim('tofu apply: prefect_workspace_access (TEAM) Developer → Viewer', "updated in place; the member's scopes are Viewer's at once");
    work.write(config({ role: 'Viewer', botInTeam: true }));
    const apply = await work.ok(['apply', '-auto-approve', '-no-color']);
    expect(apply.stdout).toMatch(/Apply complete! Resources: 0 added, 1 changed, 0 destroyed\./);
    const held = await scopes(outputs.ci_key);
    expect([held.status, held.body]).toEqual([200, scopesOf('Viewer')]);
    const plan = await work.run(['plan', '-detailed-exitcode', '-no-color']);
    expect(plan.code).toBe(0);
  });

  it('notices a team grant removed outside Terraform and plans to make it again', async () => {
    providerClaim('out-of-band DELETE …/team_access/{team_id}, then tofu plan', 'the missing grant is planned again (exit code 2)');
    const removed = await call(gh.url, 'DELETE', `/api/accounts/${gh.accountId}/workspaces/${workspaceId}/team_access/${outputs.team_id}`, { key: gh.ownerKey });
    expect(removed.status).toBe(204);
    expect((await scopes(outputs.ci_key)).status).toBe(404);
    const plan = await work.run(['plan', '-detailed-exitcode', '-no-color']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('prefect_workspace_access.platform will be created');
    await work.ok(['apply', '-auto-approve', '-no-color']);
    expect((await scopes(outputs.ci_key)).body).toEqual(scopesOf('Viewer'));
  });

  it('takes the service account out of the team, and its key reaches the workspace no more', async () => {
    providerClaim('tofu apply: prefect_team_access removed', "the member leaves the team; its next request to the workspace is refused (404)");
    work.write(config({ role: 'Viewer', botInTeam: false }));
    const apply = await work.ok(['apply', '-auto-approve', '-no-color']);
    expect(apply.stdout).toMatch(/Apply complete! Resources: 0 added, 0 changed, 1 destroyed\./);
    const held = await scopes(outputs.ci_key);
    expect([held.status, held.body.code]).toEqual([404, 'NOT_FOUND']);
    expect((await call(gh.url, 'GET', `/api/accounts/${gh.accountId}/workspaces/${workspaceId}`, { key: outputs.ci_key })).status).toBe(404);
    const team = await api('GET', `/teams/${outputs.team_id}`);
    expect(team.body.memberships.map((m: any) => m.member_id)).toEqual([memberUserId]);
  });

  it('destroys the teams, their members and their workspace access, each change audited', async () => {
    providerClaim('tofu destroy (teams)', 'every team resource removed; each change is an audit event');
    const destroy = await work.ok(['destroy', '-auto-approve', '-no-color']);
    expect(destroy.stdout).toMatch(/Destroy complete! Resources: 5 destroyed\./);
    expect((await api('GET', `/teams/${outputs.team_id}`)).status).toBe(404);
    expect((await api('POST', '/teams/filter', {})).body).toEqual([]);
    expect((await call(gh.url, 'POST', `/api/accounts/${gh.accountId}/workspaces/${workspaceId}/team_access/filter`, { key: gh.ownerKey, body: {} })).body).toEqual([]);
    const events = await api('POST', '/audit_events/filter', { limit: 200 });
    const actions = events.body.map((e: any) => e.action).filter((a: string) => a.startsWith('team') || a.startsWith('workspace_team_access'));
    expect(actions.sort()).toEqual(
      [
        'team.created',
        'team.created',
        'team.member_added',
        'team.member_added',
        'workspace_team_access.granted',
        'workspace_team_access.granted', // Developer → Viewer
        'workspace_team_access.revoked', // out of band
        'workspace_team_access.granted', // made again
        'team.member_removed',
        'workspace_team_access.revoked',
        'team.member_removed',
        'team.deleted',
        'team.deleted',
      ].sort(),
    );
  });
});
