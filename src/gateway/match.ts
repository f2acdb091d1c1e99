// Finds the route-table entry a gateway request is for, matching the way the Prefect server
// (uvicorn + Starlette) will route the same request, and works out the scopes it needs.
//
// The gateway forwards the raw path; uvicorn percent-decodes it once and Starlette matches the
// decoded path against the routes in order. So we decode once the same way and match the decoded
// path, and refuse every path whose meaning could differ between us and the upstream: an encoded
// '/', a backslash, dot segments, empty segments, control characters, malformed percent-encoding.

import { ROUTE_TABLE, type GatewayRoute } from './route-table.js';

export type { GatewayRoute, RouteMethod } from './route-table.js';

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

export interface BadPath {
  error: 'bad_path';
  detail: string;
}

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
  return { error: 'bad_path', detail };
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
 * `null` when no route matches (the upstream would answer 404 or 405); `bad_path` when the path
 * is refused outright.
 */
export function matchRoute(method: string, apiPath: string): RouteMatch | BadPath | null {
  const decoded = decodeApiPath(apiPath);
  if ('error' in decoded) return decoded;
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

/**
 * Whether the request may get secret block values. Only a value the server certainly reads as
 * false (or the flag's absence, default false) counts as "no": an unparseable value makes Prefect
 * answer 422, but if our reading of it were ever wrong the mistake would leak secrets, so it is
 * treated as a request for them.
 */
function asksForSecrets(route: GatewayRoute, inputs: ScopeInputs): boolean {
  if (route.secrets === 'query') {
    // Starlette keeps the last value of a repeated query key.
    const values = inputs.query.getAll('include_secrets');
    return values.length > 0 && laxBool(values[values.length - 1]) !== false;
  }
  if (route.secrets === 'body') {
    if (inputs.bodyUnknown) return true;
    const body = inputs.body;
    // No body, or JSON null: FastAPI uses every body field's default (include_secrets=false).
    if (body === undefined || body === null) return false;
    // A body that is not an object is a 422 upstream; treated as unknown all the same.
    if (typeof body !== 'object' || Array.isArray(body)) return true;
    const flag = (body as Record<string, unknown>).include_secrets;
    // FastAPI gives an embedded body field that is missing or null its default.
    return flag !== undefined && flag !== null && laxBool(flag) !== false;
  }
  return false;
}

/** The workspace scopes the request needs: the route's, plus see_secret_blocks when it asks for secrets. */
export function requiredScopes(route: GatewayRoute, inputs: ScopeInputs): string[] {
  const scopes = [...route.scopes];
  if (asksForSecrets(route, inputs) && !scopes.includes('see_secret_blocks')) scopes.push('see_secret_blocks');
  return scopes;
}
