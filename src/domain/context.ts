// Who is acting and on behalf of which request: all a domain service knows of the caller.
import { randomUUID } from 'node:crypto';

export interface Actor {
  type: 'user' | 'bot' | 'system';
  /** The user's or service account's id (null for the system). */
  id: string | null;
  actorId: string | null;
  name: string;
  /** A service account belongs to exactly one account. */
  accountId: string | null;
  apiKeyId: string | null;
}

export interface OpContext {
  actor: Actor;
  requestId: string | null;
  now: Date;
}

export const SYSTEM_ACTOR: Actor = {
  type: 'system',
  id: null,
  actorId: null,
  name: 'gatehouse',
  accountId: null,
  apiKeyId: null,
};

export const newId = (): string => randomUUID();

/** Pagination as every filter route takes it. */
export interface Page {
  limit: number;
  offset: number;
}

/** `{"any_": [...]}` filters: null or absent means no filter. */
export type AnyOf = readonly string[] | null | undefined;
