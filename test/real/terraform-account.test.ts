// The real Prefect Terraform provider, run by a real OpenTofu, against a real `gatehouse start`:
// the account-level resources a platform team manages (workspace, service account with an expiring
// key, workspace access for a service account and a user, a custom workspace role, an imported
// account member and workspace, data sources), a second plan with no changes, a key rotation by a
// new expiration with a rename and a role change alongside, destroy, and the audit log of it all. Each step is one check in test/real/results/terraform.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/processes.js';
import { startRealGatehouse, type RealGatehouse } from './support/gatehouse.js';
import { requireTerraform, requiredProvider, TERRAFORM_UNAVAILABLE, tofuDir, tofuVersion, type TerraformTools, type TofuDir } from './support/terraform.js';
import { compatSuite } from './support/compat.js';

const claim = compatSuite('terraform-account');
let tools: TerraformTools;
let gh: RealGatehouse;
let work: TofuDir;
let provider: string;
let core: string;
const MEMBER_EMAIL = 'marvin@example.com';
let memberUserId: string;
let existingId: string;
let ownerUserId: string;

// Whole seconds, as RFC 3339 in UTC: what the provider sends and reads back.
const inDays = (days: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + days * 86_400_000).toISOString().replace('.000Z', 'Z');
const firstExpiration = inDays(30);
const secondExpiration = inDays(60);

function config(expiration: string, change = { workspaceName: 'Production', auditorDescription: 'Reads flows and deployments', generation: '1' }): string {
  return `${requiredProvider(tools)}
provider "prefect" {
  endpoint   = "${gh.url}"
  api_key    = "${gh.ownerKey}"
  account_id = "${gh.accountId}"
}

resource "prefect_workspace" "prod" {
  name        = "${change.workspaceName}"
  handle      = "prod"
  description = "Made by Terraform"
}

resource "prefect_service_account" "deployer" {
  name               = "ci-deployer"
  api_key_expiration = "${expiration}"
}

import {
  to = prefect_user.owner
  id = "${ownerUserId}"
}

# Imported unchanged: provider 3.4.1's update of a user leaves \`updated\` unknown, which OpenTofu
# rejects ("Provider returned invalid result object after apply"), whatever the server answers.
resource "prefect_user" "owner" {
  handle     = "owner-acme"
  email      = "owner-acme@example.com"
  first_name = ""
  last_name  = ""
}

resource "prefect_user_api_key" "terraform" {
  user_id    = prefect_user.owner.id
  name       = "made-by-terraform"
  expiration = "${firstExpiration}"
}

# A key that never expires, rotated by a keeper, with a grace for the old key.
resource "prefect_service_account" "nightly" {
  name                       = "nightly"
  api_key_keepers            = { generation = "${change.generation}" }
  old_key_expires_in_seconds = 300
}

data "prefect_workspace_role" "developer" {
  name = "Developer"
}

data "prefect_workspace_role" "viewer" {
  name = "Viewer"
}

data "prefect_account_role" "admin" {
  name = "Admin"
}

resource "prefect_workspace_role" "auditor" {
  name        = "Auditor"
  description = "${change.auditorDescription}"
  scopes      = ["manage_blocks", "see_flows"]
}

import {
  to = prefect_account_member.marvin
  id = "${MEMBER_EMAIL}"
}

resource "prefect_account_member" "marvin" {
  account_role_id = data.prefect_account_role.admin.id
}

import {
  to = prefect_workspace.existing
  id = "handle/existing"
}

resource "prefect_workspace" "existing" {
  name   = "existing"
  handle = "existing"
}

data "prefect_workspace" "prod" {
  id = prefect_workspace.prod.id
}

data "prefect_service_account" "deployer" {
  id = prefect_service_account.deployer.id
}

resource "prefect_workspace_access" "deployer_developer" {
  accessor_type     = "SERVICE_ACCOUNT"
  accessor_id       = prefect_service_account.deployer.id
  workspace_id      = prefect_workspace.prod.id
  workspace_role_id = data.prefect_workspace_role.developer.id
}

resource "prefect_workspace_access" "marvin_viewer" {
  accessor_type     = "USER"
  accessor_id       = prefect_account_member.marvin.user_id
  workspace_id      = prefect_workspace.prod.id
  workspace_role_id = data.prefect_workspace_role.viewer.id
}

output "workspace_id" {
  value = prefect_workspace.prod.id
}

output "deployer_id" {
  value = prefect_service_account.deployer.id
}

output "deployer_key" {
  value     = prefect_service_account.deployer.api_key
  sensitive = true
}

output "auditor_id" {
  value = prefect_workspace_role.auditor.id
}

output "nightly_key" {
  value     = prefect_service_account.nightly.api_key
  sensitive = true
}

output "user_key" {
  value     = prefect_user_api_key.terraform.key
  sensitive = true
}

output "existing_id" {
  value = prefect_workspace.existing.id
}

output "read_back" {
  value = {
    workspace_handle = data.prefect_workspace.prod.handle
    workspace_name   = data.prefect_workspace.prod.name
    bot_name         = data.prefect_service_account.deployer.name
    bot_role         = data.prefect_service_account.deployer.account_role_name
    bot_expiration   = data.prefect_service_account.deployer.api_key_expiration
  }
}
`;
}

