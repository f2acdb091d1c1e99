// Errors in words, where the person is looking: a wrong password on the sign-in form and a taken
// service-account name next to the name field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, row, startBrowserHarness, type BrowserHarness } from './support.js';

let h: BrowserHarness;
let accountId: string;
const OWNER = 'owner-errors@example.com';

beforeAll(async () => {
  h = await startBrowserHarness();
  const owner = await h.owner(OWNER, 'errors-co');
  accountId = owner.accountId;
  const bot = await h.api('POST', `/api/accounts/${accountId}/bots/`, { key: owner.key, body: { name: 'ci-worker', api_key_expiration: null } });
  expect(bot.status).toBe(201);
});

afterAll(async () => {
  await h?.close();
});

describe('errors in the browser', () => {
  it('says "Email or password is incorrect" for a wrong password and for an unknown email alike, then signs in', async () => {
    const page = await h.newPage();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
    const email = page.getByLabel('Email', { exact: true });
    const password = page.getByLabel('Password', { exact: true });

    await email.fill(OWNER);
    await password.fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('Email or password is incorrect.');
    expect(await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).isVisible()).toBe(true);

    await email.fill('nobody-errors@example.com');
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The same words for an email nobody has, so the form does not reveal who has a user.
    expect((await answered).status()).toBe(401);
    expect(await alert.textContent()).toBe('Email or password is incorrect.');

    await email.fill(OWNER);
    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Service Accounts', level: 1 }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });

  it("shows the server's 409 message next to the name when a service account name is taken", async () => {
    const page = await h.newPage();
    await page.goto('/');
    await page.getByLabel('Email', { exact: true }).fill(OWNER);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await row(page, 'ci-worker').waitFor();

    await page.getByRole('button', { name: 'Create service account' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create service account' });
    const name = dialog.getByLabel('Name', { exact: true });
    await name.fill('ci-worker');
    await dialog.getByLabel('Never Expire').check();
    const conflict = page.waitForResponse((r) => r.url().endsWith(`/api/accounts/${accountId}/bots/`) && r.request().method() === 'POST');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    const res = await conflict;
    expect(res.status()).toBe(409);
    const { detail } = (await res.json()) as { detail: string };

    const message = dialog.getByText(detail, { exact: true });
    await message.waitFor();
    expect(detail).toBe('A service account with this name already exists in this account; choose another name');
    // Tied to the field, so a screen reader reads it with the name.
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await name.getAttribute('aria-describedby')) ?? '';
    expect(describedBy.split(' ')).toContain(await message.getAttribute('id'));
    expect(await page.getByRole('dialog', { name: 'Service account created' }).count()).toBe(0);
    expect(await page.getByTestId('service-account-row').count()).toBe(1);

    // Another name goes through, and the error is gone.
    await name.fill('ci-worker-2');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('dialog', { name: 'Service account created' }).waitFor();
    expect(await page.getByText(detail).count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });
});
