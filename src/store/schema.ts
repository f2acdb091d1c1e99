// Row types as the store keeps them. Timestamps are RFC 3339 UTC text with milliseconds
// (`toISOString()`), which sorts and compares correctly as text on both dialects; JSON columns are
// text; booleans are 0/1 integers. Keeping one representation keeps queries dialect-agnostic.

export interface AccountsTable {
  id: string;
  name: string;
  handle: string;
  location: string | null;
  link: string | null;
  image_location: string | null;
  billing_email: string | null;
  auth_expiration_seconds: number | null;
  settings: string;
  created: string;
  updated: string;
}

export interface UsersTable {
  id: string;
  actor_id: string;
  handle: string;
  email: string;
  first_name: string;
  last_name: string;
  location: string | null;
  title: string | null;
  image_location: string | null;
  settings: string;
  last_login: string | null;
  /** Argon2id; null for a user who has only API keys so far. */
  password_hash: string | null;
  created: string;
  updated: string;
}

export interface BotsTable {
  id: string;
  actor_id: string;
  account_id: string;
  name: string;
  created: string;
  updated: string;
}

export interface ApiKeysTable {
  id: string;
  actor_id: string;
  user_id: string | null;
  bot_id: string | null;
  name: string;
  key_hash: string;
  masked_key: string;
  expiration: string | null;
  /** 1 for a service account's current key; 0 for an old key inside its rotation grace; 2 for a key exchanged for a workload's token. */
  is_active: number;
  created: string;
  /** The key's last use (auth/key-use.ts), written at most once a minute; null until first used. */
  last_used_at: string | null;
  last_used_from: string | null;
  last_used_client: string | null;
  last_used_workspace_id: string | null;
  /** A key exchanged for a workload's OIDC token (is_active 2): the token's subject and issuer, the rule that admitted it. */
  exchanged_subject: string | null;
  exchanged_issuer: string | null;
  exchanged_rule_id: string | null;
  /** The last leak report a secret-scanning partner made for this key (domain/leak-reports); null: never reported. */
  leak_reported_at: string | null;
  /** The public URL the partner found it at (may be empty), and the source it named (e.g. `commit`). */
  leak_url: string | null;
  leak_source: string | null;
}

export interface AccountRolesTable {
  id: string;
  account_id: string | null;
  name: string;
  permissions: string;
  is_system_role: number;
  created: string;
  updated: string;
}

export interface AccountMembershipsTable {
  id: string;
  account_id: string;
  actor_id: string;
  user_id: string | null;
  bot_id: string | null;
  account_role_id: string;
  created: string;
  updated: string;
}

export interface WorkspacesTable {
  id: string;
  account_id: string;
  name: string;
  handle: string;
  description: string;
  default_workspace_role_id: string | null;
  is_public: number;
  created: string;
  updated: string;
}

export interface WorkspaceRolesTable {
  id: string;
  account_id: string | null;
  name: string;
  description: string;
  scopes: string;
  inherited_role_id: string | null;
  created: string;
  updated: string;
}

export interface WorkspaceAccessTable {
  id: string;
  workspace_id: string;
  actor_id: string;
  user_id: string | null;
  bot_id: string | null;
  workspace_role_id: string;
  created: string;
  updated: string;
}

export interface AuditEventsTable {
  id: string;
  account_id: string | null;
  workspace_id: string | null;
  actor_id: string | null;
  actor_type: string;
  actor_name: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  details: string;
  occurred: string;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  ip_address: string | null;
  user_agent: string | null;
  created: string;
  updated: string;
  expires_at: string;
}

export interface InvitationsTable {
  id: string;
  account_id: string;
  email: string;
  account_role_id: string;
  code_hash: string;
  status: 'PENDING' | 'ACCEPTED' | 'REVOKED';
  invited_by_actor_id: string | null;
  expiration: string;
  created: string;
  updated: string;
}

/** A user's new email waiting for its verification code (migration 0007). */
export interface EmailChangesTable {
  user_id: string;
  email: string;
  /** SHA-256 of the one-time code mailed to `email`; the code itself is never stored. */
  code_hash: string;
  expires_at: string;
  created: string;
}

export interface AuthFailuresTable {
  key: string;
  failures: number;
  window_start: string;
}

export interface SetupTokensTable {
  token_hash: string;
  created: string;
  expires_at: string;
}

