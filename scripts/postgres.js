// Makes sure the PostgreSQL the tests use is up: this machine's cluster is started if it is down.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import pg from 'pg';

export const PG_URL = process.env.GATEHOUSE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable() {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error.message };
  } finally {
    await client.end().catch(() => {});
  }
}

export async function ensurePostgres() {
  let state = await reachable();
  if (state.ok) return state;
  let versions = [];
  try {
    versions = readdirSync('/etc/postgresql');
  } catch {
    return state;
  }
  for (const version of versions) {
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
  }
  for (let i = 0; i < 30 && !state.ok; i++) {
    await new Promise((r) => setTimeout(r, 500));
    state = await reachable();
  }
  return state;
}
