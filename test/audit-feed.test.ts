// The live audit feed (issue 20 item 6): every audit event written after the feed starts, by any
// connection to the store, reaches the feed once and in order; the cursor survives a restart; one
// process writes at a time and another takes over; a failed write is repeated (at least once); a
// transaction that commits late is not skipped (PostgreSQL); file, Unix socket and TCP sinks;
// a rotated file is reopened; the setting's parsing.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuditFeed } from '../src/config.js';
import { recordEvent } from '../src/domain/audit/service.js';
import { startAuditFeed, type AuditFeed } from '../src/domain/audit/feed.js';
import type { FeedSink } from '../src/domain/audit/feed-sink.js';
import { SYSTEM_ACTOR } from '../src/domain/context.js';
import type { Store } from '../src/store/store.js';
import { freshStore, STORE_KIND, TestClock, type StoreHandle } from './support/harness.js';
import { bootstrapOwner, freshSharedStore, startGatehouse, type GatehouseProcess } from './support/processes.js';
import { randomBytes } from 'node:crypto';

let handle: StoreHandle;
let dir: string;
const clock = new TestClock();
let counter = 0;

beforeAll(async () => {
  handle = await freshStore();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-feed-'));
});
afterAll(async () => {
  await handle?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** One audit event written on `store` (any connection); answers its target_id, which is unique. */
async function event(store: Store = handle.store): Promise<string> {
  const marker = `e${(counter += 1)}`;
  await recordEvent(store.db, { actor: SYSTEM_ACTOR, requestId: null, now: clock.now() }, { action: 'test.feed', accountId: null, targetType: 'test', targetId: marker });
  return marker;
}

const markers = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line).target_id as string);

/** A sink that keeps what it is given, and fails the writes it is told to. */
function memorySink() {
  const lines: string[] = [];
  let failures = 0;
  const sink: FeedSink & { lines: string[]; failNext(n: number): void } = {
    lines,
    failNext: (n) => (failures = n),
    async write(text) {
      if (failures > 0) {
        failures -= 1;
        throw new Error('the collector is down');
      }
      lines.push(...markers(text));
    },
    close() {},
  };
  return sink;
}

/** A feed that only writes when polled (the timer is far off). */
const feedOn = (store: Store, sink: FeedSink, leaseMs?: number): AuditFeed =>
  startAuditFeed({ store, clock, target: { kind: 'file', path: '/unused' }, sink, pollMs: 3_600_000, leaseMs });

/**
 * Polls the feeds until `read()` equals `expected`. On PostgreSQL the feed waits for every older
 * transaction on the server to end, and other tests' transactions run beside these.
 */
async function pollUntil<T>(feeds: AuditFeed[], read: () => T, expected: T): Promise<void> {
  await expect
    .poll(async () => {
      for (const feed of feeds) await feed.poll().catch(() => {});
      return read();
    }, { timeout: 30_000, interval: 50 })
    .toEqual(expected);
}

/**
 * Sets the cursor after every event written so far, so each test starts from there. (A feed with no
 * cursor starts at the end of the trail as PostgreSQL sees it then, which may take in events that
 * committed while an older transaction elsewhere on the server was still open: exact enough for an
 * operator, not for these assertions.)
 */
async function resetCursor() {
  const db = handle.store.db;
  await db.deleteFrom('audit_feed').execute();
  const last =
    STORE_KIND === 'postgres'
      ? sql<{ p: string }>`select feed_tx::text || ':' || feed_seq as p from audit_events where feed_tx is not null order by feed_tx desc, feed_seq desc limit 1`
      : sql<{ p: string }>`select cast(feed_seq as text) as p from audit_events where feed_seq is not null order by feed_seq desc limit 1`;
  const position = (await last.execute(db)).rows[0]?.p;
  if (position) await db.insertInto('audit_feed').values({ id: 1, position, holder: null, lease_until: 0, updated: clock.now().toISOString() }).execute();
}

