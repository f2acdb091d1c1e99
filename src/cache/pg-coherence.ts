// Cache coherence for several Gatehouse processes on one PostgreSQL database, after Chubby's
// strictly consistent caches: a revoking write returns only once every live process has emptied
// its cache, or once the lease of any process that did not answer has run out.
//
// - Each process keeps one connection that LISTENs on the store's channel and renews the process's
//   lease (a row in cache_nodes, `lease_until` by the database clock) every quarter lease. Lease
//   and notifications share that connection: a process that can no longer hear notifications can
//   no longer renew its lease either.
// - A process trusts its cache only while it is listening and its lease (measured from when the
//   renewal was sent, on its own monotonic clock) has not run out.
// - A write advances cache_epoch.seq and notifies in its own transaction, so the notification goes
//   out exactly when the write commits; each process empties its cache and then acknowledges
//   (seen_seq). The writer waits until every process whose lease still runs has acknowledged.
// - A process that loses its connection empties its cache and trusts nothing until it has listened
//   again, emptied it again and caught up with the current seq.
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { CompiledQuery, type Kysely } from 'kysely';
import type { Coherence } from './coherence.js';

export interface PgCoherenceOptions {
  url: string;
  /** The store's pool, for the writer's side (wait for acknowledgements). */
  db: Kysely<any>;
  schema?: string;
  /** How long a process may trust its cache without renewing its lease (default 2 s). */
  leaseMs?: number;
}

/** Margin for clocks ticking at slightly different rates between this process and the database. */
const MARGIN_MS = 100;
const QUERY_TIMEOUT_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function pgCoherence(options: PgCoherenceOptions): Coherence {
  const leaseMs = options.leaseMs ?? 2_000;
  const id = randomUUID();
  const channel = `gatehouse_cache_${createHash('sha256').update(options.schema ?? '').digest('hex').slice(0, 16)}`;
  const dbNow = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
  let generation = 0;
  let listener: pg.Client | null = null;
  let leaseEnd = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let connecting: Promise<void> | null = null;

  const forget = () => void (generation += 1);

  // One query at a time on the listening connection (renewals and acknowledgements may overlap).
  const turns = new WeakMap<pg.Client, Promise<unknown>>();
  function query(client: pg.Client, text: string, values: unknown[] = [], onSend?: () => void) {
    const run = () => {
      onSend?.();
      return client.query({ text, values, query_timeout: QUERY_TIMEOUT_MS } as pg.QueryConfig);
    };
    const next = (turns.get(client) ?? Promise.resolve()).then(run, run);
    turns.set(client, next.catch(() => {}));
    return next;
  }

  async function renew(client: pg.Client, seenSeq: number): Promise<void> {
    let sent = performance.now();
    await query(
      client,
      `insert into cache_nodes (id, lease_until, seen_seq) values ($1, ${dbNow} + $2, $3)
       on conflict (id) do update set lease_until = excluded.lease_until, seen_seq = greatest(cache_nodes.seen_seq, excluded.seen_seq)`,
      [id, leaseMs, seenSeq],
      () => (sent = performance.now()),
    );
    if (client === listener) leaseEnd = sent + leaseMs - MARGIN_MS;
  }

  function lost(client: pg.Client): void {
    if (client !== listener) return;
    listener = null;
    leaseEnd = 0;
    forget();
    client.end().catch(() => {});
  }

  async function connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: options.url,
      options: options.schema ? `-c search_path=${options.schema}` : undefined,
      keepAlive: true,
      connectionTimeoutMillis: 2_000,
      // Names the connection in pg_stat_activity (per store: the channel).
      application_name: channel,
    });
    client.on('error', () => lost(client));
    client.on('end', () => lost(client));
    client.on('notification', (message) => {
      if (message.channel !== channel) return;
      forget(); // first empty the cache, then say so
      const seq = Number(message.payload);
      query(client, 'update cache_nodes set seen_seq = greatest(seen_seq, $2) where id = $1', [id, seq]).catch(() => lost(client));
    });
    try {
      await client.connect();
      await client.query(`listen "${channel}"`);
      listener = client;
      // Anything cached before listening could have missed a notification.
      forget();
      // Rows of processes long gone are of no use to anyone.
      await query(client, `delete from cache_nodes where lease_until < ${dbNow} - 3600000`);
      const { rows } = await query(client, 'select seq from cache_epoch where id = 1');
      await renew(client, Number(rows[0]?.seq ?? 0));
    } catch {
      lost(client);
      if (listener !== client) await client.end().catch(() => {});
    }
  }

  function tick(): void {
    if (stopped) return;
    if (listener) renew(listener, 0).catch(() => listener && lost(listener));
    else connecting ??= connect().finally(() => (connecting = null));
  }

  return {
    generation: () => generation,
    // Notifications arrive on their own; nothing to look for.
    poll: () => {},
    glance: () => {},
    trusted: () => listener !== null && performance.now() < leaseEnd,

    async stamp(tx: Kysely<any>): Promise<number> {
      // The row lock orders invalidations as their writes commit, so one number acknowledged means
      // every invalidation up to it has been heard. pg_notify is sent only if the write commits.
      const { rows } = await tx.executeQuery<{ seq: string }>(
        CompiledQuery.raw('with next as (update cache_epoch set seq = seq + 1 where id = 1 returning seq) select seq, pg_notify($1, seq::text) from next', [channel]),
      );
      return Number(rows[0].seq);
    },

    async settle(seq: number): Promise<void> {
      forget();
      const deadline = performance.now() + leaseMs + 1_000;
      try {
        for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
          const { rows } = await options.db.executeQuery<{ n: number }>(
            CompiledQuery.raw(`select count(*)::int as n from cache_nodes where id <> $1 and seen_seq < $2 and lease_until > ${dbNow}`, [id, seq]),
          );
          if (rows[0].n === 0 || performance.now() > deadline) return;
          await sleep(pause);
        }
      } catch {
        // The notification went out with the commit, but who heard it cannot be asked: wait until
        // every lease has run out. A process that did not hear it cannot renew its lease either.
        await sleep(Math.max(0, deadline - performance.now()));
      }
    },

    async start(): Promise<void> {
      if (timer || stopped) return;
      await connect();
      timer = setInterval(tick, Math.max(50, Math.floor(leaseMs / 4)));
      timer.unref();
    },

    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await connecting?.catch(() => {});
      const client = listener;
      listener = null;
      if (client) {
        await query(client, 'delete from cache_nodes where id = $1', [id]).catch(() => {});
        await client.end().catch(() => {});
      }
    },
  };
}
