// A write that reaches a read-only PostgreSQL node (SQLSTATE 25006) is what a failover produces
// behind a proxy whose health check has not yet seen the switch (docs/high-availability.md): it is
// answered 503 STORE_UNAVAILABLE with Retry-After, never 500, and reads still work. Here the node is
// the suite's own server reached through connections that are read-only
// (`default_transaction_read_only`), which is how a hot standby answers a write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { openPostgres } from '../src/store/dialects/postgres.js';
import { openCache } from '../src/cache/open.js';
import type { AuthCache } from '../src/cache/auth-cache.js';
import type { Store } from '../src/store/store.js';
import { inject, PG_URL, startHarness, STORE_KIND, type Harness } from './support/harness.js';

describe.runIf(STORE_KIND === 'postgres')('a write reaching a read-only node (SQLSTATE 25006)', () => {
  let h: Harness;
  let owner: { accountId: string; key: string };
  let readOnly: { store: Store; cache: AuthCache; app: App };

  beforeAll(async () => {
    h = await startHarness();
    owner = await h.bootstrap();
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${h.handle.schema} -c default_transaction_read_only=on`);
    const store = openPostgres({ url: url.toString() });
    const cache = openCache(store, { databaseUrl: PG_URL, databaseSchema: h.handle.schema });
    readOnly = { store, cache, app: await createApp({ store, cache, clock: h.clock, logger: false }) };
  });

  afterAll(async () => {
    await readOnly?.app.server.close();
    await readOnly?.cache.close();
    await readOnly?.store.close();
    await h?.close();
  });

  it('the connections really are read-only (the server answers 25006)', async () => {
    const error = await readOnly.store.db.insertInto('cache_epoch' as never).values({ id: 2, seq: 0 } as never).execute().catch((e) => e);
    expect(error?.code).toBe('25006');
  });

  it('is answered 503 STORE_UNAVAILABLE with Retry-After, not 500', async () => {
    const res = await inject(readOnly.app, 'POST', `/api/accounts/${owner.accountId}/bots/`, { key: owner.key, body: { name: 'on-a-standby' } });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ detail: 'The database is unavailable; try again shortly', code: 'STORE_UNAVAILABLE', request_id: expect.any(String) });
    expect(res.headers['retry-after']).toBe('2');
  });

  it('nothing was written, and reads on the same node still succeed', async () => {
    const res = await inject(readOnly.app, 'POST', `/api/accounts/${owner.accountId}/bots/filter`, { key: owner.key, body: {} });
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });
});
