// `prefect cloud login` in a browser, with the real Prefect CLI (3.9.1) on a pseudo-terminal and
// Chromium as its browser: the CLI opens Gatehouse's /auth/client with its loopback callback ($BROWSER
// is a script that hands the URL to the test), the person signs in there, picks the workspace and
// confirms; the CLI receives the new user key, asks which workspace (the test answers with the arrow
// keys) and saves it. Also Cancel, and a callback off the loopback interface refused with no key.
// The page's calls are Gatehouse API calls that the API and browser suites cover on both stores;
// like prefect-login.test.ts, this suite runs on SQLite only.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFECT_VERSIONS, ensurePrefect } from '../../scripts/ensure-prefect.js';
import { collectPageErrors, launchChromium } from '../browser/support.js';
import { ROOT } from '../support/build.js';
import { STORE_KIND } from '../support/harness.js';
import { compatSuite } from './support/compat.js';
import { prefectHome, runPrefect, startRealGatehouse, type RealGatehouse } from './support/gatehouse.js';
import { isolatedPrefectEnv } from './support/prefect-server.js';
import { KEYS, runInTerminal, type TerminalRun } from './support/terminal.js';

const claim = compatSuite('prefect-browser-login');
const VERSION = PREFECT_VERSIONS['3.9'];
const PASSWORD = 'a long browser-login passphrase';
const TEST_TIMEOUT = 240_000;

let gh: RealGatehouse;
let browser: Browser;
let prod: { id: string; handle: string };
let staging: { id: string; handle: string };
let ownerEmail: string;
let ownerId: string;
const pageErrors: string[] = [];
const cleanup: (() => void)[] = [];

beforeAll(async () => {
  if (STORE_KIND !== 'sqlite') return;
  gh = await startRealGatehouse('acme');
  prod = await gh.createWorkspace('prod');
  staging = await gh.createWorkspace('staging');
  const me = await gh.api('GET', '/api/me/');
  ownerEmail = me.email;
  ownerId = me.id;
  // The operator's way to a first password, as the README gives it.
  const set = spawnSync(process.execPath, ['bin/gatehouse.js', 'set-password', '--email', ownerEmail, ...gh.store.flags], {
    cwd: ROOT,
    env: { ...process.env, ...gh.store.env },
    input: `${PASSWORD}\n`,
    encoding: 'utf8',
  });
  if (set.status !== 0) throw new Error(`gatehouse set-password exited ${set.status}: ${set.stderr}`);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  for (const done of cleanup) done();
  await browser?.close();
  await gh?.stop();
});

/** `prefect cloud login` on a terminal in a new PREFECT_HOME; $BROWSER writes the URL it is given to a file. */
function startLogin(args: string[] = []): { cli: TerminalRun; home: string; openedUrl: () => Promise<string> } {
  const installed = ensurePrefect(VERSION);
  if (!installed.ok) throw new Error(`Prefect ${VERSION} is not installed: ${installed.error}`);
  const home = prefectHome();
  cleanup.push(home.dispose);
  const urlFile = join(home.path, 'opened-url');
  const opener = join(home.path, 'browser.sh');
  // Python's webbrowser runs $BROWSER with the URL as its argument and waits for it to exit.
  writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$1" > '${urlFile}'\n`);
  chmodSync(opener, 0o755);
  const env = isolatedPrefectEnv(home.path, {
    PREFECT_CLOUD_API_URL: gh.cloudApiUrl,
    PREFECT_CLOUD_UI_URL: gh.url,
    // A person at a terminal: prompts on (the harness turns them off for scripted runs).
    PREFECT_CLI_PROMPT: 'true',
    BROWSER: opener,
    TERM: 'xterm',
  });
  const cli = runInTerminal(installed.python, installed.prefect, ['cloud', 'login', ...args], { env, cwd: home.path });
  cleanup.push(() => cli.kill());
  const openedUrl = async () => {
    await cli.waitFor(/Waiting for response/, { timeoutMs: 60_000 });
    for (let i = 0; i < 100 && !existsSync(urlFile); i++) await new Promise((r) => setTimeout(r, 100));
    return readFileSync(urlFile, 'utf8').trim();
  };
  return { cli, home: home.path, openedUrl };
}

/** Answers "How would you like to authenticate?" with its first choice, "Log in with a web browser". */
async function chooseBrowser(cli: TerminalRun): Promise<void> {
  await cli.waitFor(/How would you like to authenticate\?[\s\S]*Paste an API key/);
  // Let readchar put the terminal in raw mode before the key arrives.
  await new Promise((r) => setTimeout(r, 300));
  cli.type(KEYS.enter);
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  cleanup.push(() => void context.close().catch(() => undefined));
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  collectPageErrors(page, pageErrors);
  return page;
}

async function signInHere(page: Page): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(ownerEmail);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const userKeys = async () => (await gh.api('GET', `/api/users/${ownerId}/api_keys`)) as { name: string; expiration: string | null }[];

