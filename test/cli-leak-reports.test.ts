// Leak reports in the `gatehouse` CLI (issue 19 item 4): `service-account ls` shows where a key was
// found and whether it still works; `key-policy set --leaked-key-action` chooses disable or flag.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouseAt } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { createWorkspace, postBot } from './support/members.js';
import { parseSigningKeys } from '../src/leak-report-keys.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const keys = parseSigningKeys(JSON.stringify({ public_keys: [{ key_identifier: 'k1', key: publicKey.export({ type: 'spki', format: 'pem' }) }] }));

let h: Harness;
let url: string;
let owner: { accountId: string; userId: string; key: string };
const homes: string[] = [];

async function loggedIn(key: string): Promise<string> {
  const home = join(mkdtempSync(join(tmpdir(), 'gatehouse-leaks-')), 'gh');
  homes.push(join(home, '..'));
  const run = await gatehouseAt(home, ['login', '--key', key, '--url', url, '--workspace', 'lk/production']);
  expect(run.code, run.stderr).toBe(0);
  return home;
}

async function reportLeaked(token: string, found: string) {
  const body = JSON.stringify([{ token, type: 'gatehouse_key', url: found, source: 'commit' }]);
  const res = await h.request('POST', '/api/leak_reports', {
    rawBody: body,
    headers: { 'content-type': 'application/json', 'github-public-key-identifier': 'k1', 'github-public-key-signature': sign('sha256', Buffer.from(body), privateKey).toString('base64') },
  });
  expect(res.status, res.text).toBe(200);
}

beforeAll(async () => {
  if (!keys.ok) throw new Error(keys.error);
  h = await startHarness({ leakReportKeys: keys.keys });
  await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  owner = await h.bootstrap('lk');
  await createWorkspace(h, owner.accountId, owner.key, 'production');
});

afterAll(async () => {
  await h?.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('gatehouse and leak reports', () => {
  it('service-account ls names each key reported leaked, where it was found and whether it still works', async () => {
    const home = await loggedIn(owner.key);
    const disabled = await postBot(h, owner.accountId, owner.key, { name: 'leaky' });
    await postBot(h, owner.accountId, owner.key, { name: 'clean' });
    await reportLeaked(disabled.api_key.key, 'https://github.com/o/r/blob/abc/.env');
    const [table, asJson] = await Promise.all([gatehouseAt(home, ['service-account', 'ls']), gatehouseAt(home, ['service-account', 'ls', '--json'])]);
    expect(table.code, table.stderr).toBe(0);
    const leakLines = table.stdout.split('\n').filter((l) => l.startsWith('REPORTED LEAKED'));
    expect(leakLines).toHaveLength(1);
    expect(leakLines[0]).toMatch(/^REPORTED LEAKED leaky: pnb_\S{4}\*{8} found at https:\/\/github\.com\/o\/r\/blob\/abc\/\.env \(commit\) on \d{4}-\d\d-\d\d \d\d:\d\d UTC; it no longer works$/);
    const listed = JSON.parse(asJson.stdout).find((b: { name: string }) => b.name === 'leaky');
    expect(listed.api_key).toMatchObject({ leak_url: 'https://github.com/o/r/blob/abc/.env', leak_source: 'commit', leak_reported_at: expect.any(String) });
  });

  it('key-policy set --leaked-key-action flag keeps a reported key working, and says so', async () => {
    const home = await loggedIn(owner.key);
    const set = await gatehouseAt(home, ['key-policy', 'set', '--leaked-key-action', 'flag']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^leaked_key_action\s+flag \(a key reported leaked keeps working\)$/m);
    const bot = await postBot(h, owner.accountId, owner.key, { name: 'flagged' });
    await reportLeaked(bot.api_key.key, '');
    const table = await gatehouseAt(home, ['service-account', 'ls']);
    expect(table.stdout).toMatch(/^REPORTED LEAKED flagged: pnb_\S+ found \(commit\) on .* UTC; it still works \(flagged only\): rotate it$/m);
    const bad = await gatehouseAt(home, ['key-policy', 'set', '--leaked-key-action', 'delete']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--leaked-key-action must be disable or flag');
  });
});
