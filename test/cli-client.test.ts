// The client commands (`gatehouse login | workspace | service-account | workspace-access`), run as
// a user runs them (`node bin/gatehouse.js ...`) against a Gatehouse listening on 127.0.0.1, with
// GATEHOUSE_HOME in a temp directory. Checked through the API: what they changed, and that a key is
// printed only by the commands whose purpose is to show it.
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../src/domain/api-keys/key-format.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { gatehouseAt } from './support/cli.js';
import type { CliRun } from './support/processes.js';
import { startHarness, type Harness } from './support/harness.js';
import { addMember, createBot, createWorkspace, grant } from './support/members.js';

const ANY_KEY = /pn[bu]_[0-9A-Za-z]{36}/g;

let h: Harness;
let url: string;
let closedUrl: string;
let owner: { accountId: string; userId: string; key: string };
let production: { id: string };
let staging: { id: string };
const homes: string[] = [];

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-client-'));
  homes.push(home);
  return join(home, 'gh');
}

const gatehouse = (home: string, args: string[], input = '', env: Record<string, string> = {}) => gatehouseAt(home, args, { input, env });

const lines = (text: string) => text.trimEnd().split('\n');
function lastJson(run: CliRun) {
  try {
    return JSON.parse(lines(run.stdout).at(-1)!);
  } catch {
    throw new Error(`expected a JSON line; exit ${run.code}, stdout: ${run.stdout}, stderr: ${run.stderr}`);
  }
}
const profiles = (home: string) => parse(readFileSync(join(home, 'profiles.toml'), 'utf8')) as any;
const apiUrl = (workspaceId: string) => `${url}/api/accounts/${owner.accountId}/workspaces/${workspaceId}`;

/** A home logged in with `key` on `workspace` (default acme/production) as `profile`. */
async function loggedIn(key = owner.key, workspace = 'acme/production', home = newHome(), profile?: string): Promise<string> {
  const run = await gatehouse(home, ['login', '--key', key, '--url', url, '--workspace', workspace, ...(profile ? ['--profile', profile] : [])]);
  expect(run.code, run.stderr).toBe(0);
  return home;
}

const status = async (key: string, path = '/api/me/') => (await h.request('GET', path, { key })).status;

