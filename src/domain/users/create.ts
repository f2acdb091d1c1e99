// Creating a user (from bootstrap, first-run setup or an accepted invitation), or finding the
// existing one with that email.
import { newId } from '../context.js';
import type { Executor } from '../../store/store.js';

/** One mailbox, one user: emails are compared and stored trimmed and lowercased. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** A unique user handle from an email's local part: `ada`, then `ada-2`, `ada-3`… */
async function freeUserHandle(tx: Executor, email: string): Promise<string> {
  const base = email.split('@')[0].toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'user';
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    const taken = await tx.selectFrom('users').select('id').where('handle', '=', candidate).executeTakeFirst();
    if (!taken) return candidate;
  }
}

export interface NewUser {
  email: string;
  now: Date;
  passwordHash?: string | null;
  firstName?: string;
  lastName?: string;
}

export async function findOrCreateUser(tx: Executor, input: NewUser): Promise<{ id: string; actor_id: string; created: boolean }> {
  input = { ...input, email: normalizeEmail(input.email) };
  const existing = await tx.selectFrom('users').select(['id', 'actor_id']).where('email', '=', input.email).executeTakeFirst();
  if (existing) return { ...existing, created: false };
  const now = input.now.toISOString();
  const user = { id: newId(), actor_id: newId() };
  await tx
    .insertInto('users')
    .values({
      ...user,
      handle: await freeUserHandle(tx, input.email),
      email: input.email,
      first_name: input.firstName ?? '',
      last_name: input.lastName ?? '',
      location: null,
      title: null,
      image_location: null,
      settings: '{}',
      last_login: null,
      password_hash: input.passwordHash ?? null,
      created: now,
      updated: now,
    })
    .execute();
  return { ...user, created: true };
}
