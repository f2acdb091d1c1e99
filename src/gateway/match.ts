// Finds the route-table entry a gateway request is for, matching the way the Prefect server
// (uvicorn + Starlette) will route the same request, and works out the scopes it needs.
//
// The gateway forwards the raw path; uvicorn percent-decodes it once and Starlette matches the
// decoded path against the routes in order. So we decode once the same way and match the decoded
// path, and refuse every path whose meaning could differ between us and the upstream: an encoded
// '/', a backslash, dot segments, empty segments, control characters, malformed percent-encoding.

import { ROUTE_TABLE, type FieldScope, type FieldUse, type GatewayRoute } from './route-table.js';

import type { Failure } from '../errors.js';
export type { FieldScope, FieldUse, GatewayRoute, RouteMethod } from './route-table.js';

export interface RouteMatch {
  route: GatewayRoute;
  /** Path parameters, percent-decoded, by the names in the route's template. */
  params: Record<string, string>;
  /**
   * Set when only the path with its trailing slash toggled matches: the raw path (relative to the
   * API mount, still percent-encoded) to redirect to, as Starlette's redirect_slashes would. The
   * proxy answers that redirect itself (prefix + this + query) so it never points at the upstream.
   */
  redirectTo?: string;
}

/** A path refused outright: the catalog's GATEWAY_BAD_PATH, with what is wrong with it. */
export type BadPath = Failure & { code: 'GATEWAY_BAD_PATH'; detail: string };

// Starlette's path converters (starlette/convertors.py), as regular-expression fragments.
const CONVERTERS: Readonly<Record<string, string>> = {
  str: '[^/]+',
  path: '.*',
  int: '[0-9]+',
  float: '[0-9]+(?:\\.[0-9]+)?',
  uuid: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
};

interface CompiledRoute {
  route: GatewayRoute;
  regex: RegExp;
  names: string[];
}

function compile(route: GatewayRoute): CompiledRoute {
  const names: string[] = [];
  let source = '^';
  let last = 0;
  for (const m of route.path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}/g)) {
    const converter = CONVERTERS[m[2] ?? 'str'];
    if (converter === undefined) throw new Error(`route ${route.method} ${route.path}: unknown path converter "${m[2]}"`);
    source += escapeRegex(route.path.slice(last, m.index)) + `(${converter})`;
    names.push(m[1]);
    last = m.index + m[0].length;
  }
  source += `${escapeRegex(route.path.slice(last))}$`;
  return { route, regex: new RegExp(source), names };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const COMPILED: readonly CompiledRoute[] = ROUTE_TABLE.map(compile);

/** A path's first segment: `flows` for `/flows/{id}`. */
const firstSegment = (path: string) => path.slice(1).split('/', 1)[0];

/** A route template's first segment, or null when it holds a parameter. */
function head(template: string): string | null {
  const first = firstSegment(template);
  return first.includes('{') ? null : first;
}

/**
 * The routes a path can match, by method and first segment, each list still in table order: a
 * route whose first segment is literal can only match paths that start with it. Saves trying a
 * hundred expressions per request.
 */
const BY_HEAD = new Map<string, { literal: Map<string, CompiledRoute[]>; any: CompiledRoute[] }>();
for (const compiled of COMPILED) {
  let forMethod = BY_HEAD.get(compiled.route.method);
  if (!forMethod) BY_HEAD.set(compiled.route.method, (forMethod = { literal: new Map(), any: [] }));
  const literal = head(compiled.route.path);
  if (literal !== null && !forMethod.literal.has(literal)) forMethod.literal.set(literal, [...forMethod.any]);
  if (literal === null) {
    forMethod.any.push(compiled);
    for (const list of forMethod.literal.values()) list.push(compiled);
  } else forMethod.literal.get(literal)!.push(compiled);
}

function candidates(method: string, path: string): readonly CompiledRoute[] {
  const forMethod = BY_HEAD.get(method);
  if (!forMethod) return [];
  return forMethod.literal.get(firstSegment(path)) ?? forMethod.any;
}

