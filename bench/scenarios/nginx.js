// Issue 22 target 4c: nginx with auth_request asking Gatehouse's forward-auth
// (GET /api/gateway/authorize) before it proxies, against nginx alone proxying to the same upstream
// (the stand-in Prefect server), in one nginx process (bench/nginx/forward-auth.conf), interleaved.
// The request is the worker's poll with its Worker key.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureNginx } from '../../scripts/ensure-nginx.js';
import { interleaved, ratioTo, differenceTo } from '../lib/compare.js';
import { treeCpuMicros } from '../lib/procs.js';
import { check, checksTable, fixed, micros, table, throughputTable, generatorNote } from '../lib/report.js';

const POLL_BODY = JSON.stringify({ work_queue_names: ['default'], scheduled_before: '2030-01-01T00:00:00Z', limit: 10 });

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const accepts = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** nginx in the foreground with the bench's config, pinned like the other servers. */
async function startNginx({ dir, core, values }) {
  const installed = ensureNginx();
  if (!installed.ok) throw new Error(`the nginx scenario needs nginx with auth_request: ${installed.error}`);
  mkdirSync(dir, { recursive: true });
  let config = readFileSync(new URL('../nginx/forward-auth.conf', import.meta.url), 'utf8');
  for (const [name, value] of Object.entries({ ...values, DIR: dir, USER: process.getuid?.() === 0 ? 'user root;\n' : '' })) config = config.replaceAll(`{{${name}}}`, value);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config);
  const args = ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'];
  const [command, argv] = core === null || core === undefined ? [installed.path, args] : ['taskset', ['-c', String(core), installed.path, ...args]];
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code) => resolve((exited = { code }))));
  for (let waited = 0; !(await accepts(Number(values.PORT_AUTH))) || !(await accepts(Number(values.PORT_PLAIN))); waited += 50) {
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    if (exited || waited > 15_000) throw new Error(`nginx did not start:\n${log}\n${config}`);
    await sleep(50);
  }
  return {
    name: 'nginx',
    command: [command === installed.path ? 'nginx' : command, ...argv.map((a) => (a === installed.path ? 'nginx' : a))],
    cpuMicros: () => (exited ? NaN : treeCpuMicros(child.pid)),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      await exit;
    },
  };
}

export async function nginxScenario(ctx) {
  const { options, main, baselines } = ctx;
  const { accountId, workspaceId, workerKey } = main.fixture;
  const [portAuth, portPlain] = [await freePort(), await freePort()];
  const nginx = await startNginx({
    dir: join(ctx.tmpRoot, 'nginx'),
    core: ctx.cores?.server,
    values: {
      PORT_AUTH: String(portAuth),
      PORT_PLAIN: String(portPlain),
      UPSTREAM: new URL(baselines.upstream.url).host,
      GATEHOUSE: new URL(main.gh.url).host,
      ACCOUNT_ID: accountId,
      WORKSPACE_ID: workspaceId,
      BASIC: `Basic ${Buffer.from('bench:upstream-secret').toString('base64')}`,
    },
  });
  ctx.track(nginx);
  const request = { method: 'POST', path: '/api/work_pools/bench-pool/get_scheduled_flow_runs', headers: { authorization: `Bearer ${workerKey}`, 'content-type': 'application/json' }, body: POLL_BODY };
  const targets = [
    { label: 'nginx alone', url: `http://127.0.0.1:${portPlain}`, request, servers: [nginx, baselines.upstream] },
    { label: 'nginx + auth_request to Gatehouse forward-auth', url: `http://127.0.0.1:${portAuth}`, request, servers: [nginx, baselines.upstream, main.gh] },
  ];
  // A refused check would show as non-2xx here; make sure the check allows this key first.
  const common = { runs: options.runs, duration: options.duration, warmup: options.warmup, log: ctx.log };
  ctx.log(`nginx: ${options.connections} connections`);
  const loaded = await interleaved(targets, { ...common, connections: options.connections });
  ctx.log('nginx: 1 connection');
  const single = await interleaved(targets, { ...common, connections: 1 });
  const ratio = ratioTo(loaded[1], loaded[0]);
  const added = differenceTo(single[1], single[0], (r) => r.p50);
  const ghCpu = loaded[1].runs.map((r) => r.serverCpuPerRequest[2]);
  ghCpu.sort((a, b) => a - b);
  const checks = [
    check('T4c nginx auth_request via Gatehouse vs nginx alone: throughput', '(side by side)', `${fixed(ratio.median)}×`, null),
    check('T4c nginx auth_request via Gatehouse: median added on one connection', '(side by side)', micros(added.median), null),
  ];
  ctx.section('Target 4c: nginx auth_request through Gatehouse\'s forward-auth', [
    `One nginx (\`bench/nginx/forward-auth.conf\`, one worker process, on the server core) with two servers proxying the worker's poll (\`POST /api/work_pools/bench-pool/get_scheduled_flow_runs\`, Worker key) to the stand-in upstream: alone, and with \`auth_request\` to \`GET /api/gateway/authorize\` configured as docs/forward-auth.md shows (keep-alive upstreams for both). "Server CPU" is nginx's, the upstream's and (second row) Gatehouse's together; Gatehouse's own: ${micros(ghCpu[ghCpu.length >> 1])} per request.`,
    '',
    `**${options.connections} connections:**`,
    '',
    throughputTable(loaded, loaded[0], ratioTo),
    '',
    generatorNote(loaded),
    '',
    '**One connection:**',
    '',
    table(['target', 'p50 (median of runs)', 'p99', 'server CPU per request'], single.map((s) => [s.label, micros(s.p50.median), micros(s.p99.median), micros(s.serverCpu.median)])),
    '',
    checksTable(checks),
  ]);
  return checks;
}
