// The SCIM page (issue 21, item 3) in Chromium: an Owner copies the SCIM base URL, creates a token
// (shown once) that an identity provider then uses, sees its last use, and revokes it, after which
// the provider is refused; a Member is told the page is for Owners and Admins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

const OWNER = 'owner-scim@example.com';

let h: BrowserHarness;
let accountId: string;
let ownerKey: string;

beforeAll(async () => {
  h = await startBrowserHarness();
  ({ accountId, key: ownerKey } = await h.owner(OWNER, 'acme-scim'));
});

afterAll(async () => {
  await h?.close();
});

describe('the SCIM page', () => {
  it('shows the base URL, creates a token shown once, shows its last use and revokes it', async () => {
    const page = await h.newPage();
    await signIn(page, OWNER);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'SCIM' }).click();
    await page.getByRole('heading', { name: 'SCIM provisioning', level: 1 }).waitFor();
    expect(await page.getByText('No SCIM tokens yet.').isVisible()).toBe(true);
    const baseUrl = await page.getByTestId('scim-base-url').inputValue();
    expect(baseUrl).toBe(`${h.baseUrl}/api/accounts/${accountId}/scim/v2`);

    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('alert').filter({ hasText: 'Name the token after the identity provider' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Okta');
    await page.getByRole('button', { name: 'Create token' }).click();
    await statusSays(page, /Created the SCIM token Okta\./);
    const token = await page.getByTestId('scim-token-value').inputValue();
    expect(token).toMatch(/^scim_[0-9A-Za-z]{40}$/);
    const row = page.locator('[data-testid="scim-token-row"][data-name="Okta"]');
    await row.waitFor();
    expect(await row.textContent()).toContain(`${token.slice(0, 9)}********`);
    expect(await page.getByTestId('scim-token-last-used').textContent()).toBe('Never');
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('scim-token-created').count()).toBe(0);
    expect(await page.content()).not.toContain(token);

    // The identity provider uses it at the base URL shown.
    const users = await h.api('GET', `${new URL(baseUrl).pathname}/Users?filter=${encodeURIComponent(`userName eq "${OWNER}"`)}`, { key: token });
    expect([users.status, users.body.totalResults]).toEqual([200, 1]);
    await page.reload();
    await page.getByRole('heading', { name: 'SCIM provisioning', level: 1 }).waitFor();
    expect(await page.getByTestId('scim-token-last-used').textContent()).toMatch(/^(just now|\d+ \w+ ago) from 127\.0\.0\.1$/);

    await page.getByRole('button', { name: 'Revoke Okta' }).click();
    await statusSays(page, /Revoked the SCIM token Okta/);
    await row.waitFor({ state: 'detached' });
    expect((await h.api('GET', `/api/accounts/${accountId}/scim/v2/Users`, { key: token })).status).toBe(401);
    expect(h.pageErrors).toEqual([]);
  });

  it('tells a Member that SCIM is for Owners and Admins', async () => {
    const member = 'member-scim@example.com';
    const invite = await h.api('POST', `/api/accounts/${accountId}/invitations/`, { key: ownerKey, body: { email: member, account_role_id: 'a0000000-0000-4000-8000-000000000003' } });
    expect(invite.status).toBe(201);
    const code = new URLSearchParams(new URL(invite.body.accept_url).hash.slice(1)).get('invite_code')!;
    const accepted = await h.api('POST', `/api/invitations/${invite.body.id}/accept?invite_code=${encodeURIComponent(code)}`, { body: { password: 'correct horse battery' } });
    expect(accepted.status).toBeLessThan(300);
    const page = await h.newPage();
    await signIn(page, member);
    await page.goto('/scim');
    await page.getByText("Only account Owners and Admins see and manage the account's SCIM tokens.").waitFor();
    expect(h.pageErrors).toEqual([]);
  });
});