async function botAccess(workspaceId: string) {
  const res = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/bot_access/filter`, { key: owner.key, body: {} });
  expect(res.status).toBe(200);
  return res.body as { bot_id: string; bot_name: string; workspace_role_id: string }[];
}

beforeAll(async () => {
  h = await startHarness();
  if (!h.app.server.server.listening) await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  // A port nothing listens on: taken from the system, then released.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
  owner = await h.bootstrap('acme');
  production = await createWorkspace(h, owner.accountId, owner.key, 'production');
  staging = await createWorkspace(h, owner.accountId, owner.key, 'staging');
});

afterAll(async () => {
  await h?.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('gatehouse login', () => {
  it('saves the profile (0600 in a 0700 directory) and prints exactly the three NAME=value lines', async () => {
    const home = newHome();
    const run = await gatehouse(home, ['login', '--key', owner.key, '--url', `${url}/`, '--workspace', 'acme/production']);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)).toEqual([`PREFECT_API_URL=${apiUrl(production.id)}`, `PREFECT_API_KEY=${owner.key}`, `PREFECT_CLOUD_API_URL=${url}/api`]);
    expect(run.stderr).not.toMatch(ANY_KEY);
    expect(statSync(join(home, 'profiles.toml')).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(profiles(home)).toEqual({
      active: 'default',
      profiles: {
        default: {
          url,
          key: owner.key,
          account_id: owner.accountId,
          account_handle: 'acme',
          workspace_id: production.id,
          workspace_handle: 'production',
        },
      },
    });
  });

  it('reads the address from GATEHOUSE_URL when --url is not given, and uses it over the profile\'s', async () => {
    const home = newHome();
    const login = await gatehouse(home, ['login', '--key', owner.key, '--workspace', 'acme/production'], '', { GATEHOUSE_URL: url });
    expect(login.code, login.stderr).toBe(0);
    expect(profiles(home).profiles.default.url).toBe(url);
    // A profile saved with a dead address still works when GATEHOUSE_URL names the live one.
    const moved = newHome();
    expect((await gatehouse(moved, ['login', '--key', owner.key, '--url', url, '--workspace', 'acme/production'])).code).toBe(0);
    const dead = await gatehouse(moved, ['workspace', 'ls', '--url', 'http://127.0.0.1:9']);
    expect(dead.code).not.toBe(0);
    const live = await gatehouse(moved, ['whoami'], '', { GATEHOUSE_URL: url });
    expect(live.code, live.stderr).toBe(0);
  });

  it('takes the only workspace a key reaches without --workspace', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    await grant(h, owner.accountId, staging.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
    const run = await gatehouse(newHome(), ['login', '--key', bot.key, '--url', url]);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)[0]).toBe(`PREFECT_API_URL=${apiUrl(staging.id)}`);
  });

  it('without a terminal, lists the workspaces and exits 2 asking for --workspace when there are several', async () => {
    const home = newHome();
    const run = await gatehouse(home, ['login', '--key', owner.key, '--url', url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--workspace acme/production');
    expect(run.stderr).toContain('--workspace acme/staging');
    expect(run.stdout + run.stderr).not.toMatch(ANY_KEY);
    expect(existsSync(join(home, 'profiles.toml'))).toBe(false);
  });

  describe('refuses a key, saying why, saving nothing and never echoing the key', () => {
    const refused = async (key: string, extra: string[] = []) => {
      const home = newHome();
      const run = await gatehouse(home, ['login', '--key', key, '--url', url, ...extra]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stdout + run.stderr).not.toContain(key);
      expect(existsSync(join(home, 'profiles.toml'))).toBe(false);
      return run.stderr;
    };

    it('of the wrong format or with a bad checksum', async () => {
      const good = generateKey('bot');
      const badChecksum = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
      for (const key of ['pnb_short', 'sk_live_0123456789abcdefghijklmnopqrstuvwxyzAB', badChecksum]) {
        expect(await refused(key)).toMatch(/--key is not a Gatehouse API key/);
      }
    });

    it('that the server does not know (401)', async () => {
      const stderr = await refused(generateKey('bot'));
      expect(stderr).toContain('Invalid authentication credentials (HTTP 401)');
      expect(stderr).toMatch(/unknown, expired, revoked or rotated out/);
    });

    it('that was revoked (its service account removed) or has expired', async () => {
      const removed = await createBot(h, owner.accountId, owner.key);
      expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${removed.id}`, { key: owner.key })).status).toBe(204);
      expect(await refused(removed.key)).toContain('(HTTP 401)');

      const expiring = await h.request('POST', `/api/accounts/${owner.accountId}/bots/`, {
        key: owner.key,
        body: { name: 'expiring', api_key_expiration: new Date(Date.now() + 86_400_000).toISOString() },
      });
      h.clock.advance(2 * 86_400_000);
      try {
        expect(await refused(expiring.body.api_key.key)).toContain('(HTTP 401)');
      } finally {
        h.clock.offsetMs = 0;
      }
    });

    it('that reaches no workspace', async () => {
      const lonely = await createBot(h, owner.accountId, owner.key);
      expect(await refused(lonely.key)).toMatch(/valid but reaches no workspace/);
    });

    it('that cannot reach the --workspace asked for, listing the ones it can', async () => {
      const stderr = await refused(owner.key, ['--workspace', 'acme/nowhere']);
      expect(stderr).toContain('cannot reach workspace acme/nowhere');
      expect(stderr).toContain('acme/production, acme/staging');
    });

    it('when no server answers at --url', async () => {
      const run = await gatehouse(newHome(), ['login', '--key', owner.key, '--url', closedUrl]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`cannot reach Gatehouse at ${closedUrl} (ECONNREFUSED)`);
      expect(run.stdout + run.stderr).not.toContain(owner.key);
    });
  });

  it('exits 2 for a missing --key or a malformed --workspace or --url', async () => {
    const home = newHome();
    const runs = await Promise.all([
      gatehouse(home, ['login', '--url', url]),
      gatehouse(home, ['login', '--key', owner.key, '--workspace', 'production']),
      gatehouse(home, ['login', '--key', owner.key, '--url', 'ftp://example.com']),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(runs[0].stderr).toContain('missing --key');
    expect(runs[1].stderr).toContain('ACCOUNT_HANDLE/WORKSPACE_HANDLE');
    expect(runs[2].stderr).toContain('--url "ftp://example.com"');
  });
});

