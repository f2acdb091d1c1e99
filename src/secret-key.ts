// The server's secret key (GATEHOUSE_SECRET_KEY, its file, or <data dir>/secret.key) and the ring of
// previous keys: read by the configuration, used by the gateway service to seal upstream credentials
// (domain/gateways/sealed.ts). A leaf: it imports nothing of Gatehouse's.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretKey {
  bytes: Buffer;
  /** Names the key without revealing it, so a sealed value made under another key is recognised. */
  id: string;
}

export function secretKeyFrom(bytes: Buffer): SecretKey {
  if (bytes.length !== 32) throw new Error('The secret key must be 32 bytes');
  return { bytes, id: createHash('sha256').update(bytes).digest('hex').slice(0, 8) };
}

/** A key for tests and for apps built without one: sealed values live only as long as the process. */
export const ephemeralSecretKey = (): SecretKey => secretKeyFrom(randomBytes(32));

/**
 * The keys a process holds: `current` seals, and opens what it sealed; `previous` keys (during a
 * rotation of the secret key) only open what they sealed, until `gatehouse secret-key reseal`.
 */
export interface SecretKeyring {
  current: SecretKey;
  previous: readonly SecretKey[];
  /** Where the current key came from, for messages: "GATEHOUSE_SECRET_KEY" or a file's path. */
  source: string;
}

export const keyring = (current: SecretKey, previous: readonly SecretKey[] = [], source = 'this process'): SecretKeyring => ({ current, previous, source });

/** The ids of every key the ring holds, current first. */
export const heldKeyIds = (ring: SecretKeyring): string[] => [ring.current.id, ...ring.previous.map((key) => key.id)];

/** Reads a secret key's text: 32 bytes as base64 (44 characters) or hex (64 characters). */
export function parseSecretKey(text: string): SecretKey | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return secretKeyFrom(Buffer.from(trimmed, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return secretKeyFrom(bytes);
  }
  return null;
}

/** The key in a file named explicitly (GATEHOUSE_SECRET_KEY_FILE): it must exist and hold a key. */
export function readSecretKeyFile(path: string): SecretKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read the secret key file ${path}: ${(error as { code?: string }).code ?? (error as Error).message}`);
  }
  const key = parseSecretKey(text);
  if (!key) throw new Error(`${path} does not hold a 32-byte key (base64 or hex); make one with \`openssl rand -base64 32\``);
  return key;
}

/**
 * The key in `<dataDir>/secret.key`, created (mode 0600) on first use. Every process that serves
 * the same database must use the same key; the store remembers which one (see the gateway
 * service's claimSecretKey), so a process with another key refuses to start.
 */
export function secretKeyFile(dataDir: string): SecretKey {
  const path = join(dataDir, 'secret.key');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error; // another process made it first
    }
  }
  chmodSync(path, 0o600);
  const key = parseSecretKey(readFileSync(path, 'utf8'));
  if (!key) throw new Error(`${path} does not hold a 32-byte key (base64); remove it to have a new one made`);
  return key;
}
