// Websocket routes through the gateway (events/in, events/out, logs/out, the task-worker
// subscription, the worker channel). The caller proves itself with `Authorization: Bearer` on the
// upgrade, or with Prefect's first message `{"type":"auth","token":KEY}` on subprotocol `prefect`.
// The upstream socket is opened with the workspace's upstream credential, never the caller's key;
// then frames are relayed both ways. Access is checked again before each message the caller sends
// and every `recheckMs` while the socket lives, so a revoked key or role sends nothing more and
// loses even an idle socket within `recheckMs`.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { scopesInWorkspace } from '../domain/access/grants.js';
import type { Services } from '../domain/services.js';
import type { Store } from '../store/store.js';
import type { Upstream } from '../domain/gateways/service.js';
import type { KeyThrottle } from '../http/key-throttle.js';
import { authenticateKey } from '../http/auth.js';
import { decide, parseGatewayUri, type GatewayTarget } from './authorize.js';
import { matchRoute } from './match.js';

export interface WebsocketOptions {
  services: Services;
  store: Store;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  /** How often a live socket's access is checked again (default 5 s). */
  recheckMs?: number;
  /** The same per-address limit on failed keys as HTTP requests. */
  keyThrottle: KeyThrottle;
  /** Where a failed upgrade is logged. */
  log: FastifyBaseLogger;
}

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;
const AUTH_MESSAGE_TIMEOUT_MS = 10_000;
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Close codes (RFC 6455): policy violation for refusals, internal error for upstream trouble. */
const POLICY = 1008;
const UPSTREAM_TROUBLE = 1011;

type Refusal = { status: number; detail: string };
type Access = { ok: true; upstream: Upstream } | ({ ok: false } & Refusal);

