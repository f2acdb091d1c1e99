// The real Prefect CLI (3.9.1) managing an account's IP allowlist on a running Gatehouse as on
// Prefect Cloud: `prefect cloud ip-allowlist ls/add/enable/toggle/remove/disable`, including the
// refusals that protect its user from locking themselves out (`my_access` before enabling; a 422
// with a detail, which the CLI prints, for a change that would drop the caller's own address).
// The CLI runs on this host, so Gatehouse sees it at 127.0.0.1. SQLite only, like the other
// real-CLI suites: the store behaviour is covered by test/ip-allowlist.test.ts on both stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KIND } from '../support/harness.js';
import { PREFECT_VERSIONS } from '../../scripts/ensure-prefect.js';
import { compatSuite } from './support/compat.js';
import { prefectHome, runPrefect, startRealGatehouse, type RealGatehouse } from './support/gatehouse.js';

const claim = compatSuite('prefect-ip-allowlist');
const V3 = PREFECT_VERSIONS['3.9'];
const CLI_TIMEOUT = 90_000;

let gh: RealGatehouse;
let home: { path: string; dispose(): void };
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (STORE_KIND !== 'sqlite') return;
  gh = await startRealGatehouse('acme');
  const prod = await gh.createWorkspace('prod');
  home = prefectHome();
  // Logged in as after `prefect cloud login`: the workspace URL names the account the CLI manages.
  env = { PREFECT_CLOUD_API_URL: gh.cloudApiUrl, PREFECT_API_URL: gh.workspaceApiUrl(prod.id), PREFECT_API_KEY: gh.ownerKey, COLUMNS: '200' };
}, 90_000);

afterAll(async () => {
  home?.dispose();
  await gh?.stop();
});

async function allowlist(args: string[], input?: string) {
  const run = await runPrefect(V3, ['cloud', 'ip-allowlist', ...args], { home: home.path, env, timeoutMs: CLI_TIMEOUT, ...(input === undefined ? {} : { input }) });
  return { ...run, flat: run.output.replace(/\s+/g, ' ') };
}

const entries = async () => (await gh.api('GET', `/api/accounts/${gh.accountId}/ip_allowlist`)).entries.map((e: any) => `${e.ip_network} ${e.enabled}`);

describe.runIf(STORE_KIND === 'sqlite')(`Prefect ${V3}: prefect cloud ip-allowlist`, { timeout: 600_000 }, () => {
  it('lists an empty allowlist', async () => {
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect cloud ip-allowlist ls', expectation: 'empty allowlist: says so' });
    const run = await allowlist(['ls']);
    expect(run.flat).toContain('IP allowlist is empty.');
    expect(run.code).toBe(0);
  });

  it('adds entries and lists them, with enforcement shown as disabled', async () => {
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect cloud ip-allowlist add 10.0.0.0/8 -d office', expectation: 'entry added and listed' });
    const run = await allowlist(['add', '10.0.0.0/8', '-d', 'office']);
    expect(run.code).toBe(0);
    expect(run.flat).toMatch(/10\.0\.0\.0\/8 .*office .*True .*Never/);
    expect(run.flat).toContain('Enforcement is DISABLED');
    const ls = await allowlist(['ls']);
    expect(ls.flat).toMatch(/10\.0\.0\.0\/8 .*office/);
    expect(await entries()).toEqual(['10.0.0.0/8 true']);
  });

  it("refuses to enable a list without the caller's address, with my_access's reason", async () => {
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect cloud ip-allowlist enable', expectation: "caller's address not on the list: refused with the reason (my_access)" });
    const run = await allowlist(['enable'], 'y\n');
    expect(run.flat).toContain('Error enabling IP allowlist: Your address 127.0.0.1 is not on the IP allowlist');
    expect(run.code).toBe(1);
    expect((await gh.api('GET', `/api/accounts/${gh.accountId}/settings`)).enforce_ip_allowlist).toBe(false);
  });

  it("enables the list once it holds the caller's address", async () => {
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect cloud ip-allowlist add 127.0.0.1; prefect cloud ip-allowlist enable', expectation: 'enabled after confirmation; ls shows enforcement enabled' });
    expect((await allowlist(['add', '127.0.0.1', '-d', 'this host'])).code).toBe(0);
    const run = await allowlist(['enable'], 'y\n');
    expect(run.flat).toContain('IP allowlist enabled.');
    expect(run.code).toBe(0);
    const ls = await allowlist(['ls']);
    expect(ls.flat).toContain('Enforcement is ENABLED');
    expect(ls.flat).toMatch(/127\.0\.0\.1\/32 .*this host .*True/);
    expect((await allowlist(['enable'])).flat).toContain('IP allowlist is already enabled.');
  });

  it("toggles an entry, and refuses to toggle off or remove the caller's own", async () => {
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect cloud ip-allowlist toggle 10.0.0.0/8', expectation: 'entry disabled and listed as False' });
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect cloud ip-allowlist toggle|remove 127.0.0.1 (own address, enforced)', expectation: 'refused: "Error updating allowlist: …would lock you out…"' });
    const toggled = await allowlist(['toggle', '10.0.0.0/8']);
    expect(toggled.code).toBe(0);
    expect(toggled.flat).toMatch(/10\.0\.0\.0\/8 .*office .*False/);
    for (const args of [['toggle', '127.0.0.1'], ['remove', '127.0.0.1']]) {
      const run = await allowlist(args);
      expect(run.flat, args.join(' ')).toContain('Error updating allowlist: Your address 127.0.0.1 is not on this list\'s enabled entries, and the account enforces its IP allowlist: saving it would lock you out.');
      expect(run.code).toBe(1);
    }
    expect(await entries()).toEqual(['10.0.0.0/8 false', '127.0.0.1/32 true']);
  });

  it('disables the list, then removes entries', async () => {
    claim({ tool: 'Prefect CLI', version: V3, command: 'prefect cloud ip-allowlist disable; prefect cloud ip-allowlist remove 127.0.0.1', expectation: 'disabled; entry removed' });
    const disabled = await allowlist(['disable']);
    expect(disabled.flat).toContain('IP allowlist disabled.');
    expect(disabled.code).toBe(0);
    const removed = await allowlist(['remove', '127.0.0.1']);
    expect(removed.code).toBe(0);
    expect(removed.flat).not.toContain('127.0.0.1/32');
    expect(await entries()).toEqual(['10.0.0.0/8 false']);
  });
});