describe('gatehouse workspace', () => {
  it('ls marks the current workspace, as a table and as JSON', async () => {
    const home = await loggedIn();
    const [table, json] = await Promise.all([gatehouse(home, ['workspace', 'ls']), gatehouse(home, ['workspace', 'ls', '--json'])]);
    expect(table.code, table.stderr).toBe(0);
    const rows = lines(table.stdout).slice(1);
    expect(rows.find((r) => r.includes('acme/production'))).toMatch(/^\*/);
    expect(rows.find((r) => r.includes('acme/staging'))).not.toMatch(/^\*/);
    expect(json.code).toBe(0);
    const listed = lastJson(json) as { workspace_id: string; account_handle: string; workspace_handle: string; current: boolean }[];
    expect(listed.map((w) => [w.workspace_handle, w.current]).sort()).toEqual([['production', true], ['staging', false]]);
    expect(listed[0]).toMatchObject({ account_id: owner.accountId, account_handle: 'acme' });
    expect(table.stdout + table.stderr + json.stdout + json.stderr).not.toMatch(ANY_KEY);
  });

  it('set makes another workspace current and prints its PREFECT_API_URL line', async () => {
    const home = await loggedIn();
    const run = await gatehouse(home, ['workspace', 'set', 'acme/staging']);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)).toEqual([`PREFECT_API_URL=${apiUrl(staging.id)}`]);
    expect(profiles(home).profiles.default).toMatchObject({ workspace_id: staging.id, workspace_handle: 'staging', key: owner.key });
    expect(statSync(join(home, 'profiles.toml')).mode & 0o777).toBe(0o600);
    const ls = lastJson(await gatehouse(home, ['workspace', 'ls', '--json']));
    expect(ls.filter((w: { current: boolean }) => w.current).map((w: { workspace_id: string }) => w.workspace_id)).toEqual([staging.id]);
  });

  it('set refuses a workspace the key cannot reach (exit 1) and a missing one (exit 2)', async () => {
    const home = await loggedIn();
    const [unknown, missing, sub] = await Promise.all([
      gatehouse(home, ['workspace', 'set', 'acme/nowhere']),
      gatehouse(home, ['workspace', 'set']),
      gatehouse(home, ['workspace', 'list']),
    ]);
    expect([unknown.code, missing.code, sub.code]).toEqual([1, 2, 2]);
    expect(unknown.stderr).toContain('cannot reach workspace acme/nowhere');
    expect(sub.stderr).toContain('unknown command "workspace list"');
    expect(profiles(home).profiles.default.workspace_id).toBe(production.id);
  });
});

