// Signing in and out with email and password, the caller's sessions, and password changes.
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AUTHENTICATED, PUBLIC } from '../../authz/requirements.js';
import { fail } from '../../errors.js';
import { Password, PasswordChange } from '../../domain/sessions/inputs.js';
import { noContent, opContext, page, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { filterBody, Nullable, Timestamp, Uuid } from '../schemas.js';
import { UserSchema } from './users.js';
import { clearSessionCookie, clientInfo, sessionBody, setSessionCookie } from '../session-cookie.js';

const SessionState = Type.Object({ user: UserSchema, csrf_token: Type.String(), expires_at: Timestamp });

export const SessionView = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  user_id: Uuid,
  ip_address: Nullable(Type.String()),
  location: Type.Null(),
  user_agent: Nullable(Type.String()),
  expires_at: Type.Integer({ description: 'Unix time, seconds' }),
  restricted: Type.Boolean(),
  current: Type.Boolean(),
});

export function sessionRoutes({ services, clock, publicUrl }: RouteDeps): RouteSpec[] {
  const { on } = routeShapes(clock, ['Sessions']);
  // A service account has no browser sessions.
  const listMine = async (req: FastifyRequest, body?: Parameters<typeof page>[0]) => {
    const actor = req.auth.actor!;
    if (actor.type !== 'user' || !actor.id) return [];
    const { limit, offset } = page(body);
    return (await services.sessions.list(actor.id, req.auth.sessionId)).slice(offset, offset + limit);
  };
  return [
    on('POST', '/api/auth/login', PUBLIC, 'Sign in with email and password; sets an HttpOnly session cookie and returns the CSRF token', {
      body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }), password: Password }, { additionalProperties: false }),
      response: { 200: SessionState },
      handler: async (req, reply) => {
        const { email, password } = req.body;
        const result = await services.sessions.login(email, password, clientInfo(req));
        if (!result.ok) return respond(req, reply, result);
        setSessionCookie(req, reply, result.value, publicUrl);
        const user = await services.users.get(result.value.user_id);
        if (!user.ok) return respond(req, reply, user);
        return { user: user.value, ...sessionBody(result.value) };
      },
    }),
    on('GET', '/api/auth/session', AUTHENTICATED, 'The signed-in user and the CSRF token of this session (401 when not signed in)', {
      response: { 200: SessionState },
      handler: async (req, reply) => {
        const { sessionId, csrfToken, actor } = req.auth;
        if (!sessionId || !csrfToken || !actor?.id) return respond(req, reply, fail('SESSION_REQUIRED'));
        const user = await services.users.get(actor.id);
        const expires = await services.sessions.expiresAt(sessionId);
        if (!user.ok || !expires) return respond(req, reply, fail('SESSION_REQUIRED'));
        reply.header('cache-control', 'no-store');
        return { user: user.value, csrf_token: csrfToken, expires_at: expires };
      },
    }),
    on('POST', '/api/auth/logout', AUTHENTICATED, 'Sign out: ends this session and clears its cookie', {
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        if (!req.auth.sessionId) return respond(req, reply, fail('SESSION_REQUIRED'));
        await services.sessions.logout(opContext(req, clock), req.auth.sessionId);
        clearSessionCookie(req, reply, publicUrl);
        return noContent(reply);
      },
    }),
    on('GET', '/api/me/sessions', AUTHENTICATED, "The caller's active browser sessions", {
      response: { 200: Type.Array(SessionView) },
      handler: (req) => listMine(req),
    }),
    on('POST', '/api/me/sessions/filter', AUTHENTICATED, "The caller's active browser sessions", {
      body: filterBody({}),
      response: { 200: Type.Array(SessionView) },
      handler: (req) => listMine(req, req.body),
    }),
    on('POST', '/api/me/sessions/:session_id/terminate', AUTHENTICATED, 'End one of the caller’s sessions; its cookie stops working at once', {
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const actor = req.auth.actor!;
        if (actor.type !== 'user' || !actor.id) return respond(req, reply, fail('NOT_FOUND', 'Session not found'));
        const { session_id } = req.params;
        return respond(req, reply, await services.sessions.terminate(opContext(req, clock), actor.id, session_id), 204);
      },
    }),
    on('POST', '/api/me/password', AUTHENTICATED, "Change the caller's password (the current one is required); the caller's other sessions end", {
      body: PasswordChange,
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const actor = req.auth.actor!;
        if (actor.type !== 'user' || !actor.id) return respond(req, reply, fail('NOT_FOUND', 'A service account has no password'));
                return respond(req, reply, await services.sessions.changePassword(opContext(req, clock), actor.id, req.body, req.auth.sessionId), 204);
      },
    }),
  ];
}

