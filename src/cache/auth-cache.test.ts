// The cache's own rules, over a stand-in coherence: a generation change empties it, and each kind
// keeps at most its bound of entries, the least recently used going first.
import { describe, expect, it } from 'vitest';
import { authCache } from './auth-cache.js';
import type { Coherence } from './coherence.js';

function standIn(): Coherence & { bump(): void } {
  let generation = 0;
  return {
    generation: () => generation,
    bump: () => void (generation += 1),
    poll() {},
    glance() {},
    trusted: () => true,
    stamp: async () => 0,
    settle: async () => {},
    start: async () => {},
    stop: async () => {},
  };
}

describe('authCache', () => {
  it('forgets every entry when the generation moves', async () => {
    const coherence = standIn();
    const cache = authCache(coherence);
    await cache.through('key', 'a', async () => ({ actor: 'a' }));
    expect(cache.peek('key', 'a')).toEqual({ actor: 'a' });
    coherence.bump();
    expect(cache.peek('key', 'a')).toBeUndefined();
  });

  it('keeps at most 200,000 entries of a kind, dropping the one filled longest ago', async () => {
    const cache = authCache(standIn());
    for (let i = 0; i < 200_000; i += 1) await cache.through('key', `k${i}`, async () => i + 1);
    expect(cache.peek('key', 'k0')).toBe(1);
    await cache.through('key', 'one-more', async () => -1);
    expect(cache.peek('key', 'k0')).toBeUndefined(); // the first filled went
    expect(cache.peek('key', 'k1')).toBe(2);
    expect(cache.peek('key', 'one-more')).toBe(-1);
    expect(cache.peek('other', 'k1')).toBeUndefined();
  });
});