/** The websocket routes; `matchRoute('WS', path)` finds them for an upgrade request. */
export const WEBSOCKET_ROUTES: readonly GatewayRoute[] = ROUTE_TABLE.filter((r) => r.method === 'WS');

/**
 * Decodes a raw request path the way uvicorn does (one round of %XX, UTF-8), refusing what the
 * upstream could read differently from us or what has no business in a Prefect path.
 */
export function decodeApiPath(raw: string): { path: string } | BadPath {
  if (!raw.startsWith('/')) return badPath("the path must start with '/'");
  if (/[^\x21-\x7e]/.test(raw)) return badPath('the path contains a space, control or non-ASCII character; percent-encode it');
  if (/%2f/i.test(raw)) return badPath("the path contains an encoded slash (%2F); Prefect names cannot contain '/'");
  // Starlette reads a backslash as a plain character, but a URL parser (ours, a proxy's) reads it as '/'.
  if (/\\|%5c/i.test(raw)) return badPath("the path contains a backslash ('\\' or %5C), which URL parsers read as '/'; address the object by its id");
  const path = raw.includes('%') ? percentDecoded(raw) : raw;
  if (typeof path !== 'string') return path;
  const segments = path.split('/').slice(1);
  for (const [i, segment] of segments.entries()) {
    if (segment === '' && i < segments.length - 1) return badPath("the path has an empty segment ('//')");
    if (segment === '.' || segment === '..') return badPath("the path has a '.' or '..' segment");
  }
  return { path };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** One round of %XX decoding, as UTF-8. */
function percentDecoded(raw: string): string | BadPath {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== '%') {
      bytes.push(raw.charCodeAt(i));
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return badPath(`the path has a malformed percent-encoding at "${raw.slice(i, i + 3)}"`);
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  let path: string;
  try {
    path = UTF8.decode(new Uint8Array(bytes));
  } catch {
    return badPath('the path percent-encodes bytes that are not UTF-8');
  }
  // Starlette's `$` would also match before a trailing newline; no control character is legitimate.
  if (/[\x00-\x1f\x7f]/.test(path)) return badPath('the path contains an encoded control character');
  return path;
}

function badPath(detail: string): BadPath {
  return { ok: false, code: 'GATEWAY_BAD_PATH', detail };
}

function find(method: string, path: string): RouteMatch | null {
  for (const { route, regex, names } of candidates(method, path)) {
    const m = regex.exec(path);
    if (m === null) continue;
    const params: Record<string, string> = {};
    names.forEach((name, i) => (params[name] = m[i + 1]));
    return { route, params };
  }
  return null;
}

function pathMatchesAnyHttpRoute(path: string): boolean {
  return COMPILED.some(({ route, regex }) => route.method !== 'WS' && regex.test(path));
}

/**
 * The route for `method` (an HTTP method, or 'WS' for a websocket upgrade) and `apiPath` (the raw
 * path after the workspace prefix, without the query, starting with '/'). The first route in
 * table order whose method and template match wins, as in Starlette; HEAD is matched as GET.
 * `null` when no route matches (the upstream would answer 404 or 405); a BadPath when the path
 * is refused outright.
 */
export function matchRoute(method: string, apiPath: string): RouteMatch | BadPath | null {
  const decoded = decodeApiPath(apiPath);
  if ('code' in decoded) return decoded;
  const wanted = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const exact = find(wanted, decoded.path);
  if (exact !== null) return exact;
  // Starlette redirects only HTTP requests whose path matches no route under any method.
  if (wanted === 'WS' || decoded.path === '/' || pathMatchesAnyHttpRoute(decoded.path)) return null;
  const toggle = (p: string) => (p.endsWith('/') ? p.slice(0, -1) : `${p}/`);
  // The toggled path cannot gain or lose an encoded slash, so toggling raw and decoded agree.
  const toggled = find(wanted, toggle(decoded.path));
  return toggled === null ? null : { ...toggled, redirectTo: toggle(apiPath) };
}

/** What the request carries that can change its scopes. */
export interface ScopeInputs {
  /** The request's query string, parsed. */
  query: URLSearchParams;
  /** The parsed JSON body; undefined when the request has no body. */
  body?: unknown;
  /** True when the body exists but is not visible (forward-auth) or is not valid JSON. */
  bodyUnknown?: boolean;
}

const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/** Pydantic's lax bool: true, false, or undefined when Pydantic would refuse the value (422). */
function laxBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value === 'string') {
    // ASCII-only case folding, as Pydantic compares: 'K' (Kelvin sign) must not become 'k'.
    const word = value.replace(/[A-Z]/g, (c) => c.toLowerCase());
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
  }
  return undefined;
}

