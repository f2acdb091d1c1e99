// The buttons at the end of a table row and the confirm dialogs they open, in a real browser: each
// acts on its own row, says what it did, and a failure keeps the dialog open with the server's words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

let h: BrowserHarness;

beforeAll(async () => {
  h = await startBrowserHarness();
});

afterAll(async () => {
  await h?.close();
});

describe('row actions in the browser', () => {
  it('deletes an own API key, changes and removes a workspace grant, revokes an invitation, and keeps a refused removal open with the reason', async () => {
    const email = 'owner-rows@example.com';
    const owner = await h.owner(email, 'rows-co');
    const a = owner.accountId;
    const ws = await h.api('POST', `/api/accounts/${a}/workspaces/`, { key: owner.key, body: { name: 'Ops', handle: 'ops' } });
    expect(ws.status).toBe(201);
    const bot = await h.api('POST', `/api/accounts/${a}/bots/`, { key: owner.key, body: { name: 'row-bot', api_key_expiration: null } });
    expect(bot.status).toBe(201);
    const grant = await h.api('POST', `/api/accounts/${a}/workspaces/${ws.body.id}/bot_access/`, {
      key: owner.key,
      body: [{ bot_id: bot.body.id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }],
    });
    expect(grant.status).toBe(200);
    const roles = await h.api('POST', `/api/accounts/${a}/account_roles/filter`, { key: owner.key, body: {} });
    const memberRole = roles.body.find((r: { name: string }) => r.name === 'Member').id;
    const invited = await h.api('POST', `/api/accounts/${a}/invitations/`, { key: owner.key, body: { email: 'invitee-rows@example.com', account_role_id: memberRole } });
    expect(invited.status).toBe(201);
    const page = await h.newPage();
    await signIn(page, email);
    const nav = page.getByRole('navigation', { name: 'Main' });

    // Workspace sharing: the service account's role changes in place, then its access is removed.
    await page.goto(`${h.baseUrl}/workspaces/${ws.body.id}`);
    const bots = page.getByRole('table', { name: 'Service accounts with access' });
    await bots.waitFor();
    await bots.getByLabel('Workspace role for row-bot').selectOption({ label: 'Developer' });
    await statusSays(page, /^row-bot is now Developer in Ops\.$/);
    await bots.getByRole('button', { name: 'Remove access for row-bot' }).click();
    const removeAccess = page.getByRole('dialog', { name: 'Remove access to Ops?' });
    expect(await removeAccess.textContent()).toContain('Service account row-bot loses access to Ops at once.');
    await removeAccess.getByRole('button', { name: 'Remove access' }).click();
    await statusSays(page, /^row-bot no longer has access to Ops\.$/);
    await page.getByText('No service accounts have access.').waitFor();

    // Members: a pending invitation is revoked from its row.
    await nav.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('button', { name: 'Revoke invitation for invitee-rows@example.com' }).click();
    await page.getByRole('dialog', { name: 'Revoke the invitation for invitee-rows@example.com?' }).getByRole('button', { name: 'Revoke invitation' }).click();
    await statusSays(page, /^The invitation for invitee-rows@example\.com was revoked\.$/);
    await page.getByText('No pending invitations.').waitFor();

    // The last Owner cannot remove themself: the dialog stays open and says why.
    await page.getByRole('button', { name: `Remove ${email}` }).click();
    const removeMe = page.getByRole('dialog', { name: `Remove ${email} from Account rows-co?` });
    await removeMe.getByRole('button', { name: 'Remove member' }).click();
    const refusal = await removeMe.getByRole('alert').textContent();
    expect(refusal?.length).toBeGreaterThan(10);
    await removeMe.getByRole('button', { name: 'Cancel' }).click();
    await removeMe.waitFor({ state: 'detached' });

    // My API keys: the bootstrap key is deleted from its row and the list says none are left.
    await page.goto(`${h.baseUrl}/my-api-keys`);
    const keys = page.getByRole('table', { name: 'My API keys' });
    await keys.waitFor();
    const name = await keys.locator('[data-testid="api-key-row"]').first().getAttribute('data-name');
    await keys.getByRole('button', { name: `Delete API key ${name}` }).click();
    await page.getByRole('dialog', { name: `Delete API key ${name}?` }).getByRole('button', { name: 'Delete API key' }).click();
    await statusSays(page, new RegExp(`^API key ${name} deleted\\. It no longer works\\.$`));
    await page.getByText('You have no API keys.').waitFor();
    expect((await h.api('GET', '/api/me/', { key: owner.key })).status).toBe(401);
    await page.getByRole('table', { name: 'Sessions' }).getByRole('button', { name: 'Terminate this session' }).waitFor();
  });
});
