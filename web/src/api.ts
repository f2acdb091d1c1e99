// The page's only way to the server: Gatehouse's public HTTP API, with the session cookie and the
// CSRF header on every state-changing request (the same routes the CLI and Terraform use). Paths,
// bodies and answers are typed from the generated api/types.d.ts (npm run gen:api-types).
import createClient from 'openapi-fetch';
import type { paths } from '../../api/types';

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

const client = createClient<paths>({ credentials: 'same-origin', headers: { Accept: 'application/json' } });
client.use({
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD' && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
});

/** Do not treat a 401 as "the session ended" (sign-in, setup, the session probe). */
const quiet = { quiet401: true } as const;

/** The answer of one openapi-fetch call, or an ApiError saying what went wrong. */
async function send<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>, opts: { quiet401?: boolean } = {}): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiError(0, 'NETWORK', 'Could not reach the Gatehouse server. Check your connection and try again.');
  }
  const { data, error, response: res } = result;
  if (res.ok) return (res.status === 204 ? undefined : data ?? null) as T;
  const envelope = (error !== null && typeof error === 'object' ? error : {}) as { detail?: unknown; code?: string };
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

const { GET, POST, PUT, PATCH, DELETE } = client;
const inAccount = (account_id: string) => ({ params: { path: { account_id } } });
const inWorkspace = (account_id: string, workspace_id: string) => ({ params: { path: { account_id, workspace_id } } });

/** Filter routes answer at most 200 rows; read every page. */
async function filterAll<T>(page: (range: { limit: number; offset: number }) => Promise<{ data?: T[]; error?: unknown; response: Response }>): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; offset += 200) {
    const rows = await send(page({ limit: 200, offset }));
    all.push(...rows);
    if (rows.length < 200) return all;
  }
}

type Expiration = string | null;
/** The JSON body a route takes, as the OpenAPI document describes it. */
type Body<P extends keyof paths, M extends 'post' | 'put' | 'patch'> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer T } } } ? T : never;

