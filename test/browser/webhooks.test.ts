// Notices on the web page (issue 19, item 3) in Chromium: an Owner adds a webhook and copies its
// signing secret (shown once), sends a test and reads the delivery log, disables and removes it;
// and a key expiring within 7 days is flagged in the Service Accounts list and in My API keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { row, signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const OWNER = 'owner-webhooks@example.com';
const DAY = 86_400_000;

let h: BrowserHarness;
let accountId: string;
let userId: string;
let ownerKey: string;
let receiver: WebhookReceiver;

beforeAll(async () => {
  h = await startBrowserHarness();
  ({ accountId, userId, key: ownerKey } = await h.owner(OWNER, 'acme-webhooks'));
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await h?.close();
});

describe('the webhooks page', () => {
  it('adds a webhook showing its secret once, sends a test, shows the delivery log, disables and removes it', async () => {
    const page = await h.newPage();
    await signIn(page, OWNER);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No webhooks yet.').waitFor(); // shown once the list has loaded

    await page.getByLabel('URL', { exact: true }).fill('ftp://127.0.0.1/x');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByRole('alert').filter({ hasText: 'must be an http:// or https:// URL' }).waitFor();

    await page.getByLabel('URL', { exact: true }).fill(receiver.url);
    await page.getByLabel('Description', { exact: true }).fill('ops pager');
    await page.getByLabel(/A key was rotated/).uncheck();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await statusSays(page, /Added the webhook to http:\/\/127\.0\.0\.1:\d+\/hooks\./);
    const secret = await page.getByTestId('webhook-secret-value').inputValue();
    expect(secret).toMatch(/^whsec_/);
    const listed = (await h.api('GET', `/api/accounts/${accountId}/webhooks`, { key: ownerKey })).body;
    expect(listed).toHaveLength(1);
    expect(listed[0].event_types).not.toContain('api_key.rotated');
    expect(JSON.stringify(listed)).not.toContain(secret);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('webhook-secret').count()).toBe(0);

    const hookRow = page.locator(`[data-testid="webhook-row"][data-url="${receiver.url}"]`);
    await hookRow.waitFor();
    expect(await hookRow.textContent()).toContain('ops pager');
    await page.getByRole('button', { name: `Send a test to ${receiver.url}` }).click();
    await statusSays(page, /Test delivered to http:\/\/127\.0\.0\.1:\d+\/hooks: HTTP 204 in \d+ ms\./);
    expect(receiver.received.map((r) => r.json.type)).toEqual(['webhook.test']);
    const attempt = page.getByTestId('webhook-attempt').first();
    await attempt.waitFor();
    expect(await attempt.textContent()).toMatch(/webhook\.testHTTP 204\d+ msdelivered/);

    await page.getByRole('button', { name: `Disable ${receiver.url}` }).click();
    await statusSays(page, /disabled\./);
    await page.getByRole('button', { name: `Enable ${receiver.url}` }).waitFor();
    await page.getByRole('button', { name: `Remove ${receiver.url}` }).click();
    await statusSays(page, /Removed the webhook/);
    await hookRow.waitFor({ state: 'detached' });
    expect((await h.api('GET', `/api/accounts/${accountId}/webhooks`, { key: ownerKey })).body).toEqual([]);
    expect(h.pageErrors).toEqual([]);
  });

  it('flags a key expiring within 7 days in the Service Accounts list and in My API keys', async () => {
    const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();
    for (const [name, days] of [['expiring-bot', 3], ['later-bot', 30]] as const) {
      const res = await h.api('POST', `/api/accounts/${accountId}/bots/`, { key: ownerKey, body: { name, api_key_expiration: inDays(days) } });
      expect(res.status).toBe(201);
    }
    const mine = await h.api('POST', `/api/users/${userId}/api_keys`, { key: ownerKey, body: { name: 'laptop-soon', expiration: inDays(2) } });
    expect(mine.status).toBe(201);
    const page = await h.newPage();
    await signIn(page, OWNER);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Service Accounts' }).click();
    await row(page, 'expiring-bot').waitFor();
    expect(await row(page, 'expiring-bot').getByTestId('expires-soon').textContent()).toBe('Expires soon');
    expect(await row(page, 'later-bot').getByTestId('expires-soon').count()).toBe(0);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My API keys' }).click();
    const key = page.getByRole('row').filter({ hasText: 'laptop-soon' });
    await key.waitFor();
    expect(await key.getByTestId('expires-soon').textContent()).toBe('Expires soon');
    expect(h.pageErrors).toEqual([]);
  });
});
