// Keyless workload identity on the web page (issue 21, item 4) in Chromium: an Owner adds a trust
// rule to a service account with the GitHub Actions preset, a workload exchanges a token of a local
// OIDC issuer for a key, the key is listed with the token's subject, and deleting the rule (after a
// confirmation that says so) stops the key at once. A Member sees the rules and keys, changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, row, screenshot, signIn, startBrowserHarness, statusSays, type BrowserHarness } from './support.js';
import { startLocalIssuer, type LocalIssuer } from '../support/oidc-issuer.js';
import { ACCOUNT_ROLE_IDS } from '../../src/authz/permissions.js';

const OWNER = 'owner-trust@example.com';
const MEMBER = 'member-trust@example.com';
const SUBJECT = 'repo:acme/flows:ref:refs/heads/main';

let h: BrowserHarness;
let issuer: LocalIssuer;
let accountId: string;
let ownerKey: string;
let botId: string;

/** The token exchange a CI job makes, as JSON over the network. */
const exchange = async (token: string) =>
  h.api('POST', '/api/oauth/token', {
    body: { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: token, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', audience: botId },
  });

beforeAll(async () => {
  h = await startBrowserHarness();
  issuer = await startLocalIssuer();
  ({ accountId, key: ownerKey } = await h.owner(OWNER, 'acme-trust'));
  const bot = await h.api('POST', `/api/accounts/${accountId}/bots/`, { key: ownerKey, body: { name: 'ci-deployer' } });
  expect(bot.status).toBe(201);
  botId = bot.body.id;
});

afterAll(async () => {
  await issuer?.close();
  await h?.close();
});

describe('trust rules on the Service Accounts page', () => {
  it('adds a rule with the GitHub Actions preset, lists the key a token was exchanged for, and deleting the rule stops the key', async () => {
    const page = await h.newPage();
    await signIn(page, OWNER);
    await row(page, 'ci-deployer').getByRole('button', { name: 'Trust rules of ci-deployer' }).click();
    const dialog = page.getByTestId('trust-rules-dialog');
    await dialog.getByRole('heading', { name: 'Trust rules of ci-deployer' }).waitFor();
    expect(await dialog.getByText('No trust rules: no token can be exchanged for a key of ci-deployer. Add one below.').isVisible()).toBe(true);
    expect(await dialog.getByTestId('trust-rules-bot-id').textContent()).toBe(botId);

    await dialog.getByRole('button', { name: 'Add trust rule' }).click();
    await dialog.getByLabel('Where the token comes from').selectOption({ label: 'GitHub Actions' });
    expect(await dialog.getByLabel('Issuer', { exact: true }).inputValue()).toBe('https://token.actions.githubusercontent.com');
    expect(await dialog.getByLabel('Subject pattern', { exact: true }).inputValue()).toBe('repo:OWNER/REPO:ref:refs/heads/BRANCH');
    expect(await dialog.getByLabel('Audience', { exact: true }).inputValue()).toBe('gatehouse');
    // The preset's placeholders must be replaced before the rule is sent.
    await dialog.getByRole('button', { name: 'Add trust rule' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Replace OWNER in the subject pattern with your own value.' }).waitFor();
    expect((await h.api('GET', `/api/accounts/${accountId}/bots/${botId}/trust_rules/`, { key: ownerKey })).body).toEqual([]);

    // GitHub's issuer is out of this machine's reach: the test's own issuer stands in for it.
    await dialog.getByLabel('Issuer', { exact: true }).fill(issuer.issuer);
    await dialog.getByLabel('Subject pattern', { exact: true }).fill('repo:acme/flows:ref:refs/heads/*');
    await dialog.getByLabel('Required claims', { exact: true }).fill('{"repository_owner": "acme"}');
    await dialog.getByLabel('Key lifetime (seconds)', { exact: true }).fill('600');
    await dialog.getByLabel('Description', { exact: true }).fill('deploys from main');
    await dialog.getByRole('button', { name: 'Add trust rule' }).click();
    await statusSays(page, /Trust rule added: tokens of http:\/\/127\.0\.0\.1:\d+ with subject repo:acme\/flows:ref:refs\/heads\/\* can be exchanged for keys of ci-deployer\./);
    const ruleRow = dialog.locator('[data-testid="trust-rule-row"][data-subject="repo:acme/flows:ref:refs/heads/*"]');
    await ruleRow.waitFor();
    expect(await ruleRow.locator('td:not(.menu-col)').allTextContents()).toEqual([
      `${issuer.issuer}audience gatehouse`,
      'repo:acme/flows:ref:refs/heads/*deploys from main',
      'repository_owner = "acme"',
      '600 s',
    ]);
    expect(await ruleRow.getByTestId('trust-rule-issuer').textContent()).toBe(issuer.issuer);
    expect(await ruleRow.getByTestId('trust-rule-audience').textContent()).toBe('gatehouse');
    expect(await ruleRow.getByTestId('trust-rule-description').textContent()).toBe('deploys from main');
    const [rule] = (await h.api('GET', `/api/accounts/${accountId}/bots/${botId}/trust_rules/`, { key: ownerKey })).body;
    expect(rule).toMatchObject({ issuer: issuer.issuer, audience: 'gatehouse', subject_pattern: 'repo:acme/flows:ref:refs/heads/*', required_claims: { repository_owner: 'acme' }, key_lifetime_seconds: 600, description: 'deploys from main' });

    // A workload exchanges its token; the key shows up under the service account with the token's subject.
    const exchanged = await exchange(await issuer.token({ sub: SUBJECT, aud: 'gatehouse', repository_owner: 'acme' }, { now: h.clock.now() }));
    expect(exchanged.status).toBe(200);
    const key: string = exchanged.body.access_token;
    expect((await h.api('GET', '/api/me', { key })).status).toBe(200);
    await h.app.keyUse.flush();
    expect(await dialog.getByText('No exchanged key works now.').isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'Refresh' }).click();
    const keyRow = dialog.locator(`[data-testid="exchanged-key-row"][data-subject="${SUBJECT}"]`);
    await keyRow.waitFor();
    const cells = await keyRow.locator('td').allTextContents();
    expect(cells[0]).toBe(SUBJECT);
    expect(cells[1]).toBe(`${key.slice(0, 8)}********`);
    expect(cells[4]).toMatch(/^Last used (just now|\d+ seconds? ago) from 127\.0\.0\.1/);
    expect(await dialog.textContent()).not.toContain(key);
    await screenshot(page, 'trust-rules.png', async () => !(await dialog.textContent())!.includes(key));

    // Deleting the rule says what happens to the key, and does it.
    await ruleRow.getByRole('button', { name: 'Actions for the trust rule for repo:acme/flows:ref:refs/heads/*' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const confirm = page.getByTestId('delete-trust-rule-dialog');
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('Keys already exchanged under it stop working at once (1 now in use).');
    await confirm.getByRole('button', { name: 'Delete trust rule' }).click();
    await statusSays(page, /Trust rule for repo:acme\/flows:ref:refs\/heads\/\* deleted\. Keys exchanged under it no longer work\./);
    await dialog.getByText('No exchanged key works now.').waitFor();
    await ruleRow.waitFor({ state: 'detached' });
    const refused = await h.api('GET', '/api/me', { key });
    expect(refused.status).toBe(401);
    const again = await exchange(await issuer.token({ sub: SUBJECT, aud: 'gatehouse', repository_owner: 'acme' }, { now: h.clock.now() }));
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('TOKEN_EXCHANGE_REFUSED');
    expect(h.pageErrors).toEqual([]);
  });

  it('edits a rule: narrowing what it admits stops the keys exchanged under it', async () => {
    const made = await h.api('POST', `/api/accounts/${accountId}/bots/${botId}/trust_rules/`, {
      key: ownerKey,
      body: { issuer: issuer.issuer, audience: 'gatehouse', subject_pattern: 'system:serviceaccount:prefect:*' },
    });
    expect(made.status).toBe(201);
    const key = (await exchange(await issuer.token({ sub: 'system:serviceaccount:prefect:worker', aud: 'gatehouse' }, { now: h.clock.now() }))).body.access_token as string;
    const page = await h.newPage();
    await signIn(page, OWNER);
    await row(page, 'ci-deployer').getByRole('button', { name: 'Trust rules of ci-deployer' }).click();
    const dialog = page.getByTestId('trust-rules-dialog');
    await dialog.getByRole('button', { name: 'Actions for the trust rule for system:serviceaccount:prefect:*' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    expect(await dialog.getByText('Changing the issuer, audience, subject pattern or required claims stops the keys exchanged under this rule at once.').isVisible()).toBe(true);
    await dialog.getByLabel('Subject pattern', { exact: true }).fill('system:serviceaccount:prefect:worker');
    await dialog.getByRole('button', { name: 'Save trust rule' }).click();
    await statusSays(page, /Trust rule for system:serviceaccount:prefect:worker saved\./);
    await dialog.locator('[data-testid="trust-rule-row"][data-subject="system:serviceaccount:prefect:worker"]').waitFor();
    expect((await h.api('GET', '/api/me', { key })).status).toBe(401);
    expect(h.pageErrors).toEqual([]);
  });

  it('shows a Member the rules and keys but no way to change them', async () => {
    const invited = await h.api('POST', `/api/accounts/${accountId}/invitations/`, { key: ownerKey, body: { email: MEMBER, account_role_id: ACCOUNT_ROLE_IDS.Member } });
    expect(invited.status).toBe(201);
    const link = new URL(invited.body.accept_url);
    const page = await h.newPage();
    await page.goto(`${link.pathname}${link.hash}`);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.getByRole('heading', { name: 'Service Accounts', level: 1 }).waitFor();
    await row(page, 'ci-deployer').getByRole('button', { name: 'Trust rules of ci-deployer' }).click();
    const dialog = page.getByTestId('trust-rules-dialog');
    await dialog.locator('[data-testid="trust-rule-row"]').first().waitFor();
    expect(await dialog.getByRole('button', { name: /^(Add trust rule|Actions for)/ }).count()).toBe(0);
    expect(await dialog.getByTestId('trust-rule-form').count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });
});
