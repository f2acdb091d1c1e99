// A key's last use on the page: the Service Accounts list and My API keys say "Last used … ago from
// ADDRESS · CLIENT" (or "Never used"), a User-Agent is shown as text, never as markup, and the
// rotate dialog says when the old key was last used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateInDays, row, signIn, startBrowserHarness, type BrowserHarness } from './support.js';

let h: BrowserHarness;

beforeAll(async () => {
  h = await startBrowserHarness();
});

afterAll(async () => {
  await h?.close();
});

/** A request made with a key, as a client names itself. */
async function use(key: string, client: string): Promise<void> {
  const res = await fetch(`${h.baseUrl}/api/me/workspaces`, { headers: { authorization: `Bearer ${key}`, 'user-agent': client } });
  expect(res.status).toBe(200);
}

describe('last use on the page', () => {
  it('shows when, from where and with which client each key was last used, and the old key in the rotate dialog', async () => {
    const email = 'owner-last-use@example.com';
    const owner = await h.owner(email, 'last-use-co');
    const bots = `/api/accounts/${owner.accountId}/bots/`;
    const worker = await h.api('POST', bots, { key: owner.key, body: { name: 'worker', api_key_expiration: null } });
    const idle = await h.api('POST', bots, { key: owner.key, body: { name: 'idle', api_key_expiration: null } });
    const odd = await h.api('POST', bots, { key: owner.key, body: { name: 'odd', api_key_expiration: null } });
    expect([worker.status, idle.status, odd.status]).toEqual([201, 201, 201]);

    // The worker's key was used three minutes ago (as the server's clock saw it).
    h.clock.advance(-180_000);
    await use(worker.body.api_key.key, 'prefect/3.9.1');
    h.clock.advance(180_000);
    await use(odd.body.api_key.key, '<img src=x onerror="window.__xss=1">');
    await use(owner.key, 'gatehouse-cli/0.1');
    await h.app.keyUse.flush();

    const page = await h.newPage();
    await signIn(page, email);
    const lastUsed = (name: string) => row(page, name).getByTestId('last-used');
    await lastUsed('worker').waitFor();
    expect(await lastUsed('worker').textContent()).toBe('Last used 3 minutes ago from 127.0.0.1 · prefect/3.9.1');
    expect(await lastUsed('idle').textContent()).toBe('Never used');
    expect(await lastUsed('odd').textContent()).toMatch(/^Last used (just now|\d+ seconds? ago) from 127\.0\.0\.1 · <img src=x onerror="window.__xss=1">$/);
    expect(await row(page, 'odd').locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

    // Rotating the worker's key with a grace: the dialog says when the current (soon old) key was last used.
    await row(page, 'worker').getByRole('button', { name: 'Actions for worker' }).click();
    await page.getByRole('menuitem', { name: 'Rotate API Key' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate API key: worker' });
    expect(await rotate.getByTestId('current-key-last-use').textContent()).toBe('The current key was last used 3 minutes ago.');
    await rotate.getByLabel('Expiration date').fill(dateInDays(90));
    await rotate.getByLabel('Keep the old key working for up to 48 hours').check();
    await rotate.getByRole('button', { name: 'Rotate API Key' }).click();
    const rotated = page.getByRole('dialog', { name: 'API key rotated' });
    await rotated.waitFor();
    expect(await rotated.locator('p').first().textContent()).toMatch(/keeps working until .*The old key was last used 3 minutes ago\.$/);
    await rotated.getByRole('button', { name: 'Done' }).click();
    await rotated.waitFor({ state: 'detached' });

    // The old key, in its grace, is used again; the next rotate dialog says so, apart from the new key.
    await use(worker.body.api_key.key, 'prefect/3.9.1');
    await h.app.keyUse.flush();
    await page.reload();
    expect(await lastUsed('worker').textContent()).toBe('Never used');
    await row(page, 'worker').getByRole('button', { name: 'Actions for worker' }).click();
    await page.getByRole('menuitem', { name: 'Rotate API Key' }).click();
    const old = page.getByTestId('old-key-last-use');
    await old.waitFor();
    expect(await old.textContent()).toMatch(/^An old key \(pnb_\w+\*+\) still works until .+; the old key was last used (just now|\d+ seconds? ago)\.$/);
    expect(await page.getByTestId('current-key-last-use').textContent()).toBe('The current key has never been used.');
    await page.keyboard.press('Escape');

    // My API keys: the Owner's own key.
    await page.goto(`${h.baseUrl}/my-api-keys`);
    const mine = page.getByTestId('last-used').first();
    await mine.waitFor();
    expect(await mine.textContent()).toMatch(/^Last used (just now|\d+ seconds? ago) from 127\.0\.0\.1 · gatehouse-cli\/0\.1$/);
    expect(h.pageErrors).toEqual([]);
  });
});