describe('what the feed writes', () => {
  it('writes each event written after its cursor, by any connection, once and in order, and none from before', async () => {
    const before = await event();
    await resetCursor();
    const sink = memorySink();
    const feed = feedOn(handle.store, sink);
    await feed.poll(); // takes the lease
    const other = await handle.reopen();
    const written = [await event(), await event(other.store), await event(), await event(other.store)];
    await pollUntil([feed], () => sink.lines, written);
    expect(sink.lines).not.toContain(before);
    await feed.close();
  });

  it('writes every field that audit export writes, as one JSON line per event', async () => {
    await resetCursor();
    const path = join(dir, 'fields.jsonl');
    const feed = startAuditFeed({ store: handle.store, clock, target: { kind: 'file', path }, pollMs: 3_600_000 });
    await feed.poll();
    const marker = await event();
    await pollUntil([feed], () => markers(readFileSync(path, 'utf8')), [marker]);
    const [line] = readFileSync(path, 'utf8').trim().split('\n');
    const written = JSON.parse(line!);
    expect(Object.keys(written).sort()).toEqual(['account_id', 'action', 'actor_id', 'actor_name', 'actor_type', 'details', 'id', 'occurred', 'request_id', 'target_id', 'target_type', 'workspace_id']);
    expect(written).toMatchObject({ action: 'test.feed', target_id: marker, actor_type: 'system', actor_name: 'gatehouse', details: {} });
    await feed.close();
  });

  it('goes on from its cursor after a restart: events written while no process wrote the feed come next, none twice', async () => {
    await resetCursor();
    const sink = memorySink();
    const first = feedOn(handle.store, sink);
    await first.poll();
    const early = await event();
    await pollUntil([first], () => sink.lines, [early]);
    await first.close();
    const whileDown = [await event(), await event()];
    const second = feedOn(handle.store, sink);
    await pollUntil([second], () => sink.lines, [early, ...whileDown]);
    await second.close();
  });

  it('writes a backlog longer than one batch, all of it, in order', async () => {
    await resetCursor();
    const sink = memorySink();
    const feed = feedOn(handle.store, sink);
    await feed.poll();
    const written: string[] = [];
    await handle.store.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 1_203; i += 1) {
        const marker = `e${(counter += 1)}`;
        await recordEvent(tx, { actor: SYSTEM_ACTOR, requestId: null, now: clock.now() }, { action: 'test.feed', accountId: null, targetType: 'test', targetId: marker });
        written.push(marker);
      }
    });
    await pollUntil([feed], () => sink.lines, written);
    await feed.close();
  });
});

describe('at least once', () => {
  it('does not move its cursor past a write that failed: the events are written at the next poll', async () => {
    await resetCursor();
    const sink = memorySink();
    const feed = feedOn(handle.store, sink);
    await feed.poll();
    const written = [await event(), await event()];
    sink.failNext(1);
    let failure: unknown = null;
    await expect.poll(async () => (failure = await feed.poll().then(() => null, (error) => error)), { timeout: 30_000, interval: 50 }).not.toBeNull();
    expect(String(failure)).toBe('Error: could not write the audit feed to file:/unused: the collector is down');
    expect(sink.lines).toEqual([]);
    await pollUntil([feed], () => sink.lines, written);
    await feed.close();
  });

  it.skipIf(STORE_KIND !== 'postgres')('does not skip an event whose transaction commits after later ones (PostgreSQL)', async () => {
    await resetCursor();
    const sink = memorySink();
    const feed = feedOn(handle.store, sink);
    await feed.poll();
    const other = await handle.reopen();
    let commit!: () => void;
    const held = new Promise<void>((resolve) => (commit = resolve));
    let slow = '';
    let inserted!: () => void;
    const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
    const transaction = other.store.db.transaction().execute(async (tx) => {
      slow = `e${(counter += 1)}`;
      await recordEvent(tx, { actor: SYSTEM_ACTOR, requestId: null, now: clock.now() }, { action: 'test.feed', accountId: null, targetType: 'test', targetId: slow });
      inserted();
      await held;
    });
    await insertedYet;
    const later = await event();
    await feed.poll();
    // The later event is committed, but an older transaction is still open: nothing is written yet.
    expect(sink.lines).toEqual([]);
    commit();
    await transaction;
    await pollUntil([feed], () => sink.lines, [slow, later]);
    await feed.close();
  });
});

