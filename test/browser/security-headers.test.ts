// The web page is served with a strict Content-Security-Policy, may not be framed, and sends no
// Referer; the built page works under that policy, and old links with the code in the query still do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../../src/authz/permissions.js';
import { startBrowserHarness, type BrowserHarness } from './support.js';

let h: BrowserHarness;
beforeAll(async () => {
  h = await startBrowserHarness();
});
afterAll(() => h.close());

const EXPECTED = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

describe('the web page', () => {
  it('is served with CSP, X-Frame-Options DENY, nosniff and no-referrer: its index, its own paths and its assets', async () => {
    const index = await fetch(`${h.baseUrl}/`);
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    for (const path of ['/', '/invitations/00000000-0000-4000-8000-000000000000/accept', '/setup', asset!]) {
      const res = await fetch(`${h.baseUrl}${path}`);
      // Read to the end: an answer left half-read keeps its connection busy and the server from closing.
      await res.arrayBuffer();
      expect(res.status, path).toBe(200);
      for (const [name, value] of Object.entries(EXPECTED)) expect(res.headers.get(name), `${path} ${name}`).toBe(value);
    }
  });

  it('works under that policy, and an old invitation link with ?invite_code= still opens', async () => {
    const owner = await h.owner('owner-csp@example.com', 'csp-co');
    const created = await h.api('POST', `/api/accounts/${owner.accountId}/invitations/`, {
      key: owner.key,
      body: { email: 'old-link@example.com', account_role_id: ACCOUNT_ROLE_IDS.Member },
    });
    expect(created.status).toBe(201);
    const link = new URL(created.body.accept_url);
    const oldLink = `${link.pathname}?${link.hash.slice(1)}`;
    const page = await h.newPage();
    await page.goto(oldLink);
    await page.getByRole('heading', { name: 'Join Account csp-co' }).waitFor();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
    expect(h.pageErrors).toEqual([]);
  });
});
