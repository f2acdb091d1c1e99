// `gatehouse trust-rule ls | add | rm` and `gatehouse exchange`, run as a user runs them against a
// Gatehouse on 127.0.0.1, with tokens from a local OIDC issuer: a workload with no stored key gets
// the settings a Prefect client needs, and loses them when the rule goes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouseAt } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { createBot, createWorkspace, grant, type Bot } from './support/members.js';
import { startLocalIssuer, type LocalIssuer } from './support/oidc-issuer.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';

let h: Harness;
let url: string;
let owner: { accountId: string; key: string };
let home: string;
let issuer: LocalIssuer;
let bot: Bot;
let workspaceId: string;

const gatehouse = (args: string[], env?: Record<string, string>) => gatehouseAt(join(home, 'gh'), args, { env });
const SUBJECT = 'system:serviceaccount:prefect:worker';

beforeAll(async () => {
  h = await startHarness();
  await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  owner = await h.bootstrap('acme');
  workspaceId = (await createWorkspace(h, owner.accountId, owner.key, 'production')).id;
  bot = await createBot(h, owner.accountId, owner.key, 'k8s-worker');
  await grant(h, owner.accountId, workspaceId, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
  issuer = await startLocalIssuer();
  home = mkdtempSync(join(tmpdir(), 'gatehouse-wif-'));
  const login = await gatehouse(['login', '--key', owner.key, '--url', url, '--workspace', 'acme/production']);
  expect(login.code, login.stderr).toBe(0);
});

afterAll(async () => {
  await issuer?.close();
  await h?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('gatehouse trust-rule and gatehouse exchange', () => {
  it('add a rule, exchange a token from a file for the Prefect settings, and lose the key with the rule', async () => {
    const add = await gatehouse(['trust-rule', 'add', 'k8s-worker', '--issuer', issuer.issuer, '--audience', 'gatehouse', '--subject', SUBJECT, '--claims', '{"kubernetes.io/namespace": "prefect"}', '--lifetime', '600']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toContain(`are exchanged for keys that work 600 seconds`);
    const ls = await gatehouse(['trust-rule', 'ls', 'k8s-worker', '--json']);
    const [rule] = JSON.parse(ls.stdout);
    expect(rule).toMatchObject({ issuer: issuer.issuer, subject_pattern: SUBJECT, required_claims: { 'kubernetes.io/namespace': 'prefect' }, key_lifetime_seconds: 600 });

    const tokenFile = join(home, 'token');
    writeFileSync(tokenFile, `${await issuer.token({ sub: SUBJECT, aud: 'gatehouse', 'kubernetes.io/namespace': 'prefect' }, { now: h.clock.now() })}\n`);
    const run = await gatehouse(['exchange', '--url', url, '--service-account', bot.id, '--token-file', tokenFile]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      `PREFECT_API_URL=${url}/api/accounts/${owner.accountId}/workspaces/${workspaceId}`,
      expect.stringMatching(/^PREFECT_API_KEY=pnb_[A-Za-z0-9]{36}$/),
      `PREFECT_CLOUD_API_URL=${url}/api`,
    ]);
    expect(run.stderr).toMatch(/The key works until .* \(600 seconds\)\./);
    const key = lines[1]!.split('=')[1]!;
    expect((await h.request('GET', `/api/me/workspaces/${workspaceId}/scopes`, { key })).status).toBe(200);

    // The same token again is refused, with the reason.
    const again = await gatehouse(['exchange', '--url', url, '--service-account', bot.id, '--token-file', tokenFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('this token was already exchanged');
    expect(again.stdout).toBe('');

    const rm = await gatehouse(['trust-rule', 'rm', 'k8s-worker', rule.id]);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await h.request('GET', `/api/me/workspaces/${workspaceId}/scopes`, { key })).status).toBe(401);
  });

  it('reads the token from an environment variable, and says what is wrong with a usage error', async () => {
    await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/trust_rules/`, { key: owner.key, body: { issuer: issuer.issuer, audience: 'gatehouse', subject_pattern: SUBJECT } });
    const token = await issuer.token({ sub: SUBJECT, aud: 'gatehouse' }, { now: h.clock.now() });
    const run = await gatehouse(['exchange', '--service-account', bot.id, '--token-env', 'CI_TOKEN', '--workspace', 'acme/production', '--json'], { CI_TOKEN: token, GATEHOUSE_URL: url });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ token_type: 'Bearer', bot_id: bot.id, prefect_api_url: `${url}/api/accounts/${owner.accountId}/workspaces/${workspaceId}` });

    const both = await gatehouse(['exchange', '--service-account', bot.id, '--url', url]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --token-file FILE or --token-env VARIABLE');
    const unset = await gatehouse(['exchange', '--service-account', bot.id, '--token-env', 'NOT_SET_ANYWHERE', '--url', url]);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('the variable NOT_SET_ANYWHERE is not set or empty');
  });
});