export const api = {
  session: () => send(GET('/api/auth/session'), quiet),
  login: (email: string, password: string) => send(POST('/api/auth/login', { body: { email, password } }), quiet),
  logout: () => send(POST('/api/auth/logout')),
  setupStatus: () => send(GET('/api/setup'), quiet),
  setup: (body: Body<'/api/setup', 'post'>) =>
    send(POST('/api/setup', { body }), quiet),

  invitationPreview: (invitation_id: string, invite_code: string) =>
    send(GET('/api/invitations/{invitation_id}', { params: { path: { invitation_id }, query: { invite_code } } }), quiet),
  acceptInvitation: (invitation_id: string, invite_code: string, body: Body<'/api/invitations/{invitation_id}/accept', 'post'>) =>
    send(POST('/api/invitations/{invitation_id}/accept', { params: { path: { invitation_id }, query: { invite_code } }, body }), quiet),

  myAccounts: () => send(GET('/api/me/accounts')),
  myWorkspaces: () => send(GET('/api/me/workspaces')),
  myPermissions: (account_id: string) => send(GET('/api/me/accounts/{account_id}/permissions', inAccount(account_id))),
  myWorkspaceScopes: (workspace_id: string) => send(GET('/api/me/workspaces/{workspace_id}/scopes', { params: { path: { workspace_id } } })),
  mySessions: () => send(GET('/api/me/sessions')),
  terminateSession: (session_id: string) => send(POST('/api/me/sessions/{session_id}/terminate', { params: { path: { session_id } } })),
  changePassword: (body: Body<'/api/me/password', 'post'>) => send(POST('/api/me/password', { body })),

  pendingEmail: (user_id: string) => send(GET('/api/users/{user_id}/email_change', { params: { path: { user_id } } })),
  confirmEmail: (user_id: string, code: string) => send(POST('/api/users/{user_id}/email_change/confirm', { params: { path: { user_id } }, body: { code } })),
  userKeys: (user_id: string) => send(GET('/api/users/{user_id}/api_keys', { params: { path: { user_id } } })),
  createUserKey: (user_id: string, name: string, expiration: Expiration) =>
    send(POST('/api/users/{user_id}/api_keys', { params: { path: { user_id } }, body: { name, expiration } })),
  deleteUserKey: (user_id: string, api_key_id: string) => send(DELETE('/api/users/{user_id}/api_keys/{api_key_id}', { params: { path: { user_id, api_key_id } } })),

  serviceAccounts: (a: string) => filterAll((body) => POST('/api/accounts/{account_id}/bots/filter', { ...inAccount(a), body })),
  createServiceAccount: (a: string, name: string, expiration: Expiration) =>
    send(POST('/api/accounts/{account_id}/bots/', { ...inAccount(a), body: { name, api_key_expiration: expiration } })),
  rotateServiceAccountKey: (account_id: string, bot_id: string, expiration: Expiration, graceSeconds: number | null) =>
    send(
      POST('/api/accounts/{account_id}/bots/{bot_id}/rotate_api_key', {
        params: { path: { account_id, bot_id } },
        body: { api_key_expiration: expiration, old_key_expires_in_seconds: graceSeconds },
      }),
    ),
  serviceAccountKeys: (account_id: string, bot_id: string) =>
    send(GET('/api/accounts/{account_id}/bots/{bot_id}/read_bot_api_keys', { params: { path: { account_id, bot_id } } })),
  removeServiceAccount: (account_id: string, bot_id: string) => send(DELETE('/api/accounts/{account_id}/bots/{bot_id}', { params: { path: { account_id, bot_id } } })),
  trustRules: (account_id: string, bot_id: string) => send(GET('/api/accounts/{account_id}/bots/{bot_id}/trust_rules/', { params: { path: { account_id, bot_id } } })),
  addTrustRule: (account_id: string, bot_id: string, body: Body<'/api/accounts/{account_id}/bots/{bot_id}/trust_rules/', 'post'>) =>
    send(POST('/api/accounts/{account_id}/bots/{bot_id}/trust_rules/', { params: { path: { account_id, bot_id } }, body })),
  updateTrustRule: (account_id: string, bot_id: string, rule_id: string, body: Body<'/api/accounts/{account_id}/bots/{bot_id}/trust_rules/{rule_id}', 'patch'>) =>
    send(PATCH('/api/accounts/{account_id}/bots/{bot_id}/trust_rules/{rule_id}', { params: { path: { account_id, bot_id, rule_id } }, body })),
  removeTrustRule: (account_id: string, bot_id: string, rule_id: string) =>
    send(DELETE('/api/accounts/{account_id}/bots/{bot_id}/trust_rules/{rule_id}', { params: { path: { account_id, bot_id, rule_id } } })),
  exchangedKeys: (account_id: string, bot_id: string) => send(GET('/api/accounts/{account_id}/bots/{bot_id}/exchanged_keys', { params: { path: { account_id, bot_id } } })),

  workspaces: (a: string) => filterAll((body) => POST('/api/accounts/{account_id}/workspaces/filter', { ...inAccount(a), body })),
  workspace: (a: string, w: string) => send(GET('/api/accounts/{account_id}/workspaces/{workspace_id}', inWorkspace(a, w))),
  createWorkspace: (a: string, body: Body<'/api/accounts/{account_id}/workspaces/', 'post'>) =>
    send(POST('/api/accounts/{account_id}/workspaces/', { ...inAccount(a), body })),
  userAccess: (a: string, w: string) =>
    filterAll((body) => POST('/api/accounts/{account_id}/workspaces/{workspace_id}/user_access/filter', { ...inWorkspace(a, w), body })),
  botAccess: (a: string, w: string) =>
    filterAll((body) => POST('/api/accounts/{account_id}/workspaces/{workspace_id}/bot_access/filter', { ...inWorkspace(a, w), body })),
  grantUser: (a: string, w: string, user_id: string, workspace_role_id: string) =>
    send(POST('/api/accounts/{account_id}/workspaces/{workspace_id}/user_access/', { ...inWorkspace(a, w), body: [{ user_id, workspace_role_id }] })),
  grantBot: (a: string, w: string, bot_id: string, workspace_role_id: string) =>
    send(POST('/api/accounts/{account_id}/workspaces/{workspace_id}/bot_access/', { ...inWorkspace(a, w), body: [{ bot_id, workspace_role_id }] })),
  revokeUser: (account_id: string, workspace_id: string, access_id: string) =>
    send(DELETE('/api/accounts/{account_id}/workspaces/{workspace_id}/user_access/{access_id}', { params: { path: { account_id, workspace_id, access_id } } })),
  revokeBot: (account_id: string, workspace_id: string, access_id: string) =>
    send(DELETE('/api/accounts/{account_id}/workspaces/{workspace_id}/bot_access/{access_id}', { params: { path: { account_id, workspace_id, access_id } } })),

  workspaceRoles: (a: string) => filterAll((body) => POST('/api/accounts/{account_id}/workspace_roles/filter', { ...inAccount(a), body })),
  workspaceScopes: () => send(GET('/api/workspace_scopes')),
  createWorkspaceRole: (a: string, body: Body<'/api/accounts/{account_id}/workspace_roles/', 'post'>) => send(POST('/api/accounts/{account_id}/workspace_roles/', { ...inAccount(a), body })),
  updateWorkspaceRole: (account_id: string, workspace_role_id: string, body: Body<'/api/accounts/{account_id}/workspace_roles/{workspace_role_id}', 'patch'>) =>
    send(PATCH('/api/accounts/{account_id}/workspace_roles/{workspace_role_id}', { params: { path: { account_id, workspace_role_id } }, body })),
  deleteWorkspaceRole: (account_id: string, workspace_role_id: string) =>
    send(DELETE('/api/accounts/{account_id}/workspace_roles/{workspace_role_id}', { params: { path: { account_id, workspace_role_id } } })),

  accountRoles: (a: string) => filterAll((body) => POST('/api/accounts/{account_id}/account_roles/filter', { ...inAccount(a), body })),
  memberships: (a: string, kind: 'users' | 'bots' | 'all' = 'all') => {
    const only = kind === 'all' ? {} : kind === 'users' ? { only_users: true } : { only_bots: true };
    return filterAll((range) => POST('/api/accounts/{account_id}/account_memberships/filter', { ...inAccount(a), body: { ...only, ...range } }));
  },
  changeMemberRole: (account_id: string, account_membership_id: string, account_role_id: string) =>
    send(
      PATCH('/api/accounts/{account_id}/account_memberships/{account_membership_id}', {
        params: { path: { account_id, account_membership_id } },
        body: { account_role_id },
      }),
    ),
  removeMember: (account_id: string, account_membership_id: string) =>
    send(DELETE('/api/accounts/{account_id}/account_memberships/{account_membership_id}', { params: { path: { account_id, account_membership_id } } })),

  invitations: (a: string) => filterAll((body) => POST('/api/accounts/{account_id}/invitations/filter', { ...inAccount(a), body })),
  invite: (a: string, email: string, account_role_id: string) =>
    send(POST('/api/accounts/{account_id}/invitations/', { ...inAccount(a), body: { email, account_role_id } })),
  revokeInvitation: (account_id: string, invitation_id: string) =>
    send(POST('/api/accounts/{account_id}/invitations/{invitation_id}/revoke', { params: { path: { account_id, invitation_id } } })),

  auditEvents: (a: string, body: Body<'/api/accounts/{account_id}/audit_events/filter', 'post'>) => send(POST('/api/accounts/{account_id}/audit_events/filter', { ...inAccount(a), body })),

  accountSettings: (a: string) => send(GET('/api/accounts/{account_id}/settings', inAccount(a))),
  setEnforceIpAllowlist: (a: string, enforce_ip_allowlist: boolean) => send(PATCH('/api/accounts/{account_id}/settings', { ...inAccount(a), body: { enforce_ip_allowlist } })),
  ipAllowlist: (a: string) => send(GET('/api/accounts/{account_id}/ip_allowlist', inAccount(a))),
  saveIpAllowlist: (a: string, body: Body<'/api/accounts/{account_id}/ip_allowlist', 'put'>) => send(PUT('/api/accounts/{account_id}/ip_allowlist', { ...inAccount(a), body })),
  ipAllowlistMyAccess: (a: string) => send(GET('/api/accounts/{account_id}/ip_allowlist/my_access', inAccount(a))),

  gateway: (a: string, w: string) => send(GET('/api/accounts/{account_id}/workspaces/{workspace_id}/gateway', inWorkspace(a, w))),
  saveGateway: (a: string, w: string, body: Body<'/api/accounts/{account_id}/workspaces/{workspace_id}/gateway', 'put'>) =>
    send(PUT('/api/accounts/{account_id}/workspaces/{workspace_id}/gateway', { ...inWorkspace(a, w), body })),
  checkGateway: (a: string, w: string) => send(POST('/api/accounts/{account_id}/workspaces/{workspace_id}/gateway/check', inWorkspace(a, w))),

  webhooks: (a: string) => send(GET('/api/accounts/{account_id}/webhooks', inAccount(a))),
  createWebhook: (a: string, body: Body<'/api/accounts/{account_id}/webhooks', 'post'>) => send(POST('/api/accounts/{account_id}/webhooks', { ...inAccount(a), body })),
  updateWebhook: (account_id: string, webhook_id: string, body: Body<'/api/accounts/{account_id}/webhooks/{webhook_id}', 'patch'>) =>
    send(PATCH('/api/accounts/{account_id}/webhooks/{webhook_id}', { params: { path: { account_id, webhook_id } }, body })),
  removeWebhook: (account_id: string, webhook_id: string) => send(DELETE('/api/accounts/{account_id}/webhooks/{webhook_id}', { params: { path: { account_id, webhook_id } } })),
  testWebhook: (account_id: string, webhook_id: string) => send(POST('/api/accounts/{account_id}/webhooks/{webhook_id}/test', { params: { path: { account_id, webhook_id } } })),
  webhookAttempts: (account_id: string, webhook_id: string) => send(GET('/api/accounts/{account_id}/webhooks/{webhook_id}/attempts', { params: { path: { account_id, webhook_id } } })),
  scimTokens: (a: string) => send(GET('/api/accounts/{account_id}/scim_tokens', inAccount(a))),
  createScimToken: (a: string, name: string) => send(POST('/api/accounts/{account_id}/scim_tokens', { ...inAccount(a), body: { name } })),
  revokeScimToken: (account_id: string, scim_token_id: string) => send(DELETE('/api/accounts/{account_id}/scim_tokens/{scim_token_id}', { params: { path: { account_id, scim_token_id } } })),

  keyPolicy: (a: string) => send(GET('/api/accounts/{account_id}/key_policy', inAccount(a))),
  saveKeyPolicy: (a: string, body: Body<'/api/accounts/{account_id}/key_policy', 'put'>) => send(PUT('/api/accounts/{account_id}/key_policy', { ...inAccount(a), body })),
  keyPolicyBreaches: (a: string) => send(GET('/api/accounts/{account_id}/key_policy/breaches', inAccount(a))),

  ssoDiscover: (query: { email?: string; account?: string }) => send(GET('/api/auth/sso/discover', { params: { query } }), quiet),
  ssoProviders: (a: string) => send(GET('/api/accounts/{account_id}/sso/providers', inAccount(a))),
  createSsoProvider: (a: string, body: Body<'/api/accounts/{account_id}/sso/providers', 'post'>) => send(POST('/api/accounts/{account_id}/sso/providers', { ...inAccount(a), body })),
  updateSsoProvider: (account_id: string, provider_id: string, body: Body<'/api/accounts/{account_id}/sso/providers/{provider_id}', 'patch'>) =>
    send(PATCH('/api/accounts/{account_id}/sso/providers/{provider_id}', { params: { path: { account_id, provider_id } }, body })),
  removeSsoProvider: (account_id: string, provider_id: string) => send(DELETE('/api/accounts/{account_id}/sso/providers/{provider_id}', { params: { path: { account_id, provider_id } } })),
  checkSsoProvider: (account_id: string, provider_id: string) => send(POST('/api/accounts/{account_id}/sso/providers/{provider_id}/check', { params: { path: { account_id, provider_id } } })),
  ssoSettings: (a: string) => send(GET('/api/accounts/{account_id}/sso/settings', inAccount(a))),
  saveSsoSettings: (a: string, body: Body<'/api/accounts/{account_id}/sso/settings', 'put'>) => send(PUT('/api/accounts/{account_id}/sso/settings', { ...inAccount(a), body })),
  domains: (a: string) => send(GET('/api/accounts/{account_id}/domains', inAccount(a))),
  setDomains: (a: string, domain_names: string[]) => send(PATCH('/api/accounts/{account_id}/domains', { ...inAccount(a), body: { domain_names } })),
  verifyDomain: (account_id: string, domain_id: string) => send(POST('/api/accounts/{account_id}/domains/{domain_id}/verify', { params: { path: { account_id, domain_id } } })),
  teams: (a: string) => filterAll((body) => POST('/api/accounts/{account_id}/teams/filter', { ...inAccount(a), body })),
  createTeam: (a: string, name: string, description: string | null) => send(POST('/api/accounts/{account_id}/teams/', { ...inAccount(a), body: { name, description } })),
  updateTeam: (account_id: string, team_id: string, name: string, description: string | null) =>
    send(PUT('/api/accounts/{account_id}/teams/{team_id}', { params: { path: { account_id, team_id } }, body: { name, description } })),
  removeTeam: (account_id: string, team_id: string) => send(DELETE('/api/accounts/{account_id}/teams/{team_id}', { params: { path: { account_id, team_id } } })),
  addTeamMember: (account_id: string, team_id: string, member_id: string, member_type: 'user' | 'service_account') =>
    send(PUT('/api/accounts/{account_id}/teams/{team_id}/members', { params: { path: { account_id, team_id } }, body: { members: [{ member_id, member_type }] } })),
  removeTeamMember: (account_id: string, team_id: string, actor_id: string) =>
    send(DELETE('/api/accounts/{account_id}/teams/{team_id}/members/{actor_id}', { params: { path: { account_id, team_id, actor_id } } })),
  grantTeam: (a: string, w: string, team_id: string, workspace_role_id: string) =>
    send(PUT('/api/accounts/{account_id}/workspaces/{workspace_id}/team_access/', { ...inWorkspace(a, w), body: [{ team_id, workspace_role_id }] })),
  revokeTeam: (account_id: string, workspace_id: string, team_id: string) =>
    send(DELETE('/api/accounts/{account_id}/workspaces/{workspace_id}/team_access/{team_id}', { params: { path: { account_id, workspace_id, team_id } } })),
};

