// The authorization matrix as data: for every route and every kind of caller, the status the
// product rules demand. Written from DESIGN contract 5, docs/roles.md and the Prefect docs, not
// copied from the route table, so that a route declaring the wrong requirement shows up here.

export const CALLERS = [
  'anonymous', // no Authorization header
  'malformed', // the Owner's key with its checksum broken: refused without a store lookup
  'removed_bot', // the key of a service account that has since been deleted
  'owner', // Owner of account A
  'admin', // Admin of account A
  'member', // Member of A with no workspace access
  'member_viewer', // Member of A with Viewer access to workspace W
  'bot_owner', // service accounts of A with this workspace role in W ...
  'bot_developer',
  'bot_runner',
  'bot_viewer',
  'bot_worker',
  'bot_custom', // ... or with the custom role CUSTOM_ROLE below
  'bot_none', // service account of A with no workspace access
  'other_owner', // Owner of account B, a stranger to A
] as const;

export type Caller = (typeof CALLERS)[number];

/**
 * The custom workspace role `bot_custom` holds. Chosen so that, on the control-plane routes, it
 * differs from every built-in role: it may edit workspace settings but not delete the workspace
 * (write_ without manage_), see the workspace's service accounts but not manage them, and see
 * nothing of its users. Inheriting Viewer checks that inherited scopes add to its own.
 */
export const CUSTOM_ROLE = {
  name: 'matrix-custom',
  inheritsFrom: 'Viewer',
  scopes: ['see_secret_blocks', 'write_workspace_settings', 'see_workspace_service_accounts'],
} as const;

const UNAUTHENTICATED: ReadonlySet<Caller> = new Set(['anonymous', 'malformed', 'removed_bot']);

const BOTS_WITH_W_ACCESS = ['bot_owner', 'bot_developer', 'bot_runner', 'bot_viewer', 'bot_worker', 'bot_custom'] as const;

// Who is what in account A. Service accounts are always account Members (contract 3).
const MEMBERS_OF_A: readonly Caller[] = ['owner', 'admin', 'member', 'member_viewer', ...BOTS_WITH_W_ACCESS, 'bot_none'];
const OWNER_AND_ADMIN: readonly Caller[] = ['owner', 'admin'];

// Who reaches workspace W: an access grant, or being account Owner/Admin (implicit workspace Owner).
const REACHES_W: readonly Caller[] = ['owner', 'admin', 'member_viewer', ...BOTS_WITH_W_ACCESS];

// What each workspace role in W may do with W itself (docs/roles.md): settings are edited by the
// workspace Owner (and the custom role, by choice); only the Owner deletes the workspace or
// manages who has access; a Developer views "all workspace settings", including who has access.
const W_SETTINGS_EDITORS: readonly Caller[] = ['owner', 'admin', 'bot_owner', 'bot_custom'];
const W_DELETERS: readonly Caller[] = ['owner', 'admin', 'bot_owner'];
const W_ACCESS_MANAGERS: readonly Caller[] = ['owner', 'admin', 'bot_owner'];
const W_USER_VIEWERS: readonly Caller[] = ['owner', 'admin', 'bot_owner', 'bot_developer'];
const W_BOT_VIEWERS: readonly Caller[] = [...W_USER_VIEWERS, 'bot_custom'];
// Where W's gateway forwards is a workspace setting: viewed by Developer and up (and the custom
// role, which may edit settings), pointed elsewhere only by the workspace Owner.
const W_SETTINGS_VIEWERS: readonly Caller[] = ['owner', 'admin', 'bot_owner', 'bot_developer', 'bot_custom'];

/**
 * Who can see what a route points at (everyone else gets 404, the same answer as for something
 * that does not exist), and who among those may act (the rest get 403).
 * - public: no credentials needed, whatever the caller sends.
 * - any_key: any valid key.
 * - self: only the user the path names (the fixtures name `member`).
 * - account: members of account A.
 * - workspace: those who reach workspace W.
 * - user: any user's key (a service account has no password or sessions: 404).
 * - session: only a browser session cookie; every key, even a valid one, is "not signed in".
 * - scim: only the account's SCIM token; every API key, even the Owner's, is refused (401).
 */
export type Visibility = 'public' | 'any_key' | 'self' | 'account' | 'workspace' | 'user' | 'session' | 'scim';

