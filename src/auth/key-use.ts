// The last use of every API key, without a write per request: the auth core notes each use into a
// map (synchronous, no promise, on the request's path), and a background flush writes what the map
// holds, at most one row update per key per interval. A crash loses at most one interval of notes.
// Several processes on one database: a write never replaces a later use with an earlier one.
import type { Store } from '../store/store.js';

/** One use of a key, as stored (every field bounded; no credential ever lands here). */
export interface KeyUse {
  /** RFC 3339, UTC. */
  at: string;
  address: string | null;
  client: string | null;
  workspaceId: string | null;
}

export interface KeyUseNote {
  at: Date;
  address: string | null | undefined;
  /** The User-Agent header as sent (anything). */
  client: unknown;
  workspaceId: string | null | undefined;
}

/** Longest User-Agent kept; the rest is cut. */
export const CLIENT_MAX_LENGTH = 200;
const ADDRESS_MAX_LENGTH = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Printable text only, cut to `max` characters; null for nothing. */
function bounded(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim().slice(0, max);
  return text || null;
}

/** Anything shaped like a Gatehouse key (a client that puts one in its User-Agent): never stored. */
const KEY_SHAPED = /pn[bu]_[A-Za-z0-9]{36}/g;

export function toKeyUse(note: KeyUseNote): KeyUse {
  const client = typeof note.client === 'string' ? note.client.replace(KEY_SHAPED, '[key]') : null;
  return {
    at: note.at.toISOString(),
    address: bounded(note.address, ADDRESS_MAX_LENGTH),
    client: bounded(client, CLIENT_MAX_LENGTH),
    workspaceId: note.workspaceId && UUID.test(note.workspaceId) ? note.workspaceId : null,
  };
}

export interface KeyUseRecorder {
  /** Notes a use: a map write, nothing else. The latest use of a key wins. */
  note(keyId: string, note: KeyUseNote): void;
  /** Writes every noted use now (the interval and close call it). */
  flush(): Promise<void>;
  /** Stops the interval and writes what is left. */
  close(): Promise<void>;
}

/**
 * Writes a batch of uses in one transaction (one commit, one fsync on SQLite, not one per key).
 * Another process may have written a later use of a key: a write never goes back in time.
 */
export async function writeKeyUses(store: Store, batch: ReadonlyMap<string, KeyUse>): Promise<void> {
  if (batch.size === 0) return;
  await store.db.transaction().execute(async (tx) => {
    for (const [keyId, use] of batch) {
      await tx
        .updateTable('api_keys')
        .set({ last_used_at: use.at, last_used_from: use.address, last_used_client: use.client, last_used_workspace_id: use.workspaceId })
        .where('id', '=', keyId)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', use.at)]))
        .execute();
    }
  });
}

export interface KeyUseOptions {
  /** Writes a batch (writeKeyUses on the app's store). */
  write: (batch: ReadonlyMap<string, KeyUse>) => Promise<void>;
  /** How often noted uses are written (default 60 s): the most a crash loses. */
  intervalMs?: number;
  /** Told when a flush fails (the notes are kept for the next one). */
  onError?: (error: unknown) => void;
}

export const KEY_USE_INTERVAL_MS = 60_000;
const CLOSE_WAIT_MS = 5_000;

export function keyUseRecorder({ write: writeBatch, intervalMs = KEY_USE_INTERVAL_MS, onError }: KeyUseOptions): KeyUseRecorder {
  let pending = new Map<string, KeyUseNote>();
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const keepLatest = (map: Map<string, KeyUseNote>, keyId: string, note: KeyUseNote) => {
    const held = map.get(keyId);
    if (!held || held.at.getTime() <= note.at.getTime()) map.set(keyId, note);
  };

  async function write(batch: Map<string, KeyUseNote>): Promise<void> {
    if (batch.size === 0) return;
    try {
      await writeBatch(new Map([...batch].map(([keyId, note]) => [keyId, toKeyUse(note)])));
    } catch (error) {
      // Kept for the next flush, unless a later use was noted meanwhile.
      for (const [keyId, note] of batch) keepLatest(pending, keyId, note);
      onError?.(error);
    }
  }

  function flush(): Promise<void> {
    // Flushes run one after another, each taking what was noted before it started.
    running = running.then(() => {
      const batch = pending;
      pending = new Map();
      return write(batch);
    });
    return running;
  }

  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();

  return {
    note(keyId, note) {
      if (!closed) keepLatest(pending, keyId, note);
    },
    flush,
    async close() {
      clearInterval(timer);
      // A database that does not answer (an outage) must not hold the shutdown: give up after 5 s.
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([flush(), new Promise<void>((resolve) => (giveUp = setTimeout(resolve, CLOSE_WAIT_MS)))]);
      clearTimeout(giveUp);
      closed = true;
    },
  };
}
