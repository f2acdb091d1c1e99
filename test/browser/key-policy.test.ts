// The key policy in a real browser (issue 19, item 2): an Owner sets it on the Key policy page and
// sees the existing keys that break it; the create dialog then shows the limits up front (the date
// picker's last day, Never Expire disabled with the reason) and refuses a later date.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateInDays, row, signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

let h: BrowserHarness;

beforeAll(async () => {
  h = await startBrowserHarness();
});

afterAll(async () => {
  await h?.close();
});

describe('the key policy page', () => {
  it('sets the policy, lists the keys that break it, and the create dialog honours it', async () => {
    const email = 'owner-policy@example.com';
    const owner = await h.owner(email, 'policy');
    const made = await h.api('POST', `/api/accounts/${owner.accountId}/bots/`, { key: owner.key, body: { name: 'forever-bot', api_key_expiration: null } });
    expect(made.status).toBe(201);

    const page = await h.newPage();
    await signIn(page, email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Key policy' }).click();
    await page.getByRole('heading', { name: 'Key policy', level: 1 }).waitFor();
    await page.getByText('No existing key breaks this policy.').waitFor();
    await page.getByLabel('Longest key lifetime (days)').fill('30');
    await page.getByLabel('Allow keys that never expire').uncheck();
    await page.getByRole('button', { name: 'Save policy' }).click();
    await statusSays(page, /Key policy saved/);
    const breach = page.locator('[data-testid="key-policy-breach"][data-name="forever-bot"]');
    await breach.waitFor();
    expect(await breach.textContent()).toContain('Never expires');
    const read = await h.api('GET', `/api/accounts/${owner.accountId}/key_policy`, { key: owner.key });
    expect(read.body).toMatchObject({ max_key_lifetime_days: 30, allow_never_expire: false, max_rotation_grace_seconds: null, disable_keys_unused_days: null });
    // Existing keys are listed, not changed.
    const bot = await h.api('GET', `/api/accounts/${owner.accountId}/bots/${made.body.id}`, { key: owner.key });
    expect(bot.body.api_key.expiration).toBeNull();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Service Accounts' }).click();
    await page.getByRole('button', { name: 'Create service account' }).click();
    const create = page.getByRole('dialog', { name: 'Create service account' });
    expect(await create.getByTestId('key-policy-hint').textContent()).toBe("This account's key policy allows keys of at most 30 days, no keys that never expire.");
    const max = await create.getByLabel('Expiration date').getAttribute('max');
    expect([dateInDays(29), dateInDays(30)]).toContain(max);
    expect(await create.getByLabel('Never Expire').isDisabled()).toBe(true);

    await create.getByLabel('Name', { exact: true }).fill('policy-bot');
    await create.getByLabel('Expiration date').fill(dateInDays(45));
    await create.getByRole('button', { name: 'Create', exact: true }).click();
    await create.getByText(`This account's key policy allows an expiration up to ${max}; choose that day or an earlier one.`).waitFor();
    await create.getByLabel('Expiration date').fill(max!);
    await create.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('dialog', { name: 'Service account created' }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await row(page, 'policy-bot').waitFor();
    expect(h.pageErrors).toEqual([]);
  });
});