export function installWebsocketGateway(server: FastifyInstance, options: WebsocketOptions): void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols) => (protocols.has('prefect') ? 'prefect' : false),
  });
  const live = new Set<WebSocket>();

  server.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(request, socket, head).catch((error) => {
      options.log.error({ err: error }, 'websocket gateway failed');
      refuse(socket, { status: 500, detail: 'Internal error' });
    });
  });
  server.addHook('onClose', async () => {
    for (const client of live) client.close(1001, 'Gatehouse is shutting down');
    wss.close();
  });

  /** Who the key is and whether it may open this socket in this workspace. */
  async function access(key: string, target: GatewayTarget, address: string): Promise<Access> {
    const outcome = await authenticateKey(options.services, options.keyThrottle, address, key);
    if ('retryAfter' in outcome) return { ok: false, status: 429, detail: `Too many requests with invalid API keys from this address; try again in ${outcome.retryAfter} s` };
    const actor = outcome.actor;
    if (!actor?.actorId) return { ok: false, status: 401, detail: 'Invalid authentication credentials' };
    const scopes = await scopesInWorkspace(options.store, target.accountId, target.workspaceId, actor.actorId);
    if (!scopes) return { ok: false, status: 404, detail: 'Workspace not found' };
    const verdict = decide({ method: 'WS', apiPath: target.apiPath, query: target.query, scopes, body: 'unseen' });
    if (verdict.kind !== 'allow') return { ok: false, status: verdict.kind === 'deny' && verdict.code === 'GATEWAY_BAD_PATH' ? 400 : 403, detail: verdict.kind === 'deny' ? (verdict.detail ?? 'Forbidden') : 'Forbidden' };
    const lookup = await options.services.gateways.upstream(target.workspaceId);
    if (!lookup.ok) {
      return lookup.reason === 'not_configured'
        ? { ok: false, status: 404, detail: 'This workspace has no Prefect server behind it yet' }
        : { ok: false, status: 502, detail: "The workspace's upstream credential cannot be opened with this server's secret key" };
    }
    return { ok: true, upstream: lookup.upstream };
  }

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const parsed = parseGatewayUri(request.url ?? '/', {});
    if (!parsed.ok) return refuse(socket, { status: 404, detail: 'No websocket route here' });
    const target = parsed.value;
    // Which route, before anything else: an unknown one is refused for everyone.
    const known = matchRoute('WS', target.apiPath);
    if (known === null) return refuse(socket, { status: 403, detail: `Gatehouse has no websocket route ${target.apiPath} in its table, so it refuses it for every role` });
    if ('error' in known) return refuse(socket, { status: 400, detail: known.detail });

    const address = request.socket.remoteAddress ?? '';
    const header = request.headers.authorization;
    if (typeof header === 'string') {
      const key = BEARER.exec(header)?.[1] ?? '';
      const granted = await access(key, target, address);
      if (!granted.ok) return refuse(socket, granted);
      wss.handleUpgrade(request, socket, head, (client) => relay(client, key, target, granted.upstream, false, address));
      return;
    }
    const protocols = String(request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes('prefect')) {
      return refuse(socket, { status: 401, detail: 'Send the API key as Authorization: Bearer, or use subprotocol "prefect" and an auth message' });
    }
    wss.handleUpgrade(request, socket, head, (client) => {
      const timer = setTimeout(() => client.close(POLICY, 'No auth message'), AUTH_MESSAGE_TIMEOUT_MS);
      client.once('message', async (data) => {
        clearTimeout(timer);
        const key = authToken(data);
        const granted = key === null ? ({ ok: false, status: 401, detail: 'The first message must be {"type":"auth","token":KEY}' } as const) : await access(key, target, address);
        if (!granted.ok) return client.close(POLICY, closeReason(granted.detail));
        relay(client, key!, target, granted.upstream, true, address);
      });
    });
  }

  function relay(client: WebSocket, key: string, target: GatewayTarget, upstream: Upstream, answerAuth: boolean, address: string): void {
    live.add(client);
    const pending: { data: RawData; binary: boolean }[] = [];
    let ready = false;
    const url = new URL(`${upstream.url.pathname}${target.rawPathAndQuery}`, upstream.url.origin);
    url.protocol = upstream.url.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers: Record<string, string> = {};
    if (upstream.basicAuthorization !== null) headers.authorization = upstream.basicAuthorization;
    const up = new WebSocket(url, ['prefect'], { headers, handshakeTimeout: options.connectTimeoutMs, maxPayload: MAX_FRAME_BYTES });

    const end = (code: number, reason: string) => {
      clearInterval(recheck);
      clearTimeout(authTimer);
      live.delete(client);
      for (const socket of [client, up]) {
        if (socket.readyState === WebSocket.OPEN) socket.close(code, closeReason(reason));
        else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      }
    };
    const authTimer = setTimeout(() => end(UPSTREAM_TROUBLE, "The workspace's Prefect server did not answer in time"), options.connectTimeoutMs + options.responseTimeoutMs);
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
      relayed = relayed.then(async () => {
        if (!live.has(client)) return;
        const still = await access(key, target, address).catch(() => null);
        if (!still?.ok) return end(still ? POLICY : UPSTREAM_TROUBLE, still ? 'Access revoked' : 'Access could not be checked');
        if (ready) up.send(data, { binary });
        else pending.push({ data, binary });
      });
    });
    up.on('open', () => up.send(JSON.stringify({ type: 'auth', token: upstream.authString })));
    up.once('message', (data) => {
      clearTimeout(authTimer);
      let reply: { type?: string } | null = null;
      try {
        reply = JSON.parse(data.toString());
      } catch {}
      if (reply?.type !== 'auth_success') return end(UPSTREAM_TROUBLE, 'The Prefect server refused the upstream credential');
      ready = true;
      if (answerAuth) client.send(JSON.stringify({ type: 'auth_success' }));
      for (const message of pending.splice(0)) up.send(message.data, { binary: message.binary });
      up.on('message', (message, binary) => client.send(message, { binary }));
    });
    up.on('unexpected-response', (_req, res) => end(UPSTREAM_TROUBLE, `The Prefect server answered the upgrade with ${res.statusCode}`));
    up.on('error', () => end(UPSTREAM_TROUBLE, "The workspace's Prefect server could not be reached"));
    client.on('error', () => end(1000, ''));
    up.on('close', (code, reason) => end(sendable(code), reason.toString()));
    client.on('close', (code, reason) => end(sendable(code), reason.toString()));
  }
}

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

/** Answers an upgrade with a plain HTTP error (the FastAPI-style envelope) and hangs up. */
function refuse(socket: Duplex, refusal: Refusal): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ detail: refusal.detail });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 502: 'Bad Gateway' }[refusal.status] ?? 'Error';
  socket.end(`HTTP/1.1 ${refusal.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
