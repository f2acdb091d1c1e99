// /auth/client, the page `prefect cloud login` opens for a browser login, in Chromium against a
// stand-in for the CLI's callback server (test/real/prefect-browser-login.test.ts runs the real CLI):
// sign-in in place, a named key handed to the loopback callback, Cancel, refused callbacks, and
// the page's own Content-Security-Policy.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_LOGIN_PAGE_HEADERS, WEB_PAGE_HEADERS } from '../../src/app.js';
import { PASSWORD, screenshot, signIn, startBrowserHarness, type BrowserHarness } from './support.js';

let h: BrowserHarness;
beforeAll(async () => {
  h = await startBrowserHarness();
});
afterAll(async () => {
  await h?.close();
});

/** What the Prefect CLI's login server does: CORS for any origin, and it records what it is sent. */
async function fakeCli(): Promise<{ port: number; received: { path: string; body: any }[]; close(): Promise<void> }> {
  const received: { path: string; body: any }[] = [];
  const server: Server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-methods', '*');
    res.setHeader('access-control-allow-headers', '*');
    if (req.method === 'OPTIONS') return void res.end();
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text || 'null') });
      res.setHeader('content-type', 'application/json');
      res.end('null');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * A CLI that is gone: its port resets every connection. Holding the port (rather than closing a
 * server) keeps another test's listener from taking it over while the page calls it.
 */
