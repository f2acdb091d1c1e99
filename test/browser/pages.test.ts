// Every signed-in page, wide and narrow: it loads with its heading and no error, fits the screen, and
// (when asked) leaves a screenshot in docs/screenshots/. Also: the create dialog by keyboard alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { dateInDays, keysMasked, maskKeys, row, screenshot, signIn, startBrowserHarness, type BrowserHarness, type StorageState } from './support.js';

let h: BrowserHarness;
let workspaceId: string;
/** The Owner's signed-in cookies, shared by the tests so each does not sign in again. */
let signedIn: StorageState;
const OWNER = 'owner-pages@example.com';

beforeAll(async () => {
  h = await startBrowserHarness();
  // An account with a little of everything, made through the API so each page has something to show.
  const owner = await h.owner(OWNER, 'acme-data');
  const a = owner.accountId;
  const post = async (path: string, body: unknown, status: number) => {
    const res = await h.api('POST', path, { key: owner.key, body });
    if (res.status !== status) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const production = await post(`/api/accounts/${a}/workspaces/`, { name: 'Production', handle: 'production', description: 'Scheduled flows' }, 201);
  await post(`/api/accounts/${a}/workspaces/`, { name: 'Staging', handle: 'staging' }, 201);
  workspaceId = production.id;
  const expiring = new Date(`${dateInDays(60)}T23:59:59`).toISOString();
  const ci = await post(`/api/accounts/${a}/bots/`, { name: 'ci-worker', api_key_expiration: expiring }, 201);
  const etl = await post(`/api/accounts/${a}/bots/`, { name: 'nightly-etl', api_key_expiration: null }, 201);
  await post(`/api/accounts/${a}/workspaces/${workspaceId}/bot_access/`, [
    { bot_id: ci.id, workspace_role_id: WORKSPACE_ROLE_IDS.Developer },
    { bot_id: etl.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker },
  ], 200);
  await post(`/api/accounts/${a}/invitations/`, { email: 'analyst-pages@example.com', account_role_id: await memberRoleId(owner.key, a) }, 201);
  await post(
    `/api/accounts/${a}/workspace_roles/`,
    { name: 'Deployer', description: 'Runs and edits deployments', scopes: ['see_flows', 'run_deployments'], inherited_role_id: null },
    201,
  );
  const page = await h.newPage();
  await signIn(page, OWNER);
  signedIn = await page.context().storageState();
  await page.context().close();
});

afterAll(async () => {
  await h?.close();
});

async function memberRoleId(key: string, accountId: string): Promise<string> {
  const roles = await h.api('POST', `/api/accounts/${accountId}/account_roles/filter`, { key, body: {} });
  return roles.body.find((r: { name: string }) => r.name === 'Member').id;
}

interface PageCase {
  heading: string;
  /** Gets there as a person would, from any signed-in page: through the navigation. */
  open: (page: Page) => Promise<void>;
  /** Something that appears only once the page's data has loaded. */
  loaded: (page: Page) => Locator;
  shot?: string;
}

const nav = (label: string) => (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();

const PAGES: PageCase[] = [
  { heading: 'Service Accounts', open: nav('Service Accounts'), loaded: (p) => p.getByRole('table', { name: 'Service accounts' }), shot: 'service-accounts.png' },
  { heading: 'Workspaces', open: nav('Workspaces'), loaded: (p) => p.getByRole('link', { name: 'Sharing for Production' }) },
  {
    heading: 'Workspace Production',
    open: async (p) => {
      await nav('Workspaces')(p);
      await p.getByRole('link', { name: 'Sharing for Production' }).click();
    },
    loaded: (p) => p.getByRole('table', { name: 'Service accounts with access' }),
    shot: 'workspace-sharing.png',
  },
  { heading: 'Members', open: nav('Members'), loaded: (p) => p.getByRole('table', { name: 'Pending invitations' }), shot: 'members.png' },
  { heading: 'Roles', open: nav('Roles'), loaded: (p) => p.getByRole('button', { name: 'Edit role Deployer' }), shot: 'roles.png' },
  { heading: 'Audit log', open: nav('Audit log'), loaded: (p) => p.getByRole('table', { name: 'Audit events' }), shot: 'audit-log.png' },
  { heading: 'My API keys', open: nav('My API keys'), loaded: (p) => p.getByRole('table', { name: 'Sessions' }), shot: 'my-api-keys.png' },
];

async function visit(page: Page, c: PageCase): Promise<void> {
  await c.open(page);
  await page.getByRole('heading', { name: c.heading, level: 1 }).waitFor();
  await c.loaded(page).waitFor();
  expect(await page.getByRole('alert').allTextContents(), c.heading).toEqual([]);
  // A page may load several lists (My API keys: keys and sessions); each must finish loading.
  await expect.poll(() => page.getByText('Loading…').count(), { message: c.heading, timeout: 5_000 }).toBe(0);
}

/** A new signed-in page at `width`×`height`, opened on the first page of the account. */
async function signedInPage(width = 1280, height = 800): Promise<Page> {
  const page = await h.newPage({ width, height, storageState: signedIn });
  await page.goto('/');
  await page.getByRole('heading', { name: 'Service Accounts', level: 1 }).waitFor();
  return page;
}

/** How many pixels the page scrolls sideways; wide tables are meant to scroll inside their own box. */
const sidewaysScroll = (page: Page) => page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;

describe('every page in the browser', () => {
  it('shows each main page with its heading and no error at 1280×800', async () => {
    const page = await signedInPage(1280, 800);
    for (const c of PAGES) {
      await visit(page, c);
      expect(await sidewaysScroll(page), c.heading).toBe(0);
      if (c.shot) await screenshot(page, c.shot);
    }

    // The audit log lists what the setup did, newest first.
    await nav('Audit log')(page);
    await page.getByTestId('audit-row').first().waitFor();
    expect(await page.getByTestId('audit-row').count()).toBeGreaterThanOrEqual(6);
    expect(await page.getByTestId('audit-row').first().textContent()).toContain('workspace_role.created');

    // The key dialog, with the key replaced by a placeholder before the picture is taken.
    await nav('Service Accounts')(page);
    await page.getByRole('button', { name: 'Create service account' }).click();
    const create = page.getByRole('dialog', { name: 'Create service account' });
    await create.getByLabel('Name', { exact: true }).fill('deploy-bot');
    await create.getByLabel('Expiration date').fill(dateInDays(90));
    await create.getByRole('button', { name: 'Create', exact: true }).click();
    const created = page.getByRole('dialog', { name: 'Service account created' });
    await created.getByTestId('login-command').waitFor();
    // The list behind the dialog reloads after a create; mask only once it has.
    await row(page, 'deploy-bot').waitFor({ state: 'attached' });
    await maskKeys(page);
    expect(await keysMasked(page)).toBe(true);
    await screenshot(page, 'create-service-account.png', () => keysMasked(page));
    await created.getByRole('button', { name: 'Done' }).click();
    await created.waitFor({ state: 'detached' });

    expect(h.pageErrors).toEqual([]);
  });

  it('shows each main page with its heading and no error on a 390×844 phone screen', async () => {
    const page = await signedInPage(390, 844);
    for (const c of PAGES) await visit(page, c);
    await nav('Service Accounts')(page);
    await page.getByRole('table', { name: 'Service accounts' }).waitFor();
    await screenshot(page, 'service-accounts-narrow.png');
    // The navigation stays reachable on a phone.
    for (const name of ['Service Accounts', 'Workspaces', 'Members', 'Roles', 'Audit log', 'My API keys']) {
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).isVisible(), name).toBe(true);
    }
    expect(h.pageErrors).toEqual([]);
  });

  // The visually hidden column headers are absolutely positioned; `.table-scroll` must be their
  // containing block or they widen the page on a phone.
  it('never scrolls sideways on a 390×844 phone screen', async () => {
    const page = await signedInPage(390, 844);
    const sideways: Record<string, number> = {};
    for (const c of PAGES) {
      await visit(page, c);
      const px = await sidewaysScroll(page);
      if (px !== 0) sideways[c.heading] = px;
    }
    expect(sideways).toEqual({});
  });

  it('opens the create dialog from the keyboard, closes it with Escape and puts focus back on +', async () => {
    const page = await signedInPage();
    await page.getByRole('table', { name: 'Service accounts' }).waitFor();
    const focused = () => page.evaluate('document.activeElement && (document.activeElement.getAttribute("aria-label") || document.activeElement.id || document.activeElement.tagName)');

    // Tab from the top of the page until + has focus; a page that never gets there fails here.
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    let steps = 0;
    while ((await focused()) !== 'Create service account') {
      expect(++steps, 'Tab never reached the + button').toBeLessThan(25);
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create service account' });
    await dialog.waitFor();
    // Focus starts in the dialog, on its first field, so typing goes to the name.
    await page.keyboard.type('typed-by-keyboard');
    expect(await dialog.getByLabel('Name', { exact: true }).inputValue()).toBe('typed-by-keyboard');

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused()).toBe('Create service account');
    expect(await row(page, 'typed-by-keyboard').count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });
});
