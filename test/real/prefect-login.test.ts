// The real Prefect CLI (pinned 3.9.1 and 2.20.x) logging in to a running Gatehouse as to Prefect
// Cloud: `prefect cloud login -k KEY --workspace ACCOUNT/WORKSPACE` with user and service-account
// keys, the refusals a user meets, `prefect cloud workspace ls/set` and `prefect config view`.
// Login only reads through Gatehouse's API, whose store behaviour the API suites cover on both
// stores, so this suite runs on SQLite only (each Prefect command costs seconds of imports).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KIND } from '../support/harness.js';
import { PREFECT_VERSIONS } from '../../scripts/ensure-prefect.js';
import { compatSuite } from './support/compat.js';
import { prefectHome, runPrefect, startRealGatehouse, type RealGatehouse, type ServiceAccount } from './support/gatehouse.js';

const claim = compatSuite('prefect-login');
const V3 = PREFECT_VERSIONS['3.9'];
const V2 = PREFECT_VERSIONS['2.20'];
const CLOUD_TIMEOUT = 90_000;
const TEST_TIMEOUT = 240_000;

let gh: RealGatehouse;
let prod: { id: string; handle: string };
let staging: { id: string; handle: string };
let developer: ServiceAccount;
let viewer: ServiceAccount;
let lonely: ServiceAccount;
const homes: { dispose(): void }[] = [];

beforeAll(async () => {
  if (STORE_KIND !== 'sqlite') return;
  gh = await startRealGatehouse('acme');
  prod = await gh.createWorkspace('prod');
  staging = await gh.createWorkspace('staging');
  developer = await gh.createServiceAccount('ci-deployer', [{ workspaceId: prod.id, role: 'Developer' }]);
  viewer = await gh.createServiceAccount('dashboards', [{ workspaceId: prod.id, role: 'Viewer' }]);
  lonely = await gh.createServiceAccount('no-workspace');
}, 90_000);

afterAll(async () => {
  for (const home of homes) home.dispose();
  await gh?.stop();
});

/** A `prefect` command for `version` in a new PREFECT_HOME (or `home`), pointed at Gatehouse. */
async function prefect(version: string, args: string[], home?: string) {
  const own = home ?? (() => {
    const made = prefectHome();
    homes.push(made);
    return made.path;
  })();
  const run = await runPrefect(version, args, { home: own, env: { PREFECT_CLOUD_API_URL: gh.cloudApiUrl }, timeoutMs: CLOUD_TIMEOUT });
  return { ...run, home: own };
}

function newHome(): string {
  const made = prefectHome();
  homes.push(made);
  return made.path;
}

const login = (key: string, workspace: string) => ['cloud', 'login', '-k', key, '--workspace', workspace];

