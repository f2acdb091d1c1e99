// The link in an email verification mail (pentest issue 14, finding 6): /verify-email#code=… in a
// real browser. The code stays in the fragment (never sent in a URL), leaves the address bar at
// once, and is confirmed as the signed-in user, who may have to sign in first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/domain/context.js';
import { signIn, startBrowserHarness, PASSWORD, type BrowserHarness } from './support.js';

let h: BrowserHarness;
beforeAll(async () => {
  h = await startBrowserHarness();
});
afterAll(async () => {
  await h?.close();
});

/** What PATCH /api/users/{id} records for a new email; the code is the one its mail would carry. */
async function requestChange(userId: string, email: string): Promise<string> {
  const ctx = { actor: SYSTEM_ACTOR, requestId: null, now: h.clock.now() };
  const result = await h.app.services.users.update(ctx, userId, { email }, { canVerifyEmail: true });
  if (!result.ok || !result.value.emailChange) throw new Error('no email change recorded');
  return result.value.emailChange.code;
}

describe('the verification link', () => {
  it('shows the pending email on the profile, then confirms it, taking the code out of the address bar and off the wire', async () => {
    const owner = await h.owner('verify-owner@example.com', 'verify-co');
    const code = await requestChange(owner.userId, 'verify-new@example.com');
    const page = await h.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await signIn(page, 'verify-owner@example.com');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My API keys' }).click();
    expect(await page.getByTestId('pending-email').textContent()).toContain('verify-new@example.com');

    await page.goto(`/verify-email#code=${code}`);
    const result = page.getByTestId('verify-result');
    await result.waitFor();
    expect(await result.textContent()).toBe('Your email is now verify-new@example.com. Sign in with it from now on.');
    expect(new URL(page.url()).hash).toBe('');
    expect(requested.filter((url) => url.includes(code))).toEqual([]);
    const me = await h.api('GET', `/api/users/${owner.userId}`, { key: owner.key });
    expect(me.body.email).toBe('verify-new@example.com');
    expect(h.pageErrors).toEqual([]);
  });

  it('asks a signed-out person to sign in, then confirms; a used link says why it failed', async () => {
    const owner = await h.owner('verify-later@example.com', 'verify-later-co');
    const code = await requestChange(owner.userId, 'verify-later-new@example.com');
    const page = await h.newPage();
    await page.goto(`/verify-email#code=${code}`);
    await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill('verify-later@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('verify-result').waitFor();
    expect(await page.getByTestId('verify-result').textContent()).toContain('Your email is now verify-later-new@example.com');

    // A fresh load, as a link opened from a mail is (the same page would only change its fragment).
    await page.goto('/my-api-keys');
    await page.goto(`/verify-email#code=${code}`);
    const again = page.getByRole('alert').filter({ hasText: 'The email was not changed' });
    await again.waitFor();
    expect(await again.textContent()).toContain('not valid');
    expect(h.pageErrors).toEqual([]);
  });
});
