// Names a person types (a workspace role, a service account, a user's email) turned into the ids
// the API takes, with messages that list what exists when nothing matches.
import type { GatehouseApi } from './http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const accountPath = (accountId: string) => `/api/accounts/${encodeURIComponent(accountId)}`;

export interface WorkspaceRole {
  id: string;
  name: string;
}

export interface ServiceAccount {
  id: string;
  name: string;
  created: string;
  api_key: { id: string; expiration: string | null; masked_key: string | null } | null;
}

/** A workspace role by name: exactly as written, else the one whose name differs only in case. */
export async function findWorkspaceRole(api: GatehouseApi, accountId: string, name: string): Promise<WorkspaceRole> {
  const roles = await api.filterAll<WorkspaceRole>(`${accountPath(accountId)}/workspace_roles/filter`);
  const exact = roles.find((r) => r.name === name);
  const folded = roles.filter((r) => r.name.toLowerCase() === name.toLowerCase());
  const found = exact ?? (folded.length === 1 ? folded[0] : undefined);
  if (!found) throw new Error(`no workspace role named "${name}"; the account has: ${roles.map((r) => r.name).join(', ')}`);
  return found;
}

export function listServiceAccounts(api: GatehouseApi, accountId: string): Promise<ServiceAccount[]> {
  return api.filterAll<ServiceAccount>(`${accountPath(accountId)}/bots/filter`);
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
  const members = await api.filterAll<{ user_id: string | null; email: string | null }>(`${accountPath(accountId)}/account_memberships/filter`, {
    account_memberships: { email: { any_: [wanted] } },
    only_users: true,
  });
  const found = members.find((m) => m.user_id && m.email?.toLowerCase() === wanted);
  if (!found) throw new Error(`no user with email ${wanted} is a member of this account; invite them first`);
  return found.user_id!;
}
