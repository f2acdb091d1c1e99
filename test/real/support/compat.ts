// What the real-client suites prove, written down as they run: each test that stands behind a line
// of docs/prefect-clients.md's compatibility table calls `claim(...)`, and its outcome (passed or
// failed) lands in test/real/results/<suite>.<store>.json when the file ends. scripts/render-compat.js
// turns the latest results into the table, so no "yes" appears that no test backs.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { ROOT } from '../../support/build.js';
import { STORE_KIND } from '../../support/harness.js';

export interface Claim {
  /** `Prefect CLI`, `Prefect worker`, `Terraform provider`… */
  tool: string;
  /** The exact release: `3.9.1`. */
  version: string;
  /** The command or resource, with placeholders for secrets: `prefect cloud login -k pnb_… --workspace acme/prod`. */
  command: string;
  /** What the row checks, in a few words: `service-account key, Developer: logged in`. */
  expectation: string;
}

export interface ClaimResult extends Claim {
  result: 'passed' | 'failed';
  store: string;
  test: string;
  ran_at: string;
}

export const RESULTS_DIR = join(ROOT, 'test', 'real', 'results');

/** Collects a suite's claims; call once at the top of a test file. */
export function compatSuite(suite: string): (claim: Claim) => void {
  const results: ClaimResult[] = [];
  const file = join(RESULTS_DIR, `${suite}.${STORE_KIND}.json`);
  // The last run is the record, whole: a row of an earlier run never lingers, even when this run
  // fails before any test gets to its claim (a run of some tests only, with -t, leaves only those
  // rows until the next full run).
  rmSync(file, { force: true });
  afterAll(() => {
    if (results.length === 0) return;
    mkdirSync(RESULTS_DIR, { recursive: true });
    const sorted = [...results].sort((a, b) => a.test.localeCompare(b.test) || a.command.localeCompare(b.command));
    writeFileSync(file, `${JSON.stringify(sorted, null, 2)}\n`);
  });
  return (claim) => {
    onTestFinished((context) => {
      const state = context.task.result?.state;
      results.push({
        ...claim,
        result: state === 'pass' ? 'passed' : 'failed',
        store: STORE_KIND,
        test: context.task.name,
        ran_at: new Date().toISOString(),
      });
    });
  };
}
