// A small stand-in for a self-hosted Prefect 3 server, for gateway tests: a real HTTP server on
// 127.0.0.1 mounted at /api that records every request and websocket exactly as it arrived, checks
// the upstream credential the way PREFECT_SERVER_API_AUTH_STRING does, and answers the worker's
// routes with plausible JSON. Behaviour copied on purpose from Prefect's server:
// - HTTP Basic auth on every path except GET /health and GET /ready (401 otherwise);
// - routes match the percent-decoded path, as uvicorn does (`/deployments%2F` is create-deployment);
// - a path matching a route only with its trailing slash toggled gets a 307 whose Location is an
//   absolute URL on this server (Starlette's redirect_slashes);
// - websockets: subprotocol `prefect`, first message `{"type":"auth","token":…}`, answer
//   `{"type":"auth_success"}`. Stricter than Prefect, so tests can prove what the gateway sends:
//   with no auth string the token must be null (never a caller's key).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Recorded {
  method: string;
  /** The request target exactly as received, e.g. `/api/work_pools/p%20x?include_secrets=false`. */
  url: string;
  /** The raw path after the `/api` mount, without the query (not decoded). */
  rawPath: string;
  /** The percent-decoded path after `/api`, which is what the fake (like uvicorn) routes on. */
  path: string;
  /** The raw query string without `?`, or '' when there is none. */
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The status the fake answered. */
  status: number;
}

export interface RecordedSocket {
  /** The raw path after `/api`, e.g. `/events/in`. */
  path: string;
  url: string;
  /** The upgrade request's headers (to prove what a proxy sent and what it kept back). */
  headers: IncomingHttpHeaders;
  /** Subprotocols the client offered, and the one accepted ('' for none). */
  offeredProtocols: string[];
  protocol: string;
  /** The first message when the `prefect` subprotocol is used, parsed. */
  auth: { type?: unknown; token?: unknown } | null;
  authenticated: boolean;
  /** Every message after the handshake, parsed as JSON when possible. */
  messages: unknown[];
  pings: number;
  closed: { code: number; reason: string } | null;
}

export interface FakePrefect {
  /** `http://127.0.0.1:PORT/api`: what a workspace's upstream_url is set to. */
  url: string;
  /** `http://127.0.0.1:PORT`, to check that no answer leaks the upstream's address. */
  origin: string;
  requests: Recorded[];
  sockets: RecordedSocket[];
  /** Every upgrade request as it arrived, whatever its path (before any route check). */
  upgrades: { url: string; headers: IncomingHttpHeaders }[];
  /** Resolves with the probe's first truthy result, polling every 10 ms; rejects after 5 s. */
  until<T>(probe: () => T | null | undefined | false, what: string): Promise<T>;
  /** Empties `requests`, `sockets` and `upgrades` in place. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakePrefectOptions {
  /** Like PREFECT_SERVER_API_AUTH_STRING: `user:pass` required as HTTP Basic credentials. */
  authString?: string;
  /** How long any request to `/slow` waits before answering (default 0). */
  delayMs?: number;
}

const MOUNT = '/api';
const HEALTH_PATHS = new Set(['/health', '/ready']);
const SOCKET_PATHS = [/^\/events\/in$/, /^\/events\/out$/, /^\/logs\/out$/, /^\/task_runs\/subscriptions\/scheduled$/, /^\/work_pools\/[^/]+\/workers\/connect$/];
const ECHO_SOCKETS = new Set(['/events/out', '/logs/out']);

interface Answer {
  status: number;
  body?: unknown;
}
type Handler = (m: RegExpExecArray, body: any, query: URLSearchParams) => Answer;

const now = () => new Date().toISOString();
const ID = '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})';
const NAME = '([^/]+)';