export interface WorkspaceGatewaysTable {
  workspace_id: string;
  /** The Prefect server's API URL, e.g. http://prefect:4200/api */
  upstream_url: string;
  /** The upstream auth string, sealed (AES-256-GCM); null when the upstream needs none. */
  upstream_auth_sealed: string | null;
  created: string;
  updated: string;
}

/** SQLite: a process that answers from its cache between looks at data_version (migration 0006). */
export interface CacheProcessesTable {
  id: string;
  /** The machine and PID namespace, so that a row of a process that died can be told from one that runs. */
  host: string;
  pid: number;
  /** The longest it goes between looks; an invalidating write waits this long before it returns. */
  window_ms: number;
}

/** The id of the secret key that seals upstream credentials (migration 0008); one row, slot 'current'. */
export interface SealingKeyTable {
  slot: string;
  key_id: string;
  updated: string;
}

/** One entry of an account's IP allowlist (migration 0011); `position` keeps the order it was sent in. */
export interface IpAllowlistEntriesTable {
  id: string;
  account_id: string;
  /** Canonical CIDR: `10.0.0.0/8`, `203.0.113.7/32`, `2001:db8::/32`. */
  ip_network: string;
  description: string | null;
  enabled: number;
  position: number;
  created: string;
  updated: string;
}

export interface CacheNodesTable {
  id: string;
  /** Milliseconds since the epoch by the database's clock; the process trusts its cache only while its lease runs. */
  lease_until: string | number;
  seen_seq: string | number;
}

export interface CacheEpochTable {
  id: number;
  seq: string | number;
}

/** An account's key policy (migration 0010); no row: no limits. Nulls: no limit on that rule. */
export interface AccountKeyPoliciesTable {
  account_id: string;
  max_key_lifetime_days: number | null;
  allow_never_expire: number;
  max_rotation_grace_seconds: number | null;
  disable_keys_unused_days: number | null;
  /** What a leak report does to a found key: `disable` it at once (default) or `flag` it. */
  leaked_key_action: string;
  updated: string;
}

/** An account's webhook endpoint (migration 0013); its signing secret sealed under the server's key. */
export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  url: string;
  description: string | null;
  enabled: number;
  /** A JSON array of event types (domain/audit/notice-events.ts). */
  event_types: string;
  secret_sealed: string;
  created: string;
  updated: string;
}

/** The notices outbox (migration 0013): one row per webhook endpoint (or the Owners' mail, endpoint null) and event. */
export interface NoticeDeliveriesTable {
  id: string;
  account_id: string;
  endpoint_id: string | null;
  event_type: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed' | 'skipped';
  attempts: number;
  next_attempt_at: string;
  lease_until: string | null;
  lease_token: string | null;
  created: string;
  updated: string;
}

