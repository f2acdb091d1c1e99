// Browser tests: the server built as production builds it (createApp, serving dist/web) on a fresh
// store and a real port, driven through Debian's Chromium with playwright-core.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createApp, type App } from '../../src/app.js';
import { SYSTEM_ACTOR } from '../../src/domain/context.js';
import { freshStore, TestClock, type StoreHandle } from '../support/harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_ROOT = join(ROOT, 'dist/web');
export const SCREENSHOT_DIR = join(ROOT, 'docs/screenshots');
export const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
export const PASSWORD = 'correct horse battery';

export type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;

export interface ApiResponse {
  status: number;
  body: any;
}

export interface BrowserHarness {
  app: App;
  baseUrl: string;
  clock: TestClock;
  browser: Browser;
  /** Uncaught exceptions and Content-Security-Policy violations in any page; a test ends by expecting none. */
  pageErrors: string[];
  /** A new context (its own cookies and storage, or a copy of `storageState`) with one page. */
  newPage(options?: { width?: number; height?: number; clipboard?: boolean; storageState?: StorageState }): Promise<Page>;
  /** A request over the network, as a Prefect client or a script would make it. */
  api(method: string, path: string, options?: { key?: string; body?: unknown }): Promise<ApiResponse>;
  /** A new account whose Owner signs in with `email` and PASSWORD; returns the Owner's pnu_ key too. */
  owner(email: string, accountHandle?: string): Promise<{ accountId: string; userId: string; key: string }>;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, reaching nothing but this machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Nothing but this machine: every other host name fails to resolve (localhost is the
      // Prefect CLI's login callback).
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
}

/** Adds the page's uncaught exceptions and Content-Security-Policy violations to `sink`. */
export function collectPageErrors(page: Page, sink: string[]): void {
  page.on('pageerror', (error) => sink.push(`${page.url()}: ${error.message}`));
  // Whatever the page's Content-Security-Policy blocks counts as an error too.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) sink.push(`${page.url()}: ${message.text()}`);
  });
}

export async function startBrowserHarness(): Promise<BrowserHarness> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    throw new Error(`${WEB_ROOT}/index.html is missing: run npm run build before the browser tests`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run node scripts/ensure-chromium.js (or set GATEHOUSE_CHROMIUM)`);
  }
  const handle: StoreHandle = await freshStore();
  const clock = new TestClock();
  let app: App | undefined;
  let browser: Browser | undefined;
  try {
    app = await createApp({ store: handle.store, cache: handle.cache, clock, webRoot: WEB_ROOT });
    await app.server.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  } catch (error) {
    await browser?.close();
    await app?.server.close();
    await handle.dispose();
    throw error;
  }
  const { port } = app.server.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const pageErrors: string[] = [];
  const contexts: BrowserContext[] = [];
  const theApp = app;
  const theBrowser = browser;

  const api: BrowserHarness['api'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body };
  };

  return {
    app: theApp,
    baseUrl,
    clock,
    browser: theBrowser,
    pageErrors,
    api,
    async newPage(options = {}) {
      const context = await theBrowser.newContext({
        viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
        baseURL: baseUrl,
        reducedMotion: 'reduce',
        locale: 'en-US',
        storageState: options.storageState,
      });
      if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
      context.setDefaultTimeout(10_000);
      contexts.push(context);
      const page = await context.newPage();
      collectPageErrors(page, pageErrors);
      return page;
    },
    async owner(email, accountHandle) {
      const h = accountHandle ?? `acct-${Math.random().toString(36).slice(2, 8)}`;
      const created = await theApp.services.accounts.bootstrap(
        { actor: SYSTEM_ACTOR, requestId: null, now: clock.now() },
        { accountName: `Account ${h}`, accountHandle: h, email },
      );
      if (!created.ok) throw new Error(`bootstrap failed: ${created.code}`);
      const key = created.value.api_key;
      // The operator's path to a first password (`gatehouse set-password`).
      const set = await theApp.services.sessions.setPassword({ actor: SYSTEM_ACTOR, requestId: null, now: clock.now() }, email, PASSWORD);
      if (!set.ok) throw new Error(`setting the password failed: ${set.code}`);
      return { accountId: created.value.account_id, userId: created.value.user_id, key };
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await theBrowser.close();
      await theApp.server.close();
      await handle.dispose();
    },
  };
}

/** Signs in on the sign-in page and waits for the first signed-in page. */
export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Service Accounts', level: 1 }).waitFor();
}

/** Waits until the status line says something matching `text`; returns what it says. */
export async function statusSays(page: Page, text: RegExp): Promise<string> {
  const line = page.getByRole('status').filter({ hasText: text });
  await line.waitFor();
  return (await line.textContent()) ?? '';
}

export const row = (page: Page, name: string): Locator => page.locator(`[data-testid="service-account-row"][data-name="${name}"]`);

/** The date input's value for `days` from now (local time, as the page reads it). */
export function dateInDays(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * Saves a viewport screenshot into docs/screenshots/ when GATEHOUSE_SCREENSHOTS=1 or when the file
 * does not exist yet, so ordinary runs leave the committed pictures alone. `stillTrue`, checked after
 * the picture is taken and before it is written, guards against the page changing in between.
 */
export async function screenshot(page: Page, name: string, stillTrue?: () => Promise<boolean>): Promise<void> {
  const path = join(SCREENSHOT_DIR, name);
  if (process.env.GATEHOUSE_SCREENSHOTS !== '1' && existsSync(path)) return;
  const png = await page.screenshot({ animations: 'disabled', caret: 'hide' });
  if (stillTrue && !(await stillTrue())) throw new Error(`the page changed while ${name} was taken; not writing it`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  writeFileSync(path, png);
}

/**
 * Replaces every shown API key with a placeholder before a screenshot, so no key-shaped text ends
 * up in the repository. React writes a controlled field back when its dialog re-renders, so call
 * this once the page has settled and check with `keysMasked` after the picture.
 */
export async function maskKeys(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    for (const el of document.querySelectorAll('[data-testid="api-key-value"], [data-testid="login-command"], [data-testid="env-vars"]')) {
      el.value = el.value.replace(/\\b(pn[bu]_)[A-Za-z0-9]+/g, '$1••••••••••••••••••••••••••••••••••••');
    }
  })()`);
}

/** True when no shown field holds a whole key. */
export async function keysMasked(page: Page): Promise<boolean> {
  const values = (await page.evaluate(`Array.from(document.querySelectorAll('input, textarea'), (el) => el.value)`)) as string[];
  return values.every((v) => !/pn[bu]_[A-Za-z0-9]{36}/.test(v));
}
