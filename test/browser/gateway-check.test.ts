// A workspace's Prefect server on the Workspaces page (issue 16, item 3): set it, see the warning a
// URL without /api gets, and Check connection against a fake Prefect server that answers and
// against a port nothing listens on; the result is shown inline, the auth string never.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';

const OWNER = 'owner-gateway@example.com';
const CREDENTIAL = 'admin:browser-upstream-pass';

let h: BrowserHarness;
let prefect: Server;
let origin: string;
let closedPort: number;

beforeAll(async () => {
  // Prefect with PREFECT_SERVER_API_AUTH_STRING: /api/health answers anyone, /api/version only the credential.
  prefect = createServer((req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/api/health') return json(200, true);
    if (req.url === '/api/version') {
      return req.headers.authorization === `Basic ${Buffer.from(CREDENTIAL).toString('base64')}` ? json(200, '3.1.4') : json(401, { exception_message: 'Unauthorized' });
    }
    return json(404, { detail: 'Not Found' });
  });
  await new Promise<void>((r) => prefect.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(prefect.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));

  h = await startBrowserHarness();
  const owner = await h.owner(OWNER, 'acme-gateway');
  const ws = await h.api('POST', `/api/accounts/${owner.accountId}/workspaces/`, { key: owner.key, body: { name: 'Production', handle: 'production' } });
  expect(ws.status).toBe(201);
});

afterAll(async () => {
  await h?.close();
  await new Promise((r) => prefect?.close(r));
});

describe("a workspace's Prefect server on the Workspaces page", () => {
  it('saves the URL with a warning when it lacks /api, and Check connection says what answers', async () => {
    const page = await h.newPage();
    await signIn(page, OWNER);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('button', { name: 'Prefect server for Production' }).click();
    const dialog = page.getByRole('dialog', { name: 'Prefect server of Production' });
    await dialog.getByText('No Prefect server yet').waitFor();
    expect(await dialog.getByRole('button', { name: 'Check connection' }).count()).toBe(0);

    // The root of the host, with a doubled slash: stored normalised, with the warning.
    await dialog.getByLabel('Prefect API URL', { exact: true }).fill(`${origin}//`);
    await dialog.getByLabel('Auth string', { exact: true }).fill(CREDENTIAL);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await statusSays(page, new RegExp(`Workspace Production now forwards its Prefect requests to ${origin}\\.`));
    expect(await dialog.getByTestId('gateway-upstream').textContent()).toBe(origin);
    expect(await dialog.getByRole('note').textContent()).toContain(`Prefect's API is usually served at /api; requests will go to ${origin}/flows/…`);
    expect(await dialog.getByLabel('Auth string', { exact: true }).inputValue()).toBe('');

    await dialog.getByRole('button', { name: 'Check connection' }).click();
    const result = dialog.getByRole('status');
    await result.filter({ hasText: /Not connected/ }).waitFor();
    expect(await result.textContent()).toBe(`Not connected: Nothing answers at ${origin}/health (404): does the URL end with /api?`);

    // With /api: no warning, and Prefect answers with the stored credential.
    await dialog.getByLabel('Prefect API URL', { exact: true }).fill(`${origin}/api`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByTestId('gateway-upstream').filter({ hasText: `${origin}/api` }).waitFor();
    expect(await dialog.getByRole('note').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Check connection' }).click();
    await result.filter({ hasText: /^Connected/ }).waitFor();
    expect(await result.textContent()).toBe(`Connected: Prefect 3.1.4 answered at ${origin}/api: it accepted the stored credential`);

    // A port nothing listens on.
    await dialog.getByLabel('Prefect API URL', { exact: true }).fill(`http://127.0.0.1:${closedPort}/api`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByTestId('gateway-upstream').filter({ hasText: `127.0.0.1:${closedPort}` }).waitFor();
    await dialog.getByRole('button', { name: 'Check connection' }).click();
    await result.filter({ hasText: /Not connected/ }).waitFor();
    expect(await result.textContent()).toBe(`Not connected: Connection refused at 127.0.0.1:${closedPort}: is the Prefect server running, and listening on that address and port?`);

    expect(await page.content()).not.toContain('browser-upstream-pass');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });
});