describe.runIf(STORE_KIND === 'sqlite').each([V3, V2])('Prefect %s: prefect cloud login', { timeout: TEST_TIMEOUT }, (version) => {
  it('logs in with an Owner user key and saves the workspace URL and key in the profile', async () => {
    claim({ tool: 'Prefect CLI', version, command: 'prefect cloud login -k pnu_… --workspace acme/prod', expectation: 'user key (account Owner): logged in, workspace URL saved' });
    const run = await prefect(version, login(gh.ownerKey, 'acme/prod'));
    expect(run.output).toContain("Authenticated with Prefect Cloud! Using workspace 'acme/prod'.");
    expect(run.code).toBe(0);
    const view = await prefect(version, ['config', 'view', '--show-secrets'], run.home);
    expect(view.code).toBe(0);
    expect(view.output).toContain(`PREFECT_API_URL='${gh.workspaceApiUrl(prod.id)}' (from profile)`);
    expect(view.output).toContain(`PREFECT_API_KEY='${gh.ownerKey}' (from profile)`);
    expect(view.output).toContain(`PREFECT_CLOUD_API_URL='${gh.cloudApiUrl}' (from env)`);
  });

  it('logs in with a service-account key that has the Developer role in the workspace', async () => {
    claim({ tool: 'Prefect CLI', version, command: 'prefect cloud login -k pnb_… --workspace acme/prod', expectation: 'service-account key (Developer): logged in' });
    const run = await prefect(version, login(developer.key, 'acme/prod'));
    expect(run.output).toContain("Authenticated with Prefect Cloud! Using workspace 'acme/prod'.");
    expect(run.code).toBe(0);
    const view = await prefect(version, ['config', 'view'], run.home);
    expect(view.output).toContain(`PREFECT_API_URL='${gh.workspaceApiUrl(prod.id)}' (from profile)`);
    expect(view.output).not.toContain(developer.key);
  });

  it('refuses a service-account key that has no workspace: the workspace is not found', async () => {
    claim({ tool: 'Prefect CLI', version, command: 'prefect cloud login -k pnb_… --workspace acme/prod', expectation: 'service account without workspace access: refused ("Workspace \'acme/prod\' not found.")' });
    const run = await prefect(version, login(lonely.key, 'acme/prod'));
    expect(run.output).toContain("Workspace 'acme/prod' not found.");
    expect(run.code).toBe(1);
  });

  // The client's own handling of these answers does not differ between releases: 3.9 only.
  if (version === V3) {
    it('logs in with a Viewer service-account key', async () => {
      claim({ tool: 'Prefect CLI', version, command: 'prefect cloud login -k pnb_… --workspace acme/prod', expectation: 'service-account key (Viewer): logged in' });
      const run = await prefect(version, login(viewer.key, 'acme/prod'));
      expect(run.output).toContain("Authenticated with Prefect Cloud! Using workspace 'acme/prod'.");
      expect(run.code).toBe(0);
    });

    it('refuses a key that Gatehouse does not know, with the message of a bad Cloud key', async () => {
      claim({ tool: 'Prefect CLI', version, command: 'prefect cloud login -k pnb_(unknown) --workspace acme/prod', expectation: 'unknown key: refused ("Unable to authenticate…")' });
      const run = await prefect(version, login(`pnb_${'a'.repeat(36)}`, 'acme/prod'));
      expect(run.output.replace(/\s+/g, ' ')).toContain('Unable to authenticate with Prefect Cloud. Please ensure your credentials are correct and unexpired.');
      expect(run.code).toBe(1);
    });

    it('refuses a workspace the key cannot reach even when it exists', async () => {
      claim({ tool: 'Prefect CLI', version, command: 'prefect cloud login -k pnb_… --workspace acme/staging', expectation: 'workspace without access: refused (not found)' });
      const run = await prefect(version, login(developer.key, 'acme/staging'));
      expect(run.output).toContain("Workspace 'acme/staging' not found.");
      expect(run.code).toBe(1);
    });
  }

  it('lists the workspaces of the key and switches between them', async () => {
    claim({ tool: 'Prefect CLI', version, command: 'prefect cloud workspace ls; prefect cloud workspace set --workspace acme/staging', expectation: 'lists acme/prod and acme/staging; set switches the profile URL' });
    const home = newHome();
    expect((await prefect(version, login(gh.ownerKey, 'acme/prod'), home)).code).toBe(0);
    const ls = await prefect(version, ['cloud', 'workspace', 'ls'], home);
    expect(ls.code).toBe(0);
    expect(ls.output).toMatch(/\* acme\/prod/);
    expect(ls.output).toContain('acme/staging');
    const set = await prefect(version, ['cloud', 'workspace', 'set', '--workspace', 'acme/staging'], home);
    expect(set.output).toContain("Successfully set workspace to 'acme/staging'");
    expect(set.code).toBe(0);
    const view = await prefect(version, ['config', 'view'], home);
    expect(view.output).toContain(`PREFECT_API_URL='${gh.workspaceApiUrl(staging.id)}' (from profile)`);
  });
});
