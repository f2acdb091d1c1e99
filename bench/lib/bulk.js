// Bench setup only: many service accounts written straight into the store's tables (a bot, its
// Member membership and one active key each, the rows the service writes minus the audit event),
// because creating a million through the API would take longer than the benchmark. A sample of
// them also gets the Worker role in the bench workspace, and their plaintext keys are kept.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { dist } from './paths.js';

const BATCH = 10_000;

/**
 * A version-4 UUID whose first 8 hex digits count up, so the bulk rows land at the end of the
 * primary-key and id indexes instead of all over them (minutes saved at a million rows); the
 * store treats it like any other id.
 */
const orderedId = (n) => n.toString(16).padStart(8, '0') + randomUUID().slice(8);

/**
 * Adds `count` service accounts named `<prefix>-<n>` to the account. Every `sampleEvery`-th one
 * (up to `sampleSize`) gets Worker access to `workspaceId`; returns their keys and the seconds taken.
 */
export async function addServiceAccounts(location, { accountId, workspaceId, workerRoleId, count, prefix, sampleSize = 0 }) {
  const { generateKey, hashKey, maskKey } = await dist('domain/api-keys/key-format.js');
  const { ACCOUNT_ROLE_IDS } = await dist('authz/permissions.js');
  const writer = location.kind === 'sqlite' ? sqliteWriter(location) : await postgresWriter(location);
  const sampleEvery = sampleSize > 0 ? Math.max(1, Math.floor(count / sampleSize)) : 0;
  const sample = [];
  const started = process.hrtime.bigint();
  try {
    for (let first = 0; first < count; first += BATCH) {
      const rows = { bots: [], account_memberships: [], api_keys: [], workspace_access: [] };
      const now = new Date().toISOString();
      for (let n = first; n < Math.min(count, first + BATCH); n++) {
        const botId = orderedId(n);
        const actorId = orderedId(n);
        const name = `${prefix}-${String(n).padStart(7, '0')}`;
        const key = generateKey('bot');
        rows.bots.push([botId, actorId, accountId, name, now, now]);
        rows.account_memberships.push([orderedId(n), accountId, actorId, null, botId, ACCOUNT_ROLE_IDS.Member, now, now]);
        rows.api_keys.push([orderedId(n), actorId, null, botId, name, hashKey(key), maskKey(key), null, 1, now]);
        if (sampleEvery && n % sampleEvery === 0 && sample.length < sampleSize) {
          rows.workspace_access.push([randomUUID(), workspaceId, actorId, null, botId, workerRoleId, now, now]);
          sample.push(key);
        }
      }
      await writer.write(rows);
    }
    await writer.finish();
  } finally {
    await writer.close();
  }
  return { sampleKeys: sample, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

const COLUMNS = {
  bots: ['id', 'actor_id', 'account_id', 'name', 'created', 'updated'],
  account_memberships: ['id', 'account_id', 'actor_id', 'user_id', 'bot_id', 'account_role_id', 'created', 'updated'],
  api_keys: ['id', 'actor_id', 'user_id', 'bot_id', 'name', 'key_hash', 'masked_key', 'expiration', 'is_active', 'created'],
  workspace_access: ['id', 'workspace_id', 'actor_id', 'user_id', 'bot_id', 'workspace_role_id', 'created', 'updated'],
};
const INTEGER_COLUMNS = new Set(['is_active']);

function sqliteWriter(location) {
  const db = new Database(join(location.dataDir, 'gatehouse.db'));
  db.pragma('busy_timeout = 10000');
  // Setup speed only (this connection's settings): random UUID keys touch pages all over the
  // indexes, so a large page cache and no fsync per batch keep a million rows to a few minutes.
  db.pragma('cache_size = -524288');
  db.pragma('synchronous = OFF');
  const statements = Object.fromEntries(
    Object.entries(COLUMNS).map(([table, columns]) => [
      table,
      db.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`),
    ]),
  );
  const writeAll = db.transaction((rows) => {
    for (const [table, list] of Object.entries(rows)) for (const row of list) statements[table].run(row);
  });
  return {
    write: async (rows) => writeAll(rows),
    finish: async () => db.pragma('wal_checkpoint(TRUNCATE)'),
    close: async () => db.close(),
  };
}

async function postgresWriter(location) {
  const client = new pg.Client({ connectionString: location.pgUrl, options: `-c search_path=${location.schema}` });
  await client.connect();
  // One statement per table and batch: columns sent as arrays and unnested, a few parameters
  // whatever the batch size.
  const statement = (table) => {
    const columns = COLUMNS[table];
    const casts = columns.map((c, i) => `$${i + 1}::${INTEGER_COLUMNS.has(c) ? 'integer' : 'text'}[]`);
    return `insert into ${table} (${columns.join(', ')}) select * from unnest(${casts.join(', ')})`;
  };
  return {
    async write(rows) {
      await client.query('begin');
      try {
        for (const [table, list] of Object.entries(rows)) {
          if (list.length === 0) continue;
          const columns = COLUMNS[table].map((_, i) => list.map((row) => row[i]));
          await client.query(statement(table), columns);
        }
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      }
    },
    // Fresh statistics, as autovacuum would gather after such an insert, so plans do not depend on its timing.
    finish: async () => client.query('analyze bots, account_memberships, api_keys, workspace_access'),
    close: () => client.end(),
  };
}
