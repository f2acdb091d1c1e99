// `gatehouse key-policy show | set` (issue 19, item 2), run as a user runs them against a Gatehouse
// on 127.0.0.1: text and --json, a Member refused, and a create the policy refuses.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouseAt } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { addMember, createWorkspace, grant, postBot } from './support/members.js';

let h: Harness;
let url: string;
let owner: { accountId: string; userId: string; key: string };
let production: { id: string };
const homes: string[] = [];

const gatehouse = (home: string, args: string[]) => gatehouseAt(home, args);

async function loggedIn(key: string): Promise<string> {
  const home = join(mkdtempSync(join(tmpdir(), 'gatehouse-key-policy-')), 'gh');
  homes.push(join(home, '..'));
  const run = await gatehouse(home, ['login', '--key', key, '--url', url, '--workspace', 'kp/production']);
  expect(run.code, run.stderr).toBe(0);
  return home;
}

beforeAll(async () => {
  h = await startHarness();
  await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  owner = await h.bootstrap('kp');
  production = await createWorkspace(h, owner.accountId, owner.key, 'production');
});

afterAll(async () => {
  await h?.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('gatehouse key-policy', () => {
  it('set saves the fields given and lists the existing keys that break the policy; show --json reads it back', async () => {
    const home = await loggedIn(owner.key);
    const forever = await postBot(h, owner.accountId, owner.key, { name: 'forever' });
    const set = await gatehouse(home, ['key-policy', 'set', '--max-key-lifetime-days', '90', '--allow-never-expire', 'no']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain('Saved the key policy of account kp');
    expect(set.stderr).toContain('1 existing key breaks this policy');
    expect(set.stdout).toMatch(/^max_key_lifetime_days\s+90 days$/m);
    expect(set.stdout).toMatch(/^allow_never_expire\s+no$/m);
    expect(set.stdout).toMatch(/^forever\s+pnb_\S+\s+never\s+\S+\s+allow_never_expire, max_key_lifetime_days$/m);

    const show = await gatehouse(home, ['key-policy', 'show', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const read = JSON.parse(show.stdout);
    expect(read.policy).toMatchObject({ account_id: owner.accountId, max_key_lifetime_days: 90, allow_never_expire: false, max_rotation_grace_seconds: null, disable_keys_unused_days: null });
    expect(read.breaches.map((b: { api_key_id: string }) => b.api_key_id)).toEqual([forever.api_key.id]);

    const lifted = await gatehouse(home, ['key-policy', 'set', '--max-key-lifetime-days', 'none', '--json']);
    expect(JSON.parse(lifted.stdout).policy).toMatchObject({ max_key_lifetime_days: null, allow_never_expire: false });
  });

  it('create refused by the policy exits 1 with the policy named', async () => {
    const home = await loggedIn(owner.key);
    const run = await gatehouse(home, ['service-account', 'create', 'eternal', '--never-expire', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr)).toEqual({
      detail: "This account's key policy does not allow keys that never expire; choose an expiration date",
      code: 'KEY_POLICY_VIOLATION',
      status: 422,
    });
  });

  it('set refuses bad values before calling, and a Member with 403', async () => {
    const member = await addMember(h, owner.accountId, 'Member');
    await grant(h, owner.accountId, production.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Viewer);
    const home = await loggedIn(member.key);
    const bad = await gatehouse(home, ['key-policy', 'set', '--allow-never-expire', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--allow-never-expire must be yes or no');
    const nothing = await gatehouse(home, ['key-policy', 'set']);
    expect(nothing.code).toBe(2);
    const refused = await gatehouse(home, ['key-policy', 'set', '--disable-keys-unused-days', '30', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });
});