const workPool = (name: string) => ({
  id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a01',
  created: now(),
  updated: now(),
  name,
  description: null,
  type: 'process',
  base_job_template: { job_configuration: { command: '{{ command }}' }, variables: { type: 'object', properties: { command: { type: 'string' } } } },
  is_paused: false,
  concurrency_limit: null,
  status: 'READY',
  default_queue_id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a02',
});
const workQueue = (id = '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a02') => ({
  id,
  created: now(),
  updated: now(),
  name: 'default',
  description: '',
  is_paused: false,
  concurrency_limit: null,
  priority: 1,
  work_pool_id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a01',
  work_pool_name: null,
  last_polled: null,
  status: 'READY',
});
const flowRun = (id: string) => ({
  id,
  created: now(),
  updated: now(),
  name: 'replayed-run',
  flow_id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a10',
  deployment_id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a11',
  work_queue_id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a02',
  work_queue_name: 'default',
  state_type: 'SCHEDULED',
  state_name: 'Scheduled',
  parameters: {},
  tags: [],
  labels: {},
  infrastructure_pid: null,
});
const stateFrom = (body: any, runKey: 'flow_run_id' | 'task_run_id', id: string) => ({
  id: randomUUID(),
  type: body?.state?.type ?? 'PENDING',
  name: body?.state?.name ?? 'Pending',
  timestamp: now(),
  message: body?.state?.message ?? null,
  state_details: { ...(body?.state?.state_details ?? {}), [runKey]: id },
});
const accept = (state: unknown): Answer => ({ status: 201, body: { status: 'ACCEPT', details: { type: 'accept_details' }, state } });
const truthy = (value: string | null) => value !== null && ['1', 'on', 't', 'true', 'y', 'yes'].includes(value.toLowerCase());
const blockDocument = (id: string, name: string, query: URLSearchParams) => ({
  id,
  created: now(),
  updated: now(),
  name,
  data: { value: truthy(query.getAll('include_secrets').at(-1) ?? null) ? 'the-secret' : '********' },
  block_schema_id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a20',
  block_type_id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a21',
  is_anonymous: false,
});

// The routes of the worker sequence and of its refusals (so a refusal that leaks through would
// visibly "succeed"), in declaration order; the first match wins, as in Starlette.
const ROUTES: [method: string, pattern: RegExp, handler: Handler][] = [
  ['GET', /^\/health$/, () => ({ status: 200, body: true })],
  ['GET', /^\/ready$/, () => ({ status: 200, body: { message: 'OK' } })],
  ['GET', /^\/version$/, () => ({ status: 200, body: '0.8.4' })],
  ['GET', /^\/admin\/version$/, () => ({ status: 200, body: '3.8.4' })],
  ['GET', /^\/admin\/storage$/, () => ({ status: 200, body: { default_result_storage_block_id: null } })],
  ['POST', /^\/work_pools\/$/, (_m, body) => ({ status: 201, body: workPool(String(body?.name ?? 'created')) })],
  ['POST', /^\/work_pools\/filter$/, () => ({ status: 200, body: [] })],
  ['GET', new RegExp(`^/work_pools/${NAME}$`), (m) => ({ status: 200, body: workPool(m[1]) })],
  ['PATCH', new RegExp(`^/work_pools/${NAME}$`), () => ({ status: 204 })],
  ['POST', new RegExp(`^/work_pools/${NAME}/get_scheduled_flow_runs$`), () => ({ status: 200, body: [] })],
  ['POST', new RegExp(`^/work_pools/${NAME}/queues/filter$`), () => ({ status: 200, body: [workQueue()] })],
  ['POST', new RegExp(`^/work_pools/${NAME}/workers/heartbeat$`), () => ({ status: 204 })],
  ['GET', new RegExp(`^/work_queues/${ID}$`), (m) => ({ status: 200, body: workQueue(m[1]) })],
  ['POST', /^\/deployments\/$/, () => ({ status: 201, body: { id: randomUUID(), name: 'created' } })],
  ['GET', new RegExp(`^/deployments/${ID}$`), (m) => ({ status: 200, body: { id: m[1], name: 'replayed-deployment', flow_id: '7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a10', work_pool_name: 'replay-pool', work_queue_name: 'default', storage_document_id: null, pull_steps: null, job_variables: {} } })],
  ['POST', new RegExp(`^/deployments/${ID}/create_flow_run$`), () => ({ status: 201, body: flowRun(randomUUID()) })],
  ['GET', new RegExp(`^/flows/${ID}$`), (m) => ({ status: 200, body: { id: m[1], name: 'replayed-flow', tags: [], labels: {} } })],
  ['DELETE', new RegExp(`^/flows/${ID}$`), () => ({ status: 204 })],
  ['POST', /^\/flow_runs\/filter$/, () => ({ status: 200, body: [] })],
  ['GET', new RegExp(`^/flow_runs/${ID}$`), (m) => ({ status: 200, body: flowRun(m[1]) })],
  ['PATCH', new RegExp(`^/flow_runs/${ID}$`), () => ({ status: 204 })],
  ['PATCH', new RegExp(`^/flow_runs/${ID}/labels$`), () => ({ status: 204 })],
  ['POST', new RegExp(`^/flow_runs/${ID}/set_state$`), (m, body) => accept(stateFrom(body, 'flow_run_id', m[1]))],
  ['POST', /^\/task_runs\/$/, (_m, body) => ({ status: 201, body: { id: randomUUID(), name: body?.name ?? 'task', flow_run_id: body?.flow_run_id ?? null, state: null } })],
  ['POST', new RegExp(`^/task_runs/${ID}/set_state$`), (m, body) => accept(stateFrom(body, 'task_run_id', m[1]))],
  ['POST', /^\/logs\/$/, () => ({ status: 201, body: null })],
  ['POST', new RegExp(`^/v2/concurrency_limits/leases/${ID}/renew$`), () => ({ status: 204 })],
  ['POST', /^\/block_documents\/filter$/, () => ({ status: 200, body: [] })],
  ['GET', new RegExp(`^/block_documents/${ID}$`), (m, _b, q) => ({ status: 200, body: blockDocument(m[1], 'replayed-block', q) })],
  ['GET', new RegExp(`^/block_types/slug/${NAME}/block_documents/name/${NAME}$`), (m, _b, q) => ({ status: 200, body: blockDocument('7f0c5a52-0e6b-4d57-9d0a-0c2a0d5e9a22', m[2], q) })],
  ['GET', new RegExp(`^/variables/name/${NAME}$`), (m) => ({ status: 200, body: { id: randomUUID(), name: m[1], value: 'v', tags: [] } })],
  ['POST', /^\/.+\/filter$/, () => ({ status: 200, body: [] })],
];

