// For the failover suite: a Gatehouse store on the high-availability topology (scripts/ha-topology.js),
// its owner bootstrapped in-process through the accounts service, and the load's bookkeeping.
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/store.js';
import { bootstrapOwner, type Owner, type StoreUnderTest } from '../reliability/support.js';

/** A fresh schema on the topology, reached through `url` (HAProxy's address, or one node's). */
export function haStore(url: string): StoreUnderTest & { schema: string; flagsFor(url: string): string[] } {
  const schema = `gh_ha_${randomBytes(6).toString('hex')}`;
  // The load keeps using revoked keys on purpose: the per-address limit on failed keys is lifted.
  const env = { GATEHOUSE_SECRET_KEY: randomBytes(32).toString('base64'), GATEHOUSE_KEY_FAILURE_LIMIT: '1000000' };
  const flagsFor = (databaseUrl: string) => ['--database-url', databaseUrl, '--database-schema', schema];
  return {
    schema,
    flags: flagsFor(url),
    flagsFor,
    env,
    open: () => openStore({ dataDir: '', databaseUrl: url, databaseSchema: schema }),
    // The whole topology, schema and all, is removed afterwards.
    dispose: async () => {},
  };
}

/** Migrates the schema and creates an account and its Owner, as `gatehouse bootstrap` does, through HAProxy. */
export const bootstrapOn = (url: string, store: StoreUnderTest & { schema: string }, handle: string): Promise<Owner> =>
  bootstrapOwner(store, handle, { databaseUrl: url, databaseSchema: store.schema });

export type ProcessName = 'A' | 'B' | 'C';
export type Kind = 'read' | 'create' | 'revoke' | 'revoked-read';

/** One request of the load and its answer. */
export interface Sample {
  proc: ProcessName;
  kind: Kind;
  sentAt: number;
  answeredAt: number;
  status: number | 'network';
  code?: string;
  retryAfter?: string;
  detail?: string;
}

/** The answers a kind may get when the store can serve it. */
export const SUCCESS: Record<Kind, number> = { read: 200, create: 201, revoke: 204, 'revoked-read': 401 };

export const describeSample = (s: Sample, t0: number) =>
  `${s.proc} ${s.kind} sent +${s.sentAt - t0} ms → ${s.status}${s.code ? ` ${s.code}` : ''}${s.detail ? ` ${s.detail.slice(0, 160)}` : ''} after ${s.answeredAt - s.sentAt} ms`;

/** A 503 as the catalog writes it: STORE_UNAVAILABLE with Retry-After. */
export const isStoreUnavailable = (s: Sample) => s.status === 503 && s.code === 'STORE_UNAVAILABLE' && s.retryAfter === '2';

/**
 * How a fault went for some processes: the last refused request answered after the fault (the
 * outage as users saw it ends there) and how many were refused.
 */
export function outage(samples: Sample[], procs: ProcessName[], from: number, to: number) {
  const window = samples.filter((s) => procs.includes(s.proc) && s.sentAt >= from && s.sentAt < to);
  const refused = window.filter((s) => s.status !== SUCCESS[s.kind] && !(s.kind === 'read' && s.status === 401));
  const lastRefusal = refused.length ? Math.max(...refused.map((s) => s.answeredAt)) : from;
  return { requests: window.length, refused: refused.length, recoveryMs: lastRefusal - from, lastRefusal };
}
