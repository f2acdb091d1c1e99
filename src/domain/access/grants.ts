// What an actor holds in an account and in a workspace: the inputs authz/evaluate() decides on.
import { parseJsonColumn, type Tx } from '../deps.js';
import type { Store } from '../../store/store.js';
import { effectiveScopes } from '../roles/service.js';
import { WORKSPACE_SCOPES } from '../../authz/scopes.js';

const ALL_SCOPES: ReadonlySet<string> = new Set(WORKSPACE_SCOPES.map((s) => s.name));

/**
 * Account Owners and Admins act as workspace Owner in every workspace of their account. The grant
 * is the `administrate:workspace` permission rather than the role's name, so it stays data.
 */
export const ACTS_AS_WORKSPACE_OWNER = 'administrate:workspace';

export interface AccountGrant {
  membershipId: string;
  roleId: string;
  roleName: string;
  permissions: ReadonlySet<string>;
}

export async function accountGrant(db: Tx, accountId: string, actorId: string): Promise<AccountGrant | null> {
  const row = await db
    .selectFrom('account_memberships as m')
    .innerJoin('account_roles as r', 'r.id', 'm.account_role_id')
    .select(['m.id as membership_id', 'r.id as role_id', 'r.name as role_name', 'r.permissions'])
    .where('m.account_id', '=', accountId)
    .where('m.actor_id', '=', actorId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    membershipId: row.membership_id,
    roleId: row.role_id,
    roleName: row.role_name,
    permissions: new Set(parseJsonColumn<string[]>(row.permissions, [])),
  };
}

/** The caller's scopes in a workspace of `accountId`, or null when it has no access (or no such workspace). */
export async function workspaceScopes(
  db: Tx,
  accountId: string,
  workspaceId: string,
  actorId: string,
  account: AccountGrant | null,
): Promise<ReadonlySet<string> | null> {
  if (!account) return null;
  if (account.permissions.has(ACTS_AS_WORKSPACE_OWNER)) {
    const exists = await db
      .selectFrom('workspaces')
      .select('id')
      .where('id', '=', workspaceId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return exists ? ALL_SCOPES : null;
  }
  const role = await db
    .selectFrom('workspace_access as a')
    .innerJoin('workspaces as w', 'w.id', 'a.workspace_id')
    .innerJoin('workspace_roles as r', 'r.id', 'a.workspace_role_id')
    .selectAll('r')
    .where('a.workspace_id', '=', workspaceId)
    .where('a.actor_id', '=', actorId)
    .where('w.account_id', '=', accountId)
    .executeTakeFirst();
  if (!role) return null;
  return new Set(await effectiveScopes(db, role));
}

const grantEntry = (accountId: string, actorId: string) => `${accountId}/${actorId}`;
const scopesEntry = (accountId: string, workspaceId: string, actorId: string) => `${accountId}/${workspaceId}/${actorId}`;

/** accountGrant, through the store's cache (cache/auth-cache.ts): what every request asks. */
export function cachedAccountGrant(store: Store, accountId: string, actorId: string): Promise<AccountGrant | null> {
  return store.cache.through('grant', grantEntry(accountId, actorId), () => accountGrant(store.db, accountId, actorId));
}

/** The cached account grant, or undefined when only the store can answer (cachedAccountGrant). */
export function peekAccountGrant(store: Store, accountId: string, actorId: string): AccountGrant | undefined {
  return store.cache.peek('grant', grantEntry(accountId, actorId));
}

/** The cached workspace scopes, or undefined when only the store can answer (cachedWorkspaceScopes). */
export function peekWorkspaceScopes(store: Store, accountId: string, workspaceId: string, actorId: string): ReadonlySet<string> | undefined {
  return store.cache.peek('scopes', scopesEntry(accountId, workspaceId, actorId));
}

/** workspaceScopes, through the store's cache. */
export function cachedWorkspaceScopes(
  store: Store,
  accountId: string,
  workspaceId: string,
  actorId: string,
  account: AccountGrant | null,
): Promise<ReadonlySet<string> | null> {
  if (!account) return Promise.resolve(null);
  return store.cache.through('scopes', scopesEntry(accountId, workspaceId, actorId), () => workspaceScopes(store.db, accountId, workspaceId, actorId, account));
}

/** An actor's scopes in a workspace, from nothing but ids: null without access. */
export async function scopesInWorkspace(store: Store, accountId: string, workspaceId: string, actorId: string): Promise<ReadonlySet<string> | null> {
  return cachedWorkspaceScopes(store, accountId, workspaceId, actorId, await cachedAccountGrant(store, accountId, actorId));
}
