// What a fuzzed request may get back: the statuses each route documents, and what no answer may
// ever hold (a 5xx, a stack trace, SQL or database error text, a body outside the error envelope).
import { ERRORS } from '../../src/errors.js';
import type { RouteSpec } from '../../src/http/route.js';

/**
 * Statuses any route may answer a malformed request with, whatever its schema says:
 * - 401, 403, 404, 422: registerRoutes (src/http/route.ts) adds them to every route's documented
 *   responses (no or bad key; missing permission or CSRF token; no such object or one in another
 *   account; a request that fails its schema);
 * - 400 (INVALID_JSON, BAD_REQUEST in src/errors.ts): a body that is not JSON, a NUL or broken
 *   percent-encoding in the URL — any route can be sent those before its schema is consulted.
 */
export const EVERY_ROUTE = [400, 401, 403, 404, 422] as const;

/** Only when the request carries a body: 413 PAYLOAD_TOO_LARGE and 415 UNSUPPORTED_MEDIA_TYPE. */
export const WITH_A_BODY = [413, 415] as const;

/** Only when the method is not one the path serves: 405 METHOD_NOT_ALLOWED (with `Allow`). */
export const WRONG_METHOD = 405;

/**
 * Only when the request presents a key that never worked from its address: 429 RATE_LIMITED, as
 * src/auth/key-throttle.ts answers an address past 30 such keys a minute (the fuzz sends hundreds).
 */
export const BAD_KEY = 429;

/**
 * Further statuses a route documents through the error catalog (src/errors.ts), beyond its
 * response schema and EVERY_ROUTE, each with the catalog codes that justify it. A route missing
 * here may answer only its schema's statuses and the ones above.
 */
export const ROUTE_EXTRAS: Record<string, { statuses: number[]; why: string }> = {
  'PATCH /api/users/:user_id': { statuses: [409], why: 'USER_EMAIL_TAKEN, USER_HANDLE_TAKEN, EMAIL_VERIFICATION_UNAVAILABLE (the fuzzed server has no mail server)' },
  'POST /api/users/:user_id/email_change/confirm': { statuses: [409, 410], why: 'USER_EMAIL_TAKEN; EMAIL_CODE_EXPIRED' },
  'PATCH /api/accounts/:account_id': { statuses: [409], why: 'ACCOUNT_HANDLE_TAKEN' },
  'PATCH /api/accounts/:account_id/account_memberships/:account_membership_id': { statuses: [409], why: 'LAST_OWNER' },
  'DELETE /api/accounts/:account_id/account_memberships/:account_membership_id': { statuses: [409], why: 'LAST_OWNER' },
  'POST /api/accounts/:account_id/bots/': { statuses: [409], why: 'SERVICE_ACCOUNT_NAME_TAKEN' },
  'PATCH /api/accounts/:account_id/bots/:bot_id': { statuses: [409], why: 'SERVICE_ACCOUNT_NAME_TAKEN' },
  'POST /api/accounts/:account_id/bots/:bot_id/rotate_api_key': { statuses: [409], why: 'CONCURRENT_CHANGE (two rotations at once; the batch sends requests concurrently)' },
  'POST /api/accounts/:account_id/workspaces/': { statuses: [409], why: 'WORKSPACE_NAME_TAKEN, WORKSPACE_HANDLE_TAKEN' },
  'PATCH /api/accounts/:account_id/workspaces/:workspace_id': { statuses: [409], why: 'WORKSPACE_NAME_TAKEN, WORKSPACE_HANDLE_TAKEN' },
  'POST /api/accounts/:account_id/workspace_roles/': { statuses: [409], why: 'WORKSPACE_ROLE_NAME_TAKEN' },
  'PATCH /api/accounts/:account_id/workspace_roles/:workspace_role_id': { statuses: [409], why: 'WORKSPACE_ROLE_NAME_TAKEN' },
  'DELETE /api/accounts/:account_id/workspace_roles/:workspace_role_id': { statuses: [409], why: 'WORKSPACE_ROLE_IN_USE' },
  'POST /api/accounts/:account_id/workspaces/:workspace_id/user_access/': { statuses: [409], why: 'CONCURRENT_CHANGE (two grants at once)' },
  'POST /api/accounts/:account_id/workspaces/:workspace_id/bot_access/': { statuses: [409], why: 'CONCURRENT_CHANGE (two grants at once)' },
  'PUT /api/accounts/:account_id/workspaces/:workspace_id/gateway': { statuses: [409], why: 'CONCURRENT_CHANGE (two first settings at once)' },
  'POST /api/accounts/:account_id/teams/': { statuses: [409], why: 'TEAM_NAME_TAKEN' },
  'PUT /api/accounts/:account_id/teams/:team_id': { statuses: [409], why: 'TEAM_NAME_TAKEN' },
  'PUT /api/accounts/:account_id/teams/:team_id/members': { statuses: [409], why: 'CONCURRENT_CHANGE (a member removed from the account meanwhile)' },
  'PUT /api/accounts/:account_id/workspaces/:workspace_id/team_access/': { statuses: [409], why: 'CONCURRENT_CHANGE (two grants at once)' },
  'POST /api/auth/login': { statuses: [429], why: 'RATE_LIMITED: the fuzz fails sign-in far more than the throttle allows' },
  'POST /api/me/password': { statuses: [429], why: 'RATE_LIMITED: the fuzz gives wrong current passwords far more than the throttle allows' },
  'POST /api/setup': { statuses: [409], why: 'SETUP_DONE: the fuzzed server has accounts' },
  'POST /api/accounts/:account_id/invitations/': { statuses: [409], why: 'ALREADY_MEMBER' },
  'POST /api/accounts/:account_id/invitations/:invitation_id/revoke': { statuses: [409], why: 'INVITATION_USED' },
  'POST /api/invitations/:invitation_id/accept': {
    statuses: [409, 410],
    why: 'INVITATION_USED, SIGN_IN_FIRST, EMAIL_NOT_VERIFIED, CONCURRENT_CHANGE; INVITATION_EXPIRED',
  },
};

