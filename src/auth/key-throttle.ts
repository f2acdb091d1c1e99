// Throttling failed key authentications per client address. Keys are far too long to guess, so
// this is about load and noise: an address that keeps presenting unknown keys is answered 429
// before its keys cost a store lookup. Keys that already worked from that address go on working,
// so a tenant sharing an address (a NAT) with a misbehaving client is not locked out. Per process
// and in memory: nothing is written for a failed attempt, so failures cannot load the database.
import { LRUCache } from 'lru-cache';
import { metrics } from '../observability/metrics.js';

export interface KeyThrottleOptions {
  /** Failed authentications one address may make per window (default 30). */
  limit?: number;
  windowMs?: number;
  /** Addresses remembered at most; the oldest are forgotten first. */
  maxAddresses?: number;
  now: () => number;
}

interface Window {
  start: number;
  failures: number;
  /** Digests (hashKey) of keys that authenticated from this address. */
  good: Set<string>;
}

const GOOD_KEYS_PER_ADDRESS = 64;

export function keyThrottle(options: KeyThrottleOptions) {
  const limit = options.limit ?? 30;
  const windowMs = options.windowMs ?? 60_000;
  const maxAddresses = options.maxAddresses ?? 100_000;
  /** Per address, the least recently seen forgotten first. */
  const windows = new LRUCache<string, Window>({ max: maxAddresses });

  function current(address: string): Window {
    const now = options.now();
    let window = windows.get(address);
    if (!window || now - window.start >= windowMs) {
      window = { start: now, failures: 0, good: window?.good ?? new Set() };
      windows.set(address, window);
    }
    return window;
  }

  return {
    /** Seconds to wait when this address is over its limit and the key (its digest) never worked from it; else null. */
    retryAfter(address: string, digest: string): number | null {
      const window = windows.peek(address);
      if (!window || window.failures < limit || options.now() - window.start >= windowMs) return null;
      if (window.good.has(digest)) return null;
      return Math.max(1, Math.ceil((window.start + windowMs - options.now()) / 1000));
    },
    failed(address: string): void {
      if ((current(address).failures += 1) === limit) metrics.addressThrottled();
    },
    /** Remembers that this key works from this address, so a flood of bad keys from the same address spares it. */
    succeeded(address: string, digest: string): void {
      const known = windows.peek(address);
      // The common case, a key that keeps working from an address that sends no bad ones: nothing to note.
      if (known && known.failures === 0 && known.good.has(digest)) return;
      const window = current(address);
      if (window.good.has(digest)) return;
      if (window.good.size >= GOOD_KEYS_PER_ADDRESS) window.good.delete(window.good.values().next().value!);
      window.good.add(digest);
    },
  };
}

export type KeyThrottle = ReturnType<typeof keyThrottle>;
