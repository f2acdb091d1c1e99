// How a caller presents itself, read the same way at every door: a Bearer key in the Authorization
// header, or a session cookie whose state-changing requests carry the session's CSRF token.
import { constantTimeEqual } from '../domain/secrets.js';

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

/** The key in an Authorization header: null without the header, '' when it is not `Bearer KEY`. */
export function bearerKey(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  return BEARER.exec(header)?.[1] ?? '';
}

/** Methods a cross-site page can make a browser send with cookies but that change nothing. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request made with a session cookie may go on: a safe method, or the session's CSRF
 * token in X-CSRF-Token (a cross-site page can make the browser send the cookie, not the header).
 */
export function csrfHolds(method: string, sent: unknown, sessionCsrfToken: string | null): boolean {
  if (SAFE_METHODS.has(method)) return true;
  return typeof sent === 'string' && sessionCsrfToken !== null && constantTimeEqual(sent, sessionCsrfToken);
}
