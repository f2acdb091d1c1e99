#!/usr/bin/env node
// `npm test`: the whole suite, once on SQLite and once on PostgreSQL, ending with one line
// "N passed, N failed[, N skipped]". `npm test -- --store sqlite` runs one store; other
// arguments go to vitest (a file filter, `-t NAME`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensurePostgres, PG_URL } from './postgres.js';
import { ensureChromium } from './ensure-chromium.js';
import { ensureNginx } from './ensure-nginx.js';
import { ensurePrefect, PREFECT_VERSIONS } from './ensure-prefect.js';
import { ensureTerraform } from './ensure-terraform.js';
import { ensureHa } from './ensure-ha.js';

const args = process.argv.slice(2);
let stores = ['sqlite', 'postgres'];
const storeAt = args.indexOf('--store');
if (storeAt !== -1) {
  const value = args[storeAt + 1];
  if (!['sqlite', 'postgres', 'all'].includes(value)) {
    console.error('--store takes sqlite, postgres or all');
    process.exit(2);
  }
  stores = value === 'all' ? stores : [value];
  args.splice(storeAt, 2);
}

const run = (command, commandArgs, env = {}) =>
  spawnSync(command, commandArgs, { stdio: 'inherit', env: { ...process.env, ...env } });

// The CLI tests run the compiled command, as a user would.
if (run('npm', ['run', '--silent', 'build']).status !== 0) {
  console.error('The TypeScript build failed; fix it before the tests can run.');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const totals = { passed: 0, failed: 0, skipped: 0 };
/** One line per failure, printed again at the end. */
const failures = [];
/** A failure of the run itself (a peer that could not be installed): said now, counted, listed at the end. */
function fail(message) {
  console.error(message);
  totals.failed += 1;
  failures.push(message);
}
const firstLine = (text) => String(text ?? '').replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n')[0];
// The browser tests need Chromium; a missing one is a failure, not a skip.
const chromium = ensureChromium();
if (!chromium.ok) {
  fail(`Browser tests cannot run: ${chromium.error}`);
}
// The forward-auth test runs Debian's nginx in front of a fake Prefect; missing is a failure too.
const nginx = ensureNginx();
if (!nginx.ok) {
  fail(`Forward-auth tests cannot run: ${nginx.error}`);
}
// The real-client suites (test/real/) run the pinned Prefect releases; a failed install is a failure.
for (const series of Object.keys(PREFECT_VERSIONS)) {
  const prefect = ensurePrefect(series);
  if (!prefect.ok) {
    fail(`Real Prefect ${series} suites cannot run: ${prefect.error}`);
  }
}
// The Terraform suites (test/real) run the real Prefect provider through OpenTofu, both built from
// source and cached; a first build takes minutes. A build that fails is a failure. The one exception:
// the provider's source, which no registry this kind of machine reaches serves (the Go module proxy
// refuses it), and which was never given (GATEHOUSE_TF_PROVIDER_SOURCE): then the Terraform suites
// are skipped, counted as skipped, and the reason is printed first and last.
const terraform = ensureTerraform();
let terraformSkipped = null;
if (!terraform.ok && terraform.unavailable) {
  terraformSkipped = terraform.error;
  console.error(`\nTERRAFORM SUITES SKIPPED: ${terraform.error}\n`);
} else if (!terraform.ok) {
  fail(`Terraform suites cannot run: ${terraform.error}`);
}
// The failover suite (test/ha/, PostgreSQL runs) needs Patroni, etcd and HAProxy from Debian's
// packages; when they cannot be installed it is skipped, counted, and the reason printed first and last.
let haSkipped = null;
if (stores.includes('postgres')) {
  const ha = ensureHa();
  if (!ha.ok) {
    haSkipped = ha.error;
    console.error(`\nFAILOVER SUITE SKIPPED: ${ha.error}\n`);
  }
}
const outDir = mkdtempSync(join(tmpdir(), 'gatehouse-vitest-'));
for (const store of stores) {
  const env = { GATEHOUSE_TEST_STORE: store, GATEHOUSE_TEST_BUILT: '1', ...(terraformSkipped ? { GATEHOUSE_TEST_NO_TERRAFORM: terraformSkipped } : {}) };
  if (store === 'postgres') {
    const ready = await ensurePostgres();
    if (!ready.ok) {
      fail(`PostgreSQL is not reachable at ${PG_URL}: ${ready.error}`);
      continue;
    }
    env.GATEHOUSE_TEST_DATABASE_URL = PG_URL;
    if (haSkipped) env.GATEHOUSE_TEST_NO_HA = haSkipped;
  }
  console.log(`\n=== Test suite on ${store} ===`);
  const report = join(outDir, `${store}.json`);
  const failedBefore = totals.failed;
  const result = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args], env);
  try {
    const summary = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += summary.numPassedTests;
    totals.skipped += summary.numPendingTests + (summary.numTodoTests ?? 0);
    // A failed test counts once; a file that failed without any failed test (it did not load, or a
    // hook threw) counts as one failure more.
    totals.failed += summary.numFailedTests;
    for (const file of summary.testResults ?? []) {
      const failedTests = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
      if (file.status === 'failed' && failedTests.length === 0) {
        totals.failed += 1;
        failures.push(`${store}: ${relative(process.cwd(), file.name)}: ${firstLine(file.message)}`);
      }
      for (const t of failedTests) failures.push(`${store}: ${relative(process.cwd(), file.name)} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
    }
  } catch {
    totals.failed += 1;
    failures.push(`${store}: vitest wrote no report`);
  }
  if (result.status !== 0 && failedBefore === totals.failed) {
    // Vitest failed without a failed test: an unhandled error, or a crash.
    totals.failed += 1;
    failures.push(`${store}: vitest exited with ${result.status} (an unhandled error; see above)`);
  }
}
rmSync(outDir, { recursive: true, force: true });
// docs/prefect-clients.md's compatibility table says what the real-client suites just proved.
run(process.execPath, ['scripts/render-compat.js']);

if (terraformSkipped) console.error(`The Terraform suites were skipped: ${terraformSkipped}`);
if (haSkipped) console.error(`The failover suite was skipped: ${haSkipped}`);
// Every failure once more, a line each, just above the count: a log cut to its last lines still names them.
if (failures.length) console.log(`\nFailed:\n${failures.map((f) => `  ${f.slice(0, 400)}`).join('\n')}\n`);
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(totals.failed === 0 ? 0 : 1);
