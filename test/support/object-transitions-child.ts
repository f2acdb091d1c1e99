// Run by test/object-transitions.test.ts in a process of its own, started with
// --allow-natives-syntax: builds an app as production does (createApp on a fresh SQLite store),
// serves a few requests, then counts how many new hidden-class transitions V8's empty object
// literal can still take (up to the number asked for).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { openCache } from '../../src/cache/open.js';
import { migrate } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/store.js';
import { SYSTEM_ACTOR } from '../../src/domain/context.js';
import { systemClock } from '../../src/clock.js';

// `%HaveSameMap` is V8 natives syntax: only a Function built at run time may contain it here.
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const wanted = Number(process.argv[2]);
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-transitions-'));
const store = await openStore({ dataDir });
await migrate(store);
const cache = openCache(store);
const app = await createApp({ store, cache, clock: systemClock });
try {
  const made = await app.services.accounts.bootstrap(
    { actor: SYSTEM_ACTOR, requestId: null, now: new Date() },
    { accountName: 'Probe', accountHandle: 'probe', email: 'probe@example.com' },
  );
  if (!made.ok) throw new Error(`bootstrap failed: ${made.code}`);
  for (let i = 0; i < 3; i++) {
    const res = await app.server.inject({ method: 'GET', url: '/api/me/', headers: { authorization: `Bearer ${made.value.api_key}` } });
    if (res.statusCode !== 200) throw new Error(`GET /api/me/ answered ${res.statusCode}: ${res.body}`);
  }
  // Two objects that gain the same first property share a hidden class only while the empty
  // object's class can take one more transition; `kept` keeps every probe's class alive meanwhile.
  const kept: object[] = [];
  let room = 0;
  for (; room < wanted; room++) {
    const name = `gatehouse_probe_${room}`;
    const a: Record<string, number> = {};
    a[name] = 1;
    const b: Record<string, number> = {};
    b[name] = 2;
    kept.push(a, b);
    if (!haveSameMap(a, b)) break;
  }
  console.log(JSON.stringify({ room }));
} finally {
  await app.server.close();
  await cache.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
}
