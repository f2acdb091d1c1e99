// The real Prefect UI (Prefect 3.9.1's server, its UI enabled and behind an API auth string) opened
// through a real Gatehouse process in Chromium, by people signed in to Gatehouse: the dashboard, a
// flow run's page with the logs a real flow wrote, and a Viewer's refused change, which the UI shows
// and which never reaches the Prefect server. Runs on SQLite only, like the other real suites (the
// store's part is covered on both stores by test/gateway/prefect-ui.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../../src/authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { ensurePrefect, PREFECT_VERSIONS } from '../../scripts/ensure-prefect.js';
import { STORE_KIND } from '../support/harness.js';
import { launchChromium, screenshot } from '../browser/support.js';
import { compatSuite } from './support/compat.js';
import { startRealGatehouse, type RealGatehouse } from './support/gatehouse.js';
import { isolatedPrefectEnv, startPrefectServer, type PrefectServer } from './support/prefect-server.js';

const claim = compatSuite('prefect-ui');
const V3 = PREFECT_VERSIONS['3.9'];
const PASSWORD = 'a long enough password';
const LOG_LINE = 'Hello from a flow behind Gatehouse';

let gh: RealGatehouse;
let server: PrefectServer;
let browser: Browser;
let workspace: { id: string; handle: string };
let flowRunId: string;
let home: string;
const people: Record<'developer' | 'viewer', string> = { developer: '', viewer: '' };

/** A person invited into the account (Member), who sets a password, with a role in the workspace. */
async function invitedPerson(email: string, role: keyof typeof WORKSPACE_ROLE_IDS): Promise<string> {
  const account = `/api/accounts/${gh.accountId}`;
  const invitation = await gh.api('POST', `${account}/invitations/`, { body: { email, account_role_id: ACCOUNT_ROLE_IDS.Member } });
  const code = /invite_code=([^&#]+)/.exec(invitation.accept_url)![1]!;
  const accepted = await gh.api('POST', `/api/invitations/${invitation.id}/accept?invite_code=${code}`, { key: '', body: { password: PASSWORD }, expect: 200 });
  await gh.api('POST', `${account}/workspaces/${workspace.id}/user_access/`, { body: { user_id: accepted.user_id, workspace_role_id: WORKSPACE_ROLE_IDS[role] }, expect: 200 });
  return email;
}

/** Runs a real flow against the Prefect server directly: one Completed run with a log line. */
function runFlow(): string {
  const installed = ensurePrefect('3.9');
  if (!installed.ok) throw new Error(installed.error);
  writeFileSync(
    join(home, 'flow.py'),
    `from prefect import flow, get_run_logger\n\n@flow(name="hello-gatehouse")\ndef hello():\n    get_run_logger().info(${JSON.stringify(LOG_LINE)})\n\nif __name__ == "__main__":\n    hello()\n`,
  );
  const run = spawnSync(installed.python, ['flow.py'], {
    cwd: home,
    env: isolatedPrefectEnv(home, { PREFECT_API_URL: server.directApiUrl, PREFECT_API_AUTH_STRING: server.authString }),
    encoding: 'utf8',
    timeout: 180_000,
  });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`the flow failed (${run.status}):\n${output}`);
  return /flow-run\/([0-9a-f-]{36})/.exec(output)![1]!;
}

async function signedInPage(email: string, path: string): Promise<{ page: Page; refused: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', reducedMotion: 'reduce' });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const refused: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400 && r.url().startsWith(gh.url)) refused.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  await page.goto(`${gh.url}${path}`);
  // Not signed in: Gatehouse's sign-in, then straight back to the address asked for.
  await page.getByRole('heading', { name: 'Sign in to Gatehouse' }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return { page, refused };
}

describe.runIf(STORE_KIND === 'sqlite')(`the real Prefect ${V3} UI behind Gatehouse sign-in`, () => {
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'gatehouse-prefect-ui-'));
    [gh, server] = await Promise.all([startRealGatehouse('acme'), startPrefectServer({ ui: true })]);
    workspace = await gh.createWorkspace('production');
    await gh.setUpstream(workspace.id, server.apiUrl, server.authString);
    people.developer = await invitedPerson('dev@acme.test', 'Developer');
    people.viewer = await invitedPerson('viewer@acme.test', 'Viewer');
    flowRunId = runFlow();
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await gh?.stop();
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("shows a Developer the workspace's dashboard and a flow run's page with its logs", async () => {
    claim({ tool: 'Prefect UI', version: V3, command: 'open /w/{account}/{workspace}/ in Chromium, signed in to Gatehouse', expectation: "Developer: the dashboard and a flow run's page with its logs, through Gatehouse" });
    const { page, refused } = await signedInPage(people.developer, `/w/${gh.accountHandle}/${workspace.handle}/`);
    await page.waitForURL(new RegExp(`/w/${gh.accountHandle}/${workspace.handle}/v2/dashboard`));
    await page.getByRole('link', { name: 'Dashboard' }).first().waitFor();
    await page.getByText('Flow Runs').first().waitFor();
    await screenshot(page, 'prefect-ui-dashboard.png');

    await page.getByRole('link', { name: 'Runs' }).first().click();
    await page.getByText('hello-gatehouse').first().waitFor();
    await page.goto(`${gh.url}/w/${gh.accountHandle}/${workspace.handle}/v2/runs/flow-run/${flowRunId}?tab=Logs`);
    await page.getByText(LOG_LINE).waitFor();
    await page.getByText('Completed').first().waitFor();
    await screenshot(page, 'prefect-ui-flow-run.png');
    // The browser never got the upstream's address or credential, and nothing was refused.
    const html = await page.content();
    expect(html).not.toContain(server.authString);
    // (Before sign-in the page asked who is signed in; the UI reads the server-wide settings, which
    // only an Owner may, and shows without them; Prefect sets a state's icon at the site's root.)
    const expected = (r: string) => r === '401 GET /api/auth/session' || r.endsWith('/api/admin/settings') || r.endsWith('.svg');
    expect(refused.filter((r) => !expected(r))).toEqual([]);
    await page.context().close();
  });

  it("refuses a Viewer's change with Gatehouse's 403, which the UI shows, and the Prefect server never sees it", async () => {
    claim({ tool: 'Prefect UI', version: V3, command: 'Variables → Add Variable as a Viewer', expectation: 'Viewer: 403 from Gatehouse, shown by the UI; nothing created' });
    const { page, refused } = await signedInPage(people.viewer, `/w/${gh.accountHandle}/${workspace.handle}/v2/variables`);
    await page.getByRole('button', { name: 'Add Variable' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('from-a-viewer');
    await dialog.getByLabel('Value').fill('"nope"').catch(async () => {
      // The value is a code editor in some versions: type into it.
      await dialog.locator('.cm-content').first().fill('"nope"');
    });
    const since = performance.now();
    await dialog.getByRole('button', { name: /^(Create|Save)$/ }).click();
    await expect.poll(() => refused.some((r) => r === '403 POST /w/acme/production/api/variables/'), { timeout: 15_000 }).toBe(true);
    await page.getByText('POST /variables/ needs the workspace scope `write_variables`').first().waitFor();
    await screenshot(page, 'prefect-ui-viewer-refused.png');
    expect(server.reachedSince(since).filter((r) => r.method === 'POST' && r.path === '/api/variables/')).toEqual([]);
    await page.context().close();
  });
});
