// Websocket routes through the gateway (events/in, events/out, logs/out, the task-worker
// subscription, the worker channel). The caller proves itself with `Authorization: Bearer` on the
// upgrade, or with Prefect's first message `{"type":"auth","token":KEY}` on subprotocol `prefect`.
// The upstream socket is opened with the workspace's upstream credential, never the caller's key;
// then frames are relayed both ways. Access is checked again before each message the caller sends
// and every `recheckMs` while the socket lives, so a revoked key or role sends nothing more and
// loses even an idle socket within `recheckMs`. What a socket may cost in memory is bounded
// (WEBSOCKET_LIMITS): frames held before the upstream is open, frames not yet sent on, and sockets
// that have not proven a key yet.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import type { Services } from '../domain/services.js';
import type { Upstream } from '../domain/gateways/service.js';
import type { AuthCore } from '../auth/core.js';
import { bearerKey } from '../auth/credentials.js';
import { ERRORS, fail, type ErrorCode, type Failure } from '../errors.js';
import { STORE_RETRY_AFTER_S } from '../http/error-envelope.js';
import { decide, parseGatewayUri, type GatewayTarget } from './authorize.js';
import { matchRoute } from './match.js';
import { basePath } from './proxy.js';
import { metrics } from '../observability/metrics.js';
import type { Actor } from '../domain/context.js';
import type { RefusalRecorder } from '../domain/audit/refusals.js';
import { noteRefusal } from './refusal-audit.js';

export interface WebsocketOptions {
  services: Services;
  auth: AuthCore;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  /** How often a live socket's access is checked again (default 5 s). */
  recheckMs?: number;
  /** The client's address as GATEHOUSE_TRUST_PROXY reads it (default: the connection's). */
  clientAddress?: (request: IncomingMessage) => string;
  /** Where a failed upgrade and upstream trouble are logged (with the upstream's address). */
  log: FastifyBaseLogger;
  /** WEBSOCKET_LIMITS, some replaced (tests use small ones). */
  limits?: Partial<WebsocketLimits>;
  /** Starts the span of a socket's open and runs `handle` (the upgrade) under it (tracing/tracing.ts). */
  traceOpen?: (request: IncomingMessage, socket: Duplex, handle: (opening: WebsocketOpening) => void) => void;
  /** The store's "cannot serve now" test: such an upgrade failure is a 503, not a 500. */
  isStoreUnavailable?: (error: unknown) => boolean;
  /** Counts refused upgrades and auth messages for the audit trail; absent, none are. */
  refusals?: RefusalRecorder;
}

/** One socket's open, as its tracer hears it: from the upgrade request until relaying starts or it is refused. */
export interface WebsocketOpening {
  /** Refused with this HTTP status (or websocket close code) and catalog code. */
  refused(status: number, code: string): void;
  /** The upstream accepted Gatehouse's credential: frames are relayed from now on. */
  opened(): void;
  /** Ended before it opened, for this reason (upstream trouble, the caller leaving). */
  failed(reason: string): void;
  /** Puts this open's `traceparent` on the upstream upgrade request's headers. */
  inject(headers: Record<string, string>): void;
}

export interface WebsocketLimits {
  maxFrameBytes: number;
  maxPendingBytes: number;
  maxPendingMessages: number;
  maxPendingBytesTotal: number;
  relayHighWaterBytes: number;
  authMessageTimeoutMs: number;
  maxAwaitingAuth: number;
  maxAwaitingAuthPerAddress: number;
}

const MiB = 1024 * 1024;

