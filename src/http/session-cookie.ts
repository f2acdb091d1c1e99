// The session cookie: HttpOnly (scripts cannot read it), SameSite=Lax, Secure when people reach
// Gatehouse over https (the public URL's scheme; without one, https from a trusted proxy).
// Read and written here alone (with the `cookie` package), so requests made with a key carry no
// cookie machinery: no hook parses or writes cookies on every request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseCookie, stringifySetCookie, type SetCookie } from 'cookie';
import type { NewSession } from '../domain/sessions/service.js';
import type { PublicUrl } from './public-url.js';

export const SESSION_COOKIE = 'gatehouse_session';

/** The session token the browser sent, if any. */
export function sessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header ? parseCookie(header)[SESSION_COOKIE] : undefined;
}

function setCookie(reply: FastifyReply, value: string, secure: boolean, options: Partial<SetCookie>): void {
  const attributes = { httpOnly: true, sameSite: 'lax', secure, path: '/' } as const;
  reply.header('set-cookie', stringifySetCookie({ name: SESSION_COOKIE, value, ...attributes, ...options }));
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: NewSession, publicUrl: PublicUrl): void {
  // The session's own lifetime, from the clock that issued it (not this process's wall clock).
  const maxAge = Math.max(0, Math.floor((new Date(session.expires_at).getTime() - new Date(session.issued_at).getTime()) / 1000));
  setCookie(reply, session.token, publicUrl.secure(request), { maxAge });
  reply.header('cache-control', 'no-store');
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, publicUrl: PublicUrl): void {
  setCookie(reply, '', publicUrl.secure(request), { maxAge: 0, expires: new Date(0) });
}

/** What a sign-in answers: never the cookie's token itself. */
export const sessionBody = (session: NewSession) => ({
  user_id: session.user_id,
  csrf_token: session.csrf_token,
  expires_at: session.expires_at,
});

export const clientInfo = (request: FastifyRequest) => ({
  ip: request.ip ?? null,
  userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
});
