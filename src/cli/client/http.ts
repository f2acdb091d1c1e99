// The client commands' only way to change anything: Gatehouse's HTTP API, with a Bearer key. Turns
// transport failures and error bodies into messages that say what went wrong; never mentions the key.

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

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
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

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  /** Every item of a Prefect-style filter route, page by page. */
  async filterAll<T>(path: string, filter: Record<string, unknown> = {}): Promise<T[]> {
    const all: T[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.post<T[]>(path, { ...filter, limit: PAGE, offset });
      if (!Array.isArray(page)) throw new Error(`${this.url} answered POST ${path} with something other than a list`);
      all.push(...page);
      if (page.length < PAGE) return all;
    }
  }
}
