// The session cookie: HttpOnly (scripts cannot read it), SameSite=Lax, Secure when served over TLS.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from './auth.js';
import type { NewSession } from '../domain/sessions/service.js';

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: NewSession): void {
  // The session's own lifetime, from the clock that issued it (not this process's wall clock).
  const maxAge = Math.max(0, Math.floor((new Date(session.expires_at).getTime() - new Date(session.issued_at).getTime()) / 1000));
  reply.setCookie(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    path: '/',
    maxAge,
  });
  reply.header('cache-control', 'no-store');
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https', path: '/' });
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
