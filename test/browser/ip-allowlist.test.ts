// The IP allowlist section (issue 19, item 5) in Chromium: an Owner adds networks, sees their own
// address, is refused with the reason when enforcing would lock them out, enforces once their
// address is on it, and is refused again when disabling their own entry. The browser reaches
// Gatehouse from 127.0.0.1, so that is "your address".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

const OWNER = 'owner-allowlist@example.com';

let h: BrowserHarness;
let accountId: string;
let ownerKey: string;

beforeAll(async () => {
  h = await startBrowserHarness();
  ({ accountId, key: ownerKey } = await h.owner(OWNER, 'acme-allowlist'));
});

afterAll(async () => {
  await h?.close();
});

describe('the IP allowlist page', () => {
  it('adds entries, refuses a lock-out with its reason, and enforces once your address is listed', async () => {
    const page = await h.newPage();
    await signIn(page, OWNER);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'IP allowlist' }).click();
    await page.getByRole('heading', { name: 'IP allowlist', level: 1 }).waitFor();
    expect(await page.getByTestId('ip-allowlist-state').textContent()).toBe('Enforcement is disabled.');
    expect(await page.getByTestId('ip-allowlist-my-access').textContent()).toBe('The IP allowlist is empty, so it restricts nothing; your address is 127.0.0.1.');

    await page.getByLabel('Address or network', { exact: true }).fill('10.0.0.0/8');
    await page.getByLabel('Description', { exact: true }).fill('office');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await statusSays(page, /Added 10\.0\.0\.0\/8 to the IP allowlist\./);
    await page.locator('[data-testid="ip-allowlist-row"][data-network="10.0.0.0/8"]').waitFor();
    expect(await page.getByTestId('ip-allowlist-my-access').textContent()).toContain("Your address 127.0.0.1 is not on the IP allowlist's enabled entries");

    // Enforcing now would lock the Owner out: refused, with the reason.
    await page.getByRole('button', { name: 'Enforce the allowlist' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'lock you out' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("Your address 127.0.0.1 is not on the IP allowlist's enabled entries, so enforcing this list would lock you out");
    expect((await h.api('GET', `/api/accounts/${accountId}/settings`, { key: ownerKey })).body.enforce_ip_allowlist).toBe(false);

    // A bad address is refused with the API's reason.
    await page.getByLabel('Address or network', { exact: true }).fill('10.0.0.1/8');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'has host bits set' }).waitFor();

    await page.getByLabel('Address or network', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Description', { exact: true }).fill('this host');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('[data-testid="ip-allowlist-row"][data-network="127.0.0.1/32"]').waitFor();
    await page.getByRole('button', { name: 'Enforce the allowlist' }).click();
    await statusSays(page, /The IP allowlist is now enforced\./);
    await page.getByTestId('ip-allowlist-state').filter({ hasText: 'Enforcement is enabled.' }).waitFor();

    // Disabling one's own entry while enforced is refused too.
    await page.getByRole('button', { name: 'Disable 127.0.0.1/32' }).click();
    await page.getByRole('alert').filter({ hasText: 'saving it would lock you out' }).waitFor();
    await page.getByRole('button', { name: 'Remove 10.0.0.0/8' }).click();
    await statusSays(page, /Removed 10\.0\.0\.0\/8 from the IP allowlist\./);
    // The status is set before the list reloads: wait for the row itself to go.
    await page.locator('[data-testid="ip-allowlist-row"][data-network="10.0.0.0/8"]').waitFor({ state: 'detached' });
    expect(await page.locator('[data-testid="ip-allowlist-row"]').count()).toBe(1);
    const stored = (await h.api('GET', `/api/accounts/${accountId}/ip_allowlist`, { key: ownerKey })).body;
    expect(stored.entries).toEqual([{ ip_network: '127.0.0.1/32', description: 'this host', enabled: true, last_seen: null }]);

    await page.getByRole('button', { name: 'Stop enforcing' }).click();
    await statusSays(page, /The IP allowlist is no longer enforced\./);
    expect(h.pageErrors).toEqual([]);
  });
});