/** The state types Prefect knows besides SCHEDULED (Pydantic matches enum values exactly). */
const NOT_SCHEDULED = new Set(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED', 'PAUSED', 'CANCELLING', 'PENDING']);

/**
 * Walks a parsed JSON value without recursion (a body may nest thousands of levels) and says
 * whether `found` holds for some object in it.
 */
function someObject(value: unknown, found: (object: Record<string, unknown>) => boolean): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (!Array.isArray(item) && found(item as Record<string, unknown>)) return true;
    // One at a time: spreading a list of a million items would overflow the call's arguments.
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push(child);
  }
  return false;
}

const REF_KEYS = ['$ref', '$dynamicRef', '$recursiveRef'];

/** A `$ref` that is not a fragment of the schema itself; a non-string one counts (unsure). */
const pointsOutside = (object: Record<string, unknown>) =>
  REF_KEYS.some((key) => Object.hasOwn(object, key) && !(typeof object[key] === 'string' && (object[key] as string).startsWith('#')));

/** Whether a present value (not undefined) uses the field in the sense of `when`. */
function uses(when: FieldUse, value: unknown): boolean {
  switch (when) {
    case 'true':
      // FastAPI gives a missing or null flag its default, false.
      return value !== null && laxBool(value) !== false;
    case 'given':
      return value !== null;
    case 'set':
      return true;
    case 'scheduled': {
      // A null state is the default (no state, or Pending on create); a required one is a 422.
      if (value === null) return false;
      const type = typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>).type : undefined;
      return !(typeof type === 'string' && NOT_SCHEDULED.has(type));
    }
    case 'hydrated':
      return someObject(value, (object) => Object.hasOwn(object, '__prefect_kind'));
    case 'remote_ref':
      return someObject(value, pointsOutside);
  }
}

/**
 * Whether the request uses the field. The body is read as FastAPI reads it, from the parsed
 * object, never from the text: `"deployment\u005fid"` is `deployment_id`, and of a repeated key
 * the last one counts in both JSON parsers. A body that cannot be seen or parsed, or that is not an
 * object where a field is wanted, uses every field (Prefect answers 422 to the latter, but a
 * mistake in our reading must not let a field through).
 */
function usesField(rule: FieldScope, inputs: ScopeInputs): boolean {
  if (rule.in === 'query') {
    // Starlette keeps the last value of a repeated query key.
    const values = inputs.query.getAll(rule.field);
    return values.length > 0 && uses(rule.when, values[values.length - 1]);
  }
  if (inputs.bodyUnknown) return true;
  const body = inputs.body;
  // No body, or JSON null: FastAPI uses every body field's default.
  if (body === undefined || body === null) return false;
  if (rule.field === '*') return uses(rule.when, body);
  if (typeof body !== 'object' || Array.isArray(body)) return true;
  const object = body as Record<string, unknown>;
  return Object.hasOwn(object, rule.field) && uses(rule.when, object[rule.field]);
}

/** Whether the route's scopes depend on the request body (the proxy then reads it before deciding). */
export const dependsOnBody = (route: GatewayRoute): boolean => (route.fieldScopes ?? []).some((rule) => rule.in === 'body');

/** The workspace scopes the request needs: the route's, plus those of every field it uses. */
export function requiredScopes(route: GatewayRoute, inputs: ScopeInputs): string[] {
  const scopes = [...route.scopes];
  for (const rule of route.fieldScopes ?? []) {
    if (!usesField(rule, inputs)) continue;
    for (const scope of rule.scopes) if (!scopes.includes(scope)) scopes.push(scope);
  }
  return scopes;
}
