// The key format is what lets a malformed key be refused without a store lookup and lets secret
// scanners find leaked keys, so its rules are pinned here exactly.
import { describe, expect, it } from 'vitest';
import { generateKey, hashKey, KEY_PREFIX, maskKey, parseKey } from './key-format.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The same key with the character at `index` replaced by a different base62 character. */
function mutate(key: string, index: number, step = 1): string {
  const next = BASE62[(BASE62.indexOf(key[index]) + step) % 62];
  return key.slice(0, index) + next + key.slice(index + 1);
}

describe('generateKey', () => {
  it('issues service-account keys as pnb_ + 36 base62 characters', () => {
    for (let i = 0; i < 200; i++) expect(generateKey('bot')).toMatch(/^pnb_[A-Za-z0-9]{36}$/);
  });

  it('issues user keys as pnu_ + 36 base62 characters', () => {
    for (let i = 0; i < 200; i++) expect(generateKey('user')).toMatch(/^pnu_[A-Za-z0-9]{36}$/);
  });

  it('never issues the same key twice', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateKey('bot')));
    expect(keys.size).toBe(2000);
  });

  it('uses the whole base62 alphabet in the random part', () => {
    const seen = new Set(Array.from({ length: 400 }, () => generateKey('user').slice(4, 34)).join(''));
    expect(seen.size).toBe(62);
  });

  it('names the prefixes clients and scanners expect', () => {
    expect(KEY_PREFIX).toEqual({ bot: 'pnb_', user: 'pnu_' });
  });
});

describe('parseKey', () => {
  it('accepts every generated key and reports its kind from the prefix', () => {
    for (let i = 0; i < 200; i++) {
      expect(parseKey(generateKey('bot'))).toBe('bot');
      expect(parseKey(generateKey('user'))).toBe('user');
    }
  });

  it('refuses a key with any single character of the random part changed', () => {
    const key = generateKey('bot');
    for (let i = 4; i < 34; i++) expect(parseKey(mutate(key, i)), `position ${i}`).toBeNull();
  });

  it('refuses a key with any single character of the checksum changed', () => {
    const key = generateKey('user');
    for (let i = 34; i < 40; i++) {
      for (const step of [1, 31, 61]) expect(parseKey(mutate(key, i, step)), `position ${i} step ${step}`).toBeNull();
    }
  });

  it('refuses two adjacent characters swapped', () => {
    let key = generateKey('bot');
    while (key[10] === key[11]) key = generateKey('bot');
    const swapped = key.slice(0, 10) + key[11] + key[10] + key.slice(12);
    expect(parseKey(swapped)).toBeNull();
  });

  it('lets the prefix alone decide the kind: the checksum covers only the random part', () => {
    const key = generateKey('bot');
    expect(parseKey(`pnu_${key.slice(4)}`)).toBe('user');
    expect(parseKey(key)).toBe('bot');
  });

  it('refuses unknown prefixes, wrong lengths, other alphabets and surrounding text', () => {
    const key = generateKey('bot');
    const body = key.slice(4);
    for (const bad of [
      '',
      'pnb_',
      `pcu_${body}`,
      `PNB_${body}`,
      `pnb${body}`,
      `pnb-${body}`,
      key.slice(0, -1),
      `${key}A`,
      ` ${key}`,
      `${key} `,
      `${key}\n`,
      `pnb_${body.slice(0, 29)}-${body.slice(30)}`,
      `pnb_${body.slice(0, 29)}é${body.slice(30)}`,
      'pnb_' + 'A'.repeat(36),
    ]) {
      expect(parseKey(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe('hashKey', () => {
  it('is a deterministic lowercase SHA-256 hex digest', () => {
    const key = generateKey('bot');
    expect(hashKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKey(key)).toBe(hashKey(key));
    // Known vector: the store must be able to find keys issued by any earlier version.
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('differs for keys differing in one character, including the prefix', () => {
    const key = generateKey('bot');
    expect(hashKey(mutate(key, 20))).not.toBe(hashKey(key));
    expect(hashKey(`pnu_${key.slice(4)}`)).not.toBe(hashKey(key));
  });

  it('does not contain the key', () => {
    const key = generateKey('user');
    expect(hashKey(key)).not.toContain(key.slice(4, 12));
  });
});

describe('maskKey', () => {
  /** The longest run of the key's characters, in order, that the mask reveals. */
  function longestRevealed(mask: string, key: string): number {
    let longest = 0;
    for (let start = 0; start < key.length; start++) {
      for (let end = start + longest + 1; end <= key.length; end++) {
        if (!mask.includes(key.slice(start, end))) break;
        longest = end - start;
      }
    }
    return longest;
  }

  it('shows at most 8 characters of the key', () => {
    for (let i = 0; i < 200; i++) {
      const key = generateKey(i % 2 ? 'bot' : 'user');
      const mask = maskKey(key);
      expect(longestRevealed(mask, key)).toBeLessThanOrEqual(8);
      // Characters of the key outside the mask's visible run must not leak elsewhere in it.
      expect(mask.replace(/\*/g, '').length).toBeLessThanOrEqual(8);
    }
  });

  it('keeps the prefix so a person can tell a service-account key from a user key', () => {
    expect(maskKey(generateKey('bot')).startsWith('pnb_')).toBe(true);
    expect(maskKey(generateKey('user')).startsWith('pnu_')).toBe(true);
  });

  it('is not itself a usable key and does not match the secret-scanner pattern', () => {
    const mask = maskKey(generateKey('bot'));
    expect(parseKey(mask)).toBeNull();
    expect(mask).not.toMatch(/pn[bu]_[A-Za-z0-9]{36}/);
  });
});
