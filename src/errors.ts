// The one catalog of error codes: each with the HTTP status and the public message a client sees.
// Domain services return these codes as values; only http/ turns them into responses.

export const ERRORS = {
  UNAUTHENTICATED: { status: 401, message: 'Invalid authentication credentials' },
  FORBIDDEN: { status: 403, message: 'You do not have permission to do this' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this route' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  BAD_REQUEST: { status: 400, message: 'The request could not be read' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the request body as application/json' },
  VALIDATION_FAILED: { status: 422, message: 'The request is not valid' },
  ACCOUNT_HANDLE_TAKEN: { status: 409, message: 'An account with this handle already exists' },
  USER_EMAIL_TAKEN: { status: 409, message: 'A user with this email already exists' },
  USER_HANDLE_TAKEN: { status: 409, message: 'A user with this handle already exists' },
  EMAIL_VERIFICATION_UNAVAILABLE: {
    status: 409,
    message:
      'A new email must be verified by a mail sent to it, and this Gatehouse has no mail server: the operator sets GATEHOUSE_SMTP_URL (docs/configuration.md). Send the current email (or none) to change the other fields',
  },
  EMAIL_VERIFICATION_NOT_SENT: {
    status: 502,
    message: 'The verification mail to the new email could not be sent, so the email is unchanged (the other fields were saved); try again, or ask the operator to check the SMTP server',
  },
  EMAIL_CODE_INVALID: {
    status: 422,
    message: 'This email verification code is not valid: use the link in the latest verification mail, or change the email again for a new one',
  },
  EMAIL_CODE_EXPIRED: { status: 410, message: 'This email verification code has expired; change the email again for a new one' },
  EMAIL_NOT_VERIFIED: {
    status: 409,
    message: 'This invitation is for an email you have not verified yet: open the link in the verification mail sent to it, then open the invitation again',
  },
  SERVICE_ACCOUNT_NAME_TAKEN: {
    status: 409,
    message: 'A service account with this name already exists in this account; choose another name',
  },
  WORKSPACE_NAME_TAKEN: { status: 409, message: 'A workspace with this name already exists in this account' },
  WORKSPACE_HANDLE_TAKEN: { status: 409, message: 'A workspace with this handle already exists in this account' },
  WORKSPACE_ROLE_NAME_TAKEN: { status: 409, message: 'A workspace role with this name already exists' },
  CONFUSABLE_NAME: {
    status: 422,
    message: 'This name could pass for another: use letters of one script (not Latin mixed with Cyrillic or Greek) and no invisible characters',
  },
  EXPIRATION_IN_PAST: { status: 422, message: 'The expiration must be in the future; send null for a key that never expires' },
  GRACE_PERIOD_TOO_LONG: {
    status: 422,
    message: 'old_key_expires_in_seconds must be between 0 and 172800 (48 hours), or null to delete the old key now',
  },
  KEY_POLICY_VIOLATION: {
    status: 422,
    message: "This key breaks the account's key policy (GET /api/accounts/{account_id}/key_policy shows it); choose an expiration or grace within it",
  },
  AUTH_EXPIRATION_NOT_APPLIED: {
    status: 422,
    message:
      'Gatehouse does not apply auth_expiration_seconds: sign-in sessions last GATEHOUSE_SESSION_TTL_SECONDS for every account, and key lifetimes are set by the account key policy (PUT /api/accounts/{account_id}/key_policy); send null',
  },
  SERVICE_ACCOUNT_ROLE_FIXED: {
    status: 422,
    message: 'A service account is always a Member of its account; grant it workspace roles instead',
  },
  SERVICE_ACCOUNT_MEMBERSHIP: {
    status: 422,
    message: "A service account's membership follows the service account; delete the service account instead",
  },
  LAST_OWNER: { status: 409, message: 'An account must keep at least one Owner; make someone else Owner first' },
  LAST_WORKSPACE_OWNER: {
    status: 409,
    message: 'A workspace must keep at least one Owner: grant someone else the Owner role on it first',
  },
  OWNER_ONLY: { status: 403, message: 'Only an account Owner can grant, change or remove the Owner role' },
  UNKNOWN_ACCOUNT_ROLE: { status: 422, message: 'No such account role in this account' },
  UNKNOWN_WORKSPACE_ROLE: { status: 422, message: 'No such workspace role in this account' },
  UNKNOWN_SCOPE: { status: 422, message: 'Unknown workspace scope; GET /api/workspace_scopes lists them' },
  INHERITED_ROLE_NOT_BUILTIN: { status: 422, message: 'inherited_role_id must be the id of a built-in workspace role' },
  BUILTIN_ROLE_READ_ONLY: { status: 422, message: 'Built-in roles cannot be changed or deleted; create a custom role' },
  WORKSPACE_ROLE_IN_USE: {
    status: 409,
    message: 'This workspace role is still granted; change or remove those grants first',
  },
  UNKNOWN_SERVICE_ACCOUNT: { status: 422, message: 'No such service account in this account' },
  UNKNOWN_USER: { status: 422, message: 'No such user in this account' },
  UNKNOWN_TEAM: { status: 422, message: 'No such team in this account; POST /api/accounts/{account_id}/teams/filter lists them' },
  TEAM_NAME_TAKEN: { status: 409, message: 'A team with this name already exists in this account; choose another name' },
  INVALID_LOGIN: { status: 401, message: 'Email or password is incorrect' },
  TOKEN_EXCHANGE_INVALID_REQUEST: {
    status: 400,
    message: 'The token exchange request is not valid: send grant_type, subject_token, subject_token_type and audience (the service account id) as docs/workload-identity.md shows',
  },
  TOKEN_EXCHANGE_REFUSED: {
    status: 400,
    message: "The token cannot be exchanged for a key of this service account: check the service account's trust rules (docs/workload-identity.md)",
  },
  RATE_LIMITED: { status: 429, message: 'Too many failed attempts; wait and try again' },
  CSRF_FAILED: {
    status: 403,
    message: 'Missing or wrong X-CSRF-Token header: a request signed in with a session cookie must send the csrf_token it was given',
  },
  SESSION_REQUIRED: { status: 401, message: 'Not signed in: sign in with email and password first' },
  PASSWORD_TOO_SHORT: { status: 422, message: 'Choose a password of at least 10 characters' },
  WRONG_PASSWORD: { status: 403, message: 'The current password is incorrect' },
  NO_PASSWORD_YET: {
    status: 403,
    message: 'This user has no password yet; the server operator sets the first one with `gatehouse set-password --email EMAIL`',
  },
  SETUP_TOKEN_INVALID: { status: 403, message: 'This setup link is invalid or has expired; restart Gatehouse to print a new one' },
  SETUP_DONE: { status: 409, message: 'Gatehouse is already set up; sign in instead' },
  ALREADY_MEMBER: { status: 409, message: 'This person is already a member of the account' },
  INVITATION_EXPIRED: { status: 410, message: 'This invitation has expired; ask for a new one' },
  INVITATION_USED: { status: 409, message: 'This invitation has already been used or was revoked' },
  SIGN_IN_FIRST: {
    status: 409,
    message: 'A user with this email already exists: sign in as that user, then open the invitation link again',
  },
  CONCURRENT_CHANGE: { status: 409, message: 'Another request changed this at the same time; retry' },
  GATEWAY_NOT_CONFIGURED: {
    status: 404,
    message:
      'This workspace has no Prefect server behind it yet; a workspace Owner sets one with `gatehouse workspace set --upstream URL` (or PUT .../gateway)',
  },
  GATEWAY_ROUTE_UNKNOWN: {
    status: 403,
    message: 'Gatehouse has no scope declared for this Prefect route, so it refuses it for every role (docs/gateway-routes.md lists the routes)',
  },
  GATEWAY_BAD_PATH: { status: 400, message: 'The path cannot be routed: it has an encoded slash, a backslash, an empty or dot segment, or bad percent-encoding' },
  UPSTREAM_UNREACHABLE: { status: 502, message: "The workspace's Prefect server could not be reached" },
  UPSTREAM_TIMEOUT: { status: 504, message: "The workspace's Prefect server did not answer in time" },
  UPSTREAM_CREDENTIAL_UNREADABLE: {
    status: 502,
    message:
      "The workspace's upstream credential was sealed with another secret key: give every Gatehouse process the same GATEHOUSE_SECRET_KEY, or set the credential again",
  },
  GATEWAY_BUSY: { status: 503, message: 'The gateway holds as many waiting websockets as it may; try again shortly' },
  IP_NOT_ALLOWED: {
    status: 403,
    message: "Your address is not on this account's IP allowlist: connect from an allowed network, or ask an account Owner or Admin to add your address",
  },
  IP_ALLOWLIST_LOCKOUT: {
    status: 422,
    message: 'This change would lock you out: your address would not be on the enforced IP allowlist. Add your address (or a network holding it) first',
  },
  LEAK_REPORTS_NOT_CONFIGURED: {
    status: 404,
    message: 'This Gatehouse takes no leak reports: its operator has not configured the public keys of a secret-scanning partner (GATEHOUSE_LEAK_REPORT_KEYS_FILE, docs/leak-reports.md)',
  },
  LEAK_REPORT_UNSIGNED: {
    status: 400,
    message: 'A leak report must be signed: send the Github-Public-Key-Identifier and Github-Public-Key-Signature headers',
  },
  LEAK_REPORT_KEY_UNKNOWN: {
    status: 401,
    message: 'The leak report is signed with a key this Gatehouse does not trust (Github-Public-Key-Identifier names no configured public key)',
  },
  LEAK_REPORT_SIGNATURE_INVALID: {
    status: 401,
    message: 'The leak report signature does not verify: it must be an ECDSA P-256 SHA-256 signature, base64 DER, of the raw request body',
  },
  WEBHOOK_URL_INVALID: {
    status: 422,
    message: 'The webhook URL must be an http:// or https:// URL with a host and no user name or password',
  },
  SSO_ISSUER_INVALID: {
    status: 422,
    message: "The issuer must be an https URL (http only on the loopback interface), exactly as the provider's id tokens name it in `iss`",
  },
  SSO_DISCOVERY_FAILED: {
    status: 502,
    message: "The provider's discovery document (ISSUER/.well-known/openid-configuration) could not be read or does not name this issuer: check the issuer URL",
  },
  SSO_SECRET_UNREADABLE: {
    status: 502,
    message: "The provider's client secret was sealed with another secret key: give every Gatehouse process the same GATEHOUSE_SECRET_KEY, or set the client secret again",
  },
  SSO_STATE_INVALID: {
    status: 400,
    message: 'This sign-in link has expired, was already used, or was started in another browser: start the sign-in again from the sign-in page',
  },
  SSO_PROVIDER_REFUSED: { status: 401, message: 'The identity provider refused the sign-in; ask your identity provider administrator' },
  SSO_TOKEN_REFUSED: {
    status: 401,
    message: "The identity provider's answer failed Gatehouse's checks (issuer, audience, nonce, signature or expiry), so no one was signed in",
  },
  SSO_EMAIL_UNVERIFIED: {
    status: 403,
    message: 'The identity provider does not say your email is verified (email_verified is not true): verify it at the provider, then sign in again',
  },
  SSO_DOMAIN_NOT_ALLOWED: {
    status: 403,
    message: "Your email's domain is not a verified domain of this account: ask an account Owner or Admin to invite you or to verify the domain",
  },
  SSO_LINK_REQUIRED: {
    status: 409,
    message: 'A Gatehouse user with this email already has access outside this account: sign in as that user first, then use "Link" on the Single sign-on page to link this provider',
  },
  SSO_PROVIDER_REQUIRED: {
    status: 422,
    message: 'Passwords can be turned off only while the account has an enabled identity provider: add one (and check it) first',
  },
  PASSWORD_SIGN_IN_DISABLED: {
    status: 403,
    message: 'An account you belong to requires single sign-on: sign in with its identity provider (the sign-in page offers it for your email)',
  },
  DOMAIN_INVALID: { status: 422, message: 'A domain is a DNS name such as example.com: letters, digits and hyphens in dot-separated labels' },
  DOMAIN_VERIFIED_ELSEWHERE: { status: 409, message: 'This domain is verified by another account; a domain is verified by one account only' },
  SCIM_TOKEN_INVALID: {
    status: 401,
    message: "Send a SCIM bearer token of this account (Authorization: Bearer scim_...): this one is missing, wrong, revoked or another account's. Create one on the account's SCIM page",
  },
  SCIM_INVALID_FILTER: { status: 400, message: 'The SCIM filter cannot be read or uses an attribute or operator this server does not filter on' },
  SCIM_INVALID_SYNTAX: { status: 400, message: 'The SCIM request body is not a SCIM resource or PATCH request (RFC 7644)' },
  SCIM_INVALID_VALUE: { status: 400, message: 'An attribute of the SCIM request has a value this server cannot take' },
  SCIM_INVALID_PATH: { status: 400, message: 'The SCIM PATCH path names no attribute this server knows' },
  SCIM_NO_TARGET: { status: 400, message: 'The SCIM PATCH path matches no value to change' },
  SCIM_MUTABILITY: { status: 400, message: 'The SCIM request changes an attribute this server does not let it change' },
  SCIM_UNIQUENESS: { status: 409, message: 'Another SCIM resource of this account already has this userName, externalId or displayName' },
  INTERNAL_ERROR: { status: 500, message: 'Internal error; the request id identifies it in the server log' },
  STORE_UNAVAILABLE: { status: 503, message: 'The database is unavailable; try again shortly' },
  NOT_READY: { status: 503, message: 'This Gatehouse process is not ready to serve requests' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An expected "no" from a domain service. `detail` overrides the catalog message when it helps. */
export interface Failure {
  ok: false;
  code: ErrorCode;
  detail?: string;
  /** Seconds before trying again makes sense (429). */
  retryAfter?: number;
}
export interface Success<T> {
  ok: true;
  value: T;
}
export type Result<T> = Success<T> | Failure;

export const ok = <T>(value: T): Success<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, detail?: string): Failure => ({ ok: false, code, detail });