export interface PolicyRow {
  visible: Visibility;
  /** The status of a request that is allowed and succeeds. */
  success: number;
  /** Who, among those who see it, may do it; absent means all of them. */
  allow?: readonly Caller[];
  /** The error code of `success` when it is an expected refusal (a public route that says no to everyone). */
  code?: string;
}

const open = (success = 200): PolicyRow => ({ visible: 'public', success });
const anyKey = (success = 200): PolicyRow => ({ visible: 'any_key', success });
const self = (success = 200): PolicyRow => ({ visible: 'self', success });
const inAccount = (success: number, allow?: readonly Caller[]): PolicyRow => ({ visible: 'account', success, allow });
const inWorkspace = (success: number, allow?: readonly Caller[]): PolicyRow => ({ visible: 'workspace', success, allow });
const anyUser = (success: number): PolicyRow => ({ visible: 'user', success });
const sessionOnly = (): PolicyRow => ({ visible: 'session', success: 200 });
const scimOnly = (success = 200): PolicyRow => ({ visible: 'scim', success });

const ACCOUNT = '/api/accounts/:account_id';
const WS = `${ACCOUNT}/workspaces/:workspace_id`;

export const POLICY: Record<string, PolicyRow> = {
  'GET /api/health': open(),
  'GET /api/ready': open(),
  'GET /api/openapi.json': open(),
  'GET /api/workspace_scopes': open(),

  // The caller's own view; a service account key works here exactly as a user key does.
  'GET /api/me/': anyKey(),
  'GET /api/me/workspaces': anyKey(),
  'GET /api/me/accounts': anyKey(),
  'GET /api/me/api_keys': anyKey(),
  // Asking about an account or workspace one cannot see is a 404 like any other.
  'GET /api/me/accounts/:account_id/permissions': inAccount(200),
  'GET /api/me/workspaces/:workspace_id/scopes': inWorkspace(200),

  // A user's profile and keys belong to that user alone: not even their account Owner sees them.
  'GET /api/users/:user_id': self(),
  'PATCH /api/users/:user_id': self(204),
  'GET /api/users/:user_id/email_change': self(),
  'POST /api/users/:user_id/email_change/confirm': self(204),
  'POST /api/users/:user_id/api_keys': self(201),
  'GET /api/users/:user_id/api_keys': self(),
  'GET /api/users/:user_id/api_keys/:api_key_id': self(),
  'DELETE /api/users/:user_id/api_keys/:api_key_id': self(204),

  // Members read the account, its roles, members and service accounts; changing any of it is
  // Owner/Admin work (Member holds read:* only).
  [`GET ${ACCOUNT}`]: inAccount(200),
  [`PATCH ${ACCOUNT}`]: inAccount(204, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/settings`]: inAccount(200),
  [`PATCH ${ACCOUNT}/settings`]: inAccount(204, OWNER_AND_ADMIN),
  // The IP allowlist is Owner/Admin work, reading it too (Member holds no read:ip_allowlist).
  [`GET ${ACCOUNT}/ip_allowlist`]: inAccount(200, OWNER_AND_ADMIN),
  [`PUT ${ACCOUNT}/ip_allowlist`]: inAccount(200, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/ip_allowlist/my_access`]: inAccount(200, OWNER_AND_ADMIN),
  // Webhooks (notices) are Owner/Admin work, reading them too (Member holds no read:integrations).
  [`GET ${ACCOUNT}/webhooks`]: inAccount(200, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/webhooks`]: inAccount(201, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/webhooks/:webhook_id`]: inAccount(200, OWNER_AND_ADMIN),
  [`PATCH ${ACCOUNT}/webhooks/:webhook_id`]: inAccount(200, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/webhooks/:webhook_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/webhooks/:webhook_id/attempts`]: inAccount(200, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/webhooks/:webhook_id/test`]: inAccount(200, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/account_roles/filter`]: inAccount(200),
  [`GET ${ACCOUNT}/account_roles/:account_role_id`]: inAccount(200),
  [`POST ${ACCOUNT}/account_memberships/filter`]: inAccount(200),
  [`GET ${ACCOUNT}/account_memberships/:account_membership_id`]: inAccount(200),
  [`PATCH ${ACCOUNT}/account_memberships/:account_membership_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/account_memberships/:account_membership_id`]: inAccount(204, OWNER_AND_ADMIN),
  // The audit log is a security record: not part of the Member's read-only view.
  [`POST ${ACCOUNT}/audit_events/filter`]: inAccount(200, OWNER_AND_ADMIN),
  // The key policy (issue 19): every member reads its limits (the create dialog shows them) and
  // the keys that break it; only Owner/Admin (update:account) set it.
  [`GET ${ACCOUNT}/key_policy`]: inAccount(200),
  [`PUT ${ACCOUNT}/key_policy`]: inAccount(200, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/key_policy/breaches`]: inAccount(200),

  // Single sign-on (issue 21): providers and SSO settings are Owner/Admin work, reading them too
  // (Member holds no read:sso); the domains read like the account and change like it (Terraform's
  // prefect_account sets them); vouching for a domain is SSO administration.
  [`GET ${ACCOUNT}/sso/providers`]: inAccount(200, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/sso/providers`]: inAccount(201, OWNER_AND_ADMIN),
  [`PATCH ${ACCOUNT}/sso/providers/:provider_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/sso/providers/:provider_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/sso/providers/:provider_id/check`]: inAccount(200, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/sso/settings`]: inAccount(200, OWNER_AND_ADMIN),
  [`PUT ${ACCOUNT}/sso/settings`]: inAccount(200, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/domains`]: inAccount(200),
  [`PATCH ${ACCOUNT}/domains`]: inAccount(204, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/domains/:domain_id/verify`]: inAccount(200, OWNER_AND_ADMIN),

  // Service accounts: Members (and so every service account) may look, never create, change,
  // rotate or delete, including themselves.
  [`POST ${ACCOUNT}/bots/`]: inAccount(201, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/bots/filter`]: inAccount(200),
  [`GET ${ACCOUNT}/bots/:bot_id`]: inAccount(200),
  [`PATCH ${ACCOUNT}/bots/:bot_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/bots/:bot_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/bots/:bot_id/rotate_api_key`]: inAccount(201, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/bots/:bot_id/read_bot_api_keys`]: inAccount(200),
  [`DELETE ${ACCOUNT}/bots/:bot_id/delete_bot_api_key/:api_key_id`]: inAccount(204, OWNER_AND_ADMIN),
  // Trust rules read like the service account, and change like its keys (update:bot).
  [`GET ${ACCOUNT}/bots/:bot_id/trust_rules/`]: inAccount(200),
  [`POST ${ACCOUNT}/bots/:bot_id/trust_rules/`]: inAccount(201, OWNER_AND_ADMIN),
  [`PATCH ${ACCOUNT}/bots/:bot_id/trust_rules/:rule_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/bots/:bot_id/trust_rules/:rule_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`GET ${ACCOUNT}/bots/:bot_id/exchanged_keys`]: inAccount(200),

  // Workspaces: listing is an account read (answering only what the caller reaches); creating one
  // is Owner/Admin; the workspace itself is visible only to those who reach it.
  [`POST ${ACCOUNT}/workspaces/`]: inAccount(201, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/workspaces/filter`]: inAccount(200),
  [`GET ${WS}`]: inWorkspace(200),
  [`PATCH ${WS}`]: inWorkspace(204, W_SETTINGS_EDITORS),
  [`DELETE ${WS}`]: inWorkspace(204, W_DELETERS),

  // Workspace roles are account objects: Members read them, Owner/Admin define them.
  [`POST ${ACCOUNT}/workspace_roles/`]: inAccount(201, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/workspace_roles/filter`]: inAccount(200),
  [`GET ${ACCOUNT}/workspace_roles/:workspace_role_id`]: inAccount(200),
  [`PATCH ${ACCOUNT}/workspace_roles/:workspace_role_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/workspace_roles/:workspace_role_id`]: inAccount(204, OWNER_AND_ADMIN),

  // Who has access to W: seen by Developer and up, changed by the workspace Owner.
  [`POST ${WS}/user_access/`]: inWorkspace(200, W_ACCESS_MANAGERS),
  [`POST ${WS}/user_access/filter`]: inWorkspace(200, W_USER_VIEWERS),
  [`GET ${WS}/user_access/:access_id`]: inWorkspace(200, W_USER_VIEWERS),
  [`DELETE ${WS}/user_access/:access_id`]: inWorkspace(204, W_ACCESS_MANAGERS),
  [`POST ${WS}/bot_access/`]: inWorkspace(200, W_ACCESS_MANAGERS),
  [`POST ${WS}/bot_access/filter`]: inWorkspace(200, W_BOT_VIEWERS),
  [`GET ${WS}/bot_access/:access_id`]: inWorkspace(200, W_BOT_VIEWERS),
  [`DELETE ${WS}/bot_access/:access_id`]: inWorkspace(204, W_ACCESS_MANAGERS),
  // Teams are groups of account members (docs/teams.md): Members read them, Owner/Admin define them
  // and their members; a team's grant on W is workspace access, seen and changed like a user's.
  [`POST ${ACCOUNT}/teams/`]: inAccount(201, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/teams/filter`]: inAccount(200),
  [`GET ${ACCOUNT}/teams/:team_id`]: inAccount(200),
  [`PUT ${ACCOUNT}/teams/:team_id`]: inAccount(200, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/teams/:team_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`PUT ${ACCOUNT}/teams/:team_id/members`]: inAccount(200, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/teams/:team_id/members/:actor_id`]: inAccount(204, OWNER_AND_ADMIN),
  [`PUT ${WS}/team_access/`]: inWorkspace(200, W_ACCESS_MANAGERS),
  [`POST ${WS}/team_access/filter`]: inWorkspace(200, W_USER_VIEWERS),
  [`DELETE ${WS}/team_access/:team_id`]: inWorkspace(204, W_ACCESS_MANAGERS),

  // The gateway's upstream (its credential is write-only), and forward-auth, which answers any
  // valid key; without the original request's headers it has nothing to allow (403).
  [`GET ${WS}/gateway`]: inWorkspace(200, W_SETTINGS_VIEWERS),
  [`PUT ${WS}/gateway`]: inWorkspace(200, W_DELETERS),
  [`DELETE ${WS}/gateway`]: inWorkspace(204, W_DELETERS),
  // Asking the upstream whether it answers tells no more than reading the setting.
  [`POST ${WS}/gateway/check`]: inWorkspace(200, W_SETTINGS_VIEWERS),
  'GET /api/gateway/authorize': { visible: 'any_key', success: 403, code: 'FORBIDDEN' },

  // Signing in needs no credentials and ignores any sent; the world has an account, so first-run
  // setup is over for everyone (SETUP_DONE), and its status stays readable by anyone.
  'POST /api/auth/login': open(),
  'GET /api/setup': open(),
  'POST /api/setup': { visible: 'public', success: 409, code: 'SETUP_DONE' },
  // A workload's token is the only credential of the token exchange; a key or cookie adds nothing.
  'POST /api/oauth/token': { visible: 'public', success: 400, code: 'TOKEN_EXCHANGE_REFUSED' },
  // Signing in through a provider is a browser navigation that credentials do not change: the
  // world's providers point at a closed port, so start sends everyone back to the sign-in page
  // (303), as the callback does without a state.
  'GET /api/auth/sso/discover': open(),
  'GET /api/auth/sso/:provider_id/start': open(303),
  'GET /api/auth/sso/callback': open(303),
  // A browser session's own state: a key is no session, so even a valid key is told to sign in.
  'GET /api/auth/session': sessionOnly(),
  'POST /api/auth/logout': sessionOnly(),
  // The caller's sessions: a key sees its user's (a service account has none); a session id is
  // terminated only by its own user, and anyone else's is a 404.
  'GET /api/me/sessions': anyKey(),
  'POST /api/me/sessions/filter': anyKey(),
  'POST /api/me/sessions/:session_id/terminate': self(204),
  'POST /api/me/password': anyUser(204),

  // Invitations: prospective members, read by every member like the member list (docs/roles.md),
  // sent and revoked by Owners and Admins. The link itself is public: its code is the credential,
  // and a new person accepting needs no key, whatever key happens to be sent.
  [`POST ${ACCOUNT}/invitations/`]: inAccount(201, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/invitations/filter`]: inAccount(200),
  [`GET ${ACCOUNT}/invitations/:invitation_id`]: inAccount(200),
  [`POST ${ACCOUNT}/invitations/:invitation_id/revoke`]: inAccount(200, OWNER_AND_ADMIN),
  'GET /api/invitations/:invitation_id': open(),
  'POST /api/invitations/:invitation_id/accept': open(),

  // Leak reports: a partner's ECDSA signature is the credential, whatever key is sent; the world
  // configures no partner keys, so everyone is told the endpoint is off (test/leak-reports.test.ts).
  'POST /api/leak_reports': { visible: 'public', success: 404, code: 'LEAK_REPORTS_NOT_CONFIGURED' },

  // SCIM tokens are SSO administration: Owner/Admin only, reading them too (Member holds no read:sso).
  [`GET ${ACCOUNT}/scim_tokens`]: inAccount(200, OWNER_AND_ADMIN),
  [`POST ${ACCOUNT}/scim_tokens`]: inAccount(201, OWNER_AND_ADMIN),
  [`DELETE ${ACCOUNT}/scim_tokens/:scim_token_id`]: inAccount(204, OWNER_AND_ADMIN),
  // The SCIM endpoints answer the account's SCIM token alone (test/scim.test.ts); no API key opens them.
  [`GET ${ACCOUNT}/scim/v2/ServiceProviderConfig`]: scimOnly(),
  [`GET ${ACCOUNT}/scim/v2/ResourceTypes`]: scimOnly(),
  [`GET ${ACCOUNT}/scim/v2/Schemas`]: scimOnly(),
  [`GET ${ACCOUNT}/scim/v2/Users`]: scimOnly(),
  [`POST ${ACCOUNT}/scim/v2/Users`]: scimOnly(201),
  [`GET ${ACCOUNT}/scim/v2/Users/:user_id`]: scimOnly(),
  [`PUT ${ACCOUNT}/scim/v2/Users/:user_id`]: scimOnly(),
  [`PATCH ${ACCOUNT}/scim/v2/Users/:user_id`]: scimOnly(),
  [`DELETE ${ACCOUNT}/scim/v2/Users/:user_id`]: scimOnly(204),
  [`GET ${ACCOUNT}/scim/v2/Groups`]: scimOnly(),
  [`POST ${ACCOUNT}/scim/v2/Groups`]: scimOnly(201),
  [`GET ${ACCOUNT}/scim/v2/Groups/:group_id`]: scimOnly(),
  [`PUT ${ACCOUNT}/scim/v2/Groups/:group_id`]: scimOnly(),
  [`PATCH ${ACCOUNT}/scim/v2/Groups/:group_id`]: scimOnly(),
  [`DELETE ${ACCOUNT}/scim/v2/Groups/:group_id`]: scimOnly(204),
};

