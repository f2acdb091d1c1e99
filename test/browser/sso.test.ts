// Single sign-on in Chromium against a real OpenID provider (oidc-provider on 127.0.0.1): an Owner
// sets up the provider, a domain and "require SSO" on the Single sign-on page; a new person signs
// in through the provider's own login page and lands signed in; and the refusals a person sees on
// the sign-in page: a token for another audience, a replayed callback, an unverified email, and a
// user removed at the provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';
import { startLocalProvider, type LocalProvider } from '../support/oidc-provider.js';

const OWNER = 'owner@acme-browser.test';
const HANDLE = 'acme-browser';

let h: BrowserHarness;
let idp: LocalProvider;
let accountId: string;
let ownerKey: string;

beforeAll(async () => {
  h = await startBrowserHarness();
  idp = await startLocalProvider([`${h.baseUrl}/api/auth/sso/callback`]);
  ({ accountId, key: ownerKey } = await h.owner(OWNER, HANDLE));
});

afterAll(async () => {
  await idp?.close();
  await h?.close();
});

/** From the sign-in page, through the provider's login page as `login`; resolves where the browser lands. */
async function signInThroughProvider(page: Page, email: string, login: string, password = 'provider-password'): Promise<void> {
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Continue with single sign-on' }).click();
  await page.getByRole('link', { name: `Sign in with Acme IdP (Account ${HANDLE})` }).click();
  await page.getByRole('heading', { name: 'Test identity provider: sign in' }).waitFor();
  expect(page.url().startsWith(idp.issuer)).toBe(true);
  await page.getByLabel('Username').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function refusedWith(page: Page, text: string): Promise<void> {
  const alert = page.getByRole('alert').filter({ hasText: text });
  await alert.waitFor();
  expect(new URL(page.url()).pathname).toBe('/sign-in');
  expect(await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).isVisible()).toBe(true);
}

