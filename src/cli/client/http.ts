// The client commands' only way to change anything: Gatehouse's HTTP API, with a Bearer key. Turns
// transport failures and error bodies into messages that say what went wrong; never mentions the key.
// Paths, bodies and answers are typed from the generated api/types.d.ts (npm run gen:api-types);
// the import is type-only, so nothing of it is in the built CLI.
import type { paths } from '../../../api/types.js';

export const DEFAULT_URL = 'http://127.0.0.1:4280';
const PAGE = 200;
const TIMEOUT_MS = 60_000;

/** An answer other than 2xx, with the server's `detail` as it was sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly code: string | null,
    readonly hint?: string,
  ) {
    super(`${detail} (HTTP ${status})${hint ? `: ${hint}` : ''}`);
  }
}

/** The server's address without a trailing slash or `/api`; a usage error when it is not http(s). */
export function normalizeUrl(given: string): string | null {
  const url = URL.parse(given);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null;
  if (url.search || url.hash) return null;
  return `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/api$/, '')}`;
}

/** Request fields the CLI fills from an argument or flag, named as the person typed them. */
const FIELD_WORDS: Record<string, string> = {
  name: 'the name',
  handle: 'HANDLE',
  description: '--description',
  api_key_expiration: '--expires',
  old_key_expires_in_seconds: '--keep-old-key-hours',
  upstream_url: '--upstream',
  upstream_auth_string: 'the upstream auth string',
};

function describeLocation(loc: unknown[]): string {
  const [where, ...field] = loc.map(String);
  const path = field.join('.');
  return where === 'body' && Object.hasOwn(FIELD_WORDS, path) ? FIELD_WORDS[path]! : loc.join('.');
}

function describeDetail(body: unknown, fallback: string): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: { loc?: unknown[]; msg?: string }) => (item?.loc?.length ? `${describeLocation(item.loc)}: ${item.msg ?? ''}` : (item?.msg ?? JSON.stringify(item))))
      .join('; ');
  }
  return fallback;
}

/**
 * The API's messages for codes whose advice names an API field or body ("send null …"), in the
 * CLI's words: the flag or command to use instead. The code itself is kept (see --json).
 */
const CLI_WORDS: Record<string, string> = {
  EXPIRATION_IN_PAST: 'The expiration must be in the future: give a later --expires date, or --never-expire for a key that never expires',
  GRACE_PERIOD_TOO_LONG: '--keep-old-key-hours must be a whole number from 0 to 48',
  GATEWAY_NOT_CONFIGURED: 'This workspace has no Prefect server behind it yet; set one with: gatehouse workspace set ACCOUNT/WORKSPACE --upstream URL',
  FORBIDDEN: "The profile's key may not do this: its role lacks the permission (gatehouse whoami shows who the key is)",
  UNKNOWN_WORKSPACE_ROLE: 'No such workspace role in this account; gatehouse workspace-access grant --help lists the built-in ones',
  UNKNOWN_SERVICE_ACCOUNT: 'No such service account in this account; gatehouse service-account ls lists them',
  UNKNOWN_USER: 'No such user in this account; they must be a member of the account first',
  LAST_WORKSPACE_OWNER: 'A workspace must keep at least one Owner: grant someone else the Owner role on it first (gatehouse workspace-access grant --user EMAIL --role Owner)',
  CONCURRENT_CHANGE: 'Another change to the same thing happened at the same moment; run the command again',
};

export function cliWords(code: string | null, detail: string): string {
  return (code !== null && Object.hasOwn(CLI_WORDS, code) ? CLI_WORDS[code] : undefined) ?? detail;
}

export class GatehouseApi {
  constructor(
    readonly url: string,
    private readonly key: string,
    /** What a 401 means for this caller and what to do about it. */
    private readonly unauthorizedHint: string,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        // A redirect would carry the request somewhere the user did not name; report it instead.
        redirect: 'manual',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new Error(`cannot reach Gatehouse at ${this.url} (${why}); is the server running there? Give its address with --url`);
    }
    if (res.status >= 300 && res.status < 400) {
      throw new Error(`${this.url} answered ${method} ${path} with a redirect to ${res.headers.get('location') ?? '(nowhere)'}; give the final address with --url`);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      if (res.ok) throw new Error(`${this.url} answered ${method} ${path} with something other than JSON; is --url the address of a Gatehouse server?`);
    }
    if (!res.ok) {
      const code = (parsed as { code?: unknown } | undefined)?.code;
      const known = typeof code === 'string' ? code : null;
      const detail = cliWords(known, describeDetail(parsed, `${res.status} ${res.statusText}`));
      throw new ApiError(res.status, detail, known, res.status === 401 ? this.unauthorizedHint : undefined);
    }
    return parsed as T;
  }

  get<P extends PathOf<'get'>>(path: P, ...params: ParamArgs<Op<'get', P>>): Promise<Answer<'get', P>> {
    return this.request('GET', fill(path, params[0]));
  }

  post<P extends PathOf<'post'>>(path: P, params: PathParams<Op<'post', P>>, body: Body<Op<'post', P>>): Promise<Answer<'post', P>> {
    return this.request('POST', fill(path, params), body);
  }

  put<P extends PathOf<'put'>>(path: P, params: PathParams<Op<'put', P>>, body: Body<Op<'put', P>>): Promise<Answer<'put', P>> {
    return this.request('PUT', fill(path, params), body);
  }

  patch<P extends PathOf<'patch'>>(path: P, params: PathParams<Op<'patch', P>>, body: Body<Op<'patch', P>>): Promise<Answer<'patch', P>> {
    return this.request('PATCH', fill(path, params), body);
  }

  delete<P extends PathOf<'delete'>>(path: P, params: PathParams<Op<'delete', P>>): Promise<Answer<'delete', P>> {
    return this.request('DELETE', fill(path, params));
  }

  /** Every item of a Prefect-style filter route, page by page. */
  async filterAll<P extends FilterPath>(path: P, params: PathParams<Op<'post', P>>, filter?: Body<Op<'post', P>>): Promise<Answer<'post', P>> {
    const url = fill(path, params);
    const all: unknown[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.request<unknown>('POST', url, { ...filter, limit: PAGE, offset });
      if (!Array.isArray(page)) throw new Error(`${this.url} answered POST ${url} with something other than a list`);
      all.push(...page);
      if (page.length < PAGE) return all as Answer<'post', P>;
    }
  }
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The API's path templates that answer this method, such as '/api/accounts/{account_id}/bots/'. */
type PathOf<M extends Method> = { [P in keyof paths]: paths[P] extends Record<M, object> ? P : never }[keyof paths];
type FilterPath = Extract<PathOf<'post'>, `${string}/filter`>;
type Op<M extends Method, P> = P extends keyof paths ? (M extends keyof paths[P] ? NonNullable<paths[P][M]> : never) : never;
type PathParams<O> = O extends { parameters: { path: infer A } } ? A : Record<string, never>;
type ParamArgs<O> = O extends { parameters: { path: infer A } } ? [params: A] : [];
/** The JSON body a route takes; null for a route that takes none (sent as JSON null, as the server expects). */
type Body<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : null;
type Json<R> = R extends { content: { 'application/json': infer J } } ? J : undefined;

/** What a route answers on success (200, 201 or 204), as api/types.d.ts declares it. */
export type Answer<M extends Method, P extends PathOf<M>> = Op<M, P> extends { responses: infer R } ? Json<R[Extract<keyof R, 200 | 201 | 204>]> : never;

/** The path template with its {parameters} filled in, each encoded as one path segment. */
function fill(template: string, params: object = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent((params as Record<string, string>)[name]));
}
