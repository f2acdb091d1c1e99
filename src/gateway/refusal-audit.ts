// The gateway's refusals, counted for the audit trail (domain/audit/refusals.ts aggregates and
// writes them). Only access decisions count: a missing or bad credential, a throttled address, no
// access to the workspace, a missing scope, an unknown route, the IP allowlist, a CSRF failure; not
// a bad path, a large body or upstream trouble. The route is the route table's template, never the
// raw path; the detail is the public one the caller was told, with anything key-shaped removed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../domain/context.js';
import type { RefusalDoor, RefusalRecorder } from '../domain/audit/refusals.js';
import { ERRORS, type ErrorCode } from '../errors.js';
import { redactSecrets } from '../http/log-redaction.js';
import { matchRoute } from './match.js';

export const AUDITED_REFUSALS: ReadonlySet<string> = new Set<ErrorCode>([
  'UNAUTHENTICATED', 'RATE_LIMITED', 'NOT_FOUND', 'FORBIDDEN', 'GATEWAY_ROUTE_UNKNOWN', 'IP_NOT_ALLOWED', 'CSRF_FAILED',
]);

/** `GET /flows/{id:uuid}`, or `GET unknown` when no route of the table matches. */
export function routeLabel(method: string, apiPath: string): { method: string; route: string } {
  const upper = method.toUpperCase().slice(0, 10);
  const match = apiPath ? matchRoute(upper, apiPath) : null;
  return { method: upper, route: match && 'route' in match ? match.route.path : 'unknown' };
}

export interface RefusedRequest {
  via: RefusalDoor;
  code: string;
  detail?: string;
  accountId?: string | null;
  workspaceId?: string | null;
  actor?: Actor | null;
  address: string;
  method: string;
  apiPath: string;
  requestId: string;
}

export function noteRefusal(recorder: RefusalRecorder | undefined, refused: RefusedRequest): void {
  if (!recorder || !AUDITED_REFUSALS.has(refused.code)) return;
  recorder.note({
    via: refused.via,
    code: refused.code,
    status: ERRORS[refused.code as ErrorCode].status,
    accountId: refused.accountId?.toLowerCase(),
    workspaceId: refused.workspaceId?.toLowerCase(),
    actor: refused.actor,
    address: refused.address,
    ...routeLabel(refused.method, refused.apiPath),
    requestId: refused.requestId,
    detail: refused.detail === undefined ? undefined : redactSecrets(refused.detail),
  });
}

const REFUSAL_STATUSES = new Set([401, 403, 404, 429]);

/**
 * The error envelope Gatehouse itself answered, read back from the serialized payload in onSend:
 * null for any other answer (an upstream's answer is a Buffer or a stream, never a string here).
 */
export function refusalIn(reply: FastifyReply, payload: unknown): { code: string; detail?: string } | null {
  if (!REFUSAL_STATUSES.has(reply.statusCode) || typeof payload !== 'string') return null;
  try {
    const body = JSON.parse(payload) as { code?: unknown; detail?: unknown };
    if (typeof body.code !== 'string') return null;
    return { code: body.code, detail: typeof body.detail === 'string' ? body.detail : undefined };
  } catch {
    return null;
  }
}

/** Who was refused: the caller the auth hook let in (a later scope check refused it), or the one it refused with a good credential. */
export const refusedActor = (req: FastifyRequest): Actor | null => req.auth?.actor ?? req.auth?.refusedActor ?? null;
