// The seed's story in a real browser: first-run setup, a service account with an expiring key, the
// key working against the API, sharing a workspace, rotating with a grace period, removal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateInDays, PASSWORD, row, signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

let h: BrowserHarness;

beforeAll(async () => {
  h = await startBrowserHarness();
});

afterAll(async () => {
  await h?.close();
});

const OWNER = 'owner-story@example.com';
const KEY = /^pnb_[A-Za-z0-9]{36}$/;
// How the list shows a key chosen to expire on `date` (the browser runs in this process's time zone).
const shownDate = (date: string) => new Date(`${date}T23:59:59`).toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric' });

describe('service accounts in the browser', () => {
  it('walks the seed story: create with an expiration, use the key, share, rotate with grace, remove', async () => {
    const token = await h.app.services.setup.issueToken();
    expect(token).toEqual(expect.any(String));

    // First run: the setup link creates the account and signs its Owner in.
    const page = await h.newPage({ clipboard: true });
    await page.goto(`/setup#token=${token}`);
    await page.getByRole('heading', { name: 'Set up Gatehouse' }).waitFor();
    await page.getByLabel('Account name', { exact: true }).fill('Acme Data');
    expect(await page.getByLabel('Account handle', { exact: true }).inputValue()).toBe('acme-data');
    await page.getByLabel('Email', { exact: true }).fill(OWNER);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    // The Owner is told how the CLI signs in: with an API key from My API keys, not the password.
    await page.getByRole('heading', { name: 'Gatehouse is set up' }).waitFor();
    await statusSays(page, /Account Acme Data created/);
    expect(await page.getByRole('link', { name: 'My API keys' }).getAttribute('href')).toBe('/my-api-keys');
    expect(await page.getByTestId('gatehouse-login-command').inputValue()).toBe(`gatehouse login --url ${h.baseUrl} --key YOUR_API_KEY`);
    expect(page.url()).toBe(`${h.baseUrl}/setup`);
    await page.getByRole('button', { name: 'Continue to Gatehouse' }).click();
    await page.getByRole('heading', { name: 'Service Accounts', level: 1 }).waitFor();

    // Signing out and back in with the password set on the setup page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
    await signIn(page, OWNER);
    await page.getByText('No service accounts yet.').waitFor();

    // A workspace first, so the key dialog can show the commands for it; it is not shared yet.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('heading', { name: 'Workspaces', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Create workspace' }).click();
    const wsDialog = page.getByRole('dialog', { name: 'Create workspace' });
    await wsDialog.getByLabel('Name', { exact: true }).fill('Production');
    expect(await wsDialog.getByLabel('Handle', { exact: true }).inputValue()).toBe('production');
    await wsDialog.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByRole('link', { name: 'Sharing for Production' }).waitFor();

    // Create the service account with a date 30 days out.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Service Accounts' }).click();
    await page.getByRole('button', { name: 'Create service account' }).click();
    const create = page.getByRole('dialog', { name: 'Create service account' });
    await create.getByLabel('Name', { exact: true }).fill('ci-worker');
    const expires = dateInDays(30);
    await create.getByLabel('Expiration date').fill(expires);
    await create.getByRole('button', { name: 'Create', exact: true }).click();

    const created = page.getByRole('dialog', { name: 'Service account created' });
    await created.waitFor();
    const key = await created.getByTestId('api-key-value').inputValue();
    expect(key).toMatch(KEY);
    expect(await created.getByRole('note').textContent()).toContain('It cannot be shown again');
    expect(await created.getByTestId('cloud-api-url').inputValue()).toBe(`PREFECT_CLOUD_API_URL=${h.baseUrl}/api`);
    expect(await created.getByTestId('login-command').inputValue()).toBe(`prefect cloud login -k ${key} --workspace acme-data/production`);
    const env = await created.getByTestId('env-vars').inputValue();
    const envMatch = env.match(/^PREFECT_API_URL=(.+)\/api\/accounts\/([0-9a-f-]{36})\/workspaces\/([0-9a-f-]{36})\nPREFECT_API_KEY=(.+)$/);
    expect(envMatch, env).not.toBeNull();
    expect(envMatch![1]).toBe(h.baseUrl);
    expect(envMatch![4]).toBe(key);

    await created.getByRole('button', { name: 'Copy API key' }).click();
    await statusSays(page, /API key copied to the clipboard/);
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(key);

    // The new key works, and sees no workspace until one is shared with it.
    const before = await h.api('GET', '/api/me/workspaces', { key });
    expect(before.status).toBe(200);
    expect(before.body).toEqual([]);

    await created.getByRole('button', { name: 'Done' }).click();
    await created.waitFor({ state: 'detached' });
    await row(page, 'ci-worker').waitFor();
    expect(await row(page, 'ci-worker').textContent()).toContain(shownDate(expires));

    // Share Production with it as Developer from the sharing view.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('link', { name: 'Sharing for Production' }).click();
    await page.getByRole('heading', { name: 'Workspace Production' }).waitFor();
    const share = page.getByRole('form', { name: 'Share this workspace' });
    await share.getByLabel('Member or service account').selectOption({ label: 'ci-worker' });
    await share.getByLabel('Workspace role', { exact: true }).selectOption({ label: 'Developer' });
    await share.getByRole('button', { name: 'Add access' }).click();
    const bots = page.getByRole('table', { name: 'Service accounts with access' });
    await bots.getByRole('row', { name: /ci-worker/ }).waitFor();
    const roleSelect = bots.getByLabel('Workspace role for ci-worker');
    expect(await roleSelect.locator('option:checked').textContent()).toBe('Developer');

    const after = await h.api('GET', '/api/me/workspaces', { key });
    expect(after.status).toBe(200);
    expect(after.body).toHaveLength(1);
    expect(after.body[0]).toMatchObject({ workspace_name: 'Production', workspace_handle: 'production', account_handle: 'acme-data' });
    // The PREFECT_API_URL shown before sharing points at the workspace the key now reaches.
    expect(after.body[0].account_id).toBe(envMatch![2]);
    expect(after.body[0].workspace_id).toBe(envMatch![3]);
    const scopes = await h.api('GET', `/api/me/workspaces/${after.body[0].workspace_id}/scopes`, { key });
    expect(scopes.status).toBe(200);
    expect(scopes.body).toContain('write_deployments');

    // The list names the workspace it can reach.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Service Accounts' }).click();
    await row(page, 'ci-worker').getByText('Production').waitFor();

    // Rotate, keeping the old key for one hour.
    await page.getByRole('button', { name: 'Actions for ci-worker' }).click();
    await page.getByRole('menuitem', { name: 'Rotate API Key' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate API key: ci-worker' });
    await rotate.getByLabel('Expiration date').fill(dateInDays(90));
    await rotate.getByLabel('Keep the old key working for up to 48 hours').check();
    const hours = rotate.getByLabel('Hours the old key keeps working');
    expect(await hours.inputValue()).toBe('24');
    await hours.fill('1');
    await rotate.getByRole('button', { name: 'Rotate API Key' }).click();
    const rotated = page.getByRole('dialog', { name: 'API key rotated' });
    await rotated.waitFor();
    const newKey = await rotated.getByTestId('api-key-value').inputValue();
    expect(newKey).toMatch(KEY);
    expect(newKey).not.toBe(key);
    expect(await rotated.textContent()).toContain('The old key of ci-worker keeps working until about');
    expect(await rotated.getByTestId('login-command').inputValue()).toBe(`prefect cloud login -k ${newKey} --workspace acme-data/production`);
    expect(await rotated.getByTestId('env-vars').inputValue()).toContain(`PREFECT_API_KEY=${newKey}`);

    for (const k of [key, newKey]) {
      const res = await h.api('GET', '/api/me/workspaces', { key: k });
      expect(res.status).toBe(200);
      expect(res.body.map((w: { workspace_name: string }) => w.workspace_name)).toEqual(['Production']);
    }
    await rotated.getByRole('button', { name: 'Done' }).click();
    await rotated.waitFor({ state: 'detached' });

    // Remove: the confirmation names the workspace that loses it; both keys stop at once.
    await page.getByRole('button', { name: 'Actions for ci-worker' }).click();
    await page.getByRole('menuitem', { name: 'Remove' }).click();
    const remove = page.getByRole('dialog', { name: 'Remove service account ci-worker?' });
    await remove.waitFor();
    expect(await remove.textContent()).toContain('These workspaces will lose this service account: Production.');
    await remove.getByRole('button', { name: 'Remove', exact: true }).click();
    await remove.waitFor({ state: 'detached' });
    await row(page, 'ci-worker').waitFor({ state: 'detached' });
    await statusSays(page, /Service account ci-worker removed/);
    await page.getByText('No service accounts yet.').waitFor();

    for (const k of [key, newKey]) {
      const res = await h.api('GET', '/api/me/workspaces', { key: k });
      expect(res.status).toBe(401);
    }
    expect(h.pageErrors).toEqual([]);
  });
});
