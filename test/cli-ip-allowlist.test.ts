// `gatehouse ip-allowlist ls | add | remove | enable | disable`, run as a user runs them
// (`node bin/gatehouse.js ...`) against a Gatehouse listening on 127.0.0.1: the CLI comes from
// 127.0.0.1, so that is "your address". Checked through the API.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouseAt } from './support/cli.js';
import type { CliRun } from './support/processes.js';
import { startHarness, type Harness } from './support/harness.js';
import { createWorkspace } from './support/members.js';

let h: Harness;
let url: string;
let owner: { accountId: string; key: string };
let home: string;

const gatehouse = (args: string[]) => gatehouseAt(join(home, 'gh'), args);

const lastJson = (run: CliRun) => JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!);
const listed = async () => (await h.request('GET', `/api/accounts/${owner.accountId}/ip_allowlist`, { key: owner.key })).body.entries;
const enforced = async () => (await h.request('GET', `/api/accounts/${owner.accountId}/settings`, { key: owner.key })).body.enforce_ip_allowlist;

beforeAll(async () => {
  h = await startHarness();
  await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  owner = await h.bootstrap('acme');
  await createWorkspace(h, owner.accountId, owner.key, 'production');
  home = mkdtempSync(join(tmpdir(), 'gatehouse-allowlist-'));
  const login = await gatehouse(['login', '--key', owner.key, '--url', url, '--workspace', 'acme/production']);
  expect(login.code, login.stderr).toBe(0);
});

afterAll(async () => {
  await h?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('gatehouse ip-allowlist', () => {
  it('lists an empty allowlist, with enforcement and your address', async () => {
    const run = await gatehouse(['ip-allowlist', 'ls']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('The IP allowlist of account acme is empty.');
    expect(run.stderr).toContain('Enforcement is DISABLED. The IP allowlist is empty, so it restricts nothing; your address is 127.0.0.1.');
    const json = await gatehouse(['ip-allowlist', 'ls', '--json']);
    expect(lastJson(json)).toEqual({ account: 'acme', enforced: false, entries: [], my_access: { allowed: true, detail: 'The IP allowlist is empty, so it restricts nothing; your address is 127.0.0.1' } });
  });

  it('adds entries in canonical form and refuses what is not a network', async () => {
    const run = await gatehouse(['ip-allowlist', 'add', '10.0.0.0/8', '--description', 'office']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/10\.0\.0\.0\/8\s+yes\s+office/);
    const json = await gatehouse(['ip-allowlist', 'add', '2001:DB8::/32', '--disabled', '--json']);
    expect(lastJson(json).entries).toEqual([
      { ip_network: '10.0.0.0/8', enabled: true, description: 'office', last_seen: null },
      { ip_network: '2001:db8::/32', enabled: false, description: null, last_seen: null },
    ]);
    const bad = await gatehouse(['ip-allowlist', 'add', '10.0.0.1/8']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"10.0.0.1/8" has host bits set');
  });

  it("refuses to enable while your address is not on the list, saying why", async () => {
    const run = await gatehouse(['ip-allowlist', 'enable']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("not enabled: Your address 127.0.0.1 is not on the IP allowlist's enabled entries");
    expect(await enforced()).toBe(false);
  });

  it('enables once your address is on it, and refuses to remove it while enforced', async () => {
    expect((await gatehouse(['ip-allowlist', 'add', '127.0.0.1', '--description', 'this host'])).code).toBe(0);
    const run = await gatehouse(['ip-allowlist', 'enable']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('IP allowlist enabled.');
    expect(await enforced()).toBe(true);
    const remove = await gatehouse(['ip-allowlist', 'remove', '127.0.0.1/32']);
    expect(remove.code).toBe(1);
    expect(remove.stderr).toContain('saving it would lock you out');
    expect((await listed()).map((e: any) => e.ip_network)).toEqual(['10.0.0.0/8', '2001:db8::/32', '127.0.0.1/32']);
  });

  it('disables, then removes', async () => {
    const run = await gatehouse(['ip-allowlist', 'disable', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(lastJson(run).enforced).toBe(false);
    expect((await gatehouse(['ip-allowlist', 'remove', '127.0.0.1'])).code).toBe(0);
    const missing = await gatehouse(['ip-allowlist', 'remove', '127.0.0.1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('127.0.0.1/32 is not on the IP allowlist of account acme');
    expect((await listed()).map((e: any) => e.ip_network)).toEqual(['10.0.0.0/8', '2001:db8::/32']);
  });

  it('has --help for each command', async () => {
    const run = await gatehouse(['ip-allowlist', 'add', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('gatehouse ip-allowlist add NETWORK [--description TEXT] [--disabled]');
  });
});
