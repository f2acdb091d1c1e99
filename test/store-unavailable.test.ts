// A write that reaches a read-only PostgreSQL node (SQLSTATE 25006) is what a failover produces
// behind a proxy whose health check has not yet seen the switch (docs/high-availability.md): it is
// answered 503 STORE_UNAVAILABLE with Retry-After, never 500, and reads still work. Here the node is
// the suite's own server reached through connections that are read-only
// (`default_transaction_read_only`), which is how a hot standby answers a write. A websocket upgrade
// that needs the database while it is unreachable is refused the same way.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { openPostgres } from '../src/store/dialects/postgres.js';
import { openCache } from '../src/cache/open.js';
import type { AuthCache } from '../src/cache/auth-cache.js';
import type { Store } from '../src/store/store.js';
import { inject, PG_URL, startHarness, STORE_KIND, TestClock, type Harness } from './support/harness.js';
import { relayedPostgres, type TcpProxy } from './support/tcp-proxy.js';
import { rawUpgrade } from './support/raw-upgrade.js';
import { migrate } from '../src/store/migrate.js';
import { SYSTEM_ACTOR } from '../src/domain/context.js';

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

describe.runIf(STORE_KIND === 'postgres')('a websocket upgrade while the database is unreachable', () => {
  let proxy: TcpProxy;
  let opened: { store: Store; cache: AuthCache; app: App };
  let owner: { accountId: string; key: string };
  let port: number;
  const schema = `gh_ws_outage_${Date.now().toString(36)}`;

  beforeAll(async () => {
    const relayed = await relayedPostgres(PG_URL);
    proxy = relayed.proxy;
    const store = openPostgres({ url: relayed.url, schema });
    await store.prepare();
    await migrate(store);
    const cache = openCache(store, { databaseUrl: relayed.url, databaseSchema: schema });
    const clock = new TestClock();
    const app = await createApp({ store, cache, clock, logger: false });
    opened = { store, cache, app };
    const made = await app.services.accounts.bootstrap(
      { actor: SYSTEM_ACTOR, requestId: null, now: clock.now() },
      { accountName: 'Account ws-outage', accountHandle: 'ws-outage', email: 'owner-ws-outage@example.com' },
    );
    if (!made.ok) throw new Error(made.code);
    owner = { accountId: made.value.account_id, key: made.value.api_key };
    await app.server.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    proxy?.restore();
    await opened?.app.server.close();
    await opened?.cache.close();
    await opened?.store.close();
    await proxy?.close();
    const direct = openPostgres({ url: PG_URL });
    await direct.db.schema.dropSchema(schema).ifExists().cascade().execute();
    await direct.close();
  });

  it('is answered 503 STORE_UNAVAILABLE with Retry-After, not 500', async () => {
    proxy.fail('down');
    // The cache stops trusting itself once its connection is gone: the key is looked up in the store.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const path = `/api/accounts/${owner.accountId}/workspaces/00000000-0000-4000-8000-000000000000/events/out`;
    const answer = await rawUpgrade(port, path, { authorization: `Bearer ${owner.key}`, 'x-request-id': 'ws-outage' });
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('2');
    expect(JSON.parse(answer.body)).toEqual({ detail: 'The database is unavailable; try again shortly', code: 'STORE_UNAVAILABLE', request_id: expect.any(String) });
  });
});
