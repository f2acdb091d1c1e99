// A real `prefect server start` (pinned by scripts/ensure-prefect.js) for the real-client suites:
// its own PREFECT_HOME and SQLite file in a temp folder, a free port on 127.0.0.1, an API auth
// string, no UI unless asked, no analytics. In front of it a recording relay, so a test can count what reached the
// Prefect server (HTTP requests, and every chunk a client sends on an upgraded websocket) and assert
// that nothing did after a key was revoked. Starting one takes seconds (imports, migrations): share
// one per test file.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensurePrefect } from '../../../scripts/ensure-prefect.js';
import { freePort } from '../../support/ports.js';

export interface ReachedRequest {
  /** performance.now() when the relay received it (same clock as the test process). */
  at: number;
  method: string;
  /** The path as the Prefect server saw it, e.g. `/api/work_pools/pool/get_scheduled_flow_runs`. */
  path: string;
  /**
   * `http`: one request; `ws-open`: a websocket upgrade; `ws-data`: a message frame (text, binary,
   * continuation) a client sent on one; `ws-control`: a close, ping or pong frame it sent.
   */
  kind: 'http' | 'ws-open' | 'ws-data' | 'ws-control';
  /** An HTTP request's body as text (the first 64 KiB), filled in once it has arrived. */
  body?: string;
}

export interface PrefectServer {
  /** The relay's API URL, to give Gatehouse as the workspace's upstream: `http://127.0.0.1:PORT/api`. */
  apiUrl: string;
  /** The Prefect server's own URL, without the relay (for the test's own reads). */
  directApiUrl: string;
  /** PREFECT_SERVER_API_AUTH_STRING (`user:password`): the upstream credential. */
  authString: string;
  /** `Basic …` for the test's own requests straight to the server. */
  basicAuthorization: string;
  version: string;
  /** Everything that reached the server through the relay so far. */
  reached(): ReachedRequest[];
  /** What reached it after `since` (performance.now()). */
  reachedSince(since: number): ReachedRequest[];
  /** The server's output so far (the last 256 KiB). */
  output(): string;
  stop(): Promise<void>;
}

export interface PrefectServerOptions {
  /** '3.9' (default) or '2.20'. */
  version?: string;
  /** Serve Prefect's UI too (default: no UI, faster to start). */
  ui?: boolean;
  /** Seconds to wait for /api/health (default 150: a cold start, with migrations, on a busy machine). */
  startTimeoutSeconds?: number;
}

const OUTPUT_KEPT = 256 * 1024;

/** The environment a Prefect process of the suites starts from: nothing of the developer's own. */
export function isolatedPrefectEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('PREFECT_') && name !== 'VIRTUAL_ENV' && name !== 'PYTHONPATH') env[name] = value;
  }
  return {
    ...env,
    PREFECT_HOME: home,
    PREFECT_PROFILES_PATH: join(home, 'profiles.toml'),
    PREFECT_CLI_PROMPT: 'false',
    PREFECT_CLI_COLORS: 'false',
    PREFECT_CLI_WRAP_LINES: 'false',
    PREFECT_SERVER_ANALYTICS_ENABLED: 'false',
    DO_NOT_TRACK: '1',
    COLUMNS: '200',
    NO_COLOR: '1',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}