/** What one socket, and all of them together, may cost (docs/execution-environments.md, section 4). */
export const WEBSOCKET_LIMITS: Readonly<WebsocketLimits> = {
  // The largest frame either way. Prefect refuses an event over 1.5 MB of JSON
  // (PREFECT_SERVER_EVENTS_MAXIMUM_SIZE_BYTES) and a log over 1 MB, and its clients read at most
  // 1 MiB per message (the websockets library's default max_size): 4 MiB holds the largest event
  // with room to spare, where uvicorn's 16 MiB default let one frame cost 16 MiB.
  maxFrameBytes: 4 * MiB,
  // Frames a client sends before the upstream socket is open are held. Prefect's Cloud-mode events
  // client sends without waiting, and after a reconnect resends the events it has not checkpointed
  // (fewer than 700, about 1 KB each): 4 MiB and 1,000 frames hold that, or one largest frame.
  maxPendingBytes: 4 * MiB,
  maxPendingMessages: 1_000,
  // All sockets together: many sockets to a slow upstream cannot make the process hold more.
  maxPendingBytesTotal: 64 * MiB,
  // While relaying, reading from one side pauses when the other side has this much not yet sent.
  relayHighWaterBytes: 1 * MiB,
  // Prefect's clients send the auth message right after the handshake and one ping.
  authMessageTimeoutMs: 5_000,
  // Sockets that have not sent their auth message, so have proven no key: a legitimate one spends
  // milliseconds in that state, so these caps only bite on sockets opened and left silent.
  maxAwaitingAuth: 1_000,
  maxAwaitingAuthPerAddress: 50,
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Close codes (RFC 6455): policy violation for refusals, internal error for upstream trouble. */
const POLICY = 1008;
const UPSTREAM_TROUBLE = 1011;
const TRY_AGAIN_LATER = 1013;

type Access = { ok: true; upstream: Upstream } | (Failure & { actor?: Actor });

export function installWebsocketGateway(server: FastifyInstance, options: WebsocketOptions): void {
  const limits: WebsocketLimits = { ...WEBSOCKET_LIMITS, ...options.limits };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    handleProtocols: (protocols) => (protocols.has('prefect') ? 'prefect' : false),
  });
  const live = new Set<WebSocket>();
  /** Sockets waiting for their auth message, in all and per client address. */
  const awaiting = { total: 0, byAddress: new Map<string, number>() };
  /** Bytes held for all sockets whose upstream is not open yet. */
  let pendingTotal = 0;

  const handle = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(request, socket, head).catch((error) => {
      options.log.error({ err: error }, 'websocket gateway failed');
      const unavailable = options.isStoreUnavailable?.(error) ?? false;
      refuse(socket, unavailable ? { ...fail('STORE_UNAVAILABLE'), retryAfter: STORE_RETRY_AFTER_S } : fail('INTERNAL_ERROR'), randomUUID());
    });
  };
  const { traceOpen } = options;
  server.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!traceOpen) return handle(request, socket, head);
    traceOpen(request, socket, (opening) => {
      openings.set(socket, opening);
      handle(request, socket, head);
    });
  });
  server.addHook('onClose', async () => {
    for (const client of live) client.close(1001, 'Gatehouse is shutting down');
    wss.close();
  });

  /**
   * Who the key is and whether it may open this socket in this workspace. `opening` (the upgrade
   * request) is given when the socket opens: that is the key's use noted, not each recheck.
   */
  async function access(key: string, target: GatewayTarget, address: string, opening?: IncomingMessage): Promise<Access> {
    const outcome = await options.auth.authenticateKey(key, address);
    if (!outcome.ok) return outcome;
    if (opening) options.auth.noteKeyUse(outcome.value, { address, userAgent: opening.headers['user-agent'] }, null);
    const actor = outcome.value;
    const access = await options.auth.workspaceScopes(actor, target.accountId, target.workspaceId, address);
    if (!access.ok) return { ...access, actor };
    const scopes = access.value;
    if (!scopes) return { ...fail('NOT_FOUND', 'Workspace not found'), actor };
    const verdict = decide({ method: 'WS', apiPath: target.apiPath, query: target.query, scopes, body: 'unseen' });
    if (verdict.kind === 'deny') return { ...fail(verdict.code, verdict.detail), actor };
    if (verdict.kind !== 'allow') return { ...fail('FORBIDDEN'), actor };
    if (opening) options.auth.noteKeyUse(outcome.value, { address, userAgent: opening.headers['user-agent'] }, target.workspaceId);
    const lookup = await options.services.gateways.upstream(target.workspaceId);
    if (!lookup.ok) return lookup;
    return { ok: true, upstream: lookup.value };
  }

  /** A refused socket, counted for the audit trail (gateway/refusal-audit.ts). */
  function audit(failure: Failure & { actor?: Actor }, target: GatewayTarget, address: string, requestId: string): void {
    noteRefusal(options.refusals, {
      via: 'websocket',
      code: failure.code,
      detail: failure.detail,
      accountId: target.accountId,
      workspaceId: target.workspaceId,
      actor: failure.actor ?? null,
      address,
      method: 'WS',
      apiPath: target.apiPath,
      requestId,
    });
  }

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const given = request.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const parsed = parseGatewayUri(request.url ?? '/', {});
    if (!parsed.ok) return refuse(socket, fail('ROUTE_NOT_FOUND', 'No websocket route here'), requestId);
    const target = parsed.value;
    // Which route, before anything else: an unknown one is refused for everyone. A path the
    // upstream could read differently (backslash, dot segment, encoded slash) is refused here too.
    const address = options.clientAddress?.(request) ?? request.socket.remoteAddress ?? '';
    const known = matchRoute('WS', target.apiPath);
    if (known === null) {
      const unknown = fail('GATEWAY_ROUTE_UNKNOWN', `Gatehouse has no websocket route ${target.apiPath} in its table, so it refuses it for every role`);
      audit(unknown, target, address, requestId);
      return refuse(socket, unknown, requestId);
    }
    if ('code' in known) return refuse(socket, known, requestId);

    const key = bearerKey(request.headers.authorization);
    if (key !== null) {
      const granted = await access(key, target, address, request);
      if (!granted.ok) {
        audit(granted, target, address, requestId);
        return refuse(socket, granted, requestId);
      }
      const url = upstreamSocketUrl(granted.upstream.url, target.rawPathAndQuery);
      if (url === null) return refuse(socket, fail('GATEWAY_BAD_PATH', UNSENDABLE), requestId);
      wss.handleUpgrade(request, socket, head, (client) => relay(client, { key, target, upstream: granted.upstream, url, answerAuth: false, address, requestId, opening: openings.get(socket) }));
      return;
    }
    const protocols = String(request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes('prefect')) {
      const missing = fail('UNAUTHENTICATED', 'Send the API key as Authorization: Bearer, or use subprotocol "prefect" and an auth message');
      audit(missing, target, address, requestId);
      return refuse(socket, missing, requestId);
    }
    const fromAddress = awaiting.byAddress.get(address) ?? 0;
    if (fromAddress >= limits.maxAwaitingAuthPerAddress) {
      return refuse(socket, fail('RATE_LIMITED', `Too many websockets from this address (${fromAddress}) have not sent their auth message yet; send it right after connecting`), requestId);
    }
    if (awaiting.total >= limits.maxAwaitingAuth) {
      return refuse(socket, fail('GATEWAY_BUSY', 'Too many websockets are waiting for their auth message; try again shortly'), requestId);
    }
    // handleUpgrade calls back synchronously, so the count cannot pass its cap in between.
    wss.handleUpgrade(request, socket, head, (client) => {
      awaiting.total += 1;
      awaiting.byAddress.set(address, fromAddress + 1);
      let waiting = true;
      const stopWaiting = () => {
        if (!waiting) return;
        waiting = false;
        awaiting.total -= 1;
        const left = (awaiting.byAddress.get(address) ?? 1) - 1;
        if (left > 0) awaiting.byAddress.set(address, left);
        else awaiting.byAddress.delete(address);
      };
      // A socket told to go still counts until it has gone (or ws gives up on its close handshake).
      client.once('close', stopWaiting);
      // Shutting down closes it too, rather than waiting for its auth message or its timeout.
      live.add(client);
      client.once('close', () => live.delete(client));
      const timer = setTimeout(() => client.close(POLICY, `No auth message within ${limits.authMessageTimeoutMs / 1000} s`), limits.authMessageTimeoutMs);
      client.once('message', async (data) => {
        clearTimeout(timer);
        stopWaiting();
        const key = authToken(data);
        const granted = key === null ? fail('UNAUTHENTICATED', 'The first message must be {"type":"auth","token":KEY}') : await access(key, target, address, request);
        if (!granted.ok) {
          openings.get(socket)?.refused(POLICY, granted.code);
          audit(granted, target, address, requestId);
          return client.close(POLICY, closeReason(granted.detail ?? ERRORS[granted.code].message));
        }
        const url = upstreamSocketUrl(granted.upstream.url, target.rawPathAndQuery);
        if (url === null) return client.close(POLICY, closeReason(UNSENDABLE));
        relay(client, { key: key!, target, upstream: granted.upstream, url, answerAuth: true, address, requestId, opening: openings.get(socket) });
      });
    });
  }

  /** Logs upstream trouble for the operator: the caller is told only that it happened, and the id. */
  function upstreamTrouble(requestId: string, target: GatewayTarget, upstream: Upstream, what: string, extra: Record<string, unknown> = {}): string {
    options.log.warn({ reqId: requestId, workspaceId: target.workspaceId, upstream: `${upstream.url.origin}${upstream.url.pathname}`, path: target.apiPath, ...extra }, `gateway websocket: ${what}`);
    return `${capitalize(what)} (request id ${requestId})`;
  }

  function relay(client: WebSocket, socket: RelayTarget): void {
    const { key, target, upstream, url, answerAuth, address, requestId } = socket;
    live.add(client);
    metrics.websocketOpened(client);
    // Frames checked and waiting for the upstream to open; `held` counts those and the frames still
    // waiting for their access check, per socket (and `pendingTotal` for all sockets).
    const pending: { data: RawData; binary: boolean; size: number }[] = [];
    const held = { count: 0, bytes: 0 };
    let ready = false;
    const headers: Record<string, string> = { 'x-request-id': requestId };
    if (upstream.basicAuthorization !== null) headers.authorization = upstream.basicAuthorization;
    socket.opening?.inject(headers);
    const up = new WebSocket(url, ['prefect'], { headers, handshakeTimeout: options.connectTimeoutMs, maxPayload: limits.maxFrameBytes });

    const release = (size: number) => {
      held.count -= 1;
      held.bytes -= size;
      pendingTotal -= size;
    };
    const releaseAll = () => {
      pendingTotal -= held.bytes;
      held.count = 0;
      held.bytes = 0;
      pending.length = 0;
    };
    const end = (code: number, reason: string) => {
      socket.opening?.failed(String(code));
      clearInterval(recheck);
      clearTimeout(authTimer);
      releaseAll();
      live.delete(client);
      for (const socket of [client, up]) {
        if (socket.readyState === WebSocket.OPEN) socket.close(code, closeReason(reason));
        else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      }
    };
    const authTimer = setTimeout(
      () => end(UPSTREAM_TROUBLE, upstreamTrouble(requestId, target, upstream, "the workspace's Prefect server did not answer in time")),
      options.connectTimeoutMs + options.responseTimeoutMs,
    );
    const recheck = setInterval(async () => {
      try {
        const still = await access(key, target, address);
        if (!still.ok) end(POLICY, 'Access revoked');
      } catch {
        end(UPSTREAM_TROUBLE, 'Access could not be checked');
      }
    }, options.recheckMs ?? 5_000);

    // Each message is checked before it is relayed, in arrival order: once a call revoking the key
    // has returned, nothing more reaches the Prefect server (the periodic check only closes idle sockets).
    let relayed = Promise.resolve();
    client.on('message', (data, binary) => {
      const size = byteLength(data);
      // Held until it has passed its access check and, before the upstream is open, until then. A
      // caller that outruns the checks once relaying is paused, so only a frame or so more arrives.
      const perSocket = ready ? limits.maxPendingBytes + limits.maxFrameBytes : limits.maxPendingBytes;
      if ((!ready && held.count >= limits.maxPendingMessages) || held.bytes + size > perSocket) {
        return end(POLICY, ready ? `More than ${perSocket / MiB} MiB sent faster than Gatehouse could check them` : `More than ${limits.maxPendingMessages} frames or ${limits.maxPendingBytes / MiB} MiB sent before the Prefect server was ready`);
      }
      if (pendingTotal + size > limits.maxPendingBytesTotal) return end(TRY_AGAIN_LATER, 'Gatehouse holds too many frames for sockets not yet open; try again shortly');
      held.count += 1;
      held.bytes += size;
      pendingTotal += size;
      if (ready && held.bytes >= limits.relayHighWaterBytes && !client.isPaused) client.pause();
      relayed = relayed.then(async () => {
        if (!live.has(client)) return;
        const still = await access(key, target, address).catch(() => null);
        if (!live.has(client)) return;
        if (!still?.ok) return end(still ? POLICY : UPSTREAM_TROUBLE, still ? 'Access revoked' : 'Access could not be checked');
        if (!ready) return void pending.push({ data, binary, size });
        release(size);
        forward(client, up, data, binary, limits.relayHighWaterBytes);
        if (client.isPaused && held.bytes < limits.relayHighWaterBytes && up.bufferedAmount < limits.relayHighWaterBytes) client.resume();
      });
    });
    up.on('open', () => up.send(JSON.stringify({ type: 'auth', token: upstream.authString })));
    up.once('message', (data) => {
      clearTimeout(authTimer);
      let reply: { type?: string } | null = null;
      try {
        reply = JSON.parse(data.toString());
      } catch {}
      if (reply?.type !== 'auth_success') return end(UPSTREAM_TROUBLE, upstreamTrouble(requestId, target, upstream, 'the Prefect server refused the upstream credential'));
      ready = true;
      socket.opening?.opened();
      if (answerAuth) client.send(JSON.stringify({ type: 'auth_success' }));
      for (const message of pending) {
        release(message.size);
        forward(client, up, message.data, message.binary, limits.relayHighWaterBytes);
      }
      pending.length = 0;
      up.on('message', (message, binary) => forward(up, client, message, binary, limits.relayHighWaterBytes));
    });
    up.on('unexpected-response', (_req, res) => end(UPSTREAM_TROUBLE, upstreamTrouble(requestId, target, upstream, `the Prefect server answered the upgrade with ${res.statusCode}`)));
    up.on('error', (error: NodeJS.ErrnoException) => end(UPSTREAM_TROUBLE, upstreamTrouble(requestId, target, upstream, "the workspace's Prefect server could not be reached", { cause: error.code ?? error.message })));
    client.on('error', () => end(1000, ''));
    up.on('close', (code, reason) => end(sendable(code), reason.toString()));
    client.on('close', (code, reason) => end(sendable(code), reason.toString()));
  }
}

