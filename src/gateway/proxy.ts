// Forwarding one HTTP request to a workspace's Prefect server: method, path, query and body go
// through unchanged (the body streamed), the caller's credentials stay behind, the upstream
// credential and the request id are added. Connecting and waiting for an answer are bounded, so a
// dead or slow upstream is a 502/504 naming the workspace, never a hang.
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
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
]);

/** The caller's credentials for Gatehouse, which the upstream must never see. */
const CALLER_ONLY = new Set(['authorization', 'cookie', 'x-csrf-token']);

function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  return new Set((typeof value === 'string' ? value : '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, upstream: Upstream, requestId: string, clientAddress: string): OutgoingHttpHeaders {
  const named = connectionTokens(incoming);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || CALLER_ONLY.has(name) || named.has(name)) continue;
    if (name === 'x-request-id' || name === 'x-forwarded-for') continue;
    out[name] = value;
  }
  const forwardedFor = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = typeof forwardedFor === 'string' && forwardedFor ? `${forwardedFor}, ${clientAddress}` : clientAddress;
  out['x-request-id'] = requestId;
  out.host = upstream.url.host;
  if (upstream.basicAuthorization !== null) out.authorization = upstream.basicAuthorization;
  return out;
}

export function downstreamResponseHeaders(incoming: IncomingHttpHeaders, rewriteLocation: (location: string) => string): Record<string, string | string[]> {
  const named = connectionTokens(incoming);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
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
  const base = `${upstream.origin}${upstream.pathname}`;
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

export interface ForwardRequest {
  upstream: Upstream;
  method: string;
  /** Path (still percent-encoded, as the caller sent it) and query after the workspace prefix. */
  pathAndQuery: string;
  headers: OutgoingHttpHeaders;
  /** The body: the caller's stream, or bytes already read. */
  body: Readable | Buffer | null;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

export type ForwardResult =
  | { ok: true; response: IncomingMessage }
  | { ok: false; failure: 'unreachable' | 'timeout'; cause: string };

// One keep-alive pool per protocol for all upstreams: a worker's every request goes this way.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

/**
 * Sends the request and resolves with the upstream's response head, or why there is none. A pooled
 * connection that the upstream closed just as the request went out is retried once on a new one,
 * when the body can be sent again (none, or already read).
 */
export async function forward(request: ForwardRequest): Promise<ForwardResult> {
  const first = await send(request);
  if (first.ok || !first.retryable || !(request.body === null || Buffer.isBuffer(request.body))) return first;
  return send(request);
}

function send(request: ForwardRequest): Promise<ForwardResult & { retryable?: boolean }> {
  const { upstream } = request;
  const https_ = upstream.url.protocol === 'https:';
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: ForwardResult & { retryable?: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      resolve(result);
    };
    // Options rather than a URL object: this runs for every proxied request.
    const outgoing = (https_ ? https : http).request({
      protocol: upstream.url.protocol,
      hostname: upstream.url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: upstream.url.port || (https_ ? 443 : 80),
      path: requestTarget(`${upstream.url.pathname}${request.pathAndQuery}`),
      method: request.method,
      headers: request.headers,
      agent: agents[https_ ? 'https:' : 'http:'],
    });
    const connectTimer = setTimeout(() => {
      outgoing.destroy();
      settle({ ok: false, failure: 'timeout', cause: `could not connect within ${request.connectTimeoutMs / 1000} s` });
    }, request.connectTimeoutMs);
    outgoing.on('socket', (socket) => {
      // A pooled socket is connected already; a new one reports when it is.
      if (!socket.connecting) return void clearTimeout(connectTimer);
      socket.once(https_ ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    // One idle timeout on the connection covers both waits: for the answer once the request is
    // sent, and within a streaming answer. The pool resets it when the connection is free again.
    let response: IncomingMessage | undefined;
    outgoing.setTimeout(request.responseTimeoutMs, () => {
      if (response) return void response.destroy(new Error('upstream went silent'));
      outgoing.destroy();
      settle({ ok: false, failure: 'timeout', cause: `no answer within ${request.responseTimeoutMs / 1000} s` });
    });
    outgoing.on('response', (answer) => {
      response = answer;
      settle({ ok: true, response: answer });
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      const stale = outgoing.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      settle({ ok: false, failure: 'unreachable', cause: describeNetworkError(error), retryable: stale });
    });
    if (request.body === null) outgoing.end();
    else if (Buffer.isBuffer(request.body)) outgoing.end(request.body);
    else {
      request.body.on('error', () => outgoing.destroy());
      request.body.pipe(outgoing);
    }
  });
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
      return 'connection refused (is the Prefect server running at that address?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'its host name does not resolve';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the connection was closed before an answer came';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'its network cannot be reached';
    default:
      return error.code ? `${error.code}` : 'the connection failed';
  }
}