async function goneCli(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createTcpServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The link as the Prefect CLI builds it: Python's quote() keeps the slashes. */
const loginLink = (callback: string) => `/auth/client?callback=${encodeURIComponent(callback).replace(/%2F/g, '/')}`;

async function ownerWithWorkspaces(email: string, handle: string, workspaces: string[]) {
  const owner = await h.owner(email, handle);
  for (const ws of workspaces) {
    const made = await h.api('POST', `/api/accounts/${owner.accountId}/workspaces/`, { key: owner.key, body: { name: ws, handle: ws } });
    expect(made.status).toBe(201);
  }
  return owner;
}

const keyNames = async (owner: { userId: string; key: string }) =>
  ((await h.api('GET', `/api/users/${owner.userId}/api_keys`, { key: owner.key })).body as { name: string; expiration: string | null }[]);

describe('the /auth/client page', () => {
  it('signs a signed-out person in on the page, keeps the callback, and hands a named key for the chosen workspace to it', async () => {
    const owner = await ownerWithWorkspaces('cli-owner@example.com', 'cli-co', ['prod', 'staging']);
    const cli = await fakeCli();
    const page = await h.newPage();
    const link = loginLink(`http://localhost:${cli.port}`);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Log in the Prefect CLI', level: 1 }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill('cli-owner@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('radio', { name: /cli-co\/staging/ }).check();
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe(link);
    await screenshot(page, 'cli-login.png');
    expect(await page.getByRole('group', { name: 'Account cli-co' }).getByRole('radio').count()).toBe(2);
    await page.getByRole('button', { name: 'Log in the Prefect CLI' }).click();
    const done = page.getByTestId('cli-login-done');
    await done.waitFor();
    const text = (await done.textContent()) ?? '';
    expect(text).toContain('The Prefect CLI is logged in. You can close this tab and return to your terminal.');
    expect(text).toContain('If the CLI asks which workspace to use, choose cli-co/staging.');

    expect(cli.received.map((r) => r.path)).toEqual(['/success']);
    const apiKey = cli.received[0]!.body.api_key as string;
    expect(apiKey).toMatch(/^pnu_[A-Za-z0-9]{36}$/);
    const reach = await h.api('GET', '/api/me/workspaces', { key: apiKey });
    expect(reach.status).toBe(200);
    expect(reach.body.map((w: { workspace_handle: string }) => w.workspace_handle).sort()).toEqual(['prod', 'staging']);
    const made = (await keyNames(owner)).filter((k) => k.name.startsWith('Prefect CLI'));
    expect(made).toHaveLength(1);
    expect(made[0]!.name).toMatch(/^Prefect CLI \(browser login\) cli-co\/staging \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(made[0]!.expiration).toBeNull();
    expect(text).toContain(`Its API key is ${made[0]!.name} in My API keys`);
    await cli.close();
    expect(h.pageErrors).toEqual([]);
  });

  it('tells the CLI "no" on Cancel and creates no key', async () => {
    const owner = await ownerWithWorkspaces('cli-cancel@example.com', 'cancel-co', ['prod']);
    const cli = await fakeCli();
    const page = await h.newPage();
    await signIn(page, 'cli-cancel@example.com');
    const before = await keyNames(owner);
    await page.goto(loginLink(`http://127.0.0.1:${cli.port}`));
    // One workspace: chosen already.
    expect(await page.getByRole('radio', { name: /cancel-co\/prod/ }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('cli-login-cancelled').waitFor();
    expect(await page.getByTestId('cli-login-cancelled').textContent()).toBe('Login cancelled. No API key was created. You can close this tab.');
    expect(cli.received).toEqual([{ path: '/failure', body: { reason: 'The login was cancelled in Gatehouse.' } }]);
    expect(await keyNames(owner)).toEqual(before);
    await cli.close();
    expect(h.pageErrors).toEqual([]);
  });

  it('lets a person who is not signed in cancel too', async () => {
    const cli = await fakeCli();
    const page = await h.newPage();
    await page.goto(loginLink(`http://localhost:${cli.port}`));
    await page.getByRole('heading', { name: 'Sign in', level: 2 }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('cli-login-cancelled').waitFor();
    expect(cli.received).toEqual([{ path: '/failure', body: { reason: 'The login was cancelled in Gatehouse.' } }]);
    await cli.close();
    expect(h.pageErrors).toEqual([]);
  });

  it('deletes the key again when the CLI no longer answers, and says to start over', async () => {
    const owner = await ownerWithWorkspaces('cli-gone@example.com', 'gone-co', ['prod']);
    const cli = await goneCli();
    const page = await h.newPage();
    await signIn(page, 'cli-gone@example.com');
    const before = await keyNames(owner);
    await page.goto(loginLink(`http://localhost:${cli.port}`));
    await page.getByRole('button', { name: 'Log in the Prefect CLI' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'did not answer' });
    // The page gives the CLI 15 s; a reset connection fails at once, but a loaded CI machine is slow.
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.textContent()).toBe(
      `The Prefect CLI at http://localhost:${cli.port} did not answer; the key was deleted again. The CLI waits two minutes for this page: run prefect cloud login again.`,
    );
    expect(await keyNames(owner)).toEqual(before);
    await cli.close();
    // A refused connection is a network error, not a policy violation.
    expect(h.pageErrors).toEqual([]);
  });

  it.each([
    ['another host', (port: number) => `http://evil.example.com:${port}`],
    ['a loopback host with a path', (port: number) => `http://127.0.0.1:${port}/steal`],
    ['user info', (port: number) => `http://someone@localhost:${port}`],
    ['https', (port: number) => `https://localhost:${port}`],
    ['[::1]', (port: number) => `http://[::1]:${port}`],
  ])('refuses a callback with %s: an error, no key, nothing sent', async (_what, callback) => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const owner = await ownerWithWorkspaces(`cli-refused-${suffix}@example.com`, `refused-${suffix}`, ['prod']);
    const cli = await fakeCli();
    const page = await h.newPage();
    await signIn(page, `cli-refused-${suffix}@example.com`);
    const before = await keyNames(owner);
    await page.goto(loginLink(callback(cli.port)));
    const refused = page.getByTestId('callback-refused');
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/not on this computer|IPv6 address/);
    expect(await page.getByRole('button', { name: 'Log in the Prefect CLI' }).count()).toBe(0);
    expect(await page.getByRole('radio').count()).toBe(0);
    await page.waitForTimeout(200);
    expect(cli.received).toEqual([]);
    expect(await keyNames(owner)).toEqual(before);
    await cli.close();
    expect(h.pageErrors).toEqual([]);
  });

  it('is served with a policy that may reach the loopback interface; every other page keeps the strict one', async () => {
    for (const path of ['/auth/client?callback=http%3A//localhost%3A1234', '/auth/client', '/auth/client/']) {
      const res = await fetch(`${h.baseUrl}${path}`);
      await res.arrayBuffer();
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' http://localhost:* http://127.0.0.1:*; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
    expect(CLI_LOGIN_PAGE_HEADERS['referrer-policy']).toBe('no-referrer');
    for (const path of ['/', '/my-api-keys', '/auth/client-other', '/auth']) {
      const res = await fetch(`${h.baseUrl}${path}`);
      await res.arrayBuffer();
      expect(res.headers.get('content-security-policy'), path).toBe(WEB_PAGE_HEADERS['content-security-policy']);
    }
  });
});