/** What relay() needs about one socket the caller may open. */
interface RelayTarget {
  key: string;
  target: GatewayTarget;
  upstream: Upstream;
  url: URL;
  answerAuth: boolean;
  address: string;
  requestId: string;
  /** The span of this socket's open, when tracing. */
  opening?: WebsocketOpening;
}

/** The span of each socket being opened, when tracing; refuse() ends it with the refusal. */
const openings = new WeakMap<Duplex, WebsocketOpening>();

const UNSENDABLE = 'The path or query has characters a URL parser would change (percent-encode them), so it cannot be sent on as it is';

/**
 * The upstream's websocket URL: its base path and the caller's path and query as sent, joined as
 * text (the path was checked by decodeApiPath). Null when parsing the text as a URL, which the
 * websocket client does, would change any of it: nothing the caller sends is resolved or rewritten.
 */
export function upstreamSocketUrl(upstream: URL, rawPathAndQuery: string): URL | null {
  const wanted = `${basePath(upstream)}${rawPathAndQuery.endsWith('?') ? rawPathAndQuery.slice(0, -1) : rawPathAndQuery}`;
  let url: URL;
  try {
    url = new URL(`${upstream.protocol === 'https:' ? 'wss:' : 'ws:'}//${upstream.host}${wanted}`);
  } catch {
    return null;
  }
  return `${url.pathname}${url.search}` === wanted ? url : null;
}

