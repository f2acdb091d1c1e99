// The error envelope: `{"detail", "code", "request_id"}`, FastAPI-style. The public message comes
// from the catalog; the internal cause goes to the log only.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, type ErrorCode, type Failure } from '../errors.js';

export interface ValidationItem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export function errorBody(request: FastifyRequest, code: ErrorCode, detail?: string | ValidationItem[]) {
  return { detail: detail ?? ERRORS[code].message, code, request_id: String(request.id) };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, detail?: string | ValidationItem[]) {
  return reply.code(ERRORS[code].status).type('application/json').send(errorBody(request, code, detail));
}

export function sendFailure(request: FastifyRequest, reply: FastifyReply, failure: Failure) {
  if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter));
  return sendError(request, reply, failure.code, failure.detail);
}

/** Raised from hooks and parsers to answer with a catalog error. */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string | ValidationItem[],
    /** Seconds, for a 429: sent as Retry-After. */
    readonly retryAfter?: number,
  ) {
    super(typeof detail === 'string' ? detail : ERRORS[code].message);
  }
}

function validationItems(error: FastifyError): ValidationItem[] {
  const where = error.validationContext ?? 'body';
  return (error.validation ?? []).map((v) => {
    const path = v.instancePath.split('/').filter(Boolean);
    const params = v.params as Record<string, unknown>;
    const field = params.missingProperty ?? params.additionalProperty;
    const loc = [where, ...path, ...(field ? [String(field)] : [])];
    let msg = v.message ?? 'is not valid';
    if (v.keyword === 'additionalProperties') msg = `unknown field "${String(field)}"`;
    if (v.keyword === 'required') msg = `field required`;
    return { loc, msg, type: v.keyword };
  });
}

/**
 * Retry-After on STORE_UNAVAILABLE, in seconds: a failover behind Patroni and HAProxy takes a few
 * seconds (docs/high-availability.md), and clients that honour the header (Prefect's) come back then.
 */
export const STORE_RETRY_AFTER_S = 2;

export function installErrorHandling(
  app: FastifyInstance,
  isStoreUnavailable: (error: unknown) => boolean,
  /** Answers paths outside the API (the web page); returns false to fall through. */
  fallback?: (request: FastifyRequest, reply: FastifyReply) => boolean,
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
      return sendError(request, reply, error.code, error.detail);
    }
    if (error.validation) {
      const items = validationItems(error);
      // Union schemas (one object or an array) report every branch; keep the first useful few.
      return sendError(request, reply, 'VALIDATION_FAILED', items.slice(0, 20));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(request, reply, 'PAYLOAD_TOO_LARGE', `The request body is larger than the limit of ${request.routeOptions.bodyLimit ?? 'the server'} bytes`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(request, reply, 'UNSUPPORTED_MEDIA_TYPE');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(request, reply, 'BAD_REQUEST', error.message);
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(request, reply, 'BAD_REQUEST', error.message);
    }
    if (isStoreUnavailable(error)) {
      request.log.error({ err: error }, 'store unavailable');
      reply.header('retry-after', String(STORE_RETRY_AFTER_S));
      return sendError(request, reply, 'STORE_UNAVAILABLE');
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(request, reply, 'INTERNAL_ERROR');
  });

  // A path that exists under other methods is a 405 with `Allow`, as FastAPI answers, not a 404.
  const paths: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (route) => {
    const source = normalPath(route.url ?? route.path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+');
    for (const method of [route.method].flat()) paths.push({ pattern: new RegExp(`^${source}$`), method });
  });

  app.setNotFoundHandler((request, reply) => {
    if (fallback?.(request, reply)) return reply;
    const path = request.url.split('?')[0];
    const allowed = [...new Set(paths.filter((p) => p.pattern.test(normalPath(path))).map((p) => p.method))];
    if (allowed.length) {
      reply.header('allow', allowed.join(', '));
      return sendError(request, reply, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`);
    }
    return sendError(request, reply, 'ROUTE_NOT_FOUND', `No route ${request.method} ${path}; GET /api/openapi.json lists the routes`);
  });
}

/** Router-equivalent form of a path: no duplicate or trailing slashes (both forms are served). */
function normalPath(path: string): string {
  return path.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
}
