// The stores a bench run uses: a fresh SQLite data directory or a fresh PostgreSQL schema each,
// bootstrapped with `gatehouse bootstrap`, served by `gatehouse start` in its own process.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { BIN } from './paths.js';
import { startProcess } from './procs.js';

const run = promisify(execFile);

/** A new, empty place for one Gatehouse database. */
export function createStoreLocation(kind, { tmpRoot, pgUrl, label }) {
  if (kind === 'sqlite') {
    const dataDir = join(tmpRoot, `${label}-data`);
    return {
      kind,
      label,
      dataDir,
      flags: ['--data-dir', dataDir],
      describe: () => `SQLite file in ${dataDir} (${filesystem(tmpRoot)})`,
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const schema = `gh_bench_${label}_${randomBytes(4).toString('hex')}`;
  return {
    kind,
    label,
    schema,
    pgUrl,
    flags: ['--database-url', pgUrl, '--database-schema', schema],
    describe: () => `PostgreSQL ${redact(pgUrl)}, schema ${schema}`,
    dispose: async () => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Creates the bench account and its Owner through the CLI; returns { account_id, user_id, api_key }. */
export async function bootstrap(location, { cwd, env, handle }) {
  const args = [BIN, 'bootstrap', '--json', '--init', '--account-name', `Bench ${handle}`, '--account-handle', handle, '--email', `${handle}@bench.invalid`, ...location.flags];
  const { stdout } = await run(process.execPath, args, { cwd, env: { ...process.env, ...env } });
  return JSON.parse(stdout.trim().split('\n').pop());
}

/**
 * `gatehouse start` on this store (with `logLevel` unset: the product's default, as a user runs it), on port 0, pinned to `core`; the handle's url is its base URL.
 * With `profileDir`, V8 writes a CPU profile there when the process exits.
 */
export function startGatehouse(location, { name, cwd, env, logDir, core, logLevel, profileDir }) {
  return startProcess({
    name,
    args: [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}.${Date.now()}.cpuprofile`] : []), BIN, 'start', '--host', '127.0.0.1', '--port', '0', ...(logLevel ? ['--log-level', logLevel] : []), ...location.flags],
    env,
    cwd,
    logDir,
    core,
    ready: /serving on (http:\/\/\S+)/,
  });
}

/** The command line a reader can paste, without a password. */
export function commandLine(args) {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).map(redact).join(' ');
}

/** The file system type under `dir` (fsync cost differs: ext4, xfs, tmpfs, overlay, …). */
function filesystem(dir) {
  try {
    return `file system ${execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim()}`;
  } catch {
    return 'file system unknown';
  }
}

function redact(text) {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/g, '$1*****@');
}
