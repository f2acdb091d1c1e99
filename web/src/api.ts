// The page's only way to the server: Gatehouse's public HTTP API, with the session cookie and the
// CSRF header on every state-changing request (the same routes the CLI and Terraform use).

export interface User {
  id: string;
  actor_id: string;
  handle: string;
  email: string;
  first_name: string;
  last_name: string;
}

export interface Session {
  user: User;
  csrf_token: string;
  expires_at: string;
}

export interface MyAccount {
  account_membership_id: string;
  account_id: string;
  account_name: string;
  account_handle: string;
  account_role_name: string;
}

export interface ApiKeyMasked {
  id: string;
  created: string;
  name: string;
  expiration: string | null;
  masked_key: string | null;
}

export interface ApiKeyWithSecret {
  id: string;
  created: string;
  name: string;
  expiration: string | null;
  key: string;
}

export interface ServiceAccount {
  id: string;
  created: string;
  updated: string;
  actor_id: string;
  account_id: string;
  name: string;
  account_role_name: string;
  api_key: ApiKeyMasked | null;
}

export interface ServiceAccountWithKey extends Omit<ServiceAccount, 'api_key'> {
  api_key: ApiKeyWithSecret;
}

export interface Workspace {
  id: string;
  created: string;
  account_id: string;
  name: string;
  handle: string;
  description: string;
}

export interface UserAccess {
  id: string;
  workspace_id: string;
  workspace_role_id: string;
  user_id: string;
  first_name: string;
  last_name: string;
  email: string;
  handle: string;
}

export interface BotAccess {
  id: string;
  workspace_id: string;
  workspace_role_id: string;
  bot_id: string;
  bot_name: string;
}

export interface WorkspaceRole {
  id: string;
  account_id: string | null;
  name: string;
  description: string;
  scopes: string[];
  inherited_role_id: string | null;
}

export interface WorkspaceScope {
  name: string;
  title: string;
  feature_group: string;
  includes_scopes: string[];
}

export interface AccountRole {
  id: string;
  name: string;
  permissions: string[];
  is_system_role: boolean;
}

export interface Membership {
  id: string;
  actor_id: string;
  user_id: string | null;
  bot_id: string | null;
  handle: string;
  first_name: string;
  last_name: string;
  email: string | null;
  account_role_id: string;
  account_role_name: string;
  last_login: string | null;
}

export type InvitationStatus = 'PENDING' | 'ACCEPTED' | 'REVOKED' | 'EXPIRED';

export interface Invitation {
  id: string;
  created: string;
  email: string;
  account_id: string;
  account_role_id: string;
  account_role_name: string;
  status: InvitationStatus;
  expiration: string;
  accept_url?: string;
}

export interface InvitationPreview {
  id: string;
  email: string;
  account_name: string;
  account_role_name: string;
  expiration: string;
  status: InvitationStatus;
  user_exists: boolean;
}

export interface SignedIn {
  account_id: string;
  user_id: string;
  csrf_token: string;
  expires_at: string;
}

export interface SessionRow {
  id: string;
  created: string;
  ip_address: string | null;
  user_agent: string | null;
  expires_at: number;
  current: boolean;
}

export interface AuditEvent {
  id: string;
  occurred: string;
  workspace_id: string | null;
  actor_id: string | null;
  actor_type: string;
  actor_name: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
}

/** An error answer from the API, or a failure to reach it, with a message a person can read. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a signed-in request answers 401: the session ended (expired or terminated). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

function detailText(detail: unknown): string | null {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    const parts = (detail as ValidationItem[]).map((item) => {
      const field = (item.loc ?? []).filter((p) => p !== 'body' && p !== 'query' && p !== 'path').join('.');
      return field ? `${field}: ${item.msg ?? 'invalid'}` : item.msg ?? 'invalid';
    });
    return parts.join('; ');
  }
  return null;
}

interface RequestOptions {
  query?: Record<string, string>;
  /** Do not treat a 401 as "the session ended" (sign-in, setup, the session probe). */
  quiet401?: boolean;
}