export async function startPrefectServer(options: PrefectServerOptions = {}): Promise<PrefectServer> {
  const installed = ensurePrefect(options.version ?? '3.9');
  if (!installed.ok) throw new Error(`Prefect is not installed: ${installed.error}`);
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-prefect-server-'));
  const port = await freePort();
  const authString = `gatehouse-test:${randomBytes(12).toString('hex')}`;
  const basicAuthorization = `Basic ${Buffer.from(authString).toString('base64')}`;
  const env = isolatedPrefectEnv(home, {
    PREFECT_API_DATABASE_CONNECTION_URL: `sqlite+aiosqlite:///${join(home, 'prefect.db')}`,
    PREFECT_SERVER_API_AUTH_STRING: authString,
    PREFECT_SERVER_UI_ENABLED: options.ui ? 'true' : 'false',
    PREFECT_UI_ENABLED: options.ui ? 'true' : 'false',
    PREFECT_SERVER_LOGGING_LEVEL: 'WARNING',
    PREFECT_LOGGING_SERVER_LEVEL: 'WARNING',
    PREFECT_LOGGING_LEVEL: 'WARNING',
  });
  const child: ChildProcess = spawn(
    installed.prefect,
    ['server', 'start', '--host', '127.0.0.1', '--port', String(port), ...(options.ui ? [] : ['--no-ui']), '--analytics-off', '--no-scheduler', '--no-late-runs'],
    { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let out = '';
  const keep = (chunk: Buffer) => {
    out += String(chunk);
    if (out.length > 2 * OUTPUT_KEPT) out = out.slice(-OUTPUT_KEPT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let gone = false;
  exited.then(() => (gone = true));

  const kill = async () => {
    if (!gone) {
      // The server runs uvicorn and its services in child processes: end the whole group.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {}
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {}
      }, 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(home, { recursive: true, force: true });
  };

  const directApiUrl = `http://127.0.0.1:${port}/api`;
  const deadline = Date.now() + (options.startTimeoutSeconds ?? 150) * 1000;
  for (;;) {
    if (gone) {
      await kill();
      throw new Error(`prefect server start exited before it was healthy:\n${out}`);
    }
    const healthy = await fetch(`${directApiUrl}/health`, { headers: { authorization: basicAuthorization } })
      .then((res) => res.status === 200)
      .catch(() => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`prefect server start was not healthy within ${options.startTimeoutSeconds ?? 150} s:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  const relay = await startRecordingRelay(port);
  return {
    apiUrl: `http://127.0.0.1:${relay.port}/api`,
    directApiUrl,
    authString,
    basicAuthorization,
    version: installed.version,
    reached: () => [...relay.log],
    reachedSince: (since) => relay.log.filter((entry) => entry.at >= since),
    output: () => out,
    async stop() {
      await relay.close();
      await kill();
    },
  };
}

interface RecordingRelay {
  port: number;
  log: ReachedRequest[];
  close(): Promise<void>;
}

/** An HTTP relay to 127.0.0.1:`target` that writes down each request and websocket chunk it passes on. */
async function startRecordingRelay(target: number): Promise<RecordingRelay> {
  const log: ReachedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const entry: ReachedRequest = { at: performance.now(), method: req.method ?? '', path: req.url ?? '', kind: 'http' };
    log.push(entry);
    let body = '';
    req.on('data', (chunk: Buffer) => {
      if (body.length < 65_536) body += String(chunk);
    });
    req.on('end', () => (entry.body = body));
    const upstream = httpRequest({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const path = req.url ?? '';
    log.push({ at: performance.now(), method: req.method ?? 'GET', path, kind: 'ws-open' });
    const upstream = connect(target, '127.0.0.1');
    sockets.add(upstream);
    const both = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', both);
    upstream.on('error', both);
    client.on('close', both);
    upstream.on('close', both);
    upstream.on('connect', () => {
      const lines = [`${req.method} ${path} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      const frames = frameReader((opcode) => {
        const control = opcode >= 0x8;
        log.push({ at: performance.now(), method: `WS ${OPCODES[opcode] ?? opcode}`, path, kind: control ? 'ws-control' : 'ws-data' });
      });
      client.on('data', (chunk: Buffer) => {
        frames(chunk);
        upstream.write(chunk);
      });
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    log,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const OPCODES: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/**
 * Follows the frames of one direction of a websocket (RFC 6455 §5.2) across TCP chunks and calls
 * `onFrame` with each frame's opcode as its header arrives.
 */
function frameReader(onFrame: (opcode: number) => void): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  let skip = 0;
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (skip > 0) {
        const dropped = Math.min(skip, buffered.length);
        buffered = buffered.subarray(dropped);
        skip -= dropped;
        if (skip > 0) return;
      }
      if (buffered.length < 2) return;
      const opcode = buffered[0] & 0x0f;
      const masked = (buffered[1] & 0x80) !== 0;
      let length = buffered[1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        header = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        length = Number(buffered.readBigUInt64BE(2));
        header = 10;
      }
      if (masked) header += 4;
      if (buffered.length < header) return;
      onFrame(opcode);
      buffered = buffered.subarray(header);
      skip = length;
    }
  };
}
