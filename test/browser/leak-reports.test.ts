// Leak reports on the page (issue 19 item 4): the Service Accounts list and My API keys show a
// "Reported leaked" badge with where the key was found, as a link only for an http(s) address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerActor } from '../../src/domain/leak-reports/service.js';
import { row, signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

let h: BrowserHarness;

beforeAll(async () => {
  h = await startBrowserHarness();
});

afterAll(async () => {
  await h?.close();
});

/** A partner's report, through the same service the signed endpoint calls (test/leak-reports.test.ts covers the signature). */
async function reportLeaked(token: string, url: string): Promise<void> {
  const result = await h.app.services.leakReports.report({ actor: partnerActor('browser-test'), requestId: null, now: h.clock.now() }, [
    { token, type: 'gatehouse_key', url, source: 'commit' },
  ]);
  expect(result.ok && result.value.labels[0]!.label).toBe('true_positive');
}

describe('a key reported leaked on the page', () => {
  it('shows the badge, where it was found and that it is disabled, in the Service Accounts list and My API keys', async () => {
    const email = 'owner-leaks@example.com';
    const owner = await h.owner(email, 'leaks-co');
    const bots = `/api/accounts/${owner.accountId}/bots/`;
    const leaked = await h.api('POST', bots, { key: owner.key, body: { name: 'leaked', api_key_expiration: null } });
    const odd = await h.api('POST', bots, { key: owner.key, body: { name: 'odd', api_key_expiration: null } });
    const clean = await h.api('POST', bots, { key: owner.key, body: { name: 'clean', api_key_expiration: null } });
    expect([leaked.status, odd.status, clean.status]).toEqual([201, 201, 201]);
    const mine = await h.api('POST', `/api/users/${owner.userId}/api_keys`, { key: owner.key, body: { name: 'laptop' } });
    expect(mine.status).toBe(201);
    const found = 'https://github.com/octo/repo/blob/abc123/.env';
    await reportLeaked((leaked.body as { api_key: { key: string } }).api_key.key, found);
    await reportLeaked((odd.body as { api_key: { key: string } }).api_key.key, 'javascript:window.__xss=1');
    await reportLeaked((mine.body as { key: string }).key, found);

    const page = await h.newPage();
    await signIn(page, email);
    const report = (name: string) => row(page, name).getByTestId('leak-report');
    await report('leaked').waitFor();
    expect(await report('leaked').textContent()).toMatch(/^Reported leaked Disabled\. Found at https:\/\/github\.com\/octo\/repo\/blob\/abc123\/\.env \(commit\) on .+$/);
    expect(await report('leaked').getByRole('link').getAttribute('href')).toBe(found);
    expect(await report('odd').textContent()).toContain('Found at javascript:window.__xss=1 (commit)');
    expect(await report('odd').getByRole('link').count()).toBe(0);
    expect(await report('clean').count()).toBe(0);

    await page.goto(`${h.baseUrl}/my-api-keys`);
    const laptop = page.locator('[data-testid="api-key-row"][data-name="laptop"]').getByTestId('leak-report');
    await laptop.waitFor();
    expect(await laptop.textContent()).toMatch(/^Reported leaked Disabled\. Found at https:\/\/github\.com\/octo\/repo\/blob\/abc123\/\.env \(commit\) on .+$/);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(h.pageErrors).toEqual([]);
  });

  it('lets an Owner choose to only flag keys reported leaked, on the Key policy page', async () => {
    const email = 'owner-leak-policy@example.com';
    const owner = await h.owner(email, 'leak-policy');
    const page = await h.newPage();
    await signIn(page, email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Key policy' }).click();
    const flag = page.getByLabel('Only flag keys reported leaked (leave them working instead of disabling them at once)');
    await flag.waitFor();
    expect(await flag.isChecked()).toBe(false);
    await flag.check();
    await page.getByRole('button', { name: 'Save policy' }).click();
    await statusSays(page, /Key policy saved/);
    const read = await h.api('GET', `/api/accounts/${owner.accountId}/key_policy`, { key: owner.key });
    expect((read.body as { leaked_key_action: string }).leaked_key_action).toBe('flag');
    expect(h.pageErrors).toEqual([]);
  });
});
