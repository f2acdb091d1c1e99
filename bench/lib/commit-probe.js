// How many durable commits per second the store's disk allows: the ceiling for any write that must
// survive a power cut, whatever the server does around it. A service-account creation is one such
// commit; this is measured next to it so the two can be compared.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

const COMMITS = 300;
const ROW = 'x'.repeat(400);

/** SQLite in WAL mode, in a fresh file beside the store: commits per second with synchronous FULL and NORMAL. */
function sqliteProbe(dir) {
  const root = mkdtempSync(join(dir, 'commit-probe-'));
  try {
    const rates = {};
    for (const synchronous of ['FULL', 'NORMAL']) {
      const db = new Database(join(root, `${synchronous}.db`));
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      db.exec('create table probe (id integer primary key, body text)');
      const insert = db.prepare('insert into probe (body) values (?)');
      const started = performance.now();
      for (let i = 0; i < COMMITS; i++) db.transaction(() => insert.run(ROW))();
      rates[synchronous] = COMMITS / ((performance.now() - started) / 1000);
      db.close();
    }
    return { durable: rates.FULL, label: 'SQLite WAL, synchronous=FULL (what Gatehouse uses)', other: { label: 'synchronous=NORMAL (not durable across a power cut)', rate: rates.NORMAL } };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** PostgreSQL: one-row transactions, one at a time, into a table of a throwaway schema (each waits for its WAL flush). */
async function postgresProbe(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const schema = `gh_probe_${process.pid}`;
  try {
    const { rows } = await client.query('show synchronous_commit');
    await client.query(`create schema "${schema}"`);
    await client.query(`create table "${schema}".probe (id serial primary key, body text)`);
    const started = performance.now();
    for (let i = 0; i < COMMITS; i++) await client.query(`insert into "${schema}".probe (body) values ($1)`, [ROW]);
    return { durable: COMMITS / ((performance.now() - started) / 1000), label: `PostgreSQL, synchronous_commit=${rows[0].synchronous_commit}` };
  } finally {
    await client.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
    await client.end();
  }
}

/**
 * The disk's own fsync cost under `dir` (issue 22 target 6): a 4 KiB write then fdatasync, one at
 * a time, `count` times in a fresh file; median and p99 in microseconds. A durable commit costs at
 * least one of these.
 */
export function fsyncProbe(dir, count = 200) {
  const root = mkdtempSync(join(dir, 'fsync-probe-'));
  const page = Buffer.alloc(4096, 120);
  const times = [];
  try {
    const fd = openSync(join(root, 'probe'), 'w');
    try {
      for (let i = 0; i < count; i++) {
        writeSync(fd, page, 0, page.length, (i % 64) * page.length);
        const started = process.hrtime.bigint();
        fdatasyncSync(fd);
        times.push(Number(process.hrtime.bigint() - started) / 1000);
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return { count, median: times[times.length >> 1], p99: times[Math.min(times.length - 1, Math.ceil(0.99 * times.length) - 1)] };
}

export function commitProbe(location, tmpRoot) {
  return location.kind === 'sqlite' ? sqliteProbe(tmpRoot) : postgresProbe(location.pgUrl);
}
