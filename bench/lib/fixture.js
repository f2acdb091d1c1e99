// What every store gets through the HTTP API, as a client would set it up: a workspace, a
// service account holding the Worker role there (the key a Prefect worker uses), and optionally
// the workspace's upstream for the gateway scenario.
import { expectCall } from './client.js';
import { dist } from './paths.js';

export async function setUpWorkspace(baseUrl, owner, { upstreamUrl } = {}) {
  const { WORKSPACE_ROLE_IDS } = await dist('authz/workspace-roles.js');
  const accountId = owner.account_id;
  const key = owner.api_key;
  const workspace = await expectCall(201, baseUrl, 'POST', `/api/accounts/${accountId}/workspaces/`, {
    key,
    body: { name: 'bench', handle: 'bench' },
  });
  const workspaceId = workspace.body.id;
  const worker = await expectCall(201, baseUrl, 'POST', `/api/accounts/${accountId}/bots/`, { key, body: { name: 'worker' } });
  await expectCall(200, baseUrl, 'POST', `/api/accounts/${accountId}/workspaces/${workspaceId}/bot_access/`, {
    key,
    body: { bot_id: worker.body.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker },
  });
  if (upstreamUrl) {
    // With an auth string, as a Prefect server started with PREFECT_SERVER_API_AUTH_STRING needs.
    await expectCall(200, baseUrl, 'PUT', `/api/accounts/${accountId}/workspaces/${workspaceId}/gateway`, {
      key,
      body: { upstream_url: upstreamUrl, upstream_auth_string: 'bench:upstream-secret' },
    });
  }
  return {
    accountId,
    workspaceId,
    ownerKey: key,
    workerBotId: worker.body.id,
    workerKey: worker.body.api_key.key,
    workerRoleId: WORKSPACE_ROLE_IDS.Worker,
  };
}
