// A real Prefect server for the bench (issue 22 targets 3 and 4b), started the way the real-client
// suites start one (test/real/support/prefect-server.ts): the pinned Prefect from
// scripts/ensure-prefect.js, its own PREFECT_HOME and SQLite file under the bench's temporary
// directory, a free port on 127.0.0.1, an API auth string (PREFECT_SERVER_API_AUTH_STRING), no UI,
// no scheduler, no analytics. No recording relay: the bench talks to the server itself. The whole
// process group (uvicorn and its services) is pinned to the server core when one is given, like
// every other server of the run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ensurePrefect } from '../../scripts/ensure-prefect.js';
import { treeCpuMicros } from './procs.js';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The environment of the suites' Prefect processes: nothing of the developer's own PREFECT_* settings. */
function isolatedEnv(home, extra) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('PREFECT_') && name !== 'VIRTUAL_ENV' && name !== 'PYTHONPATH') env[name] = value;
  }
  return {
    ...env,
    PREFECT_HOME: home,
    PREFECT_PROFILES_PATH: join(home, 'profiles.toml'),
    PREFECT_SERVER_ANALYTICS_ENABLED: 'false',
    DO_NOT_TRACK: '1',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}

/**
 * A fresh PostgreSQL database for Prefect on the server of `pgUrl` (Prefect wants a database of its
 * own); returns { url (SQLAlchemy asyncpg form), drop() }.
 */
async function prefectDatabase(pgUrl) {
  const name = `gh_bench_prefect_${randomBytes(4).toString('hex')}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(pgUrl);
  url.protocol = 'postgresql+asyncpg:';
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => admin(`drop database if exists "${name}" with (force)`) };
}

/**
 * Starts `prefect server start` on SQLite (`database: 'sqlite'`, as the test harness does) or on a
 * fresh database of the PostgreSQL at `pgUrl` (`database: 'postgres'`: Prefect on SQLite answers
 * 503 to most of 8 concurrent writers, since its writes take the file's one lock); resolves { apiUrl, authString, basicAuthorization, version,
 * command, cpuMicros(), stop() } once /api/health answers.
 */
export async function startPrefect({ dir, core, database = 'sqlite', pgUrl, version = '3.9', timeoutSeconds = 180 }) {
  const installed = ensurePrefect(version);
  if (!installed.ok) throw new Error(`Prefect is not installed for the prefect scenario: ${installed.error}`);
  const home = join(dir, 'prefect-home');
  mkdirSync(home, { recursive: true });
  const port = await freePort();
  const authString = `bench:${randomBytes(12).toString('hex')}`;
  const basicAuthorization = `Basic ${Buffer.from(authString).toString('base64')}`;
  const db = database === 'postgres' ? await prefectDatabase(pgUrl) : null;
  const env = isolatedEnv(home, {
    PREFECT_API_DATABASE_CONNECTION_URL: db ? db.url : `sqlite+aiosqlite:///${join(home, 'prefect.db')}`,
    PREFECT_SERVER_API_AUTH_STRING: authString,
    PREFECT_SERVER_UI_ENABLED: 'false',
    PREFECT_UI_ENABLED: 'false',
    PREFECT_SERVER_LOGGING_LEVEL: 'WARNING',
    PREFECT_LOGGING_SERVER_LEVEL: 'WARNING',
    PREFECT_LOGGING_LEVEL: 'WARNING',
  });
  const args = ['server', 'start', '--host', '127.0.0.1', '--port', String(port), '--no-ui', '--analytics-off', '--no-scheduler', '--no-late-runs'];
  const [command, argv] = core === null || core === undefined ? [installed.prefect, args] : ['taskset', ['-c', String(core), installed.prefect, ...args]];
  const logFile = join(dir, 'prefect-server.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(command, argv, { cwd: home, env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let gone = false;
  const exited = new Promise((resolve) => child.once('exit', () => resolve((gone = true))));
  const stop = async () => {
    if (gone) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 10_000);
    await exited;
    clearTimeout(killer);
    if (db) await db.drop().catch(() => {});
  };
  const apiUrl = `http://127.0.0.1:${port}/api`;
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    if (gone) {
      await stop();
      throw new Error(`prefect server start exited before it was healthy; see ${logFile}`);
    }
    const healthy = await fetch(`${apiUrl}/health`).then((res) => res.status === 200).catch(() => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prefect server start was not healthy within ${timeoutSeconds} s; see ${logFile}`);
    }
    await sleep(250);
  }
  return {
    name: 'prefect-server',
    apiUrl,
    authString,
    basicAuthorization,
    version: installed.version,
    database: db ? `PostgreSQL (database ${db.name} on the bench's server)` : 'SQLite (its own file)',
    logFile,
    command: [command === installed.prefect ? 'prefect' : command, ...argv.map((a) => (a === installed.prefect ? 'prefect' : a))],
    /** User + system CPU of the whole server (uvicorn and its children), microseconds. */
    cpuMicros: () => treeCpuMicros(child.pid),
    stop,
  };
}

/** One JSON call straight to Prefect with its basic auth; throws unless the status is `expected`. */
export async function prefectCall(prefect, method, path, body, expected = [200, 201]) {
  const res = await fetch(`${prefect.apiUrl}${path}`, {
    method,
    headers: { authorization: prefect.basicAuthorization, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!expected.includes(res.status)) throw new Error(`Prefect ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}
