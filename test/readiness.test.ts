// GET /api/ready: 200 when this process can serve as it should; else 503 NOT_READY saying what is
// wrong (the database, its migrations, the cache's coherence). /api/health stays plain liveness.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, startHarness, STORE_KIND, type Harness } from './support/harness.js';
import { call, freshSharedStore, startGatehouse } from './support/processes.js';
import { relayedPostgres } from './support/tcp-proxy.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const migrations = () => {
  const { store } = h.handle;
  return store.schema ? sql`${sql.id(store.schema)}.kysely_migration` : sql`kysely_migration`;
};

/**
 * /api/ready as a probe sees it, polled for up to 15 s until 200: on PostgreSQL the cache trusts
 * itself once its LISTEN connection and lease are up, which a loaded machine may take a few
 * seconds to reach after start (or to renew).
 */
async function readySoon() {
  let res = await h.request('GET', '/api/ready');
  for (const started = Date.now(); res.status !== 200 && Date.now() - started < 15_000; res = await h.request('GET', '/api/ready')) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return res;
}

describe('GET /api/ready', () => {
  it('answers 200 {"ready": true} on a migrated store whose cache is coherent, with no credentials', async () => {
    const res = await readySoon();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ready: true });
  });

  it('answers 503 NOT_READY naming a migration the database lacks, while /api/health stays true', async () => {
    const { store } = h.handle;
    const [row] = (await sql<{ name: string; timestamp: string }>`select name, timestamp from ${migrations()} where name = '0008-sealing-key'`.execute(store.db)).rows;
    await sql`delete from ${migrations()} where name = '0008-sealing-key'`.execute(store.db);
    try {
      const res = await h.request('GET', '/api/ready');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'NOT_READY', request_id: expect.any(String) });
      expect((res.body as { detail: string }).detail).toContain('lacks migrations 0008-sealing-key');
      expect((await h.request('GET', '/api/health')).body).toBe(true);
    } finally {
      await sql`insert into ${migrations()} (name, timestamp) values (${row!.name}, ${row!.timestamp})`.execute(store.db);
    }
    expect((await readySoon()).status).toBe(200);
  });

  it("answers 503 when a newer Gatehouse migrated the database past this version", async () => {
    const { store } = h.handle;
    await sql`insert into ${migrations()} (name, timestamp) values ('9999-from-the-future', ${new Date().toISOString()})`.execute(store.db);
    try {
      const res = await h.request('GET', '/api/ready');
      expect(res.status).toBe(503);
      expect((res.body as { detail: string }).detail).toContain('does not know (9999-from-the-future)');
    } finally {
      await sql`delete from ${migrations()} where name = '9999-from-the-future'`.execute(store.db);
    }
  });

  it("answers 503 while the cache cannot be sure to hear other processes' writes", async () => {
    const coherence = h.handle.cache.coherence as { trusted: () => boolean };
    const trusted = coherence.trusted;
    coherence.trusted = () => false;
    try {
      const res = await h.request('GET', '/api/ready');
      expect(res.status).toBe(503);
      expect((res.body as { detail: string }).detail).toContain("cannot be sure to hear other processes' writes");
    } finally {
      coherence.trusted = trusted;
    }
    expect((await readySoon()).status).toBe(200);
  });
});

describe.runIf(STORE_KIND === 'postgres')('readiness of a real process when PostgreSQL goes away', () => {
  it('turns 503 while the database does not answer (health stays true) and 200 again once it is back, without a restart', async () => {
    const relayed = await relayedPostgres(PG_URL);
    const store = freshSharedStore();
    const proc = await startGatehouse(['--port', '0', ...store.flagsVia!(relayed.url)], store.env);
    const until = async (status: number, withinMs: number) => {
      const deadline = Date.now() + withinMs;
      for (;;) {
        const res = await call(proc.url, 'GET', '/api/ready');
        if (res.status === status || Date.now() > deadline) return res;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    try {
      expect((await until(200, 10_000)).status).toBe(200);
      relayed.proxy.fail('down');
      const down = await until(503, 10_000);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ code: 'NOT_READY' });
      expect(down.body.detail).toMatch(/the database \(PostgreSQL .*\) did not answer|cannot be sure to hear/);
      const health = await call(proc.url, 'GET', '/api/health');
      expect([health.status, health.body]).toEqual([200, true]);
      relayed.proxy.restore();
      expect((await until(200, 30_000)).status).toBe(200);
    } finally {
      await proc.stop();
      await relayed.proxy.close();
      await store.dispose();
    }
  }, 90_000);
});
