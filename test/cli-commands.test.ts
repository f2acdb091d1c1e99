// The client commands a new user reaches for (issue 16): whoami, logout, profile ls|use, workspace
// create|rm, workspace-access ls and what grant says when a role changes, service-account ls with
// workspace roles, the expiry of a key created without --expires, and --json errors. CliRun as a user
// runs them, against a Gatehouse on 127.0.0.1; "at a terminal" runs go through script(1)'s pty.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { maskKey } from '../src/domain/api-keys/key-format.js';
import { ROOT } from './support/build.js';
import { cliEnv, gatehouseAt } from './support/cli.js';
import type { CliRun } from './support/processes.js';
import { startHarness, type Harness } from './support/harness.js';
import { addMember, createBot, createWorkspace, grant } from './support/members.js';

let h: Harness;
let url: string;
let owner: { accountId: string; userId: string; key: string };
let production: { id: string };
let staging: { id: string };
const homes: string[] = [];

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-commands-'));
  homes.push(home);
  return join(home, 'gh');
}

const envFor = (home: string) => cliEnv(home);

const gatehouse = (home: string, args: string[], input = '') => gatehouseAt(home, args, { input });

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** The command at a terminal (a pty from script(1)), with `input` typed; stdout and stderr merged, as a terminal shows them. */
function atTerminal(home: string, args: string[], input: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const command = ['node', 'bin/gatehouse.js', ...args].map(quote).join(' ');
    const child = execFile('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...envFor(home), SHELL: '/bin/sh' }, timeout: 30_000 }, (error, stdout) =>
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
        // eslint-disable-next-line no-control-regex
        output: stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, ''),
      }),
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

const lines = (text: string) => text.trimEnd().split('\n');
const json = (run: CliRun) => {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`expected one JSON document; exit ${run.code}, stdout: ${run.stdout}, stderr: ${run.stderr}`);
  }
};
const profiles = (home: string) => parse(readFileSync(join(home, 'profiles.toml'), 'utf8')) as any;

async function loggedIn(key = owner.key, workspace = 'acme/production', home = newHome(), profile?: string): Promise<string> {
  const run = await gatehouse(home, ['login', '--key', key, '--url', url, '--workspace', workspace, ...(profile ? ['--profile', profile] : [])]);
  expect(run.code, run.stderr).toBe(0);
  return home;
}

