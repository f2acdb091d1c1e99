// GET /api/ready: 200 when this process can serve as it should; else 503 NOT_READY saying what is
// wrong (the database, its migrations, the cache's coherence). /api/health stays plain liveness.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';

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

describe('GET /api/ready', () => {
  it('answers 200 {"ready": true} on a migrated store whose cache is coherent, with no credentials', async () => {
    const res = await h.request('GET', '/api/ready');
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
    expect((await h.request('GET', '/api/ready')).status).toBe(200);
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
    expect((await h.request('GET', '/api/ready')).status).toBe(200);
  });
});