/** One try of a delivery: the delivery log. */
export interface NoticeAttemptsTable {
  id: string;
  delivery_id: string;
  endpoint_id: string | null;
  attempted_at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** A time-based notice sent for a key (expiring_30/7/1, expired, grace_ended): once each. */
export interface ApiKeyNoticesTable {
  api_key_id: string;
  notice: string;
  created: string;
}

/**
 * The audit feed's cursor and lease (domain/audit/feed.ts): one row. `audit_events` also has feed
 * columns (`feed_tx`/`feed_seq` on PostgreSQL, `feed_seq` on SQLite, migration 0015), set by the
 * database on insert and read only by the feed, with SQL of its own dialect.
 */
export interface AuditFeedTable {
  id: number;
  position: string;
  holder: string | null;
  /** Epoch milliseconds (the store's clock). */
  lease_until: number;
  updated: string;
}

export interface Database {
  accounts: AccountsTable;
  users: UsersTable;
  bots: BotsTable;
  api_keys: ApiKeysTable;
  account_roles: AccountRolesTable;
  account_memberships: AccountMembershipsTable;
  workspaces: WorkspacesTable;
  workspace_roles: WorkspaceRolesTable;
  workspace_access: WorkspaceAccessTable;
  audit_events: AuditEventsTable;
  sessions: SessionsTable;
  invitations: InvitationsTable;
  email_changes: EmailChangesTable;
  auth_failures: AuthFailuresTable;
  setup_tokens: SetupTokensTable;
  workspace_gateways: WorkspaceGatewaysTable;
  cache_nodes: CacheNodesTable;
  cache_epoch: CacheEpochTable;
  cache_processes: CacheProcessesTable;
  sealing_key: SealingKeyTable;
  account_key_policies: AccountKeyPoliciesTable;
  ip_allowlist_entries: IpAllowlistEntriesTable;
  trust_rules: TrustRulesTable;
  exchanged_tokens: ExchangedTokensTable;
  webhook_endpoints: WebhookEndpointsTable;
  notice_deliveries: NoticeDeliveriesTable;
  notice_attempts: NoticeAttemptsTable;
  api_key_notices: ApiKeyNoticesTable;
  audit_feed: AuditFeedTable;
  sso_providers: SsoProvidersTable;
  account_domains: AccountDomainsTable;
  account_sso_settings: AccountSsoSettingsTable;
  sso_logins: SsoLoginsTable;
  sso_identities: SsoIdentitiesTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  team_access: TeamAccessTable;
  scim_tokens: ScimTokensTable;
  scim_users: ScimUsersTable;
  scim_groups: ScimGroupsTable;
}

/** Which OIDC tokens may be exchanged for a short-lived key of a service account. */
export interface TrustRulesTable {
  id: string;
  account_id: string;
  bot_id: string;
  issuer: string;
  audience: string;
  /** The `sub` claim it admits: exact, or with `*` standing for any run of characters. */
  subject_pattern: string;
  /** JSON object: claim name → the exact value it must have. */
  required_claims: string;
  key_lifetime_seconds: number;
  description: string | null;
  created: string;
  updated: string;
}

/** A token already exchanged (its `jti`, or its digest without one), kept until it expires. */
export interface ExchangedTokensTable {
  issuer: string;
  token_id: string;
  expires_at: string;
}

/** An account's OpenID Connect provider (migration 0019); the client secret is sealed, never read back. */
export interface SsoProvidersTable {
  id: string;
  account_id: string;
  display_name: string;
  issuer: string;
  client_id: string;
  client_secret_sealed: string | null;
  enabled: number;
  created: string;
  updated: string;
}

/** An email domain of an account; `verified_name` is set (to `name`) once verified. */
export interface AccountDomainsTable {
  id: string;
  account_id: string;
  name: string;
  verified_name: string | null;
  verified_at: string | null;
  /** How: `owner` (marked by an Owner or Admin) or `sign_in` (proved by a sign-in through the account's provider). */
  verified_by: string | null;
  created: string;
  updated: string;
}

export interface AccountSsoSettingsTable {
  account_id: string;
  default_account_role_id: string;
  passwords_disabled: number;
  updated: string;
}

/** A sign-in in flight: one use, short-lived. The state itself is never stored, only its digest. */
export interface SsoLoginsTable {
  state_hash: string;
  provider_id: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  link_user_id: string | null;
  expires_at: string;
}

/** A provider's subject linked to a user. */
export interface SsoIdentitiesTable {
  id: string;
  provider_id: string;
  subject: string;
  user_id: string;
  email: string;
  created: string;
  last_sign_in: string;
}

/** A named group of an account's users and service accounts (domain/teams). */
export interface TeamsTable {
  id: string;
  account_id: string;
  name: string;
  description: string;
  created: string;
  updated: string;
}

/** A member of a team: a user (user_id) or a service account (bot_id), by its actor id. */
export interface TeamMembersTable {
  team_id: string;
  actor_id: string;
  user_id: string | null;
  bot_id: string | null;
  created: string;
}

/** A team's workspace role on one workspace. */
export interface TeamAccessTable {
  id: string;
  team_id: string;
  workspace_id: string;
  workspace_role_id: string;
  created: string;
  updated: string;
}

/** An account's SCIM bearer token (migration 0020): only its digest is kept. */
export interface ScimTokensTable {
  id: string;
  account_id: string;
  name: string;
  token_hash: string;
  /** The prefix and four characters of the token: enough to recognise, never to use. */
  masked_token: string;
  created: string;
  /** Who created it (the actor's name), for the list. */
  created_by: string;
  /** Written at most once a minute; null until first used. */
  last_used_at: string | null;
  last_used_from: string | null;
}

/** What an account's identity provider said about a person it provisioned over SCIM. */
export interface ScimUsersTable {
  account_id: string;
  user_id: string;
  /** The provider's own id for the person (SCIM `externalId`); unique within the account. */
  external_id: string | null;
  /** The provider's userName when it is not the person's email (Entra ID may send a UPN); null: the email. */
  user_name: string | null;
  /** 1 while the provider wants the person in the account; 0 once deprovisioned. */
  active: number;
  created: string;
  updated: string;
}

/** The provider's own id (SCIM `externalId`) for a team it manages as a SCIM Group. */
export interface ScimGroupsTable {
  team_id: string;
  account_id: string;
  external_id: string | null;
  created: string;
  updated: string;
}
