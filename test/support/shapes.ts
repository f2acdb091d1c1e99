// The shapes of what Gatehouse answers, written once: id and timestamp patterns, key formats, the
// fields of an issued and a masked key, and a check that a text reveals no usable part of a key.
import { createHash } from 'node:crypto';

/** A lower-case UUID, any version. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An RFC 3339 date-time with any offset. */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** An RFC 3339 date-time in UTC (`Z`), as Gatehouse writes its own timestamps. */
export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A whole service-account key, as issued once. */
export const BOT_KEY = /^pnb_[A-Za-z0-9]{36}$/;
/** A whole user key, as issued once. */
export const USER_KEY = /^pnu_[A-Za-z0-9]{36}$/;

/** The fields of a key in the response that issues it (the only time `key` is sent). */
export const ISSUED_KEY_FIELDS = ['created', 'expiration', 'id', 'key', 'name'];
/** The fields of a key on every later read. */
export const MASKED_KEY_FIELDS = ['created', 'expiration', 'id', 'last_used_at', 'last_used_client', 'last_used_from', 'last_used_workspace_id', 'leak_reported_at', 'leak_source', 'leak_url', 'masked_key', 'name'];

/** The longest run of the key's characters that `text` reveals. */
export function longestRevealed(text: string, key: string): number {
  let longest = 0;
  for (let start = 0; start < key.length; start++) {
    for (let end = start + longest + 1; end <= key.length && text.includes(key.slice(start, end)); end++) longest = end - start;
  }
  return longest;
}

/** Hex SHA-256 of a text: how a stored token or code digest is looked for. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
