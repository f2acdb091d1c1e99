// The real-client suites (test/real/) drive the Prefect CLI, server and worker from PyPI. This installs
// each pinned Prefect into its own venv under the tools cache, from a lock file kept in the repository
// (scripts/prefect/requirements-*.txt, every package with its hashes, installed with --require-hashes),
// and skips the install when the venv already holds exactly that lock.
//
// Regenerate a lock (after changing its .in file) with:
//   uv pip compile --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
//     --no-header scripts/prefect/requirements-3.9.in -o scripts/prefect/requirements-3.9.txt
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolsDir } from './tools-cache.js';

const LOCKS = join(dirname(fileURLToPath(import.meta.url)), 'prefect');

/** The pinned versions, by the series the suites ask for. */
export const PREFECT_VERSIONS = { '3.9': '3.9.1', '2.20': '2.20.27' };

const PYTHON = process.env.GATEHOUSE_PYTHON ?? 'python3';

function series(version) {
  const key = Object.keys(PREFECT_VERSIONS).find((s) => version === s || PREFECT_VERSIONS[s] === version);
  return key;
}

function lockDigest(lockText, pythonVersion) {
  return createHash('sha256').update(pythonVersion).update('\0').update(lockText).digest('hex');
}

/**
 * Installs (or finds, when cached) the pinned Prefect of a series: `ensurePrefect('3.9')`.
 * Returns `{ ok, version, python, prefect }` with the venv's interpreter and `prefect` command, or
 * `{ ok: false, error }` saying what failed.
 */
export function ensurePrefect(version = '3.9') {
  const key = series(version);
  if (!key) return { ok: false, error: `no pinned Prefect for ${version}; known: ${Object.entries(PREFECT_VERSIONS).map(([s, v]) => `${s} (${v})`).join(', ')}` };
  const exact = PREFECT_VERSIONS[key];
  const lockFile = join(LOCKS, `requirements-${key}.txt`);
  if (!existsSync(lockFile)) return { ok: false, error: `the lock file ${lockFile} is missing` };
  const probe = spawnSync(PYTHON, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' });
  if (probe.status !== 0) return { ok: false, error: `${PYTHON} is not runnable (set GATEHOUSE_PYTHON to a Python 3.9+ interpreter): ${probe.stderr || probe.error?.message}` };
  const pythonVersion = probe.stdout.trim();

  const venv = toolsDir(`prefect-${exact}`);
  const python = join(venv, 'bin', 'python');
  const prefect = join(venv, 'bin', 'prefect');
  const stamp = join(venv, '.gatehouse-lock-digest');
  const digest = lockDigest(readFileSync(lockFile, 'utf8'), pythonVersion);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest && existsSync(prefect)) {
    return { ok: true, version: exact, python, prefect };
  }

  // One install at a time per venv, across processes (two test runs on one machine share the cache).
  const lock = `${venv}.installing`;
  if (!takeLock(lock)) return { ok: false, error: `another process has been installing into ${venv} for over ${LOCK_STALE_MS / 60_000} minutes (remove ${lock} if it is gone)` };
  try {
    if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest && existsSync(prefect)) return { ok: true, version: exact, python, prefect };
    return install({ exact, venv, lockFile, python, prefect, stamp, digest });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

const LOCK_STALE_MS = 15 * 60_000;

/** Takes the lock folder, waiting while another process holds it; false when it never comes free. */
function takeLock(lock) {
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      return true;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let age = 0;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      continue;
    }
    if (age > LOCK_STALE_MS) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - started > LOCK_STALE_MS) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_000);
  }
}

function install({ exact, venv, lockFile, python, prefect, stamp, digest }) {
  console.log(`Installing Prefect ${exact} into ${venv} (pinned by ${lockFile})…`);
  rmSync(venv, { recursive: true, force: true });
  const env = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_ROOT_USER_ACTION: 'ignore' };
  const made = spawnSync(PYTHON, ['-m', 'venv', venv], { stdio: 'inherit', env });
  if (made.status !== 0) return { ok: false, error: `${PYTHON} -m venv ${venv} failed (on Debian: apt-get install python3-venv)` };
  // --no-deps: the lock already lists every package; --prefer-binary: wheels wherever one exists (pendulum 2.1.2, which Prefect 2.20 needs below Python 3.12, ships only an sdist for 3.11).
  const pip = spawnSync(python, ['-m', 'pip', 'install', '--quiet', '--require-hashes', '--no-deps', '--prefer-binary', '-r', lockFile], { stdio: 'inherit', env });
  if (pip.status !== 0 || !existsSync(prefect)) {
    rmSync(venv, { recursive: true, force: true });
    return { ok: false, error: `pip install -r ${lockFile} failed (exit ${pip.status}); see pip's output above` };
  }
  const check = spawnSync(prefect, ['version'], { encoding: 'utf8', env: { ...env, PREFECT_HOME: join(venv, '.prefect-home') } });
  if (check.status !== 0 || !check.stdout.includes(exact)) {
    return { ok: false, error: `the installed prefect does not run as ${exact}: ${check.stdout}${check.stderr}` };
  }
  writeFileSync(stamp, `${digest}\n`);
  return { ok: true, version: exact, python, prefect };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wanted = process.argv.slice(2);
  let failed = false;
  for (const version of wanted.length ? wanted : Object.keys(PREFECT_VERSIONS)) {
    const result = ensurePrefect(version);
    console.log(result.ok ? `prefect ${result.version}: ${result.prefect}` : result.error);
    failed ||= !result.ok;
  }
  process.exit(failed ? 1 : 0);
}
