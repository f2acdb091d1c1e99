// Test setup only: there are no invitations yet, so a second user joins an account by a row
// written straight into account_memberships. Production code never does this (contract 8); the
// membership routes under test only read, change and remove such rows.
import { randomBytes, randomUUID } from 'node:crypto';
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

/** A service account created through the API, as a client would. */
export async function createBot(h: Harness, accountId: string, key: string, name?: string): Promise<Bot> {
  const botName = name ?? `bot-${randomBytes(4).toString('hex')}`;
  const res = await h.request('POST', `/api/accounts/${accountId}/bots/`, { key, body: { name: botName } });
  if (res.status !== 201) throw new Error(`creating bot failed: ${res.status} ${res.text}`);
  return { id: res.body.id, actorId: res.body.actor_id, name: botName, key: res.body.api_key.key };
}

/** A workspace created through the API by the holder of `key`. */
export async function createWorkspace(h: Harness, accountId: string, key: string, handle?: string): Promise<any> {
  const wsHandle = handle ?? `ws-${randomBytes(4).toString('hex')}`;
  const res = await h.request('POST', `/api/accounts/${accountId}/workspaces/`, { key, body: { name: wsHandle, handle: wsHandle } });
  if (res.status !== 201) throw new Error(`creating workspace failed: ${res.status} ${res.text}`);
  return res.body;
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