describe('one process writes the feed', () => {
  it('lets one process hold the lease; another takes over when the first closes, from the same cursor', async () => {
    await resetCursor();
    const other = await handle.reopen();
    const [a, b] = [memorySink(), memorySink()];
    const first = feedOn(handle.store, a);
    const second = feedOn(other.store, b);
    await first.poll();
    await second.poll();
    const written = [await event(), await event()];
    await pollUntil([first, second], () => a.lines, written);
    expect(b.lines).toEqual([]);
    await first.close();
    const next = await event();
    await pollUntil([second], () => b.lines, [next]);
    await second.close();
  });

  it('takes over from a process that stopped renewing once its lease has lapsed', async () => {
    await resetCursor();
    const other = await handle.reopen();
    const [a, b] = [memorySink(), memorySink()];
    const first = feedOn(handle.store, a, 10_000);
    const second = feedOn(other.store, b, 10_000);
    await first.poll();
    const written = await event();
    await second.poll();
    expect(b.lines).toEqual([]);
    clock.advance(10_001); // the first process went silent (its close is never called before this)
    await pollUntil([second], () => b.lines, [written]);
    expect(a.lines).toEqual([]);
    await second.close();
    await first.close();
  });
});

describe('sinks', () => {
  async function listen(server: Server, where: string | { host: string; port: number }): Promise<void> {
    await new Promise<void>((resolve) => (typeof where === 'string' ? server.listen(where, resolve) : server.listen(where.port, where.host, resolve)));
  }
  /** A reader of the feed; stop() closes it and every connection it has, as a collector that exits. */
  function collector() {
    let received = '';
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk) => (received += chunk.toString()));
    });
    const stop = () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    };
    return { server, received: () => received, stop };
  }

  it('writes to a Unix socket, and reconnects after the collector restarts', async () => {
    await resetCursor();
    const path = join(dir, 'feed.sock');
    let c = collector();
    await listen(c.server, path);
    const feed = startAuditFeed({ store: handle.store, clock, target: { kind: 'unix', path }, pollMs: 3_600_000 });
    await feed.poll();
    const first = await event();
    await pollUntil([feed], () => markers(c.received()), [first]);
    c.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    rmSync(path, { force: true });
    const again = collector();
    await listen(again.server, path);
    c = again;
    const second = await event();
    // The old connection may take a write before it is seen closed: that write fails and is repeated.
    await pollUntil([feed], () => markers(c.received()).includes(second), true);
    await feed.close();
    c.stop();
  });

  it('shuts down within seconds when the collector stops reading, leaving the unsent events behind the cursor', async () => {
    await resetCursor();
    const path = join(dir, 'stuck.sock');
    const server = createServer((socket) => socket.pause()); // accepts, never reads
    await listen(server, path);
    const feed = startAuditFeed({ store: handle.store, clock, target: { kind: 'unix', path }, pollMs: 3_600_000 });
    await feed.poll();
    await handle.store.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 400; i += 1) {
        await recordEvent(tx, { actor: SYSTEM_ACTOR, requestId: null, now: clock.now() }, { action: 'test.feed', accountId: null, targetType: 'test', targetId: `big${i}`, details: { padding: 'x'.repeat(8_000) } });
      }
    });
    const before = await handle.store.db.selectFrom('audit_feed').select('position').executeTakeFirstOrThrow();
    void feed.poll().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    await feed.close();
    expect(Date.now() - started).toBeLessThan(6_000);
    const after = await handle.store.db.selectFrom('audit_feed').select(['position', 'holder']).executeTakeFirstOrThrow();
    expect(after).toEqual({ position: before.position, holder: null });
    server.close();
  }, 30_000);

  it('writes to TCP on 127.0.0.1', async () => {
    await resetCursor();
    const c = collector();
    await listen(c.server, { host: '127.0.0.1', port: 0 });
    const port = (c.server.address() as { port: number }).port;
    const feed = startAuditFeed({ store: handle.store, clock, target: { kind: 'tcp', host: '127.0.0.1', port }, pollMs: 3_600_000 });
    await feed.poll();
    const written = [await event(), await event()];
    await pollUntil([feed], () => markers(c.received()), written);
    await feed.close();
    c.stop();
  });

  it('appends to a file with mode 0600, and writes to a new file once log rotation has renamed it', async () => {
    await resetCursor();
    const path = join(dir, 'audit.jsonl');
    const feed = startAuditFeed({ store: handle.store, clock, target: { kind: 'file', path }, pollMs: 3_600_000 });
    await feed.poll();
    const first = await event();
    await pollUntil([feed], () => markers(readFileSync(path, 'utf8')), [first]);
    const { statSync } = await import('node:fs');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    renameSync(path, `${path}.1`);
    const second = await event();
    await pollUntil([feed], () => (existsSync(path) ? markers(readFileSync(path, 'utf8')) : []), [second]);
    expect(markers(readFileSync(`${path}.1`, 'utf8'))).toEqual([first]);
    await feed.close();
  });
});