export async function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const url = opts.query ? `${path}?${new URLSearchParams(opts.query).toString()}` : path;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Could not reach the Gatehouse server. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return json as T;
  const envelope = (json ?? {}) as { detail?: unknown; code?: string };
  const retry = res.headers.get('Retry-After');
  const retryAfter = retry && /^\d+$/.test(retry) ? Number(retry) : null;
  const message = detailText(envelope.detail) ?? `The server answered ${res.status} ${res.statusText}`.trim();
  if (res.status === 401 && !opts.quiet401) onUnauthorized?.();
  throw new ApiError(res.status, envelope.code ?? `HTTP_${res.status}`, message, retryAfter);
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

const acct = (accountId: string) => `/api/accounts/${accountId}`;
const enc = encodeURIComponent;

/** Filter routes answer at most 200 rows; read every page. */
async function filterAll<T>(path: string, body: Record<string, unknown> = {}): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await request<T[]>('POST', path, { ...body, limit: 200, offset });
    all.push(...page);
    if (page.length < 200) return all;
  }
}

export const api = {
  session: () => request<Session>('GET', '/api/auth/session', undefined, { quiet401: true }),
  login: (email: string, password: string) => request<Session>('POST', '/api/auth/login', { email, password }, { quiet401: true }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  setupStatus: () => request<{ needed: boolean }>('GET', '/api/setup', undefined, { quiet401: true }),
  setup: (body: { token: string; account_name: string; account_handle: string; email: string; password: string; first_name?: string; last_name?: string }) =>
    request<SignedIn>('POST', '/api/setup', body, { quiet401: true }),

  invitationPreview: (id: string, code: string) =>
    request<InvitationPreview>('GET', `/api/invitations/${enc(id)}`, undefined, { query: { invite_code: code }, quiet401: true }),
  acceptInvitation: (id: string, code: string, body: { password?: string; first_name?: string; last_name?: string }) =>
    request<SignedIn>('POST', `/api/invitations/${enc(id)}/accept`, body, { query: { invite_code: code }, quiet401: true }),

  myAccounts: () => request<MyAccount[]>('GET', '/api/me/accounts'),
  myPermissions: (accountId: string) => request<string[]>('GET', `/api/me/accounts/${accountId}/permissions`),
  myWorkspaceScopes: (workspaceId: string) => request<string[]>('GET', `/api/me/workspaces/${workspaceId}/scopes`),
  mySessions: () => request<SessionRow[]>('GET', '/api/me/sessions'),
  terminateSession: (id: string) => request<void>('POST', `/api/me/sessions/${id}/terminate`),
  changePassword: (body: { current_password?: string; new_password: string }) => request<void>('POST', '/api/me/password', body),

  pendingEmail: (userId: string) => request<{ pending_email: string | null; expiration: string | null }>('GET', `/api/users/${userId}/email_change`),
  confirmEmail: (userId: string, code: string) => request<void>('POST', `/api/users/${userId}/email_change/confirm`, { code }),
  userKeys: (userId: string) => request<ApiKeyMasked[]>('GET', `/api/users/${userId}/api_keys`),
  createUserKey: (userId: string, name: string, expiration: string | null) =>
    request<ApiKeyWithSecret>('POST', `/api/users/${userId}/api_keys`, { name, expiration }),
  deleteUserKey: (userId: string, keyId: string) => request<void>('DELETE', `/api/users/${userId}/api_keys/${keyId}`),

  serviceAccounts: (a: string) => filterAll<ServiceAccount>(`${acct(a)}/bots/filter`),
  createServiceAccount: (a: string, name: string, expiration: string | null) =>
    request<ServiceAccountWithKey>('POST', `${acct(a)}/bots/`, { name, api_key_expiration: expiration }),
  rotateServiceAccountKey: (a: string, botId: string, expiration: string | null, graceSeconds: number | null) =>
    request<ServiceAccountWithKey>('POST', `${acct(a)}/bots/${botId}/rotate_api_key`, {
      api_key_expiration: expiration,
      old_key_expires_in_seconds: graceSeconds,
    }),
  removeServiceAccount: (a: string, botId: string) => request<void>('DELETE', `${acct(a)}/bots/${botId}`),

  workspaces: (a: string) => filterAll<Workspace>(`${acct(a)}/workspaces/filter`),
  workspace: (a: string, w: string) => request<Workspace>('GET', `${acct(a)}/workspaces/${w}`),
  createWorkspace: (a: string, body: { name: string; handle: string; description: string | null }) =>
    request<Workspace>('POST', `${acct(a)}/workspaces/`, body),
  userAccess: (a: string, w: string) => filterAll<UserAccess>(`${acct(a)}/workspaces/${w}/user_access/filter`),
  botAccess: (a: string, w: string) => filterAll<BotAccess>(`${acct(a)}/workspaces/${w}/bot_access/filter`),
  grantUser: (a: string, w: string, userId: string, roleId: string) =>
    request<UserAccess[]>('POST', `${acct(a)}/workspaces/${w}/user_access/`, [{ user_id: userId, workspace_role_id: roleId }]),
  grantBot: (a: string, w: string, botId: string, roleId: string) =>
    request<BotAccess[]>('POST', `${acct(a)}/workspaces/${w}/bot_access/`, [{ bot_id: botId, workspace_role_id: roleId }]),
  revokeUser: (a: string, w: string, accessId: string) => request<void>('DELETE', `${acct(a)}/workspaces/${w}/user_access/${accessId}`),
  revokeBot: (a: string, w: string, accessId: string) => request<void>('DELETE', `${acct(a)}/workspaces/${w}/bot_access/${accessId}`),

  workspaceRoles: (a: string) => filterAll<WorkspaceRole>(`${acct(a)}/workspace_roles/filter`),
  workspaceScopes: () => request<WorkspaceScope[]>('GET', '/api/workspace_scopes'),
  createWorkspaceRole: (a: string, body: { name: string; description: string; scopes: string[]; inherited_role_id: string | null }) =>
    request<WorkspaceRole>('POST', `${acct(a)}/workspace_roles/`, body),
  updateWorkspaceRole: (a: string, id: string, body: { name: string; description: string; scopes: string[]; inherited_role_id: string | null }) =>
    request<void>('PATCH', `${acct(a)}/workspace_roles/${id}`, body),
  deleteWorkspaceRole: (a: string, id: string) => request<void>('DELETE', `${acct(a)}/workspace_roles/${id}`),

  accountRoles: (a: string) => filterAll<AccountRole>(`${acct(a)}/account_roles/filter`),
  memberships: (a: string, kind: 'users' | 'bots' | 'all' = 'all') =>
    filterAll<Membership>(`${acct(a)}/account_memberships/filter`, kind === 'all' ? {} : kind === 'users' ? { only_users: true } : { only_bots: true }),
  changeMemberRole: (a: string, membershipId: string, roleId: string) =>
    request<void>('PATCH', `${acct(a)}/account_memberships/${membershipId}`, { account_role_id: roleId }),
  removeMember: (a: string, membershipId: string) => request<void>('DELETE', `${acct(a)}/account_memberships/${membershipId}`),

  invitations: (a: string) => filterAll<Invitation>(`${acct(a)}/invitations/filter`),
  invite: (a: string, email: string, roleId: string) => request<Invitation>('POST', `${acct(a)}/invitations/`, { email, account_role_id: roleId }),
  revokeInvitation: (a: string, id: string) => request<Invitation>('POST', `${acct(a)}/invitations/${id}/revoke`),

  auditEvents: (a: string, body: Record<string, unknown>) => request<AuditEvent[]>('POST', `${acct(a)}/audit_events/filter`, body),
};
