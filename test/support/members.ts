// Who is in an account, set up for a test: service accounts, workspaces, grants and gateway
// upstreams through the API as a client would. Only `addMember` writes a row straight into
// account_memberships (a quick second user); production code never does this (contract 8), and the
// membership routes under test only read, change and remove such rows.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../../src/authz/permissions.js';
import type { Harness } from './harness.js';

export type AccountRoleName = keyof typeof ACCOUNT_ROLE_IDS;

export interface Member {
  userId: string;
  actorId: string;
  email: string;
  /** A `pnu_` key for the user. */
  key: string;
  membershipId: string;
  /** The user's own account from bootstrap, where they are Owner. */
  ownAccountId: string;
}

/** A new user (via bootstrap of their own account) who is also `role` in `accountId`. */
export async function addMember(h: Harness, accountId: string, role: AccountRoleName, email?: string): Promise<Member> {
  const address = email ?? `member-${randomBytes(4).toString('hex')}@example.com`;
  const own = await h.bootstrap(undefined, address);
  const user = await h.handle.store.db.selectFrom('users').select(['actor_id']).where('id', '=', own.userId).executeTakeFirstOrThrow();
  const now = h.clock.now().toISOString();
  const membershipId = randomUUID();
  await h.handle.store.db
    .insertInto('account_memberships')
    .values({
      id: membershipId,
      account_id: accountId,
      actor_id: user.actor_id,
      user_id: own.userId,
      bot_id: null,
      account_role_id: ACCOUNT_ROLE_IDS[role],
      created: now,
      updated: now,
    })
    .execute();
  return { userId: own.userId, actorId: user.actor_id, email: address, key: own.key, membershipId, ownAccountId: own.accountId };
}

export interface Bot {
  id: string;
  actorId: string;
  name: string;
  /** The `pnb_` key from the create response. */
  key: string;
}

/** The Owner of an account, as `h.bootstrap()` answers: enough to act on the account by API. */
export interface Owner {
  accountId: string;
  key: string;
}

/**
 * Creates a service account through the API (a name is made up unless `body` has one), fails the
 * test unless it answers 201, and answers the whole body, with the key issued in it.
 */
export async function postBot(h: Harness, accountId: string, key: string, body: Record<string, unknown> = {}): Promise<any> {
  const res = await h.request('POST', `/api/accounts/${accountId}/bots/`, { key, body: { name: `bot-${randomBytes(4).toString('hex')}`, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** A service account created through the API, as a client would. */
export async function createBot(h: Harness, accountId: string, key: string, name?: string): Promise<Bot> {
  const body = await postBot(h, accountId, key, name === undefined ? {} : { name });
  return { id: body.id, actorId: body.actor_id, name: body.name, key: body.api_key.key };
}

/** A new service account with `workspaceRoleId` in the workspace, both through the API. */
export async function botWithRole(h: Harness, owner: Owner, workspaceId: string, workspaceRoleId: string, name?: string): Promise<Bot> {
  const bot = await createBot(h, owner.accountId, owner.key, name);
  await grant(h, owner.accountId, workspaceId, owner.key, { botId: bot.id }, workspaceRoleId);
  return bot;
}

/** A workspace created through the API by the holder of `key`. */
export async function createWorkspace(h: Harness, accountId: string, key: string, handle?: string): Promise<any> {
  const wsHandle = handle ?? `ws-${randomBytes(4).toString('hex')}`;
  const res = await h.request('POST', `/api/accounts/${accountId}/workspaces/`, { key, body: { name: wsHandle, handle: wsHandle } });
  if (res.status !== 201) throw new Error(`creating workspace failed: ${res.status} ${res.text}`);
  return res.body;
}

/**
 * A new workspace of the owner's account whose gateway forwards to `url` (with the upstream
 * credential `auth` when given); fails the test unless the setting answers 200. `base` is the
 * workspace's API path.
 */
export async function workspaceWithUpstream(
  h: Harness,
  owner: Owner,
  url: string,
  options: { auth?: string | null; handle?: string } = {},
): Promise<{ id: string; handle: string; base: string }> {
  const w = await createWorkspace(h, owner.accountId, owner.key, options.handle);
  const base = `/api/accounts/${owner.accountId}/workspaces/${w.id}`;
  const body = options.auth === undefined ? { upstream_url: url } : { upstream_url: url, upstream_auth_string: options.auth };
  const set = await h.request('PUT', `${base}/gateway`, { key: owner.key, body });
  expect(set.status, set.text).toBe(200);
  return { ...w, base };
}

/** Grants a workspace role to a user or service account through the upsert route. */
export async function grant(
  h: Harness,
  accountId: string,
  workspaceId: string,
  key: string,
  who: { userId: string } | { botId: string },
  workspaceRoleId: string,
): Promise<any> {
  const [path, body] =
    'userId' in who
      ? ['user_access', { user_id: who.userId, workspace_role_id: workspaceRoleId }]
      : ['bot_access', { bot_id: who.botId, workspace_role_id: workspaceRoleId }];
  const res = await h.request('POST', `/api/accounts/${accountId}/workspaces/${workspaceId}/${path}/`, { key, body });
  if (res.status !== 200) throw new Error(`granting access failed: ${res.status} ${res.text}`);
  return res.body[0];
}
