// What the real-client suites prove, written down as they run: each test that stands behind a line
// of docs/prefect-clients.md's compatibility table calls `claim(...)`, and its outcome (passed or
// failed) lands in test/real/results/<suite>.<store>.json when the file ends. scripts/render-compat.js
// turns the latest results into the table, so no "yes" appears that no test backs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  afterAll(() => {
    if (results.length === 0) return;
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `${suite}.${STORE_KIND}.json`);
    // A run of some tests only (-t) replaces their rows and keeps the others of the last full run.
    const key = (r: Claim) => [r.tool, r.version, r.command, r.expectation].join('\0');
    const ran = new Set(results.map(key));
    const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClaimResult[]).filter((r) => !ran.has(key(r))) : [];
    const sorted = [...kept, ...results].sort((a, b) => a.test.localeCompare(b.test) || a.command.localeCompare(b.command));
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