async function userRole(workspaceId: string, userId: string): Promise<string | undefined> {
  const res = await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/user_access/filter`, { key: owner.key, body: {} });
  return (res.body as { user_id: string; workspace_role_id: string }[]).find((g) => g.user_id === userId)?.workspace_role_id;
}

beforeAll(async () => {
  h = await startHarness();
  if (!h.app.server.server.listening) await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  owner = await h.bootstrap('acme');
  production = await createWorkspace(h, owner.accountId, owner.key, 'production');
  staging = await createWorkspace(h, owner.accountId, owner.key, 'staging');
});

afterAll(async () => {
  await h?.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('gatehouse whoami', () => {
  it("says who a user key is: email, account role, workspace, the key's expiry", async () => {
    const home = await loggedIn();
    const [text, asJson] = await Promise.all([gatehouse(home, ['whoami']), gatehouse(home, ['whoami', '--json'])]);
    expect(text.code, text.stderr).toBe(0);
    expect(lines(text.stdout)).toEqual([
      `Profile:    default (${url})`,
      'User:       owner-acme@example.com',
      'Account:    acme (Owner)',
      'Workspace:  acme/production',
      `Key:        ${maskKey(owner.key)}, expires: never`,
    ]);
    expect(json(asJson)).toEqual({
      profile: 'default',
      url,
      type: 'user',
      id: owner.userId,
      name: 'owner-acme@example.com',
      account_id: owner.accountId,
      account: 'acme',
      account_role: 'Owner',
      workspace: 'acme/production',
      workspace_id: production.id,
      masked_key: maskKey(owner.key),
      key_expiration: null,
      key_expiration_known: true,
    });
    expect(text.stdout + asJson.stdout).not.toContain(owner.key);
  });

  it('says a service account key is one, by its name', async () => {
    const bot = await createBot(h, owner.accountId, owner.key, 'whoami-bot');
    await grant(h, owner.accountId, staging.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
    const home = await loggedIn(bot.key, 'acme/staging');
    const run = await gatehouse(home, ['whoami', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ type: 'service_account', id: bot.id, name: 'whoami-bot', account_role: 'Member', workspace: 'acme/staging' });
  });
});

describe('gatehouse logout and profile ls|use', () => {
  it("logout removes the profile's key, says which profile, and later commands ask for a login", async () => {
    const home = await loggedIn();
    await loggedIn(owner.key, 'acme/staging', home, 'other');
    const run = await gatehouse(home, ['logout', '--profile', 'default']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`Logged out of profile "default" (${url}): removed its key ${maskKey(owner.key)} from ${join(home, 'profiles.toml')}.\n`);
    expect(Object.keys(profiles(home).profiles)).toEqual(['other']);
    expect(profiles(home).active).toBe('other');
    const after = await gatehouse(home, ['workspace', 'ls', '--profile', 'default']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('no profile "default"');
    const again = await gatehouse(home, ['logout', '--profile', 'default']);
    expect(again.code).toBe(1);
  });

  it('profile ls marks the active profile; profile use switches it; an unknown name lists the saved ones', async () => {
    const home = await loggedIn();
    await loggedIn(owner.key, 'acme/staging', home, 'stage');
    const listed = await gatehouse(home, ['profile', 'ls']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(lines(listed.stdout)[0]).toMatch(/^\s+PROFILE\s+URL\s+WORKSPACE\s+KEY$/);
    expect(lines(listed.stdout).find((l) => l.includes('stage '))).toMatch(/^\*\s+stage\s+http/);
    const used = await gatehouse(home, ['profile', 'use', 'default']);
    expect(used.code, used.stderr).toBe(0);
    expect(used.stdout).toBe(`Profile "default" is now active (${url}, workspace acme/production).\n`);
    expect(profiles(home).active).toBe('default');
    expect(json(await gatehouse(home, ['profile', 'ls', '--json']))).toEqual([
      { name: 'default', active: true, url, workspace: 'acme/production', account_id: owner.accountId, workspace_id: production.id, masked_key: maskKey(owner.key) },
      { name: 'stage', active: false, url, workspace: 'acme/staging', account_id: owner.accountId, workspace_id: staging.id, masked_key: maskKey(owner.key) },
    ]);
    const unknown = await gatehouse(home, ['profile', 'use', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe(`gatehouse profile use: no profile "nope" in ${join(home, 'profiles.toml')}; the saved ones are: default, stage`);
  });
});

describe('gatehouse workspace create | rm', () => {
  it('create makes a workspace whose Owner is the caller; rm asks at a terminal, needs --yes elsewhere', async () => {
    const home = await loggedIn();
    const created = await gatehouse(home, ['workspace', 'create', 'qa', '--name', 'QA', '--description', 'Tests']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('Created workspace acme/qa ("QA"); you are its Owner.\n');
    const ws = (await h.request('POST', `/api/accounts/${owner.accountId}/workspaces/filter`, { key: owner.key, body: {} })).body.find((w: { handle: string }) => w.handle === 'qa');
    expect(ws).toMatchObject({ name: 'QA', description: 'Tests' });

    const refused = await gatehouse(home, ['workspace', 'rm', 'acme/qa']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[0]).toBe('gatehouse workspace rm: deleting workspace acme/qa removes every access grant to it at once; pass --yes to confirm');
    const declined = await atTerminal(home, ['workspace', 'rm', 'acme/qa'], 'n\n');
    expect(declined.code).toBe(1);
    expect(declined.output).toContain('Delete workspace acme/qa and every access grant to it? [y/N]');
    expect(declined.output).toContain('Nothing deleted.');
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/workspaces/${ws.id}`, { key: owner.key })).status).toBe(200);
    const accepted = await atTerminal(home, ['workspace', 'rm', 'acme/qa'], 'y\n');
    expect(accepted.code, accepted.output).toBe(0);
    expect(accepted.output).toContain('Deleted workspace acme/qa.');
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/workspaces/${ws.id}`, { key: owner.key })).status).toBe(404);
  });

  it('create --json prints the workspace; a taken handle is the API code on stderr as JSON; --yes deletes without asking', async () => {
    const home = await loggedIn();
    const created = await gatehouse(home, ['workspace', 'create', 'scratch', '--name', 'Scratch', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(json(created)).toMatchObject({ handle: 'scratch', name: 'Scratch', workspace: 'acme/scratch', prefect_api_url: expect.stringMatching(/\/api\/accounts\/.+\/workspaces\//) });
    const taken = await gatehouse(home, ['workspace', 'create', 'scratch', '--name', 'Scratch 2', '--json']);
    expect(taken.code).toBe(1);
    expect(taken.stdout).toBe('');
    expect(JSON.parse(taken.stderr)).toEqual({ detail: expect.stringContaining('already exists'), code: 'WORKSPACE_HANDLE_TAKEN', status: 409 });
    const missingName = await gatehouse(home, ['workspace', 'create', 'noname']);
    expect(missingName.code).toBe(2);
    expect(missingName.stderr.split('\n')[0]).toBe('gatehouse workspace create: missing --name NAME (the workspace\'s display name, such as "noname")');
    const removed = await gatehouse(home, ['workspace', 'rm', 'acme/scratch', '--yes', '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(json(removed)).toEqual({ workspace: 'acme/scratch', workspace_id: json(created).id, deleted: true });
  });
});

describe('gatehouse workspace-access', () => {
  it('grant says granted, changed from Owner to Viewer (asked at a terminal, --yes elsewhere) or already', async () => {
    const home = await loggedIn();
    const member = await addMember(h, owner.accountId, 'Member');
    await grant(h, owner.accountId, production.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Owner);
    const args = ['workspace-access', 'grant', '--user', member.email, '--role', 'Viewer'];

    const refused = await gatehouse(home, args);
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[0]).toBe(`gatehouse workspace-access grant: user ${member.email} has workspace role Owner on acme/production; pass --yes to change it to Viewer`);
    expect(await userRole(production.id, member.userId)).toBe(WORKSPACE_ROLE_IDS.Owner);

    const declined = await atTerminal(home, args, 'n\n');
    expect(declined.code).toBe(1);
    expect(declined.output).toContain(`User ${member.email} has workspace role Owner on acme/production. Change it to Viewer? [y/N]`);
    expect(declined.output).toContain('Nothing changed.');
    expect(await userRole(production.id, member.userId)).toBe(WORKSPACE_ROLE_IDS.Owner);

    const accepted = await atTerminal(home, args, 'y\n');
    expect(accepted.code, accepted.output).toBe(0);
    expect(accepted.output).toContain(`Changed the workspace role of user ${member.email} on acme/production from Owner to Viewer.`);
    expect(await userRole(production.id, member.userId)).toBe(WORKSPACE_ROLE_IDS.Viewer);

    const same = await gatehouse(home, args);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe(`User ${member.email} already has workspace role Viewer on acme/production; nothing changed.\n`);

    const newGrant = await gatehouse(home, ['workspace-access', 'grant', '--user', member.email, '--role', 'Runner', '--workspace', 'acme/staging', '--json']);
    expect(newGrant.code, newGrant.stderr).toBe(0);
    expect(json(newGrant)).toEqual({ workspace: 'acme/staging', principal: 'user', user_id: member.userId, workspace_role: 'Runner', previous_workspace_role: null, changed: true });
    const changed = await gatehouse(home, ['workspace-access', 'grant', '--user', member.email, '--role', 'Developer', '--workspace', 'acme/staging', '--yes', '--json']);
    expect(json(changed)).toMatchObject({ workspace_role: 'Developer', previous_workspace_role: 'Runner', changed: true });
  });

  it("refuses to take away a workspace's last Owner, saying how to go on (the server's rule)", async () => {
    const home = await loggedIn();
    await createWorkspace(h, owner.accountId, owner.key, 'solo');
    const [revoke, demote] = await Promise.all([
      gatehouse(home, ['workspace-access', 'revoke', '--user', 'owner-acme@example.com', '--workspace', 'acme/solo']),
      gatehouse(home, ['workspace-access', 'grant', '--user', 'owner-acme@example.com', '--role', 'Viewer', '--workspace', 'acme/solo', '--yes', '--json']),
    ]);
    expect(revoke.code).toBe(1);
    expect(revoke.stderr).toBe(
      'gatehouse workspace-access revoke: A workspace must keep at least one Owner: grant someone else the Owner role on it first (gatehouse workspace-access grant --user EMAIL --role Owner) (HTTP 409)\n',
    );
    expect(demote.code).toBe(1);
    expect(JSON.parse(demote.stderr)).toMatchObject({ code: 'LAST_WORKSPACE_OWNER', status: 409 });
  });

  it('ls lists the users and service accounts of a workspace with their roles', async () => {
    const home = await loggedIn();
    const ws = await createWorkspace(h, owner.accountId, owner.key, 'listed');
    const bot = await createBot(h, owner.accountId, owner.key, 'listed-bot');
    await grant(h, owner.accountId, ws.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
    const [table, asJson] = await Promise.all([
      gatehouse(home, ['workspace-access', 'ls', '--workspace', 'acme/listed']),
      gatehouse(home, ['workspace-access', 'ls', '--workspace', 'acme/listed', '--json']),
    ]);
    expect(table.code, table.stderr).toBe(0);
    expect(lines(table.stdout).map((l) => l.split(/\s{2,}/))).toEqual([
      ['TYPE', 'NAME', 'ROLE'],
      ['user', 'owner-acme@example.com', 'Owner'],
      ['service account', 'listed-bot', 'Worker'],
    ]);
    expect(json(asJson)).toEqual({
      workspace: 'acme/listed',
      workspace_id: ws.id,
      access: [
        { type: 'user', name: 'owner-acme@example.com', user_id: owner.userId, workspace_role: 'Owner', workspace_role_id: WORKSPACE_ROLE_IDS.Owner, access_id: expect.any(String) },
        { type: 'service_account', name: 'listed-bot', bot_id: bot.id, workspace_role: 'Worker', workspace_role_id: WORKSPACE_ROLE_IDS.Worker, access_id: expect.any(String) },
      ],
    });
  });
});

describe('gatehouse service-account', () => {
  it('ls shows the workspace roles of each service account, as the web page does', async () => {
    const home = await loggedIn();
    const bot = await createBot(h, owner.accountId, owner.key, 'roles-bot');
    await grant(h, owner.accountId, production.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
    await grant(h, owner.accountId, staging.id, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Viewer);
    const [table, asJson] = await Promise.all([gatehouse(home, ['service-account', 'ls']), gatehouse(home, ['service-account', 'ls', '--json'])]);
    expect(table.code, table.stderr).toBe(0);
    expect(lines(table.stdout)[0]).toMatch(/^NAME\s+ID\s+KEY\s+EXPIRATION\s+LAST USED\s+WORKSPACE ROLES$/);
    expect(lines(table.stdout).find((l) => l.startsWith('roles-bot '))).toMatch(/never\s+never used\s+acme\/production:Worker, acme\/staging:Viewer$/);
    const listed = json(asJson).find((b: { name: string }) => b.name === 'roles-bot');
    expect(listed.workspace_access).toEqual([
      { workspace: 'acme/production', workspace_id: production.id, workspace_role: 'Worker', workspace_role_id: WORKSPACE_ROLE_IDS.Worker },
      { workspace: 'acme/staging', workspace_id: staging.id, workspace_role: 'Viewer', workspace_role_id: WORKSPACE_ROLE_IDS.Viewer },
    ]);
  });

  it('ls shows when, from where and with which client each key was last used', async () => {
    const home = await loggedIn();
    const bot = await createBot(h, owner.accountId, owner.key, 'used-bot');
    expect((await h.request('GET', '/api/me/workspaces', { key: bot.key, headers: { 'user-agent': 'prefect/3.9.1' } })).status).toBe(200);
    await h.app.keyUse.flush();
    const [table, asJson] = await Promise.all([gatehouse(home, ['service-account', 'ls']), gatehouse(home, ['service-account', 'ls', '--json'])]);
    expect(table.code, table.stderr).toBe(0);
    expect(lines(table.stdout).find((l) => l.startsWith('used-bot '))).toMatch(/never\s+(just now|\d+ seconds? ago) from 127\.0\.0\.1 · prefect\/3\.9\.1\s+none$/);
    const listed = json(asJson).find((b: { name: string }) => b.name === 'used-bot');
    expect(listed.api_key).toMatchObject({ last_used_from: '127.0.0.1', last_used_client: 'prefect/3.9.1', last_used_workspace_id: null, last_used_at: expect.any(String) });
  });

  it('create without --expires says on stderr that the key never expires; --never-expire needs no note', async () => {
    const home = await loggedIn();
    const [plain, explicit] = await Promise.all([
      gatehouse(home, ['service-account', 'create', 'eternal', '--json']),
      gatehouse(home, ['service-account', 'create', 'eternal-on-purpose', '--never-expire', '--json']),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr.split('\n')[0]).toBe(
      'Note: the new key never expires (no --expires given); pass --expires YYYY-MM-DD for a key that stops working, or --never-expire to say so and hide this note.',
    );
    expect(json(plain).api_key_expiration).toBeNull();
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(explicit.stderr).not.toContain('Note:');
  });

  it('create without --expires at a terminal asks for the expiry', async () => {
    const home = await loggedIn();
    const run = await atTerminal(home, ['service-account', 'create', 'asked', '--json'], '2031-01-31\n');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('When should the key expire? A date YYYY-MM-DD (end of that day, UTC), or "never":');
    const bots = (await h.request('POST', `/api/accounts/${owner.accountId}/bots/filter`, { key: owner.key, body: {} })).body;
    expect(bots.find((b: { name: string }) => b.name === 'asked').api_key.expiration).toMatch(/^2031-01-31T23:59:59(\.000)?Z$/);
  });

  it("speaks in the CLI's flags, not the API's fields, when the server refuses", async () => {
    const home = await loggedIn();
    const [past, asJson] = await Promise.all([
      gatehouse(home, ['service-account', 'create', 'old', '--expires', '2001-01-01']),
      gatehouse(home, ['service-account', 'create', 'old', '--expires', '2001-01-01', '--json']),
    ]);
    expect(past.code).toBe(1);
    expect(past.stderr).toBe(
      'gatehouse service-account create: The expiration must be in the future: give a later --expires date, or --never-expire for a key that never expires (HTTP 422)\n',
    );
    expect(past.stderr).not.toMatch(/send null|api_key_expiration/);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toEqual({
      detail: 'The expiration must be in the future: give a later --expires date, or --never-expire for a key that never expires',
      code: 'EXPIRATION_IN_PAST',
      status: 422,
    });
  });
});