/** A row of the compatibility table for the provider, run by OpenTofu, in the test that calls it. */
const providerClaim = (command: string, expectation: string) =>
  claim({ tool: 'Terraform provider prefecthq/prefect', version: `${provider.slice(1)} (${core})`, command, expectation });

beforeAll(async () => {
  if (TERRAFORM_UNAVAILABLE) return;
  tools = await requireTerraform();
  provider = tools.providerVersion;
  core = `OpenTofu ${await tofuVersion(tools)}`;
  gh = await startRealGatehouse('acme');
  existingId = (await gh.createWorkspace('existing')).id;
  ownerUserId = (await call(gh.url, 'GET', '/api/me/', { key: gh.ownerKey })).body.id;
  // A second user joins the account through an invitation, as a Member; Terraform imports them.
  const roles = await call(gh.url, 'POST', `/api/accounts/${gh.accountId}/account_roles/filter`, { key: gh.ownerKey, body: {} });
  const member = roles.body.find((r: { name: string }) => r.name === 'Member');
  const invited = await call(gh.url, 'POST', `/api/accounts/${gh.accountId}/invitations/`, {
    key: gh.ownerKey,
    body: { email: MEMBER_EMAIL, account_role_id: member.id },
  });
  expect(invited.status).toBe(201);
  const link = new URL(invited.body.accept_url);
  const accepted = await call(gh.url, 'POST', `/api/invitations/${invited.body.id}/accept?invite_code=${encodeURIComponent(new URLSearchParams(link.hash.slice(1)).get('invite_code') ?? '')}`, {
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

const me = (key: string) => call(gh.url, 'GET', '/api/me/', { key });
const api = (method: string, path: string, body?: unknown) => call(gh.url, method, `/api/accounts/${gh.accountId}${path}`, { key: gh.ownerKey, body });

describe.skipIf(TERRAFORM_UNAVAILABLE)('the Prefect Terraform provider against Gatehouse (account level)', () => {
  let outputs: Record<string, any>;

  it('inits from the local filesystem mirror, asking no registry', async () => {
    claim({ tool: 'OpenTofu', version: core.replace('OpenTofu ', ''), command: 'tofu init', expectation: 'installs prefecthq/prefect from the filesystem mirror only' });
    work.write(config(firstExpiration));
    const init = await work.ok(['init', '-no-color']);
    expect(init.stdout).toContain(`Installing prefecthq/prefect v${provider.slice(1)}`);
  });

  it('applies a workspace, a service account, access for it and a user, a custom role, an imported member and workspace, and reads them back', async () => {
    providerClaim(
      'tofu apply: prefect_workspace (create; import by handle), prefect_service_account (api_key_expiration), prefect_workspace_access (SERVICE_ACCOUNT → Developer, USER → Viewer), prefect_workspace_role, prefect_account_member (import by email, role change), prefect_user (import by id), prefect_user_api_key (the key works; its audit rows belong to no account); data sources prefect_workspace, prefect_service_account, prefect_workspace_role, prefect_account_role',
      'all created or imported as configured; data sources read them back; the service account key works',
    );
    const apply = await work.ok(['apply', '-auto-approve', '-no-color']);
    expect(apply.stdout).toMatch(/Apply complete! Resources: 3 imported, 7 added, 1 changed, 0 destroyed\./);
    outputs = await work.outputs();
    expect(apply.stdout).not.toContain(outputs.deployer_key);

    expect(outputs.existing_id).toBe(existingId);
    const owner = await me(gh.ownerKey);
    expect(owner.body).toMatchObject({ id: ownerUserId, handle: 'owner-acme', email: 'owner-acme@example.com' });
    expect(outputs.user_key).toMatch(/^pnu_[0-9A-Za-z]{36}$/);
    expect((await me(outputs.user_key)).body.id).toBe(ownerUserId);
    expect(outputs.read_back).toEqual({
      workspace_handle: 'prod',
      workspace_name: 'Production',
      bot_name: 'ci-deployer',
      bot_role: 'Member',
      bot_expiration: firstExpiration,
    });
    const workspace = await api('GET', `/workspaces/${outputs.workspace_id}`);
    expect(workspace.status).toBe(200);
    expect(workspace.body).toMatchObject({ name: 'Production', handle: 'prod', description: 'Made by Terraform' });

    const bot = await api('GET', `/bots/${outputs.deployer_id}`);
    expect(bot.status).toBe(200);
    expect(bot.body.name).toBe('ci-deployer');
    expect(outputs.deployer_key).toMatch(/^pnb_[0-9A-Za-z]{36}$/);
    expect(new Date(bot.body.api_key.expiration).toISOString()).toBe(new Date(firstExpiration).toISOString());

    const roles = (await api('POST', '/workspace_roles/filter', {})).body;
    const roleId = (name: string) => roles.find((r: any) => r.name === name).id;
    const access = (kind: string) => call(gh.url, 'POST', `/api/accounts/${gh.accountId}/workspaces/${outputs.workspace_id}/${kind}/filter`, { key: gh.ownerKey, body: {} });
    expect((await access('bot_access')).body.map((a: any) => [a.bot_id, a.workspace_role_id])).toEqual([[outputs.deployer_id, roleId('Developer')]]);
    const marvin = (await access('user_access')).body.find((a: any) => a.user_id === memberUserId);
    expect(marvin.workspace_role_id).toBe(roleId('Viewer'));

    const auditor = await api('GET', `/workspace_roles/${outputs.auditor_id}`);
    expect(auditor.status).toBe(200);
    expect(auditor.body).toMatchObject({ name: 'Auditor', description: 'Reads flows and deployments' });
    // A manage_* scope reads back with the scopes it includes, and the provider takes that as no change.
    expect(auditor.body.scopes).toEqual(expect.arrayContaining(['manage_blocks', 'see_blocks', 'see_flows']));
    const nightly = (await api('POST', '/bots/filter', {})).body.find((b: any) => b.name === 'nightly');
    expect(nightly.api_key.expiration).toBeNull();
    expect((await me(outputs.nightly_key)).status).toBe(200);

    const memberships = await api('POST', '/account_memberships/filter', {});
    expect(memberships.body.find((m: any) => m.user_id === memberUserId)?.account_role_name).toBe('Admin');

    // The key Terraform holds is a working key for the workspace.
    expect((await me(outputs.deployer_key)).status).toBe(200);
    const mine = await call(gh.url, 'GET', '/api/me/workspaces', { key: outputs.deployer_key });
    expect(mine.body.map((w: any) => [w.workspace_id, w.workspace_handle])).toEqual([[outputs.workspace_id, 'prod']]);
  });

  it('plans no changes right after the apply', async () => {
    providerClaim('tofu plan -detailed-exitcode after apply', 'no changes (exit code 0)');
    const plan = await work.run(['plan', '-detailed-exitcode', '-no-color']);
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('No changes.');
  });

  it('rotates the service account key when api_key_expiration changes (old key refused, new one works), renames the workspace and replaces the changed role', async () => {
    providerClaim(
      'tofu apply: prefect_service_account with a new api_key_expiration, another with new api_key_keepers and old_key_expires_in_seconds = 300; prefect_workspace renamed; prefect_workspace_role description changed',
      'keys rotated in place (old key refused with 401 / still working in its grace, new keys work); workspace updated in place; the role is replaced (provider 3.4.1 plans a custom role change as a replacement)',
    );
    const oldKey: string = outputs.deployer_key;
    work.write(config(secondExpiration, { workspaceName: 'Production EU', auditorDescription: 'Reads flows', generation: '2' }));
    const apply = await work.ok(['apply', '-auto-approve', '-no-color']);
    expect(apply.stdout).toContain('prefect_workspace_role.auditor must be replaced');
    expect(apply.stdout).toMatch(/Apply complete! Resources: 1 added, 3 changed, 1 destroyed\./);
    const after = await work.outputs();
    expect(after.deployer_id).toBe(outputs.deployer_id);
    expect(after.deployer_key).toMatch(/^pnb_[0-9A-Za-z]{36}$/);
    expect(after.deployer_key).not.toBe(oldKey);
    expect((await me(oldKey)).status).toBe(401);
    expect((await me(after.deployer_key)).status).toBe(200);
    const bot = await api('GET', `/bots/${outputs.deployer_id}`);
    expect(new Date(bot.body.api_key.expiration).toISOString()).toBe(new Date(secondExpiration).toISOString());
    expect(after.nightly_key).not.toBe(outputs.nightly_key);
    expect((await me(outputs.nightly_key)).status).toBe(200);
    expect((await me(after.nightly_key)).status).toBe(200);
    expect((await api('GET', `/workspaces/${outputs.workspace_id}`)).body.name).toBe('Production EU');
    const auditor = await api('GET', `/workspace_roles/${after.auditor_id}`);
    expect(auditor.body).toMatchObject({ name: 'Auditor', description: 'Reads flows' });
    expect((await api('GET', `/workspace_roles/${outputs.auditor_id}`)).status).toBe(404);
    outputs = after;
    const plan = await work.run(['plan', '-detailed-exitcode', '-no-color']);
    expect(plan.code).toBe(0);
  });

  it('destroys everything it made, and the audit log shows each change', async () => {
    providerClaim('tofu destroy', 'every resource removed; each change is an audit event');
    const destroy = await work.ok(['destroy', '-auto-approve', '-no-color']);
    expect(destroy.stdout).toMatch(/Destroy complete! Resources: 10 destroyed\./);
    expect((await api('GET', `/workspaces/${outputs.workspace_id}`)).status).toBe(404);
    expect((await api('GET', `/workspaces/${existingId}`)).status).toBe(404);
    expect((await api('GET', `/bots/${outputs.deployer_id}`)).status).toBe(404);
    expect((await api('GET', `/workspace_roles/${outputs.auditor_id}`)).status).toBe(404);
    expect((await me(outputs.deployer_key)).status).toBe(401);
    expect((await me(outputs.nightly_key)).status).toBe(401);
    expect((await me(outputs.user_key)).status).toBe(401);
    expect((await me(gh.ownerKey)).status).toBe(200);
    const memberships = await api('POST', '/account_memberships/filter', {});
    expect(memberships.body.map((m: any) => m.user_id)).not.toContain(memberUserId);

    const events = await api('POST', '/audit_events/filter', { limit: 200 });
    expect(events.status).toBe(200);
    const byOwner = events.body
      .filter((e: any) => e.actor_id !== null && e.action !== 'invitation.created' && e.action !== 'invitation.accepted')
      .map((e: any) => e.action)
      .reverse();
    expect(byOwner.sort()).toEqual(
      [
        'workspace.created', // `existing`, made before Terraform imported it
        'workspace.created',
        'service_account.created',
        'service_account.created',
        'workspace_role.created',
        'workspace.updated',
        'service_account.updated',
        'service_account.api_key_rotated',
        'service_account.deleted',
        'workspace_role.deleted', // the role's replacement
        'workspace_role.created',
        'account_membership.role_changed',
        'workspace_bot_access.granted',
        'workspace_user_access.granted',
        // The provider's update sends PATCH (the unchanged name) before it rotates the key.
        'service_account.updated',
        'service_account.api_key_rotated',
        'workspace_bot_access.revoked',
        'workspace_user_access.revoked',
        'service_account.deleted',
        'workspace_role.deleted',
        'account_membership.removed',
        'workspace.deleted',
        'workspace.deleted',
      ].sort(),
    );
    expect(JSON.stringify(events.body)).not.toContain(outputs.deployer_key);
    // A user's own keys belong to no account: their events are written with no account, so no
    // account's audit log lists them. They are in the store all the same.
    const db = await gh.store.open();
    try {
      const userKeyEvents = await db.db.selectFrom('audit_events').select(['action', 'account_id']).where('action', 'like', 'user_api_key.%').orderBy('occurred').execute();
      expect(userKeyEvents).toEqual([
        { action: 'user_api_key.created', account_id: null },
        { action: 'user_api_key.deleted', account_id: null },
      ]);
    } finally {
      await db.close();
    }
  });
});
