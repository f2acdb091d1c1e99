// Makes sure the PostgreSQL the tests use is up. On a machine without it (this kind of machine
// starts none before a session or CI), Debian's `postgresql` package is installed as root, a
// cluster is created when there is none, loopback connections are trusted (the tests connect as
// `postgres` with no password) and the cluster is started; then the tests' database is created.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import pg from 'pg';

export const PG_URL = process.env.GATEHOUSE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PACKAGE = 'postgresql';
const POLICY_RC = '/usr/sbin/policy-rc.d';
const TRUST_MARK = '# Gatehouse tests: loopback connections are trusted (scripts/postgres.js)';

async function reachable(url = PG_URL) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error.message, code: error.code };
  } finally {
    await client.end().catch(() => {});
  }
}

const isRoot = () => typeof process.getuid !== 'function' || process.getuid() === 0;
const sh = (command, args, options = {}) => spawnSync(command, args, { stdio: 'inherit', ...options });

function installPackage() {
  if (existsSync('/usr/bin/pg_ctlcluster')) return { ok: true };
  if (!isRoot()) return { ok: false, error: `PostgreSQL is not installed; install Debian's ${PACKAGE} package (apt-get install ${PACKAGE}) as root` };
  console.log(`Installing Debian's ${PACKAGE} package for the PostgreSQL tests…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (sh('apt-get', ['update', '-qq'], { env }).status !== 0) return { ok: false, error: 'apt-get update failed' };
  // The package's postinst would start the service through invoke-rc.d; policy-rc.d's 101 says
  // "start nothing" (the cluster is started below, the same way on every machine).
  const addedPolicy = !existsSync(POLICY_RC);
  if (addedPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\n# Written by Gatehouse scripts/postgres.js for the length of one apt-get install.\nexit 101\n', { mode: 0o755 });
  try {
    const install = sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', PACKAGE], { env });
    if (install.status !== 0 || !existsSync('/usr/bin/pg_ctlcluster')) return { ok: false, error: `apt-get install ${PACKAGE} failed` };
  } finally {
    if (addedPolicy) rmSync(POLICY_RC, { force: true });
  }
  return { ok: true };
}

function versions() {
  try {
    return readdirSync('/etc/postgresql').filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  } catch {
    return [];
  }
}

function installedMajor() {
  try {
    return readdirSync('/usr/lib/postgresql').filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a))[0];
  } catch {
    return undefined;
  }
}

/** Puts trust lines for 127.0.0.1 and ::1 first in pg_hba.conf (first match wins); once. */
function trustLoopback(version) {
  const file = `/etc/postgresql/${version}/main/pg_hba.conf`;
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  if (text.includes(TRUST_MARK)) return false;
  const lines = [TRUST_MARK, 'host    all    all    127.0.0.1/32    trust', 'host    all    all    ::1/128    trust', ''];
  writeFileSync(file, `${lines.join('\n')}${text}`);
  return true;
}

function startClusters() {
  let clusters = versions().filter((version) => existsSync(`/etc/postgresql/${version}/main`));
  if (clusters.length === 0) {
    const major = installedMajor();
    if (!major) return { ok: false, error: 'no PostgreSQL server version is installed under /usr/lib/postgresql' };
    console.log(`Creating the PostgreSQL ${major} cluster "main"…`);
    if (sh('pg_createcluster', [major, 'main']).status !== 0) return { ok: false, error: `pg_createcluster ${major} main failed` };
    clusters = [major];
  }
  for (const version of clusters) {
    const changed = isRoot() && trustLoopback(version);
    const status = spawnSync('pg_ctlcluster', [version, 'main', 'status'], { stdio: 'ignore' }).status;
    // 0: running, 3: stopped (pg_ctl's codes).
    if (status === 0 && changed) sh('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'reload']);
    if (status !== 0) sh('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
  }
  return { ok: true };
}

async function createDatabase() {
  const url = new URL(PG_URL);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) return;
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name.replaceAll('"', '""')}"`);
  } catch {
    // The caller reports what reaching the database itself says.
  } finally {
    await client.end().catch(() => {});
  }
}

export async function ensurePostgres() {
  let state = await reachable();
  if (state.ok) return state;
  if (state.code === '3D000') {
    await createDatabase();
    return reachable();
  }
  // Only a local server is ours to install and start.
  const host = new URL(PG_URL).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) return state;
  const installed = installPackage();
  if (!installed.ok) return installed;
  const started = startClusters();
  if (!started.ok) return started;
  for (let i = 0; i < 40 && !state.ok; i++) {
    state = await reachable();
    if (state.code === '3D000') await createDatabase();
    else if (!state.ok) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return state;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await ensurePostgres();
  console.log(result.ok ? `PostgreSQL: ${PG_URL}` : result.error);
  process.exit(result.ok ? 0 : 1);
}