describe.runIf(STORE_KIND === 'sqlite')(`Prefect ${VERSION}: prefect cloud login in a browser`, { timeout: TEST_TIMEOUT }, () => {
  it('opens /auth/client with a loopback callback; after sign-in and the workspace choice the CLI is logged in with a new named user key', async () => {
    claim({
      tool: 'Prefect CLI',
      version: VERSION,
      command: 'prefect cloud login → Log in with a web browser',
      expectation: 'sign in on /auth/client, pick acme/staging: logged in, workspace URL saved, key "Prefect CLI (browser login) …" in My API keys',
    });
    const { cli, home, openedUrl } = startLogin();
    await chooseBrowser(cli);
    const url = new URL(await openedUrl());
    expect(`${url.origin}${url.pathname}`).toBe(`${gh.url}/auth/client`);
    const callback = url.searchParams.get('callback')!;
    expect(callback).toMatch(/^http:\/\/localhost:\d+$/);

    const page = await newPage();
    await page.goto(url.href);
    await page.getByRole('heading', { name: 'Log in the Prefect CLI', level: 1 }).waitFor();
    await signInHere(page);
    await page.getByRole('radio', { name: /acme\/staging/ }).check();
    // The CLI may ask its next question before the page says done: read its output from here.
    const mark = cli.output().length;
    await page.getByRole('button', { name: 'Log in the Prefect CLI' }).click();
    const done = page.getByTestId('cli-login-done');
    await done.waitFor();
    expect(await done.textContent()).toContain('You can close this tab and return to your terminal.');
    expect(await done.textContent()).toContain('If the CLI asks which workspace to use, choose acme/staging.');

    // The key reaches both workspaces, so the CLI asks; answer as the page said, with the arrow keys.
    await cli.waitFor(/Which workspace would you like to use\?[\s\S]*Go back to account selection/, { from: mark });
    const order = ((await gh.api('GET', '/api/me/workspaces')) as { workspace_handle: string }[]).map((w) => `acme/${w.workspace_handle}`);
    await new Promise((r) => setTimeout(r, 300));
    cli.type(KEYS.down.repeat(order.indexOf('acme/staging')) + KEYS.enter);
    await cli.waitFor(/Authenticated with Prefect Cloud! Using workspace 'acme\/staging'\./);
    expect(await cli.exited).toBe(0);

    const view = await runPrefect(VERSION, ['config', 'view', '--show-secrets'], { home, env: { PREFECT_CLOUD_API_URL: gh.cloudApiUrl } });
    expect(view.code).toBe(0);
    expect(view.output).toContain(`PREFECT_API_URL='${gh.workspaceApiUrl(staging.id)}' (from profile)`);
    const key = /PREFECT_API_KEY='(pnu_[A-Za-z0-9]{36})' \(from profile\)/.exec(view.output)?.[1];
    expect(key).toBeDefined();
    // The key works, as the person: it reaches both workspaces of the account.
    const reach = (await gh.api('GET', '/api/me/workspaces', { key })) as { workspace_id: string }[];
    expect(reach.map((w) => w.workspace_id).sort()).toEqual([prod.id, staging.id].sort());
    const ls = await runPrefect(VERSION, ['cloud', 'workspace', 'ls'], { home, env: { PREFECT_CLOUD_API_URL: gh.cloudApiUrl } });
    expect(ls.output).toMatch(/\* acme\/staging/);

    const made = (await userKeys()).filter((k) => k.name.startsWith('Prefect CLI (browser login)'));
    expect(made).toHaveLength(1);
    expect(made[0]!.name).toMatch(/^Prefect CLI \(browser login\) acme\/staging \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(made[0]!.expiration).toBeNull();
    await page.goto(`${gh.url}/my-api-keys`);
    await page.locator(`[data-testid="api-key-row"][data-name="${made[0]!.name}"]`).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('with --workspace, takes that workspace without asking', async () => {
    claim({
      tool: 'Prefect CLI',
      version: VERSION,
      command: 'prefect cloud login --workspace acme/prod → Log in with a web browser',
      expectation: 'pick acme/prod on the page: logged in to acme/prod, no workspace question',
    });
    const { cli, home, openedUrl } = startLogin(['--workspace', 'acme/prod']);
    await chooseBrowser(cli);
    const page = await newPage();
    await page.goto(await openedUrl());
    await signInHere(page);
    await page.getByRole('radio', { name: /acme\/prod/ }).check();
    await page.getByRole('button', { name: 'Log in the Prefect CLI' }).click();
    await page.getByTestId('cli-login-done').waitFor();
    await cli.waitFor(/Authenticated with Prefect Cloud! Using workspace 'acme\/prod'\./);
    expect(await cli.exited).toBe(0);
    expect(cli.output()).not.toContain('Which workspace would you like to use?');
    const view = await runPrefect(VERSION, ['config', 'view'], { home, env: { PREFECT_CLOUD_API_URL: gh.cloudApiUrl } });
    expect(view.output).toContain(`PREFECT_API_URL='${gh.workspaceApiUrl(prod.id)}' (from profile)`);
    expect(pageErrors).toEqual([]);
  });

  it('refuses the same link with its callback moved off the loopback interface (no key), and Cancel ends the CLI with its failure message', async () => {
    claim({
      tool: 'Prefect CLI',
      version: VERSION,
      command: 'prefect cloud login → Log in with a web browser → Cancel',
      expectation: 'a non-loopback callback refused, no key; Cancel: refused ("Failed to log in. The login was cancelled in Gatehouse.")',
    });
    const before = await userKeys();
    const { cli, openedUrl } = startLogin();
    await chooseBrowser(cli);
    const url = new URL(await openedUrl());
    const port = new URL(url.searchParams.get('callback')!).port;

    const page = await newPage();
    const moved = new URL(url.href);
    moved.searchParams.set('callback', `http://gatehouse-test.example.com:${port}`);
    await page.goto(moved.href);
    await page.getByTestId('callback-refused').waitFor();
    expect(await page.getByTestId('callback-refused').textContent()).toContain('The callback is not on this computer');
    expect(await page.getByRole('button', { name: 'Log in the Prefect CLI' }).count()).toBe(0);

    await page.goto(url.href);
    await signInHere(page);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('cli-login-cancelled').waitFor();
    await cli.waitFor(/Failed to log in\. The login was cancelled in Gatehouse\./);
    expect(await cli.exited).toBe(1);
    expect(await userKeys()).toEqual(before);
    expect(pageErrors).toEqual([]);
  });
});