describe('GATEHOUSE_AUDIT_FEED', () => {
  it('reads a file, a Unix socket or a TCP port on this machine', () => {
    expect(parseAuditFeed(undefined)).toEqual({ ok: true, value: undefined });
    expect(parseAuditFeed('file:/var/log/gatehouse/audit.jsonl')).toEqual({ ok: true, value: { kind: 'file', path: '/var/log/gatehouse/audit.jsonl' } });
    expect(parseAuditFeed('unix:/run/vector/audit.sock')).toEqual({ ok: true, value: { kind: 'unix', path: '/run/vector/audit.sock' } });
    expect(parseAuditFeed('tcp:127.0.0.1:9000')).toEqual({ ok: true, value: { kind: 'tcp', host: '127.0.0.1', port: 9000 } });
    expect(parseAuditFeed('tcp:[::1]:9000')).toEqual({ ok: true, value: { kind: 'tcp', host: '::1', port: 9000 } });
    expect(parseAuditFeed('tcp:localhost:9000')).toEqual({ ok: true, value: { kind: 'tcp', host: 'localhost', port: 9000 } });
  });

  it('refuses another machine, a missing path or port, and an unknown kind, saying what to write', () => {
    const use = 'use file:/var/log/gatehouse/audit.jsonl, unix:/run/vector/audit.sock or tcp:127.0.0.1:PORT (a collector on this machine)';
    expect(parseAuditFeed('tcp:10.0.0.5:9000')).toEqual({ ok: false, error: `Invalid GATEHOUSE_AUDIT_FEED "tcp:10.0.0.5:9000": tcp: goes to this machine only (127.0.0.1, ::1 or localhost): the lines are sent unencrypted; ${use}` });
    expect(parseAuditFeed('file:')).toEqual({ ok: false, error: `Invalid GATEHOUSE_AUDIT_FEED "file:": file: needs a path; ${use}` });
    expect(parseAuditFeed('tcp:127.0.0.1')).toEqual({ ok: false, error: `Invalid GATEHOUSE_AUDIT_FEED "tcp:127.0.0.1": tcp: needs HOST:PORT; ${use}` });
    expect(parseAuditFeed('https://collector.example.com')).toEqual({ ok: false, error: `Invalid GATEHOUSE_AUDIT_FEED "https://collector.example.com": "https" is not a kind of feed; ${use}` });
  });
});

describe('two server processes and a CLI command on one store', () => {
  it('writes each event the command made to one of the two processes feeds, once', async () => {
    const shared = freshSharedStore();
    const files = [join(dir, 'process-a.jsonl'), join(dir, 'process-b.jsonl')];
    const servers: GatehouseProcess[] = [];
    try {
      for (const file of files) {
        servers.push(await startGatehouse(['--port', '0', ...shared.flags], { ...shared.env, GATEHOUSE_AUDIT_FEED: `file:${file}`, GATEHOUSE_AUDIT_RETENTION_DAYS: '30' }));
      }
      // Both have started, so the feed's cursor exists; the command is a third process.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await bootstrapOwner(shared, `feed-${randomBytes(3).toString('hex')}`);
      const store = await shared.open();
      const ids = (await store.db.selectFrom('audit_events').select('id').execute()).map((row) => row.id).sort();
      await store.close();
      expect(ids.length).toBeGreaterThan(0);
      const fed = () =>
        files
          .filter((file) => existsSync(file))
          .flatMap((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line).id as string))
          .sort();
      await expect.poll(fed, { timeout: 30_000, interval: 200 }).toEqual(ids);
      // One process held the lease: the other's file has nothing.
      expect(files.filter((file) => existsSync(file) && readFileSync(file, 'utf8').length > 0)).toHaveLength(1);
    } finally {
      for (const server of servers) await server.stop();
      await shared.dispose();
    }
  }, 90_000);
});
