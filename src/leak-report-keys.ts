// The public keys a secret-scanning partner signs its leak reports with, and the check of a report's
// signature: ECDSA P-256 with SHA-256 over the raw request body, the signature base64 DER, the key
// named by an identifier (the shape of GitHub's secret scanning partner program). The keys come from
// configuration (a file in the shape GitHub serves them at /meta/public_keys/secret_scanning): a
// Gatehouse cannot be relied on to reach that URL, and a key fetched per report would let anyone
// who can slow that fetch slow the endpoint.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface SigningKey {
  identifier: string;
  key: KeyObject;
}

export type SigningKeys = ReadonlyMap<string, KeyObject>;

export type Verdict = 'valid' | 'missing' | 'unknown_key' | 'bad_signature';

/** Keys as the configuration file holds them: `{"public_keys": [{"key_identifier", "key" (PEM), ...}]}`. */
export function parseSigningKeys(text: string): { ok: true; keys: SigningKeys } | { ok: false; error: string } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { ok: false, error: 'it is not JSON' };
  }
  const list = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list) || list.length === 0) return { ok: false, error: 'it needs a non-empty "public_keys" array' };
  const keys = new Map<string, KeyObject>();
  for (const [i, entry] of list.entries()) {
    const { key_identifier: identifier, key: pem } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof identifier !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(identifier)) return { ok: false, error: `public_keys[${i}].key_identifier must be a string of 1 to 200 printable characters` };
    if (typeof pem !== 'string') return { ok: false, error: `public_keys[${i}].key must be a PEM public key` };
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      return { ok: false, error: `public_keys[${i}].key is not a PEM public key` };
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      return { ok: false, error: `public_keys[${i}].key must be an ECDSA P-256 key (ECDSA-NIST-P256V1-SHA256)` };
    }
    keys.set(identifier, key);
  }
  return { ok: true, keys };
}

export function readSigningKeysFile(path: string): { ok: true; keys: SigningKeys } | { ok: false; error: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, error: `it cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  return parseSigningKeys(text);
}

const BASE64 = /^[A-Za-z0-9+/]{1,400}={0,2}$/;

/** Whether `body` (the raw bytes received) carries a valid signature by one of `keys`. */
export function checkSignature(keys: SigningKeys, body: Buffer | string, identifier: unknown, signature: unknown): Verdict {
  if (typeof identifier !== 'string' || identifier === '' || typeof signature !== 'string' || signature === '') return 'missing';
  const key = keys.get(identifier);
  if (!key) return 'unknown_key';
  if (!BASE64.test(signature)) return 'bad_signature';
  try {
    return verify('sha256', typeof body === 'string' ? Buffer.from(body, 'utf8') : body, key, Buffer.from(signature, 'base64')) ? 'valid' : 'bad_signature';
  } catch {
    return 'bad_signature'; // a DER structure that does not parse
  }
}
