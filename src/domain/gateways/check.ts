// "Does anything answer where the gateway forwards?": asks a workspace's Prefect server for
// `<upstream>/health` (Prefect answers `true`, with or without a credential), then `<upstream>/version`
// with the stored credential, since Prefect's auth string guards every path but /health and /ready.
// Every outcome is a sentence a person can act on; the credential never appears in one.
import { Agent, type Dispatcher } from 'undici';
import type { Upstream } from './service.js';

export interface UpstreamCheck {
  /** True when Prefect's API answered at the URL and took the stored credential (or needed none). */
  reachable: boolean;
  /** The HTTP status of the answer the detail is about; null when none came. */
  status_code: number | null;
  elapsed_ms: number;
  upstream_url: string;
  detail: string;
}

export interface CheckOptions {
  /** The whole check (both requests) must be over by then. */
  timeoutMs: number;
  /** The CLI command that sets the credential again, for the detail when the upstream refuses it. */
  setCredentialHint: string;
}

/** Read of an answer's body: enough for `true` or a version string, never a whole page. */
const BODY_LIMIT = 4096;

interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

export async function checkUpstream(upstream: Upstream, options: CheckOptions): Promise<UpstreamCheck> {
  const started = performance.now();
  const base = `${upstream.url.origin}${upstream.url.pathname === '/' ? '' : upstream.url.pathname}`;
  const where = hostAndPort(upstream.url);
  const seconds = `${Math.round(options.timeoutMs / 100) / 10} s`;
  const agent = new Agent({ connect: { timeout: options.timeoutMs }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const done = (reachable: boolean, status: number | null, detail: string): UpstreamCheck => ({
    reachable,
    status_code: status,
    elapsed_ms: Math.round(performance.now() - started),
    upstream_url: base,
    detail,
  });

  const get = async (path: string): Promise<Answer> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (upstream.basicAuthorization !== null) headers.authorization = upstream.basicAuthorization;
    const res = await agent.request({ origin: upstream.url.origin, path: `${base.slice(upstream.url.origin.length)}${path}`, method: 'GET', headers, signal: deadline });
    const location = res.headers.location;
    return { status: res.statusCode, location: typeof location === 'string' ? location : undefined, body: await readSome(res.body) };
  };

  try {
    let health: Answer;
    try {
      health = await get('/health');
    } catch (error) {
      return done(false, null, deadline.aborted ? `No answer from ${where} within ${seconds}: is the address right, and does nothing (a firewall) stop Gatehouse from reaching it?` : networkDetail(error, upstream.url, where));
    }
    const healthUrl = `${base}/health`;
    const refused = (status: number, at: string) =>
      done(
        false,
        status,
        upstream.authString === null
          ? `The upstream asks for a credential (${status} at ${at}) and none is stored: set Prefect's auth string (its PREFECT_SERVER_API_AUTH_STRING) with \`${options.setCredentialHint}\` or on the Workspaces page`
          : `The upstream refused the stored credential (${status} at ${at}): set it again with \`${options.setCredentialHint}\` or on the Workspaces page`,
      );
    if (health.status === 401 || health.status === 403) return refused(health.status, healthUrl);
    if (health.status === 404) return done(false, 404, `Nothing answers at ${healthUrl} (404): does the URL end with /api?`);
    if (health.status >= 300 && health.status < 400) {
      return done(false, health.status, `${healthUrl} answered with a redirect (${health.status}${health.location ? ` to ${health.location}` : ''}): set the upstream URL to where Prefect's API is served, which usually ends with /api`);
    }
    if (health.status >= 500) return done(false, health.status, `The server at ${base} answered ${health.status} at /health: it is running but failing; its log says why`);
    if (health.status !== 200) return done(false, health.status, `${healthUrl} answered ${health.status}, not Prefect's health answer: does the URL end with /api?`);
    if (health.body.trim() !== 'true') {
      return done(false, 200, `Something answered at ${healthUrl}, but not Prefect's API (which answers true there): does the URL end with /api?`);
    }

    // /health answers without a credential: /version tells whether the stored one is taken.
    let version: Answer;
    try {
      version = await get('/version');
    } catch (error) {
      return done(false, null, deadline.aborted ? `Prefect answered at ${healthUrl}, but ${base}/version did not answer within ${seconds}` : networkDetail(error, upstream.url, where));
    }
    if (version.status === 401 || version.status === 403) return refused(version.status, `${base}/version`);
    if (version.status !== 200) return done(true, 200, `Prefect answered at ${healthUrl}; ${base}/version answered ${version.status}, so the credential could not be checked`);
    const name = prefectVersion(version.body);
    const credential = upstream.authString === null ? 'no credential is stored and none was asked for' : 'it accepted the stored credential';
    return done(true, 200, `Prefect${name ? ` ${name}` : ''} answered at ${base}: ${credential}`);
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

/** The start of a body as text; the rest is thrown away unread. */
async function readSome(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= BODY_LIMIT) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8');
}

/** Prefect's /version answers a JSON string ("3.1.4"); anything else is not shown. */
function prefectVersion(body: string): string | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'string' && /^[0-9A-Za-z.+-]{1,40}$/.test(value) ? value : null;
  } catch {
    return null;
  }
}

function hostAndPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

function networkDetail(error: unknown, url: URL, where: string): string {
  const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return `Connection refused at ${where}: is the Prefect server running, and listening on that address and port?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The host name ${url.hostname} does not resolve from Gatehouse's machine: check its spelling, or use an address that machine can reach`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `The network of ${where} cannot be reached from Gatehouse's machine`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return `${where} closed the connection without answering: is it an HTTP server, and is the scheme (${url.protocol.replace(':', '')}) right?`;
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `No answer from ${where} in time: is the address right, and does nothing (a firewall) stop Gatehouse from reaching it?`;
    default:
      if (typeof code === 'string' && /CERT|TLS|SSL/.test(code)) return `The TLS connection to ${where} failed (${code}): Gatehouse does not trust the server's certificate`;
      return `Could not reach ${where}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
}