/**
 * Sends a frame on, and stops reading from its sender while the receiver has more than
 * `highWater` bytes not yet written, until the frames sent so far have gone out.
 */
function forward(from: WebSocket, to: WebSocket, data: RawData, binary: boolean, highWater: number): void {
  to.send(data, { binary }, () => {
    if (from.isPaused && to.bufferedAmount < highWater) from.resume();
  });
  if (to.bufferedAmount >= highWater && !from.isPaused) from.pause();
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The key in Prefect's auth message, or null when the message is not one. */
function authToken(data: RawData): string | null {
  try {
    const message = JSON.parse(data.toString()) as { type?: unknown; token?: unknown };
    return message.type === 'auth' && typeof message.token === 'string' ? message.token : null;
  } catch {
    return null;
  }
}

/** 1005/1006 are never sent on the wire; anything else outside the sendable range becomes 1000. */
const sendable = (code: number) => (code === 1000 || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999) ? code : 1000);

/** Close reasons are at most 123 bytes. */
const closeReason = (text: string) => Buffer.from(text).subarray(0, 123).toString().replace(/\uFFFD$/, '');

/** Answers an upgrade with the catalog's error envelope, as any HTTP refusal, and hangs up. */
function refuse(socket: Duplex, failure: Failure, requestId: string): void {
  if (socket.destroyed) return;
  const { status, message } = ERRORS[failure.code as ErrorCode];
  openings.get(socket)?.refused(status, failure.code);
  const body = JSON.stringify({ detail: failure.detail ?? message, code: failure.code, request_id: requestId });
  const retry = failure.retryAfter !== undefined ? `Retry-After: ${failure.retryAfter}\r\n` : '';
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\n${retry}Connection: close\r\n\r\n${body}`);
}