const USERS: readonly Caller[] = ['owner', 'admin', 'member', 'member_viewer', 'other_owner'];

function sees(visible: Visibility, caller: Caller): boolean {
  switch (visible) {
    case 'public':
    case 'any_key':
      return true;
    case 'self':
      return caller === 'member';
    case 'account':
      return MEMBERS_OF_A.includes(caller);
    case 'workspace':
      return REACHES_W.includes(caller);
    case 'user':
      return USERS.includes(caller);
    case 'session':
    case 'scim':
      return false;
  }
}

/** The status one cell must answer: 401 before anything, then 404 for what is out of sight, then 403. */
export function expectedStatus(row: PolicyRow, caller: Caller): number {
  if (row.visible === 'public') return row.success;
  if (UNAUTHENTICATED.has(caller)) return 401;
  // The matrix's callers all hold keys, never a session cookie or a SCIM token.
  if (row.visible === 'session' || row.visible === 'scim') return 401;
  if (!sees(row.visible, caller)) return 404;
  if (row.allow && !row.allow.includes(caller)) return 403;
  return row.success;
}

const DENIAL_CODE: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

/**
 * The error code one cell must carry (undefined: a success, nothing to check), so that a 404 from
 * a broken handler cannot pass for a 404 of authorization.
 */
export function expectedCode(row: PolicyRow, caller: Caller): string | undefined {
  const status = expectedStatus(row, caller);
  if (status === row.success) return row.code;
  if (row.visible === 'session' && status === 401 && !UNAUTHENTICATED.has(caller)) return 'SESSION_REQUIRED';
  if (row.visible === 'scim') return 'SCIM_TOKEN_INVALID';
  return DENIAL_CODE[status];
}

export const routeKey = (route: { method: string; url: string }): string => `${route.method} ${route.url}`;