/** What one of the calls above answers. */
type Answer<K extends keyof typeof api> = Awaited<ReturnType<(typeof api)[K]>>;

export type Session = Answer<'session'>;
export type User = Session['user'];
export type SignedIn = Answer<'setup'>;
export type MyAccount = Answer<'myAccounts'>[number];
export type MyWorkspace = Answer<'myWorkspaces'>[number];
export type SessionRow = Answer<'mySessions'>[number];
export type ApiKeyMasked = Answer<'userKeys'>[number];
export type ApiKeyWithSecret = Answer<'createUserKey'>;
export type ServiceAccount = Answer<'serviceAccounts'>[number];
export type ServiceAccountWithKey = Answer<'createServiceAccount'>;
export type TrustRule = Answer<'trustRules'>[number];
export type ExchangedKey = Answer<'exchangedKeys'>[number];
export type Workspace = Answer<'workspace'>;
export type UserAccess = Answer<'userAccess'>[number];
export type BotAccess = Answer<'botAccess'>[number];
export type WorkspaceRole = Answer<'workspaceRoles'>[number];
export type WorkspaceScope = Answer<'workspaceScopes'>[number];
export type AccountRole = Answer<'accountRoles'>[number];
export type Membership = Answer<'memberships'>[number];
export type Invitation = Answer<'invitations'>[number];
export type Webhook = Answer<'webhooks'>[number];
export type ScimToken = Answer<'scimTokens'>['tokens'][number];
export type WebhookAttempt = Answer<'webhookAttempts'>[number];
export type Team = Answer<'teams'>[number];
/** A new invitation: the only answer that carries its one-time link. */
export type NewInvitation = Answer<'invite'>;
export type InvitationStatus = Invitation['status'];
export type InvitationPreview = Answer<'invitationPreview'>;
export type AuditEvent = Answer<'auditEvents'>[number];
export type GatewaySetting = Answer<'gateway'>;
export type UpstreamCheck = Answer<'checkGateway'>;
export type KeyPolicy = Answer<'keyPolicy'>;
export type KeyPolicyBreach = Answer<'keyPolicyBreaches'>[number];
export type IpAllowlistEntry = Answer<'ipAllowlist'>['entries'][number];
export type SsoProvider = Answer<'ssoProviders'>[number];
export type AccountDomain = Answer<'domains'>[number];
export type SignInProvider = Answer<'ssoDiscover'>[number];
