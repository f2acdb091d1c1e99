// Forwarding one HTTP request to a workspace's Prefect server: method, path, query and body go
// through unchanged (a small body read whole, a large one streamed), the caller's credentials
// stay behind, the upstream credential and the request id are added. Connecting and waiting for an
// answer are bounded, so a dead or slow upstream is a 502/504 naming the workspace, never a hang.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import type { Upstream } from '../domain/gateways/service.js';

/** Headers that describe one connection, not the request (RFC 9110 §7.6.1), plus proxy-only ones. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  // Node answers a caller's Expect: 100-continue itself; the body is sent on without waiting.
  'expect',
]);

/** The caller's credentials for Gatehouse, which the upstream must never see. */
const CALLER_ONLY = new Set(['authorization', 'cookie', 'x-csrf-token']);

/**
 * What a caller may claim about where a request came from: the upstream hears it from Gatehouse
 * alone (the X-Forwarded-For/-Proto/-Host it sets), never the caller's own claims.
 */
const CLIENT_CLAIMS = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'x-forwarded-server', 'x-real-ip', 'x-request-id']);

/** What Gatehouse vouches for about a request: the client address it trusts, the public scheme and host. */
export interface ForwardedFor {
  address: string;
  proto: string;
  host: string;
}

const NO_TOKENS: ReadonlySet<string> = new Set();

/** Headers named in Connection, which belong to that connection only. */
function connectionTokens(headers: IncomingHttpHeaders): ReadonlySet<string> {
  const value = headers.connection;
  // Nearly always absent, or one token that is hop-by-hop already: no set to build per request.
  if (typeof value !== 'string' || value === 'keep-alive' || value === 'close') return NO_TOKENS;
  return new Set(value.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, upstream: Upstream, requestId: string, client: ForwardedFor): OutgoingHttpHeaders {
  const named = connectionTokens(incoming);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || CALLER_ONLY.has(name) || CLIENT_CLAIMS.has(name) || named.has(name) || name === '__proto__') continue;
    out[name] = value;
  }
  out['x-forwarded-for'] = client.address;
  out['x-forwarded-proto'] = client.proto;
  out['x-forwarded-host'] = client.host;
  out['x-request-id'] = requestId;
  out.host = upstream.url.host;
  if (upstream.basicAuthorization !== null) out.authorization = upstream.basicAuthorization;
  return out;
}

export function downstreamResponseHeaders(incoming: IncomingHttpHeaders, rewriteLocation: (location: string) => string): Record<string, string | string[]> {
  const named = connectionTokens(incoming);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || name === '__proto__') continue;
    out[name] = name === 'location' && typeof value === 'string' ? rewriteLocation(value) : value;
  }
  return out;
}

/**
 * A Location that points into the upstream (Starlette's trailing-slash redirect is absolute, on the
 * upstream host) is turned into the same place behind the gateway, so a client following it keeps
 * going through Gatehouse and never sends its key to the upstream.
 */
export function locationRewriter(upstream: URL, publicBase: string): (location: string) => string {
  const base = `${upstream.origin}${basePath(upstream)}`;
  return (location) => {
    let target: URL;
    try {
      target = new URL(location, `${base}/`);
    } catch {
      return location;
    }
    const absolute = `${target.origin}${target.pathname}`;
    if (absolute === base || absolute.startsWith(`${base}/`)) return `${publicBase}${absolute.slice(base.length)}${target.search}`;
    return location;
  };
}

/** An upstream URL's path to put before a Prefect path: '' for a server at the root (`http://h:4200`), never '/'. */
export function basePath(upstream: URL): string {
  return upstream.pathname === '/' ? '' : upstream.pathname;
}

export interface ForwardRequest {
  upstream: Upstream;
  method: string;
  /** Path (still percent-encoded, as the caller sent it) and query after the workspace prefix. */
  pathAndQuery: string;
  headers: OutgoingHttpHeaders;
  /** The body: the caller's stream, or bytes already read. */
  body: Readable | Buffer | null;
}

/** The upstream's answer: a small one read whole, a large or open-ended one as a stream. */
export type ForwardResult =
  | { ok: true; status: number; headers: IncomingHttpHeaders; body: Buffer | Readable }
  | { ok: false; failure: 'unreachable' | 'timeout' | 'broken'; cause: string };

type Attempt = ForwardResult | { ok: false; failure: 'unreachable'; cause: string; retryable: true };

export interface Forwarder {
  forward(request: ForwardRequest): Promise<ForwardResult>;
  /** Closes the pooled connections once the requests on them have finished. */
  close(): Promise<void>;
}

/** Answers up to this size are read whole rather than streamed: a Prefect API answer almost always is. */
export const SMALL_BODY = 64 * 1024;

/**
 * Forwards over one keep-alive pool per upstream (undici: about half the CPU per request of
 * node:http's client). Connecting and waiting for an answer are bounded, so a dead or slow
 * upstream is a 502/504, never a hang; an answer that stops mid-way is cut off after the same wait.
 */
