// `gatehouse backup`, `gatehouse restore` and `gatehouse migrate status`: an operator's copy of the
// store and the schema version it holds. SQLite is copied with its online backup API: a consistent
// snapshot while the server keeps writing (what a file copy of a WAL database is not). PostgreSQL is
// backed up with its own tools (pg_dump / pg_restore); these commands say so and check the schema.
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { loadConfig } from '../config.js';
import { SQLITE_FILE_NAME } from '../store/dialects/sqlite.js';
import { knownMigrations } from '../store/migrate.js';
import { openStore } from '../store/store.js';
import { sql } from 'kysely';
import { UsageError, type Flags } from './args.js';
import type { StoreFlags } from './services.js';

function storeConfig(flags: StoreFlags) {
  const loaded = loadConfig({ config: flags.config, 'data-dir': flags['data-dir'], 'database-url': flags['database-url'], 'database-schema': flags['database-schema'] });
  if (!loaded.ok) throw new UsageError(loaded.error);
  return loaded.config;
}

/** The migrations a SQLite file has applied (empty when it has none: not a Gatehouse store). */
function appliedIn(file: string): string[] {
  const db = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("select name from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
    if (!table) return [];
    return (db.prepare('select name from kysely_migration order by name').pluck().all() as string[]);
  } finally {
    db.close();
  }
}

/** How a schema compares with this build's: what it lacks (the server applies it) and what it has that this build does not know. */
function compare(applied: string[]): { pending: string[]; unknown: string[] } {
  const known = knownMigrations();
  return { pending: known.filter((m) => !applied.includes(m)), unknown: applied.filter((m) => !known.includes(m)) };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export async function backupCommand(given: Flags): Promise<number> {
  const flags = given as StoreFlags & { to?: string; force?: boolean };
  if (!flags.to) throw new UsageError('say where the backup goes: --to FILE');
  const config = storeConfig(flags);
  if (config.databaseUrl) {
    console.error(
      'gatehouse backup: the store is PostgreSQL; back it up with its own tools, for example\n' +
        `  pg_dump --format=custom ${config.databaseSchema ? `--schema=${config.databaseSchema} ` : ''}--file=gatehouse.dump "$GATEHOUSE_DATABASE_URL"\n` +
        'and after a restore check the schema with `gatehouse migrate status`. Keep GATEHOUSE_SECRET_KEY with the backup: ' +
        'without it the workspaces\' upstream credentials cannot be opened.',
    );
    return 2;
  }
  const source = join(config.dataDir, SQLITE_FILE_NAME);
  if (!existsSync(source)) throw new UsageError(`there is no Gatehouse store in ${config.dataDir}; point --data-dir (or GATEHOUSE_DATA_DIR) at the server's`);
  const target = resolve(flags.to);
  if (existsSync(target) && !flags.force) throw new UsageError(`${target} exists; choose another file or add --force to replace it`);
  mkdirSync(dirname(target), { recursive: true });
  // Written beside the target and renamed into place: a backup cut short never looks complete.
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new SqliteDatabase(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(partial);
  } finally {
    db.close();
  }
  renameSync(partial, target);
  const applied = appliedIn(target);
  console.log(`Backed up SQLite ${source} to ${target} (${mib(statSync(target).size)}, schema ${applied.at(-1) ?? 'none'}).`);
  console.log(
    config.secretKey || config.secretKeyFile
      ? 'Keep the secret key (GATEHOUSE_SECRET_KEY or its file) with it: the upstream credentials in it are sealed with that key.'
      : `Keep ${join(config.dataDir, 'secret.key')} with it: the upstream credentials in it are sealed with that key.`,
  );
  return 0;
}

export async function restoreCommand(given: Flags): Promise<number> {
  const flags = given as StoreFlags & { from?: string };
  if (!flags.from) throw new UsageError('say which backup to restore: --from FILE');
  const config = storeConfig(flags);
  if (config.databaseUrl) {
    console.error('gatehouse restore: the store is PostgreSQL; restore a pg_dump with pg_restore (into an empty database or schema), then run `gatehouse migrate status`.');
    return 2;
  }
  const from = resolve(flags.from);
  if (!existsSync(from)) throw new UsageError(`${from} does not exist`);
  let applied: string[];
  try {
    applied = appliedIn(from);
  } catch (error) {
    throw new UsageError(`${from} is not a SQLite database: ${(error as Error).message}`);
  }
  if (applied.length === 0) throw new UsageError(`${from} is not a Gatehouse backup (it has no schema version)`);
  const { unknown } = compare(applied);
  if (unknown.length > 0) {
    throw new UsageError(`${from} was made by a newer Gatehouse (its schema has ${unknown.join(', ')}, which this build does not know); restore it with that version`);
  }
  const target = join(config.dataDir, SQLITE_FILE_NAME);
  if (existsSync(target)) {
    throw new UsageError(`${config.dataDir} already holds a store; restore only into an empty data directory (stop the server, move the old one away, then restore)`);
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new SqliteDatabase(from, { readonly: true, fileMustExist: true });
  try {
    await db.backup(partial);
  } finally {
    db.close();
  }
  renameSync(partial, target);
  const { pending } = compare(applied);
  console.log(`Restored ${from} into SQLite ${target} (schema ${applied.at(-1)}).`);
  if (pending.length > 0) console.log(`\`gatehouse start\` applies this build's ${pending.length} newer migration${pending.length === 1 ? '' : 's'} (${pending.join(', ')}).`);
  if (!config.secretKey && !config.secretKeyFile && !existsSync(join(config.dataDir, 'secret.key'))) {
    console.log(`Put the secret key the backup was made with in ${join(config.dataDir, 'secret.key')} (or set GATEHOUSE_SECRET_KEY) before \`gatehouse start\`: the store remembers that key and a start with another is refused.`);
  } else {
    console.log('Start the server with the secret key the backup was made with.');
  }
  return 0;
}

export async function migrateStatusCommand(given: Flags): Promise<number> {
  const flags = given as StoreFlags & { json?: boolean };
  const config = storeConfig(flags);
  let applied: string[];
  let where: string;
  if (config.databaseUrl) {
    const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema });
    where = store.description;
    try {
      const table = store.schema ? `"${store.schema}".kysely_migration` : 'kysely_migration';
      const { rows } = await sql<{ found: string | null }>`select to_regclass(${table})::text as found`.execute(store.db);
      applied = rows[0]?.found == null ? [] : (await sql<{ name: string }>`select name from ${sql.raw(table)} order by name`.execute(store.db)).rows.map((r) => r.name);
    } finally {
      await store.close();
    }
  } else {
    const file = join(config.dataDir, SQLITE_FILE_NAME);
    where = `SQLite ${file}`;
    applied = existsSync(file) ? appliedIn(file) : [];
  }
  const { pending, unknown } = compare(applied);
  const state = applied.length === 0 ? 'empty' : unknown.length > 0 ? 'newer' : pending.length > 0 ? 'behind' : 'current';
  if (flags.json) {
    console.log(JSON.stringify({ store: where, state, applied, pending, unknown }));
  } else {
    console.log(`Store: ${where}`);
    console.log(`Schema: ${applied.at(-1) ?? 'none (no Gatehouse tables yet)'}; this build's: ${knownMigrations().at(-1)}`);
    if (state === 'current') console.log('Up to date.');
    if (pending.length > 0) console.log(`Not applied yet (gatehouse start applies them): ${pending.join(', ')}`);
    if (unknown.length > 0) console.log(`Applied by a newer Gatehouse, unknown to this build: ${unknown.join(', ')}; run that version or newer`);
  }
  return state === 'newer' ? 1 : 0;
}
