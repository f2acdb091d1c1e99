// A workspace keeps at least one grant of the Owner role: removing the last one, or changing it to
// another role, is refused with 409 LAST_WORKSPACE_OWNER (for the API, the web page and the CLI alike).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';
import { addMember, createBot, createWorkspace, grant } from './support/members.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { ERRORS } from '../src/errors.js';

let h: Harness;
let owner: { accountId: string; userId: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  owner = await h.bootstrap();
});
afterAll(async () => h?.close());

const url = (workspaceId: string, kind: 'user_access' | 'bot_access') => `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/${kind}`;

async function grants(workspaceId: string, kind: 'user_access' | 'bot_access') {
  const res = await h.request('POST', `${url(workspaceId, kind)}/filter`, { key: owner.key, body: {} });
  return res.body as { id: string; user_id?: string; bot_id?: string; workspace_role_id: string }[];
}

const refusal = { detail: ERRORS.LAST_WORKSPACE_OWNER.message, code: 'LAST_WORKSPACE_OWNER', request_id: expect.any(String) };

describe('the last Owner of a workspace', () => {
  it('cannot be removed or changed to another role (409), and stays Owner', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const [creator] = await grants(ws.id, 'user_access');
    expect(creator).toMatchObject({ user_id: owner.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Owner });

    const removed = await h.request('DELETE', `${url(ws.id, 'user_access')}/${creator!.id}`, { key: owner.key });
    expect(removed.status).toBe(409);
    expect(removed.body).toEqual(refusal);
    const demoted = await h.request('POST', `${url(ws.id, 'user_access')}/`, { key: owner.key, body: { user_id: owner.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer } });
    expect(demoted.status).toBe(409);
    expect(demoted.body).toEqual(refusal);
    expect((await grants(ws.id, 'user_access'))[0]!.workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Owner);

    // Granting Owner again to the same Owner changes nothing and is allowed.
    const same = await h.request('POST', `${url(ws.id, 'user_access')}/`, { key: owner.key, body: { user_id: owner.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Owner } });
    expect(same.status).toBe(200);
  });

  it('can be changed or removed once another Owner exists, user or service account; then that one is the last', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const bot = await createBot(h, owner.accountId, owner.key);
    const botGrant = await grant(h, owner.accountId, ws.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Owner);
    const demoted = await h.request('POST', `${url(ws.id, 'user_access')}/`, { key: owner.key, body: { user_id: owner.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Developer } });
    expect(demoted.status).toBe(200);
    expect(demoted.body[0].workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Developer);

    const lastBot = await h.request('DELETE', `${url(ws.id, 'bot_access')}/${botGrant.id}`, { key: owner.key });
    expect(lastBot.status).toBe(409);
    expect(lastBot.body).toEqual(refusal);
    const botDemoted = await h.request('POST', `${url(ws.id, 'bot_access')}/`, { key: owner.key, body: { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker } });
    expect(botDemoted.status).toBe(409);

    // A grant that is not Owner is removed as before.
    const [userGrant] = await grants(ws.id, 'user_access');
    expect((await h.request('DELETE', `${url(ws.id, 'user_access')}/${userGrant!.id}`, { key: owner.key })).status).toBe(204);
  });

  it('is not taken away by deleting its service account or removing its person from the account (409, naming the workspace)', async () => {
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const bot = await createBot(h, owner.accountId, owner.key);
    const botGrant = await grant(h, owner.accountId, ws.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Owner);
    const [creator] = await grants(ws.id, 'user_access');
    // The creator steps down: the service account is the workspace's only Owner.
    expect((await h.request('DELETE', `${url(ws.id, 'user_access')}/${creator!.id}`, { key: owner.key })).status).toBe(204);

    const deleted = await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key });
    expect(deleted.status).toBe(409);
    expect(deleted.body).toEqual({
      code: 'LAST_WORKSPACE_OWNER',
      detail: `The service account ${bot.name} is the only Owner of the workspace ${ws.handle}: grant someone else the Owner role there first`,
      request_id: expect.any(String),
    });
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key })).status).toBe(200);

    // A person who is the only Owner: removing them from the account is refused the same way.
    const member = await addMember(h, owner.accountId, 'Member');
    await grant(h, owner.accountId, ws.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Owner);
    expect((await h.request('DELETE', `${url(ws.id, 'bot_access')}/${botGrant.id}`, { key: owner.key })).status).toBe(204);
    const removed = await h.request('DELETE', `/api/accounts/${owner.accountId}/account_memberships/${member.membershipId}`, { key: owner.key });
    expect(removed.status).toBe(409);
    expect(removed.body.detail).toBe(`${member.email} is the only Owner of the workspace ${ws.handle}: grant someone else the Owner role there first`);

    // With another Owner, both go.
    await grant(h, owner.accountId, ws.id, owner.key, { userId: owner.userId }, WORKSPACE_ROLE_IDS.Owner);
    expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/account_memberships/${member.membershipId}`, { key: owner.key })).status).toBe(204);
    expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key })).status).toBe(204);
  });

  it('survives changes racing each other: of two Owner grants changed or removed at once, one stays Owner', async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 8; round++) {
      const ws = await createWorkspace(h, owner.accountId, owner.key);
      const [creator] = await grants(ws.id, 'user_access');
      const bots = [await createBot(h, owner.accountId, owner.key), await createBot(h, owner.accountId, owner.key)];
      const botGrants = [];
      for (const bot of bots) botGrants.push(await grant(h, owner.accountId, ws.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Owner));
      // Three Owner grants, three changes at once that would each leave two of them: at most two may pass.
      const answers = await Promise.all([
        h.request('DELETE', `${url(ws.id, 'user_access')}/${creator!.id}`, { key: owner.key }),
        h.request('POST', `${url(ws.id, 'bot_access')}/`, { key: owner.key, body: { bot_id: bots[0]!.id, workspace_role_id: WORKSPACE_ROLE_IDS.Developer } }),
        round % 2
          ? h.request('DELETE', `${url(ws.id, 'bot_access')}/${botGrants[1]!.id}`, { key: owner.key })
          : h.request('POST', `${url(ws.id, 'bot_access')}/`, { key: owner.key, body: { bot_id: bots[1]!.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker } }),
      ]);
      for (const a of answers) {
        statuses.push(a.status);
        if (a.status === 409) expect(['LAST_WORKSPACE_OWNER', 'CONCURRENT_CHANGE']).toContain(a.body.code);
      }
      expect(answers.filter((a) => a.status === 409).length, `round ${round}`).toBeGreaterThanOrEqual(1);
      const owners = [...(await grants(ws.id, 'user_access')), ...(await grants(ws.id, 'bot_access'))].filter((g) => g.workspace_role_id === WORKSPACE_ROLE_IDS.Owner);
      expect(owners.length, `round ${round}`).toBe(1);
    }
    expect(statuses.every((s) => [200, 204, 409].includes(s))).toBe(true);
  });
});