export function createForwarder({ connectTimeoutMs, responseTimeoutMs }: { connectTimeoutMs: number; responseTimeoutMs: number }): Forwarder {
  const agent = new Agent({
    connections: 256,
    connect: { timeout: connectTimeoutMs },
    headersTimeout: responseTimeoutMs,
    bodyTimeout: responseTimeoutMs,
  });
  const waits = {
    connect: `could not connect within ${connectTimeoutMs / 1000} s`,
    answer: `no answer within ${responseTimeoutMs / 1000} s`,
    silent: `nothing more of it within ${responseTimeoutMs / 1000} s`,
  };

  function send(request: ForwardRequest): Promise<Attempt> {
    const { upstream, body } = request;
    return new Promise((resolve) => {
      agent.dispatch(
        {
          origin: upstream.url.origin,
          path: requestTarget(`${basePath(upstream.url)}${request.pathAndQuery}`),
          method: request.method,
          headers: request.headers as Record<string, string | string[]>,
          // The caller's stream goes through a pass-through: a failed upstream must not destroy it.
          body: body === null || Buffer.isBuffer(body) ? body : guarded(body),
        },
        new Exchange(request.method, resolve, waits),
      );
    });
  }

  return {
    /**
     * A pooled connection that the upstream closed just as the request went out is retried once
     * on a new one, when the body can be sent again (none, or already read).
     */
    async forward(request) {
      const first = await send(request);
      if (first.ok || !('retryable' in first) || !(request.body === null || Buffer.isBuffer(request.body))) return first;
      return send(request);
    },
    close: () => agent.close(),
  };
}

/** The caller's body stream as undici may use it: destroying this one leaves the caller's request alone. */
function guarded(body: Readable): Readable {
  const through = new PassThrough();
  body.on('error', (error) => through.destroy(error));
  return body.pipe(through);
}

/** One request's answer as undici delivers it: read whole when small, else handed on as a stream. */
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private stream: Readable | null = null;
  private ended = false;
  private settled = false;

  constructor(
    private readonly method: string,
    private readonly resolve: (result: Attempt) => void,
    private readonly waits: { connect: string; answer: string; silent: string },
  ) {}

  /** Present so that undici treats this as a handler of its current kind. */
  onRequestStart(): void {}

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the answer follows
    this.status = statusCode;
    this.headers = headers;
    if (answeredWhole(this.method, statusCode, headers)) return;
    this.stream = new Readable({
      read: () => controller.resume(),
      destroy: (error, done) => {
        if (!this.ended) controller.abort(error ?? new Error('the caller went away'));
        done(error);
      },
    });
    this.settle({ ok: true, status: statusCode, headers, body: this.stream });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.stream === null) this.chunks.push(chunk);
    else if (!this.stream.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.ended = true;
    if (this.stream !== null) this.stream.push(null);
    else this.settle({ ok: true, status: this.status, headers: this.headers, body: this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.stream !== null) return void this.stream.destroy(error);
    const code = (error as NodeJS.ErrnoException).code;
    if (this.status !== 0) return this.settle({ ok: false, failure: 'broken', cause: this.brokenOff(code, error) });
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return this.settle({ ok: false, failure: 'timeout', cause: this.waits.connect });
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return this.settle({ ok: false, failure: 'timeout', cause: this.waits.answer });
    // Closed by the upstream before any answer, on a connection that had answered before: the
    // upstream dropped an idle connection just as this request went out on it.
    const socket = (error as { socket?: { bytesRead?: number } }).socket;
    const stale = code === 'UND_ERR_SOCKET' && (socket?.bytesRead ?? 0) > 0;
    this.settle(stale ? { ok: false, failure: 'unreachable', cause: describeNetworkError(error), retryable: true } : { ok: false, failure: 'unreachable', cause: describeNetworkError(error) });
  }

  /** Why an answer whose head had arrived did not arrive whole. */
  private brokenOff(code: string | undefined, error: Error): string {
    if (code === 'UND_ERR_BODY_TIMEOUT') return this.waits.silent;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return 'the connection was closed before the answer was complete';
    return describeNetworkError(error);
  }

  private settle(result: Attempt): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(result);
  }
}

/** An answer with no body, or a small one of known length: read whole, written to the caller in one go. */
function answeredWhole(method: string, status: number, headers: IncomingHttpHeaders): boolean {
  if (method === 'HEAD' || status === 204 || status === 304) return true;
  const length = headers['content-length'];
  return headers['transfer-encoding'] === undefined && typeof length === 'string' && Number(length) <= SMALL_BODY;
}

/** The path as sent, or percent-encoded as a URL would be when it holds what HTTP does not allow raw. */
function requestTarget(path: string): string {
  if (/^[\x21\x22\x24-\x7e]*$/.test(path)) return path;
  const url = new URL(path, 'http://upstream');
  return `${url.pathname}${url.search}`;
}

function describeNetworkError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the Prefect server running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'its host name does not resolve';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'the connection was closed before an answer came';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'its network cannot be reached';
    default:
      return error.code ? `${error.code}` : 'the connection failed';
  }
}
