// Runs Debian's nginx for a test: in the foreground, on a free 127.0.0.1 port, with its config,
// pid file, logs and temp directories in a temp directory of its own, so nothing in /etc/nginx is
// read and nothing is left behind. requireNginx() installs the package first when it is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './build.js';
import { freePort } from './ports.js';

export const NGINX = process.env.GATEHOUSE_NGINX ?? '/usr/sbin/nginx';

export interface Nginx {
  port: number;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The nginx.conf it runs, for a failing test's message. */
  config: string;
  /** The error log so far (auth_request trouble shows up here). */
  errorLog(): string;
  close(): Promise<void>;
}

/**
 * Makes sure nginx with auth_request is there, installing Debian's package as `npm test` does
 * (scripts/ensure-nginx.js, run as a child so apt-get does not block this process); throws with
 * the reason when it cannot, so the test fails instead of skipping.
 */
export async function requireNginx(): Promise<void> {
  const script = join(ROOT, 'scripts', 'ensure-nginx.js');
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) {
    const reason = output.trim().split('\n').at(-1) ?? `exit code ${code}`;
    throw new Error(`This test needs nginx with auth_request and it could not be installed: ${reason}. Install Debian's nginx package (node scripts/ensure-nginx.js as root) or set GATEHOUSE_NGINX.`);
  }
}

function mainConfig(dir: string, http: string): string {
  // As root, nginx's workers would otherwise run as nobody and could not enter the private temp dir.
  const user = typeof process.getuid === 'function' && process.getuid() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
}
`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves when nginx listens, or with its exit code when it stops first. */
async function started(child: ChildProcess, port: number): Promise<{ listening: true } | { listening: false; code: number | null }> {
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  for (let waited = 0; waited < 15_000; waited += 25) {
    if (exited !== undefined) return { listening: false, code: exited };
    if (await accepts(port)) return { listening: true };
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  return { listening: false, code: null };
}

/**
 * Starts nginx with `http(port)` (server blocks and the like) inside its http block, listening
 * where `http` says (it must use `port` on 127.0.0.1). Another process taking the port between
 * the probe and nginx's bind is retried on a new port.
 */
export async function startNginx(http: (port: number) => string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  const conf = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  const readLog = () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = mainConfig(dir, http(port));
    writeFileSync(conf, config);
    writeFileSync(errorLog, '');
    const child = spawn(NGINX, ['-p', `${dir}/`, '-c', conf, '-e', errorLog, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const result = await started(child, port);
    if (result.listening) {
      return {
        port,
        origin: `http://127.0.0.1:${port}`,
        config,
        errorLog: readLog,
        async close() {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    const log = `${stderr}${readLog()}`;
    if (attempt < 5 && log.includes('Address already in use')) continue;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx did not start (exit code ${result.code}):\n${log}\nconfig:\n${config}`);
  }
}
