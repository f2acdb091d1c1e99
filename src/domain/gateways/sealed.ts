// Sealing the one secret Gatehouse must be able to send on: a workspace's upstream credential.
// AES-256-GCM under the server's secret key, bound to the workspace (additional data), so a sealed
// value copied to another workspace's row does not open. Format: v1.<key id>.<iv>.<ciphertext>.<tag>
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretKey, SecretKeyring } from '../../secret-key.js';

/** The id of the key a sealed value was made under, or null when it is not a sealed value. */
export function sealedKeyId(sealed: string): string | null {
  const [version, keyId] = sealed.split('.');
  return version === 'v1' && keyId ? keyId : null;
}

const b64 = (bytes: Buffer) => bytes.toString('base64url');

export function seal(key: SecretKey, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', key.id, b64(iv), b64(body), b64(cipher.getAuthTag())].join('.');
}

export type Unsealed = { ok: true; value: string } | { ok: false; reason: 'other_key' | 'corrupt' };

/** Opens a sealed value with whichever key of the ring (or the one key) it was sealed under. */
export function unseal(keys: SecretKey | SecretKeyring, sealed: string, context: string): Unsealed {
  const [version, keyId, iv, body, tag] = sealed.split('.');
  if (version !== 'v1' || !iv || !body || !tag) return { ok: false, reason: 'corrupt' };
  const key = 'current' in keys ? [keys.current, ...keys.previous].find((k) => k.id === keyId) : keys.id === keyId ? keys : undefined;
  if (!key) return { ok: false, reason: 'other_key' };
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return { ok: true, value: Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8') };
  } catch {
    return { ok: false, reason: 'corrupt' };
  }
}