export const routeKey = (route: Pick<RouteSpec, 'method' | 'url'>) => `${route.method} ${route.url}`;

/** What about a request widens the statuses it may get. */
export interface RequestTraits {
  hasBody: boolean;
  badKey: boolean;
}

/** The statuses a request to `route` may be answered with. */
export function allowedStatuses(route: RouteSpec, request: RequestTraits): Set<number> {
  const statuses = new Set<number>([...Object.keys(route.response).map(Number), ...EVERY_ROUTE, ...(ROUTE_EXTRAS[routeKey(route)]?.statuses ?? [])]);
  if (request.hasBody) for (const s of WITH_A_BODY) statuses.add(s);
  if (request.badKey) statuses.add(BAD_KEY);
  return statuses;
}

// ---------------------------------------------------------------------------------------------
// What no answer may contain. The fuzz never sends these markers itself (see hasMarkers), so
// finding one in an answer, even one echoing stored input, means the server produced it.

/** A JavaScript stack frame, or a path into the code or the runtime. */
export const STACK_TRACE = /\n\s+at |\bat \S+ \(|\S:\d+:\d+\)|node:internal|\/src\/|\/test\/|node_modules|file:\/\/|\.[cm]?[tj]s:\d+/;

/** SQL, or what SQLite, PostgreSQL, pg or Kysely say when a query fails. */
export const SQL_TEXT =
  /\bselect\b[^"]{0,200}\bfrom\b|\binsert into\b|\bupdate\b[^"]{0,100}\bset\b|\bdelete from\b|SQLITE_[A-Z]+|\bsqlite3?\b|\bpostgres(ql)?\b|syntax error at or near|violates [a-z -]*constraint|duplicate key value|relation "[^"]*" does not exist|no such (table|column)|UNIQUE constraint failed|invalid input syntax for|unterminated quoted|out of range for type|\bkysely\b|\bpg_[a-z]+/i;

export function hasMarkers(text: string): boolean {
  return STACK_TRACE.test(text) || SQL_TEXT.test(text);
}

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * Everything wrong with one answer, as short sentences (empty: the answer is fine). An answer to
 * HEAD has no body, so only its status is judged.
 */
export function problems(answer: Answer, allowed: ReadonlySet<number>, method = 'GET'): string[] {
  const out: string[] = [];
  const { status, body } = answer;
  if (status >= 500) out.push(`a ${status}`);
  else if (!allowed.has(status)) out.push(`status ${status} is not one this route documents (${[...allowed].sort((x, y) => x - y).join(', ')})`);
  if (STACK_TRACE.test(body)) out.push(`a stack trace or code path in the body (${STACK_TRACE.exec(body)![0]})`);
  if (SQL_TEXT.test(body)) out.push(`SQL or database error text in the body (${SQL_TEXT.exec(body)![0]})`);
  if (method === 'HEAD') return body ? [...out, 'an answer to HEAD with a body'] : out;
  if (status < 400) return out;
  // Every error is the envelope, with a catalog code whose status is the one sent.
  // SCIM endpoints answer application/scim+json (RFC 7644), the rest application/json.
  if (!/^application\/(scim\+)?json/.test(String(answer.headers['content-type'] ?? ''))) out.push(`error with content-type ${String(answer.headers['content-type'])}`);
  if (body.length > 20_000) out.push(`an error body of ${body.length} characters (it echoes the input)`);
  let parsed: { detail?: unknown; code?: unknown; request_id?: unknown };
  try {
    parsed = JSON.parse(body);
  } catch {
    return [...out, 'an error body that is not JSON'];
  }
  if (typeof parsed !== 'object' || parsed === null) return [...out, 'an error body that is not an object'];
  const code = parsed.code;
  if (typeof code !== 'string' || !(code in ERRORS)) out.push(`error code ${JSON.stringify(code)} is not in the catalog`);
  else if (ERRORS[code as keyof typeof ERRORS].status !== status) out.push(`error code ${code} sent with status ${status}`);
  if (typeof parsed.request_id !== 'string' || !parsed.request_id) out.push('an error without request_id');
  if (typeof parsed.detail !== 'string' && !Array.isArray(parsed.detail)) out.push('an error without a detail');
  return out;
}
