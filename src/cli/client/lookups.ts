// Names a person types (a workspace role, a service account, a user's email) turned into the ids
// the API takes, with messages that list what exists when nothing matches.
import type { Answer, GatehouseApi } from './http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type WorkspaceRole = Answer<'post', '/api/accounts/{account_id}/workspace_roles/filter'>[number];
export type ServiceAccount = Answer<'post', '/api/accounts/{account_id}/bots/filter'>[number];

/** A workspace role by name: exactly as written, else the one whose name differs only in case. */
export async function findWorkspaceRole(api: GatehouseApi, accountId: string, name: string): Promise<WorkspaceRole> {
  const roles = await api.filterAll('/api/accounts/{account_id}/workspace_roles/filter', { account_id: accountId });
  const exact = roles.find((r) => r.name === name);
  const folded = roles.filter((r) => r.name.toLowerCase() === name.toLowerCase());
  const found = exact ?? (folded.length === 1 ? folded[0] : undefined);
  if (!found) throw new Error(`no workspace role named "${name}"; the account has: ${roles.map((r) => r.name).join(', ')}`);
  return found;
}

export function listServiceAccounts(api: GatehouseApi, accountId: string): Promise<ServiceAccount[]> {
  return api.filterAll('/api/accounts/{account_id}/bots/filter', { account_id: accountId });
}

/** A service account by name, or by id when given a UUID. */
export async function findServiceAccount(api: GatehouseApi, accountId: string, nameOrId: string): Promise<ServiceAccount> {
  const all = await listServiceAccounts(api, accountId);
  const found = all.find((b) => b.name === nameOrId) ?? (UUID.test(nameOrId) ? all.find((b) => b.id === nameOrId.toLowerCase()) : undefined);
  if (!found) throw new Error(`no service account named "${nameOrId}" in this account; gatehouse service-account ls lists them`);
  return found;
}

/** The user id of the account member with this email. */
export async function findUserId(api: GatehouseApi, accountId: string, email: string): Promise<string> {
  const wanted = email.trim().toLowerCase();
  const members = await api.filterAll('/api/accounts/{account_id}/account_memberships/filter', { account_id: accountId }, {
    account_memberships: { email: { any_: [wanted] } },
    only_users: true,
  });
  const found = members.find((m) => m.user_id && m.email?.toLowerCase() === wanted);
  if (!found) throw new Error(`no user with email ${wanted} is a member of this account; invite them first`);
  return found.user_id!;
}

/** The workspaces of the account that the key can reach. */
export function accountWorkspaces(api: GatehouseApi, accountId: string) {
  return api.filterAll('/api/accounts/{account_id}/workspaces/filter', { account_id: accountId });
}

export async function workspaceRoleNames(api: GatehouseApi, accountId: string): Promise<Map<string, string>> {
  const roles = await api.filterAll('/api/accounts/{account_id}/workspace_roles/filter', { account_id: accountId });
  return new Map(roles.map((r) => [r.id, r.name]));
}

/** One workspace role of a service account, as `service-account ls` shows it (the CLI's own shape). */
export interface AccessEntry {
  workspace: string;
  workspace_id: string;
  workspace_role: string;
  workspace_role_id: string;
}

/**
 * Each service account's workspace roles, across the workspaces the key can see, as the web page
 * shows them. A workspace whose grants the key may not read is left out.
 */
export async function serviceAccountAccess(session: { api: GatehouseApi; profile: { account_id: string; account_handle: string } }): Promise<Map<string, AccessEntry[]>> {
  const { api, profile } = session;
  const [workspaces, roles] = await Promise.all([accountWorkspaces(api, profile.account_id), workspaceRoleNames(api, profile.account_id)]);
  const byBot = new Map<string, AccessEntry[]>();
  for (const w of workspaces) {
    let grants: Answer<'post', '/api/accounts/{account_id}/workspaces/{workspace_id}/bot_access/filter'>;
    try {
      grants = await api.filterAll('/api/accounts/{account_id}/workspaces/{workspace_id}/bot_access/filter', { account_id: profile.account_id, workspace_id: w.id });
    } catch (error) {
      if ((error as { status?: number }).status === 403) continue;
      throw error;
    }
    for (const g of grants) {
      const list = byBot.get(g.bot_id) ?? [];
      list.push({ workspace: `${profile.account_handle}/${w.handle}`, workspace_id: w.id, workspace_role: roles.get(g.workspace_role_id) ?? g.workspace_role_id, workspace_role_id: g.workspace_role_id });
      byBot.set(g.bot_id, list);
    }
  }
  return byBot;
}
