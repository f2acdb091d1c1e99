// The shape of a Gatehouse API key: `pnb_`/`pnu_` + 30 random base62 characters + a 6-character
// base62 CRC32 of those 30, so a mistyped or truncated key is refused without a store lookup and
// secret scanners can match `pn[bu]_[A-Za-z0-9]{36}`.
import * as crypto from 'node:crypto';
import { crc32 } from 'node:zlib';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = /^(pnb|pnu)_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;

export type KeyKind = 'bot' | 'user';
export const KEY_PREFIX: Record<KeyKind, string> = { bot: 'pnb_', user: 'pnu_' };

function base62(value: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

function checksum(body: string): string {
  return base62(crc32(body), CHECKSUM_LENGTH);
}

function randomBody(): string {
  // Rejection sampling keeps every character uniform: 248 = 4 * 62.
  let out = '';
  while (out.length < BODY_LENGTH) {
    for (const byte of crypto.randomBytes(BODY_LENGTH * 2)) {
      if (byte < 248 && out.length < BODY_LENGTH) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

export function generateKey(kind: KeyKind): string {
  const body = randomBody();
  return KEY_PREFIX[kind] + body + checksum(body);
}

/** The key's kind when its format and checksum are right; null otherwise. */
export function parseKey(candidate: string): KeyKind | null {
  const match = KEY_PATTERN.exec(candidate);
  if (!match) return null;
  if (checksum(match[2]) !== match[3]) return null;
  return match[1] === 'pnb' ? 'bot' : 'user';
}

// crypto.hash (Node ≥ 20.12) skips the Hash object: hashKey runs on every authenticated request.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** What the store keeps instead of the key. */
export function hashKey(key: string): string {
  return oneShotHash ? oneShotHash('sha256', key, 'hex') : crypto.createHash('sha256').update(key).digest('hex');
}

/** The prefix and four characters of the random part: enough to recognise, never to use. */
export function maskKey(key: string): string {
  return key.slice(0, 8) + '********';
}
