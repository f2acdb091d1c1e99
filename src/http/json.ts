// Request bodies: JSON only. An empty body is "no body" (Terraform sends empty filter bodies);
// anything that is not JSON is a 400 that says where it broke.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, type ValidationItem } from './error-envelope.js';

/**
 * The path to the first string (value or key) holding U+0000, or null. PostgreSQL cannot store
 * that character in text, so it is refused for every store alike, before any query sees it.
 */
function nulAt(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulAt(value[i], [...path, i]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) return [...path, key];
      const found = nulAt(child, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

const NUL_MESSAGE = 'must not contain the NUL character (\\u0000)';

/** Deeper than any body the API takes; far below what validation and serialization can recurse. */
export const MAX_BODY_DEPTH = 64;

/** Whether arrays and objects in JSON text nest deeper than `limit` (one linear pass, no recursion). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return false;
}

/**
 * A NUL in the path or query would reach the store from the auth hook, before any validation:
 * the error to answer with, checked first on every request (app.ts).
 */
export function urlError(request: FastifyRequest): HttpError | undefined {
  return request.url.includes('%00') ? new HttpError('BAD_REQUEST', `The URL ${NUL_MESSAGE}`) : undefined;
}

/**
 * The content types read as JSON: application/json and any application/…+json, with or without
 * parameters (`; charset=utf-8`, which many clients send; JSON is UTF-8 whatever it says).
 * Fastify tests a pattern against the whole header, parameters included.
 */
export const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;.*)?$/i;

/** A JSON request body read: undefined for an empty one, the error to answer with when it cannot be. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) {
    const item: ValidationItem = { loc: ['body'], msg: `nests arrays and objects more than ${MAX_BODY_DEPTH} levels deep`, type: 'depth' };
    return new HttpError('VALIDATION_FAILED', [item]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The parser's own message can quote the body, which may hold a secret: keep the position only.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = position ? ` (near character ${position})` : '';
    return new HttpError('INVALID_JSON', `The request body is not valid JSON${where}; send a JSON object`);
  }
  // Only an escaped \u0000 can put a NUL in parsed JSON (a raw one is a syntax error).
  const nul = text.includes('\\u0000') ? nulAt(parsed) : null;
  if (nul) {
    const item: ValidationItem = { loc: ['body', ...nul], msg: NUL_MESSAGE, type: 'nul_character' };
    return new HttpError('VALIDATION_FAILED', [item]);
  }
  return parsed;
}

export function installJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (_request, body, done) => {
    const parsed = parseJsonBody(String(body));
    if (parsed instanceof HttpError) return done(parsed, undefined);
    done(null, parsed);
  });
  // A form, only where a route asks for one (an OAuth token endpoint): elsewhere a form post is
  // refused like any other type, which also keeps cross-site form posts out.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    const text = String(body);
    if (!request.routeOptions.config?.formBody) {
      if (text.trim() === '') return done(null, undefined);
      return done(new HttpError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as JSON with Content-Type: application/json'), undefined);
    }
    const fields: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(text)) {
      if (Object.hasOwn(fields, name)) {
        return done(new HttpError('VALIDATION_FAILED', [{ loc: ['body', name], msg: 'is given more than once', type: 'duplicate' }]), undefined);
      }
      if (name.includes('\u0000') || value.includes('\u0000')) {
        return done(new HttpError('VALIDATION_FAILED', [{ loc: ['body', name], msg: NUL_MESSAGE, type: 'nul_character' }]), undefined);
      }
      fields[name] = value;
    }
    done(null, fields);
  });
  // Any other declared type: refuse rather than guess, unless the body is empty.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    if (String(body).trim() === '') return done(null, undefined);
    done(new HttpError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as JSON with Content-Type: application/json'), undefined);
  });
}