function route(method: string, path: string, body: unknown, query: URLSearchParams): Answer | null {
  for (const [m, pattern, handler] of ROUTES) {
    if (m !== method) continue;
    const match = pattern.exec(path);
    if (match) return handler(match, body, query);
  }
  return null;
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function splitTarget(url: string): { rawPath: string; query: string } {
  const at = url.indexOf('?');
  const full = at === -1 ? url : url.slice(0, at);
  return { rawPath: full.slice(MOUNT.length) || '/', query: at === -1 ? '' : url.slice(at + 1) };
}

function basicAuthorized(header: string | undefined, authString: string): boolean {
  if (!header) return false;
  const [scheme, creds, extra] = header.trim().split(/\s+/);
  if (scheme !== 'Basic' || !creds || extra !== undefined) return false;
  return Buffer.from(creds, 'base64').toString('utf8') === authString;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startFakePrefect(opts: FakePrefectOptions = {}): Promise<FakePrefect> {
  const requests: Recorded[] = [];
  const sockets: RecordedSocket[] = [];
  const upgrades: FakePrefect['upgrades'] = [];
  const timers = new Set<NodeJS.Timeout>();
  let origin = '';

  const respond = (res: ServerResponse, record: Recorded, answer: Answer, extraHeaders: Record<string, string> = {}) => {
    record.status = answer.status;
    requests.push(record);
    const text = answer.body === undefined || answer.status === 204 ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...(text ? { 'content-type': 'application/json' } : {}), ...extraHeaders });
    res.end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const record: Recorded = { method, url, rawPath: '', path: '', query: '', headers: req.headers, body, status: 0 };
    if (!url.startsWith(`${MOUNT}/`) && url !== MOUNT) {
      record.rawPath = url;
      record.path = decodePath(url);
      return respond(res, record, { status: 404, body: { detail: 'Not Found' } });
    }
    const { rawPath, query } = splitTarget(url);
    const path = decodePath(rawPath);
    Object.assign(record, { rawPath, path, query });

    const open = method === 'GET' && HEALTH_PATHS.has(path);
    if (opts.authString !== undefined && !open && !basicAuthorized(req.headers.authorization, opts.authString)) {
      return respond(res, record, { status: 401, body: { exception_message: 'Unauthorized' } });
    }
    if (path === '/slow') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond(res, record, { status: 200, body: { ok: true, path } });
      }, opts.delayMs ?? 0);
      timers.add(timer);
      return;
    }

    const params = new URLSearchParams(query);
    const parsed = body.length > 0 ? parseJson(body.toString('utf8')) : undefined;
    const answer = route(method, path, parsed, params);
    if (answer) return respond(res, record, answer);

    const toggled = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
    if (path !== '/' && route(method, toggled, parsed, params)) {
      const location = `${origin}${MOUNT}${toggled}${query ? `?${query}` : ''}`;
      return respond(res, record, { status: 307 }, { location });
    }
    respond(res, record, { status: 200, body: { ok: true, path } });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });

  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has('prefect') ? 'prefect' : false),
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '/';
    upgrades.push({ url, headers: req.headers });
    const { rawPath } = url.startsWith(`${MOUNT}/`) ? splitTarget(url) : { rawPath: '' };
    if (!SOCKET_PATHS.some((p) => p.test(decodePath(rawPath)))) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const record: RecordedSocket = {
      path: rawPath,
      url,
      headers: req.headers,
      offeredProtocols: offered,
      protocol: '',
      auth: null,
      authenticated: false,
      messages: [],
      pings: 0,
      closed: null,
    };
    sockets.push(record);
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, record));
  });

  const serveSocket = (ws: WebSocket, record: RecordedSocket) => {
    record.protocol = ws.protocol;
    ws.on('ping', () => (record.pings += 1));
    ws.on('close', (code, reason) => (record.closed ??= { code, reason: reason.toString() }));
    const refuse = (code: number, reason: string) => {
      record.closed = { code, reason };
      ws.close(code, reason);
    };

    if (ws.protocol !== 'prefect') {
      if (record.path.endsWith('/workers/connect')) return refuse(1008, "'prefect' subprotocol required");
      if (opts.authString !== undefined) return refuse(1002, "'prefect' subprotocol required when auth is configured");
      record.authenticated = true; // Prefect's legacy mode: no auth message when no auth string is set
    }

    ws.on('message', (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString('base64') : data.toString();
      const message = parseJson(text);
      if (!record.authenticated) {
        record.auth = typeof message === 'object' && message !== null ? (message as RecordedSocket['auth']) : { type: message };
        if (record.auth?.type !== 'auth') return refuse(1008, "Expected 'auth' message");
        if (record.auth.token !== (opts.authString ?? null)) return refuse(1008, 'Invalid token');
        record.authenticated = true;
        ws.send(JSON.stringify({ type: 'auth_success' }));
        return;
      }
      record.messages.push(message);
      if (ECHO_SOCKETS.has(record.path)) ws.send(JSON.stringify({ type: 'echo', data: message }));
      else if (record.path.endsWith('/workers/connect')) answerWorkerFrame(ws, message);
    });
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}${MOUNT}`,
    origin,
    requests,
    sockets,
    upgrades,
    async until(probe, what) {
      for (let waited = 0; waited < 5000; waited += 10) {
        const found = probe();
        if (found) return found;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`fake Prefect: gave up waiting for ${what}`);
    },
    reset() {
      requests.length = 0;
      sockets.length = 0;
      upgrades.length = 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The worker channel's server side, just enough for a worker's handshake to complete. */
function answerWorkerFrame(ws: WebSocket, message: any): void {
  if (message?.type !== 'worker.hello.v1') return;
  ws.send(
    JSON.stringify({
      type: 'worker.ready.v1',
      id: randomUUID(),
      sent_at: now(),
      payload: {
        consumer_id: message.payload?.consumer_id ?? null,
        worker_id: randomUUID(),
        selected_channel_version: message.payload?.supported_channel_versions?.[0] ?? null,
        effective_heartbeat_interval_seconds: message.payload?.heartbeat_interval_seconds ?? 30,
        accepted_capabilities: message.payload?.requested_capabilities ?? [],
        rejected_capabilities: [],
        effective_max_cleanup_concurrency: 0,
        resolved_work_queues: [],
        initial_snapshot: { work_pool: workPool('replay-pool') },
      },
    }),
  );
}
