// `gatehouse webhook ls | add | set | test | log | rm` (issue 19, item 3), run as a user runs them
// against a Gatehouse on 127.0.0.1, with a receiver on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouseAt } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { createWorkspace } from './support/members.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

let h: Harness;
let url: string;
let owner: { accountId: string; userId: string; key: string };
let receiver: WebhookReceiver;
const homes: string[] = [];

async function loggedIn(key: string): Promise<string> {
  const home = join(mkdtempSync(join(tmpdir(), 'gatehouse-webhook-')), 'gh');
  homes.push(join(home, '..'));
  const run = await gatehouseAt(home, ['login', '--key', key, '--url', url, '--workspace', 'wh/production']);
  expect(run.code, run.stderr).toBe(0);
  return home;
}

beforeAll(async () => {
  h = await startHarness({ noticeDeliveryMs: 0, keyExpiryCheckMs: 0 });
  await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  owner = await h.bootstrap('wh');
  await createWorkspace(h, owner.accountId, owner.key, 'production');
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('gatehouse webhook', () => {
  it('adds one (printing its secret once), lists, changes, tests, shows the log and removes it', async () => {
    const home = await loggedIn(owner.key);
    const empty = await gatehouseAt(home, ['webhook', 'ls']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stderr).toContain('Account wh has no webhooks.');

    const add = await gatehouseAt(home, ['webhook', 'add', receiver.url, '--events', 'api_key.expiring,api_key.leak_reported', '--description', 'ops']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^Added webhook [0-9a-f-]{36} for http:\/\/127\.0\.0\.1:\d+\/hooks\.$/m);
    const secret = add.stdout.match(/^whsec_\S+$/m)?.[0];
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const ls = await gatehouseAt(home, ['webhook', 'ls']);
    expect(ls.stdout).toMatch(new RegExp(`^[0-9a-f-]{36}\\s+${receiver.url.replace(/[./]/g, '\\$&')}\\s+yes\\s+api_key.expiring,api_key.leak_reported\\s+ops$`, 'm'));
    expect(ls.stdout).not.toContain('whsec_');
    const json = JSON.parse((await gatehouseAt(home, ['webhook', 'ls', '--json'])).stdout);
    expect(json).toEqual([expect.objectContaining({ url: receiver.url, enabled: true, description: 'ops' })]);
    expect(json[0].secret).toBeUndefined();

    const set = await gatehouseAt(home, ['webhook', 'set', receiver.url, '--enabled', 'no', '--events', 'ip_allowlist.changed']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain('disabled, events ip_allowlist.changed');

    const test = await gatehouseAt(home, ['webhook', 'test', json[0].id]);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toMatch(/^Delivered a webhook\.test notice to http:\/\/127\.0\.0\.1:\d+\/hooks: HTTP 204 in \d+ ms\.$/m);
    expect(receiver.received.map((r) => r.json.type)).toEqual(['webhook.test']);

    const log = await gatehouseAt(home, ['webhook', 'log', receiver.url]);
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toMatch(/^\S+Z\s+webhook\.test\s+HTTP 204\s+\d+\s+delivered$/m);

    const refused = await gatehouseAt(home, ['webhook', 'rm', receiver.url]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes to confirm');
    const rm = await gatehouseAt(home, ['webhook', 'rm', receiver.url, '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await gatehouseAt(home, ['webhook', 'ls', '--json'])).stdout.trim()).toBe('[]');
  });

  it('refuses a bad URL and an unknown event with messages that say what to do', async () => {
    const home = await loggedIn(owner.key);
    const bad = await gatehouseAt(home, ['webhook', 'add', 'ftp://127.0.0.1/x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('The webhook URL must be an http:// or https:// URL with a host');
    const unknown = await gatehouseAt(home, ['webhook', 'add', receiver.url, '--events', 'key.stolen']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--events takes a comma-separated list of api_key.expiring');
  });
});