describe('gatehouse service-account', () => {
  it('create --role --json ends with a JSON line whose api_key works and reaches the current workspace with that role', async () => {
    const home = await loggedIn();
    const run = await gatehouse(home, ['service-account', 'create', 'ci-worker', '--role', 'Worker', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const created = lastJson(run);
    expect(created).toMatchObject({
      name: 'ci-worker',
      account_id: owner.accountId,
      api_key: expect.stringMatching(/^pnb_[0-9A-Za-z]{36}$/),
      api_key_expiration: null,
      workspace: 'acme/production',
      workspace_role: 'Worker',
      prefect_api_url: apiUrl(production.id),
    });
    expect(run.stderr).toMatch(/shown once and cannot be shown again/);
    expect(run.stderr).not.toContain(created.api_key);
    expect(await status(created.api_key)).toBe(200);
    const reach = await h.request('GET', '/api/me/workspaces', { key: created.api_key });
    expect(reach.body.map((w: { workspace_id: string }) => w.workspace_id)).toEqual([production.id]);
    expect((await botAccess(production.id)).find((g) => g.bot_id === created.id)?.workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Worker);
  });

  it('create prints the key exactly once, in the PREFECT_API_KEY line, with a warning', async () => {
    const home = await loggedIn();
    const run = await gatehouse(home, ['service-account', 'create', 'plain-output']);
    expect(run.code, run.stderr).toBe(0);
    const keys = (run.stdout + run.stderr).match(ANY_KEY) ?? [];
    expect(keys).toHaveLength(1);
    expect(lines(run.stdout)).toEqual([`PREFECT_API_URL=${apiUrl(production.id)}`, `PREFECT_API_KEY=${keys[0]}`, `PREFECT_CLOUD_API_URL=${url}/api`]);
    expect(run.stderr).toMatch(/cannot be shown again/);
    expect(run.stderr).toContain('no workspace access yet');
    expect(await status(keys[0]!)).toBe(200);
  });

  it('create --expires sets the end of that day (UTC); bad dates and both flags exit 2', async () => {
    const home = await loggedIn();
    const run = await gatehouse(home, ['service-account', 'create', 'dated', '--expires', '2999-12-31', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(Date.parse(lastJson(run).api_key_expiration)).toBe(Date.parse('2999-12-31T23:59:59Z'));
    const bad = await Promise.all([
      gatehouse(home, ['service-account', 'create', 'x', '--expires', '2999-02-30']),
      gatehouse(home, ['service-account', 'create', 'x', '--expires', '31/12/2999']),
      gatehouse(home, ['service-account', 'create', 'x', '--expires', '2999-12-31', '--never-expire']),
      gatehouse(home, ['service-account', 'create']),
    ]);
    expect(bad.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(bad[0].stderr).toContain('--expires "2999-02-30"');
  });

  it("shows the server's detail and exits 1 when the server refuses (a taken name, a date in the past, an unknown role)", async () => {
    const home = await loggedIn();
    expect((await gatehouse(home, ['service-account', 'create', 'taken'])).code).toBe(0);
    const [taken, past, role] = await Promise.all([
      gatehouse(home, ['service-account', 'create', 'taken']),
      gatehouse(home, ['service-account', 'create', 'old', '--expires', '2001-01-01']),
      gatehouse(home, ['service-account', 'create', 'norole', '--role', 'Janitor']),
    ]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('A service account with this name already exists in this account; choose another name (HTTP 409)');
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('The expiration must be in the future');
    expect(role.code).toBe(1);
    expect(role.stderr).toContain('no workspace role named "Janitor"');
    expect(role.stderr).toContain('Worker');
    for (const run of [taken, past, role]) expect(run.stdout + run.stderr).not.toMatch(ANY_KEY);
    const names = (await h.request('POST', `/api/accounts/${owner.accountId}/bots/filter`, { key: owner.key, body: {} })).body.map((b: { name: string }) => b.name);
    expect(names).not.toContain('norole');
  });

  it('ls lists service accounts with masked keys only, as a table and as JSON', async () => {
    const home = await loggedIn();
    expect((await gatehouse(home, ['service-account', 'create', 'listed', '--json'])).code).toBe(0);
    const [table, json] = await Promise.all([gatehouse(home, ['service-account', 'ls']), gatehouse(home, ['service-account', 'ls', '--json'])]);
    expect([table.code, json.code]).toEqual([0, 0]);
    expect(table.stdout).toMatch(/^listed\s+[0-9a-f-]{36}\s+pnb_[0-9A-Za-z]{4}\*{8}\s+never\s+never used\s+none$/m);
    const listed = lastJson(json).find((b: { name: string }) => b.name === 'listed');
    expect(listed.api_key).toMatchObject({ masked_key: expect.stringMatching(/^pnb_[0-9A-Za-z]{4}\*{8}$/), expiration: null });
    expect(table.stdout + table.stderr + json.stdout + json.stderr).not.toMatch(ANY_KEY);
  });

  it('rotate prints a new working key; the old one keeps working only with --keep-old-key-hours', async () => {
    const home = await loggedIn();
    const first = lastJson(await gatehouse(home, ['service-account', 'create', 'rotating', '--json'])).api_key;

    const kept = await gatehouse(home, ['service-account', 'rotate', 'rotating', '--keep-old-key-hours', '1', '--json']);
    expect(kept.code, kept.stderr).toBe(0);
    const second = lastJson(kept);
    expect(second).toMatchObject({ name: 'rotating', api_key: expect.stringMatching(/^pnb_/), old_key_expires_in_seconds: 3600 });
    expect(second.api_key).not.toBe(first);
    expect(kept.stderr).toMatch(/cannot be shown again/);
    expect([await status(first), await status(second.api_key)]).toEqual([200, 200]);

    const now = await gatehouse(home, ['service-account', 'rotate', second.id]);
    expect(now.code, now.stderr).toBe(0);
    const third = (now.stdout.match(ANY_KEY) ?? [])[0]!;
    expect(now.stderr).toContain('The old key no longer works');
    expect([await status(second.api_key), await status(third)]).toEqual([401, 200]);
  });

  it('rotate refuses --keep-old-key-hours outside 0-48 and an unknown service account', async () => {
    const home = await loggedIn();
    const [hours, unknown] = await Promise.all([
      gatehouse(home, ['service-account', 'rotate', 'anyone', '--keep-old-key-hours', '49']),
      gatehouse(home, ['service-account', 'rotate', 'nobody-by-this-name']),
    ]);
    expect(hours.code).toBe(2);
    expect(hours.stderr).toContain('--keep-old-key-hours must be a whole number from 0 to 48');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no service account named "nobody-by-this-name"');
  });

  it('rm without --yes and without a terminal exits 2 and removes nothing; with --yes the keys stop working', async () => {
    const home = await loggedIn();
    const bot = await createBot(h, owner.accountId, owner.key, 'doomed');
    const asked = await gatehouse(home, ['service-account', 'rm', 'doomed']);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain('pass --yes');
    expect(await status(bot.key)).toBe(200);
    const run = await gatehouse(home, ['service-account', 'rm', 'doomed', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Removed service account "doomed"');
    expect(await status(bot.key)).toBe(401);
    const byId = await createBot(h, owner.accountId, owner.key);
    expect((await gatehouse(home, ['service-account', 'rm', byId.id, '--yes'])).code).toBe(0);
    expect(await status(byId.key)).toBe(401);
  });
});

describe('gatehouse workspace-access', () => {
  it('grants a service account a role on the current workspace, changes it, and revokes it', async () => {
    const home = await loggedIn();
    const bot = await createBot(h, owner.accountId, owner.key, 'shared-bot');
    const viewer = await gatehouse(home, ['workspace-access', 'grant', '--service-account', 'shared-bot', '--role', 'Viewer']);
    expect(viewer.code, viewer.stderr).toBe(0);
    expect(viewer.stdout).toContain('Granted service account "shared-bot" workspace role Viewer on acme/production');
    expect((await botAccess(production.id)).find((g) => g.bot_id === bot.id)?.workspace_role_id).toBe(WORKSPACE_ROLE_IDS.Viewer);

    const developer = await gatehouse(home, ['workspace-access', 'grant', '--service-account', bot.id, '--role', 'developer', '--yes']);
    expect(developer.code, developer.stderr).toBe(0);
    expect(developer.stdout).toBe('Changed the workspace role of service account "shared-bot" on acme/production from Viewer to Developer.\n');
    expect((await botAccess(production.id)).filter((g) => g.bot_id === bot.id).map((g) => g.workspace_role_id)).toEqual([WORKSPACE_ROLE_IDS.Developer]);

    const revoked = await gatehouse(home, ['workspace-access', 'revoke', '--service-account', 'shared-bot']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await botAccess(production.id)).some((g) => g.bot_id === bot.id)).toBe(false);
    expect((await h.request('GET', '/api/me/workspaces', { key: bot.key })).body).toEqual([]);

    const again = await gatehouse(home, ['workspace-access', 'revoke', '--service-account', 'shared-bot']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has no access to workspace acme/production');
  });

  it('grants and revokes a user, found by email among the account members, on --workspace', async () => {
    const home = await loggedIn();
    const member = await addMember(h, owner.accountId, 'Member');
    const access = async () => {
      const res = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${staging.id}/user_access/filter`, { key: owner.key, body: {} });
      return (res.body as { user_id: string; workspace_role_id: string }[]).filter((g) => g.user_id === member.userId);
    };
    const granted = await gatehouse(home, ['workspace-access', 'grant', '--user', member.email.toUpperCase(), '--role', 'Runner', '--workspace', 'acme/staging']);
    expect(granted.code, granted.stderr).toBe(0);
    expect((await access()).map((g) => g.workspace_role_id)).toEqual([WORKSPACE_ROLE_IDS.Runner]);
    const revoked = await gatehouse(home, ['workspace-access', 'revoke', '--user', member.email, '--workspace', 'acme/staging']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(await access()).toEqual([]);
  });

  it('refuses an unknown user (exit 1) and a missing or doubled principal or role (exit 2)', async () => {
    const home = await loggedIn();
    const runs = await Promise.all([
      gatehouse(home, ['workspace-access', 'grant', '--user', 'stranger@example.com', '--role', 'Viewer']),
      gatehouse(home, ['workspace-access', 'grant', '--role', 'Viewer']),
      gatehouse(home, ['workspace-access', 'grant', '--user', 'a@example.com', '--service-account', 'b', '--role', 'Viewer']),
      gatehouse(home, ['workspace-access', 'grant', '--user', 'a@example.com']),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 2, 2, 2]);
    expect(runs[0].stderr).toContain('no user with email stranger@example.com');
    expect(runs[3].stderr).toContain('missing --role');
  });
});

describe('--profile and --url', () => {
  it('select between two saved profiles; login makes its profile the active one', async () => {
    const home = await loggedIn();
    const bot = await createBot(h, owner.accountId, owner.key);
    await grant(h, owner.accountId, staging.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
    await loggedIn(bot.key, 'acme/staging', home, 'worker');
    expect(profiles(home).active).toBe('worker');
    expect(Object.keys(profiles(home).profiles).sort()).toEqual(['default', 'worker']);

    const [active, chosen, named] = await Promise.all([
      gatehouse(home, ['workspace', 'ls', '--json']),
      gatehouse(home, ['workspace', 'ls', '--json', '--profile', 'default']),
      gatehouse(home, ['workspace', 'ls', '--json', '--profile', 'worker']),
    ]);
    const current = (run: CliRun) => lastJson(run).map((w: { workspace_handle: string; current: boolean }) => `${w.workspace_handle}${w.current ? '*' : ''}`).sort();
    expect(current(active)).toEqual(['staging*']);
    expect(current(named)).toEqual(['staging*']);
    expect(current(chosen)).toEqual(['production*', 'staging']);
  });

  it('name an unknown profile (exit 1) or another server for one command (--url)', async () => {
    const home = await loggedIn();
    const [missing, elsewhere] = await Promise.all([
      gatehouse(home, ['workspace', 'ls', '--profile', 'nope']),
      gatehouse(home, ['service-account', 'ls', '--url', closedUrl]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no profile "nope"');
    expect(missing.stderr).toContain('gatehouse login --key KEY --profile nope');
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain(`cannot reach Gatehouse at ${closedUrl}`);
    expect(profiles(home).profiles.default.url).toBe(url);
  });

  it('tell a user whose saved key was revoked to log in again', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    await grant(h, owner.accountId, production.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Viewer);
    const home = await loggedIn(bot.key);
    await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key });
    const run = await gatehouse(home, ['workspace', 'ls']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(HTTP 401)');
    expect(run.stderr).toContain('gatehouse login --key NEW_KEY --profile default');
    expect(run.stdout + run.stderr).not.toContain(bot.key);
  });
});

describe('gatehouse workspace set --upstream', () => {
  const SECRET = 'prefect-admin:upstream-s3cret';

  it("points the workspace's gateway at its Prefect server; the auth string comes from stdin and is never printed", async () => {
    const home = await loggedIn();
    const set = await gatehouse(home, ['workspace', 'set', '--upstream', 'http://127.0.0.1:4200/api', '--upstream-auth-string-stdin', '--json'], `${SECRET}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(lastJson(set)).toMatchObject({ upstream_url: 'http://127.0.0.1:4200/api', has_upstream_auth_string: true });
    const read = await h.request('GET', `/api/accounts/${owner.accountId}/workspaces/${production.id}/gateway`, { key: owner.key });
    expect(read.body).toMatchObject({ upstream_url: 'http://127.0.0.1:4200/api', has_upstream_auth_string: true });

    const cleared = await gatehouse(home, ['workspace', 'set', 'acme/production', '--upstream', 'http://127.0.0.1:4201/api', '--clear-upstream-auth-string']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toContain('Upstream auth string: none');
    const shown = await gatehouse(home, ['workspace', 'show', '--json']);
    expect(lastJson(shown)).toMatchObject({ workspace: 'acme/production', upstream_url: 'http://127.0.0.1:4201/api', has_upstream_auth_string: false });
    for (const run of [set, cleared, shown]) expect(run.stdout + run.stderr).not.toContain(SECRET);
    // Setting an upstream does not change which workspace the profile works on.
    expect(profiles(home).profiles.default.workspace_id).toBe(production.id);
  });

  it('notes an upstream URL that does not end with /api, and saves it all the same (a proxy may move the API)', async () => {
    const home = await loggedIn();
    const run = await gatehouse(home, ['workspace', 'set', 'acme/staging', '--upstream', 'http://127.0.0.1:4200/']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('does not end with /api');
    expect(run.stderr).toContain('--upstream http://127.0.0.1:4200/api');
    const ok = await gatehouse(home, ['workspace', 'set', 'acme/staging', '--upstream', 'http://127.0.0.1:4200/api/']);
    expect(ok.stderr).not.toContain('does not end with /api');
  });

  it('checks that the Prefect server answers and takes the stored credential (--check, workspace check), exit 1 when it does not', async () => {
    const { createServer: createHttpServer } = await import('node:http');
    const expected = `Basic ${Buffer.from('admin:prefect-pw').toString('base64')}`;
    const prefect = createHttpServer((req, res) => {
      if (req.url === '/api/health') return res.end('true');
      if (req.url === '/api/version') {
        res.statusCode = req.headers.authorization === expected ? 200 : 401;
        return res.end(res.statusCode === 200 ? '"3.1.4"' : '{"exception_message":"Unauthorized"}');
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => prefect.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(prefect.address() as AddressInfo).port}/api`;
    try {
      const home = await loggedIn();
      const set = await gatehouse(home, ['workspace', 'set', 'acme/staging', '--upstream', url, '--upstream-auth-string-stdin', '--check'], 'admin:prefect-pw');
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain(`Connected: Prefect 3.1.4 answered at ${url}`);
      const json = await gatehouse(home, ['workspace', 'check', 'acme/staging', '--json']);
      expect(json.code, json.stderr).toBe(0);
      expect(lastJson(json)).toMatchObject({ workspace: 'acme/staging', reachable: true, status_code: 200, upstream_url: url });

      // A wrong credential: the check says so, names the command that sets it, and exits 1.
      const wrong = await gatehouse(home, ['workspace', 'set', 'acme/staging', '--upstream', url, '--upstream-auth-string-stdin'], 'admin:wrong');
      expect(wrong.code, wrong.stderr).toBe(0);
      const check = await gatehouse(home, ['workspace', 'check', 'acme/staging']);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(/^Not connected: .*credential/);
      expect(check.stdout).toContain('--upstream-auth-string-stdin');
      for (const run of [set, json, wrong, check]) expect(run.stdout + run.stderr).not.toMatch(/prefect-pw|admin:wrong/);

      const misuse = await gatehouse(home, ['workspace', 'set', 'acme/staging', '--check']);
      expect(misuse.code).toBe(2);
      expect(misuse.stderr).toContain('go with --upstream URL');
    } finally {
      prefect.close();
    }
  });

  it("shows the server's 403 to a key whose role cannot change workspace settings", async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    await grant(h, owner.accountId, production.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
    const home = await loggedIn(bot.key);
    const run = await gatehouse(home, ['workspace', 'set', '--upstream', 'http://127.0.0.1:4200/api']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(HTTP 403)');
    expect(run.stdout + run.stderr).not.toContain(bot.key);
  });

  it('--clear-upstream leaves the workspace with no Prefect server behind it', async () => {
    const home = await loggedIn();
    expect((await gatehouse(home, ['workspace', 'set', 'acme/staging', '--upstream', 'http://127.0.0.1:4200/api'])).code).toBe(0);
    const run = await gatehouse(home, ['workspace', 'set', 'acme/staging', '--clear-upstream']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('acme/staging no longer forwards');
    const read = await h.request('GET', `/api/accounts/${owner.accountId}/workspaces/${staging.id}/gateway`, { key: owner.key });
    expect(read.body).toMatchObject({ upstream_url: null, has_upstream_auth_string: false });
    const shown = await gatehouse(home, ['workspace', 'show', 'acme/staging']);
    expect(shown.stdout).toContain('Upstream Prefect API: none');
  });

  it('refuses both auth-string flags at once, auth-string flags without --upstream, and --upstream with --clear-upstream (exit 2)', async () => {
    const home = await loggedIn();
    const runs = await Promise.all([
      gatehouse(home, ['workspace', 'set', '--upstream', 'http://127.0.0.1:4200/api', '--upstream-auth-string-stdin', '--clear-upstream-auth-string'], SECRET),
      gatehouse(home, ['workspace', 'set', 'acme/staging', '--clear-upstream-auth-string']),
      gatehouse(home, ['workspace', 'set', '--upstream', 'http://127.0.0.1:4200/api', '--clear-upstream']),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(profiles(home).profiles.default.workspace_id).toBe(production.id);
  });
});

describe('gatehouse --help', () => {
  it('lists every client command', async () => {
    const run = await gatehouse(newHome(), ['--help']);
    expect(run.code).toBe(0);
    for (const command of ['login', 'workspace ls', 'workspace set', 'service-account create', 'service-account rotate', 'service-account rm', 'workspace-access grant', 'workspace-access revoke']) {
      expect(run.stdout).toContain(command);
    }
  });
});
