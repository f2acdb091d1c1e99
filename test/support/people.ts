// Test helpers for people: users with passwords, signing in, and reading the session cookie back
// the way a browser would. Everything but the operator's first password goes through the HTTP API.
import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/domain/context.js';
import type { Harness, Response } from './harness.js';

export const COOKIE = 'gatehouse_session';
export const PASSWORD = 'correct horse battery';

export interface Person {
  accountId: string;
  userId: string;
  email: string;
  key: string;
  password: string;
}

/** What `gatehouse set-password` does: the operator's path to a user's first password. */
export async function setFirstPassword(h: Harness, email: string, password = PASSWORD): Promise<void> {
  const set = await h.app.services.sessions.setPassword({ actor: SYSTEM_ACTOR, requestId: null, now: h.clock.now() }, email, password);
  if (!set.ok) throw new Error(`setting a password failed: ${set.code}`);
}

/** A new Owner of a new account (bootstrap) whose first password the operator sets (`gatehouse set-password`). */
export async function personWithPassword(h: Harness, password = PASSWORD, email?: string): Promise<Person> {
  const address = email ?? `person-${randomBytes(4).toString('hex')}@example.com`;
  const own = await h.bootstrap(undefined, address);
  await setFirstPassword(h, address, password);
  return { ...own, email: address, password };
}

export interface SetCookie {
  value: string;
  /** Attribute names in lower case → value ('' for flags such as HttpOnly). */
  attributes: Record<string, string>;
}

/** The `gatehouse_session` Set-Cookie of a response, or null. */
export function sessionSetCookie(res: { headers: Record<string, unknown> }): SetCookie | null {
  const raw = res.headers['set-cookie'] as string | string[] | undefined;
  const all = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const line = all.find((c) => c.startsWith(`${COOKIE}=`));
  if (!line) return null;
  const [pair, ...attrs] = line.split(';').map((part) => part.trim());
  const attributes: Record<string, string> = {};
  for (const attr of attrs) {
    const [name, ...rest] = attr.split('=');
    attributes[name.toLowerCase()] = rest.join('=');
  }
  return { value: decodeURIComponent(pair.slice(COOKIE.length + 1)), attributes };
}

export interface Session {
  token: string;
  csrf: string;
  res: Response;
}

/** Signs in through POST /api/auth/login; fails the test unless it answers 200 with a cookie. */
export async function signIn(h: Harness, email: string, password: string, headers: Record<string, string> = {}): Promise<Session> {
  const res = await h.request('POST', '/api/auth/login', { body: { email, password }, headers });
  const cookie = sessionSetCookie(res);
  if (res.status !== 200 || !cookie) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  return { token: cookie.value, csrf: res.body.csrf_token, res };
}

/** Request headers of a browser signed in with `session`; the CSRF header only when given. */
export function browser(session: Pick<Session, 'token'>, csrf?: string | null): Record<string, string> {
  return { cookie: `${COOKIE}=${session.token}`, ...(csrf ? { 'x-csrf-token': csrf } : {}) };
}

/** Every row of every table that can hold a person's secret, as one text, for leak scans. */
export async function dumpPeopleTables(h: Harness): Promise<string> {
  const db = h.handle.store.db;
  const tables = ['users', 'email_changes', 'sessions', 'invitations', 'auth_failures', 'setup_tokens', 'audit_events', 'api_keys', 'accounts', 'account_memberships'] as const;
  const out: Record<string, unknown> = {};
  for (const table of tables) out[table] = await db.selectFrom(table).selectAll().execute();
  return JSON.stringify(out);
}
