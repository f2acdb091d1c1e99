// An invited Member in a real browser: the one-time link, a password of their own, and a page that
// offers them only what their account role allows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { PASSWORD, row, signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

let h: BrowserHarness;

beforeAll(async () => {
  h = await startBrowserHarness();
});

afterAll(async () => {
  await h?.close();
});

describe('a Member in the browser', () => {
  it('joins through the invitation link and sees service accounts and workspaces without controls to change them', async () => {
    const ownerEmail = 'owner-members@example.com';
    const memberEmail = 'dev-members@example.com';
    const owner = await h.owner(ownerEmail, 'members-co');
    const a = owner.accountId;
    const bot = await h.api('POST', `/api/accounts/${a}/bots/`, { key: owner.key, body: { name: 'nightly-etl', api_key_expiration: null } });
    expect(bot.status).toBe(201);
    const ws = await h.api('POST', `/api/accounts/${a}/workspaces/`, { key: owner.key, body: { name: 'Analytics', handle: 'analytics' } });
    expect(ws.status).toBe(201);

    // The Owner invites a Member and is shown the link once.
    const ownerPage = await h.newPage();
    await signIn(ownerPage, ownerEmail);
    await ownerPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
    await ownerPage.getByRole('table', { name: 'Members' }).waitFor();
    await ownerPage.getByRole('button', { name: 'Invite member' }).click();
    const invite = ownerPage.getByRole('dialog', { name: 'Invite member' });
    await invite.getByLabel('Email', { exact: true }).fill(memberEmail);
    await invite.getByLabel('Account role').selectOption({ label: 'Member' });
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    const created = ownerPage.getByRole('dialog', { name: 'Invitation created' });
    const link = await created.getByTestId('accept-url').inputValue();
    expect(link).toMatch(new RegExp(`^${h.baseUrl}/invitations/[0-9a-f-]{36}/accept#invite_code=[^&\\s]+$`));
    expect(await created.getByRole('note').textContent()).toContain('It is shown only once');
    await created.getByRole('button', { name: 'Done' }).click();
    await ownerPage.getByRole('table', { name: 'Pending invitations' }).getByRole('row', { name: new RegExp(memberEmail) }).waitFor();

    // The invitee, in a browser of their own, sets a password and lands signed in.
    const page = await h.newPage();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Join Account members-co' }).waitFor();
    expect(await page.getByTestId('invitation-summary').textContent()).toContain(`${memberEmail} is invited to join Account members-co as Member`);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.getByRole('heading', { name: 'Service Accounts', level: 1 }).waitFor();
    await statusSays(page, /You joined Account members-co as Member/);
    expect(await page.getByTestId('whoami').textContent()).toBe(memberEmail);
    expect(await page.getByLabel('Account', { exact: true }).locator('option:checked').textContent()).toBe('Account members-co (Member)');

    // Service Accounts: the list, but neither + nor row menus.
    await row(page, 'nightly-etl').waitFor();
    expect(await page.getByRole('button', { name: 'Create service account' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Actions for / }).count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);

    // Workspaces: nothing shared yet, and no create button (nor an invitation to press one).
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('heading', { name: 'Workspaces', level: 1 }).waitFor();
    const empty = page.getByText('No workspaces you can reach.');
    await empty.waitFor();
    expect(await empty.textContent()).not.toContain('Select +');
    expect(await page.getByRole('button', { name: 'Create workspace' }).count()).toBe(0);

    // Shared as Viewer, the workspace appears; its sharing view offers no way to share it further.
    const member = await h.api('POST', `/api/accounts/${a}/account_memberships/filter`, { key: owner.key, body: {} });
    const memberUserId = member.body.find((m: { email: string | null }) => m.email === memberEmail).user_id;
    const grant = await h.api('POST', `/api/accounts/${a}/workspaces/${ws.body.id}/user_access/`, {
      key: owner.key,
      body: [{ user_id: memberUserId, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }],
    });
    expect(grant.status).toBe(200);
    await page.reload();
    await page.getByRole('link', { name: 'Sharing for Analytics' }).click();
    await page.getByRole('heading', { name: 'Workspace Analytics' }).waitFor();
    await page.getByRole('heading', { name: 'Service accounts', level: 2 }).waitFor();
    expect(await page.getByRole('form', { name: 'Share this workspace' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Remove access for / }).count()).toBe(0);
    expect(await page.getByRole('combobox', { name: /^Workspace role for / }).count()).toBe(0);

    // The Owner's Members page now lists them as a Member, with no invitation left pending.
    await ownerPage.reload();
    await ownerPage.getByRole('table', { name: 'Members' }).waitFor();
    const memberRole = ownerPage.getByLabel(`Account role for ${memberEmail}`);
    expect(await memberRole.locator('option:checked').textContent()).toBe('Member');
    await ownerPage.getByText('No pending invitations.').waitFor();

    expect(h.pageErrors).toEqual([]);
  });
});
