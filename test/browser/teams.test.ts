// Teams on the web page (issue 21, item 2) in Chromium: an Owner creates a team, renames it, puts a
// person and a service account in it, gives it a workspace role (the person's scopes there become
// the role's), takes the person out (their scopes end at once), takes the role away and deletes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_WORKSPACE_ROLES } from '../../src/authz/workspace-roles.js';
import { screenshot, signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

const OWNER = 'owner-teams@example.com';
const PERSON = 'dana@example.com';

let h: BrowserHarness;
let accountId: string;
let ownerKey: string;
let workspaceId: string;
let personKey: string;

beforeAll(async () => {
  h = await startBrowserHarness();
  ({ accountId, key: ownerKey } = await h.owner(OWNER, 'acme-teams'));
  const ws = await h.api('POST', `/api/accounts/${accountId}/workspaces/`, { key: ownerKey, body: { name: 'analytics', handle: 'analytics' } });
  workspaceId = ws.body.id;
  await h.api('POST', `/api/accounts/${accountId}/bots/`, { key: ownerKey, body: { name: 'etl-runner' } });
  // Dana joins the account as a Member through an invitation, and makes a key of her own.
  const roles = await h.api('POST', `/api/accounts/${accountId}/account_roles/filter`, { key: ownerKey, body: {} });
  const member = roles.body.find((r: { name: string }) => r.name === 'Member');
  const invited = await h.api('POST', `/api/accounts/${accountId}/invitations/`, { key: ownerKey, body: { email: PERSON, account_role_id: member.id } });
  const code = new URLSearchParams(new URL(invited.body.accept_url).hash.slice(1)).get('invite_code') ?? '';
  const accepted = await h.api('POST', `/api/invitations/${invited.body.id}/accept?invite_code=${encodeURIComponent(code)}`, { body: { password: 'dana has a long password' } });
  expect(accepted.status).toBe(200);
  personKey = await danaKey(accepted.body.user_id);
});

/** A key of Dana's own, made through the service (her browser session is not at hand here). */
async function danaKey(userId: string): Promise<string> {
  const made = await h.app.services.apiKeys.createUserKey({ actor: { type: 'system', id: null, actorId: null, name: 'test', accountId: null, apiKeyId: null }, requestId: null, now: new Date() }, userId, { name: 'bootstrap' });
  if (!made.ok) throw new Error(made.code);
  return made.value.key;
}

afterAll(async () => {
  await h?.close();
});

const scopes = () => h.api('GET', `/api/me/workspaces/${workspaceId}/scopes`, { key: personKey });
const developer = [...BUILTIN_WORKSPACE_ROLES.find((r) => r.name === 'Developer')!.scopes].sort();

describe('the teams page', () => {
  it('creates, renames, fills, grants, empties and deletes a team, and the member’s scopes follow', async () => {
    const page = await h.newPage();
    await signIn(page, OWNER);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teams' }).click();
    await page.getByRole('heading', { name: 'Teams', level: 1 }).waitFor();
    await page.getByTestId('no-teams').waitFor();

    await page.getByLabel('Team name', { exact: true }).fill('data');
    await page.getByLabel('Description', { exact: true }).fill('Runs the data platform');
    await page.getByRole('button', { name: 'Create team' }).click();
    await statusSays(page, /Created team data\./);
    const team = page.locator('[data-testid="team"][data-name="data"]');
    await team.waitFor();
    expect(await team.textContent()).toContain('Runs the data platform');

    // A second team of the same name is refused, with the server's reason.
    await page.getByLabel('Team name', { exact: true }).last().fill('data');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.getByRole('alert').filter({ hasText: 'A team with this name already exists' }).waitFor();

    await page.getByRole('button', { name: 'Rename data' }).click();
    const renameForm = page.getByRole('form', { name: 'Rename data' });
    await renameForm.getByLabel('Team name').fill('data-platform');
    await renameForm.getByRole('button', { name: 'Save' }).click();
    await statusSays(page, /Saved team data-platform\./);
    const renamed = page.locator('[data-testid="team"][data-name="data-platform"]');
    await renamed.waitFor();

    await renamed.getByLabel('Add a member', { exact: true }).selectOption({ label: PERSON });
    await renamed.getByRole('button', { name: 'Add', exact: true }).click();
    await statusSays(page, new RegExp(`Added ${PERSON.replace('.', '\\.')} to data-platform\\.`));
    await renamed.locator(`[data-testid="team-member-row"][data-member="${PERSON}"]`).waitFor();
    await renamed.getByLabel('Add a member', { exact: true }).selectOption({ label: 'etl-runner (service account)' });
    await renamed.getByRole('button', { name: 'Add', exact: true }).click();
    await statusSays(page, /Added etl-runner \(service account\) to data-platform\./);
    // The status can come before the list has reloaded: wait for the second row itself.
    await expect.poll(() => renamed.getByTestId('team-member-row').count(), { timeout: 10_000 }).toBe(2);
    expect((await scopes()).status).toBe(404);

    await renamed.getByLabel('Workspace', { exact: true }).selectOption({ label: 'analytics' });
    await renamed.getByLabel('Role', { exact: true }).selectOption({ label: 'Developer' });
    await renamed.getByRole('button', { name: 'Give role' }).click();
    await statusSays(page, /data-platform has role Developer on analytics\./);
    await renamed.locator('[data-testid="team-workspace-row"][data-workspace="analytics"]').waitFor();
    expect((await scopes()).body).toEqual(developer);
    await screenshot(page, 'teams.png');

    await page.getByRole('button', { name: `Remove ${PERSON} from data-platform` }).click();
    await statusSays(page, new RegExp(`Removed ${PERSON.replace('.', '\\.')} from data-platform\\.`));
    await renamed.locator(`[data-testid="team-member-row"][data-member="${PERSON}"]`).waitFor({ state: 'detached' });
    expect((await scopes()).status).toBe(404);

    await page.getByRole('button', { name: "Take data-platform's role on analytics away" }).click();
    await statusSays(page, /data-platform no longer has a role on analytics\./);
    await renamed.locator('[data-testid="team-workspace-row"]').waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Delete team data-platform' }).click();
    await statusSays(page, /Deleted team data-platform\./);
    await renamed.waitFor({ state: 'detached' });
    expect((await h.api('POST', `/api/accounts/${accountId}/teams/filter`, { key: ownerKey, body: {} })).body).toEqual([]);
    expect(h.pageErrors).toEqual([]);
  });

  it('shows a Member the teams without the controls that change them', async () => {
    await h.api('POST', `/api/accounts/${accountId}/teams/`, { key: ownerKey, body: { name: 'readers' } });
    const page = await h.newPage();
    await signIn(page, PERSON, 'dana has a long password');
    await page.goto('/teams');
    await page.locator('[data-testid="team"][data-name="readers"]').waitFor();
    expect(await page.getByRole('button', { name: 'Create team' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete team readers' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Rename readers' }).count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });
});