describe('single sign-on in the browser', () => {
  it('an Owner adds the provider, checks it, verifies a domain and requires SSO on the page', async () => {
    const page = await h.newPage();
    await signIn(page, OWNER);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Single sign-on' }).click();
    await page.getByRole('heading', { name: 'Single sign-on', level: 1 }).waitFor();
    await page.getByLabel('Name on the sign-in button').fill('Acme IdP');
    await page.getByLabel('Issuer URL').fill(idp.issuer);
    await page.getByLabel('Client id').fill(idp.clientId);
    await page.getByLabel('Client secret').fill(idp.clientSecret);
    await page.getByRole('button', { name: 'Add provider' }).click();
    await statusSays(page, /Added Acme IdP\./);
    await page.locator('[data-testid="sso-provider-row"][data-name="Acme IdP"]').waitFor();
    expect(await page.content()).not.toContain(idp.clientSecret);
    await page.getByRole('button', { name: 'Check Acme IdP' }).click();
    await page.getByTestId('sso-check').filter({ hasText: `OK: The issuer answers: its authorization endpoint is ${idp.issuer}/auth` }).waitFor();

    await page.getByLabel('Domain', { exact: true }).fill('acme-browser.test');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await statusSays(page, /Added acme-browser\.test\./);
    await page.getByRole('button', { name: 'Verify acme-browser.test' }).click();
    await statusSays(page, /acme-browser\.test is verified\./);
    // The status line speaks before the page has reloaded: wait for the row itself.
    await page.locator('[data-testid="sso-domain-row"][data-name="acme-browser.test"]').filter({ hasText: 'Yes (by an Owner or Admin)' }).waitFor();

    await page.getByRole('button', { name: 'Require single sign-on' }).click();
    await statusSays(page, /Passwords are turned off/);
    await page.getByTestId('sso-passwords').filter({ hasText: 'turned off' }).waitFor();
    await page.getByRole('heading', { name: 'Single sign-on', level: 1 }).scrollIntoViewIfNeeded();
    await screenshot(page, 'single-sign-on.png', async () => (await page.getByTestId('sso-passwords').textContent())!.includes('turned off'));

    const domains = await h.api('GET', `/api/accounts/${accountId}/domains`, { key: ownerKey });
    expect(domains.body).toEqual([expect.objectContaining({ name: 'acme-browser.test', verified: true, verified_by: 'owner' })]);
    const settings = await h.api('GET', `/api/accounts/${accountId}/sso/settings`, { key: ownerKey });
    expect(settings.body.passwords_disabled).toBe(true);
  });

  it('signs a new person in through the provider, who joins the account', async () => {
    idp.users.set('ada', { email: 'ada@acme-browser.test', email_verified: true, password: 'provider-password' });
    const page = await h.newPage();
    const callbacks: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/auth/sso/callback')) callbacks.push(request.url());
    });
    await signInThroughProvider(page, 'ada@acme-browser.test', 'ada');
    await page.getByRole('heading', { name: 'Service Accounts', level: 1 }).waitFor();
    expect(await page.getByText('ada@acme-browser.test').or(page.getByText('ada', { exact: true })).first().isVisible()).toBe(true);
    const members = await h.api('POST', `/api/accounts/${accountId}/account_memberships/filter`, { key: ownerKey, body: {} });
    expect(members.body.map((m: { email?: string; user?: { email?: string } }) => m.email ?? m.user?.email)).toContain('ada@acme-browser.test');

    // The same callback again, from another browser: refused, no one signed in.
    expect(callbacks).toHaveLength(1);
    const other = await h.newPage();
    await other.goto(callbacks[0]);
    await refusedWith(other, 'This sign-in link has expired, was already used, or was started in another browser');
  });

  it('shows the refusal of an id token for another audience', async () => {
    idp.users.set('bea', { email: 'bea@acme-browser.test', email_verified: true, password: 'provider-password' });
    idp.wrongAudience = true;
    try {
      const page = await h.newPage();
      await signInThroughProvider(page, 'bea@acme-browser.test', 'bea');
      await refusedWith(page, 'unexpected JWT "aud" (audience) claim value');
    } finally {
      idp.wrongAudience = false;
    }
  });

  it('shows the refusal of an email the provider has not verified', async () => {
    idp.users.set('cy', { email: 'cy@acme-browser.test', email_verified: false, password: 'provider-password' });
    const page = await h.newPage();
    await signInThroughProvider(page, 'cy@acme-browser.test', 'cy');
    await refusedWith(page, 'email_verified is not true');
  });

  it('keeps out a person removed at the provider', async () => {
    idp.users.set('dee', { email: 'dee@acme-browser.test', email_verified: true, password: 'provider-password' });
    const first = await h.newPage();
    await signInThroughProvider(first, 'dee@acme-browser.test', 'dee');
    await first.getByRole('heading', { name: 'Service Accounts', level: 1 }).waitFor();

    idp.users.delete('dee');
    const page = await h.newPage();
    await signInThroughProvider(page, 'dee@acme-browser.test', 'dee');
    await page.getByRole('alert').filter({ hasText: 'Unknown user or wrong password' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await refusedWith(page, 'access_denied');
  });

  it("refuses a member's password once SSO is required, naming the account, while the Owner keeps theirs", async () => {
    // A member with a password: invited by the Owner, accepted with a password over the API.
    const invited = await h.api('POST', `/api/accounts/${accountId}/invitations/`, { key: ownerKey, body: { email: 'pat@elsewhere.test', account_role_id: 'a0000000-0000-4000-8000-000000000003' } });
    expect(invited.status).toBe(201);
    const code = decodeURIComponent(String(invited.body.accept_url).split('#invite_code=')[1]);
    const accepted = await h.api('POST', `/api/invitations/${invited.body.id}/accept?invite_code=${encodeURIComponent(code)}`, { body: { password: 'pat-password-123' } });
    expect(accepted.status).toBe(200);

    const page = await h.newPage();
    await page.goto('/');
    await page.getByLabel('Email', { exact: true }).fill('pat@elsewhere.test');
    await page.getByLabel('Password', { exact: true }).fill('pat-password-123');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: `The account ${HANDLE} requires single sign-on` }).waitFor();

    // The Owner's role holds bypass:sso: the break-glass still works.
    const owner = await h.newPage();
    await signIn(owner, OWNER);
    expect(h.pageErrors).toEqual([]);
  });
});
