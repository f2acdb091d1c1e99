// Issue 22 target 3 (and peer 4b): a real Prefect server. The requests a worker actually sends
// (shared/reference/prefect-server-routes.md §3: its poll of scheduled runs, its heartbeat, a flow
// run's state changes, log batches) replayed against the same `prefect server start`, once straight
// to it with its own basic auth (PREFECT_SERVER_API_AUTH_STRING: what self-hosted users have today,
// peer 4b) and once through Gatehouse's gateway with a Worker service-account key (the workspace's
// upstream is that server, with the auth string). Closed loop: C clients, each sending the four
// requests in turn, one at a time; the two paths alternate in blocks (ABBA), at C = 1 and C = 8.
// Reports the latency Gatehouse adds (median, p99), its share of the request's time, and writes a
// plot of the latency percentiles (SVG) next to the results file.
import http from 'node:http';
import { expectCall } from '../lib/client.js';
import { prefectCall, startPrefect } from '../lib/prefect.js';
import { percentilePlot } from '../lib/svg.js';
import { check, checksTable, fixed, int, micros, millis, table } from '../lib/report.js';
import { median, percentile } from '../lib/stats.js';

const POOL = 'bench-pool';
const PERCENTILES = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999];
const KINDS = ['poll', 'heartbeat', 'set_state', 'logs'];

/** The four requests of client `i`, paths relative to the API root (`/api` or the gateway's prefix). */
function workerRequests(i, flowRunId) {
  let turn = 0;
  return {
    poll: () => ['POST', `/work_pools/${POOL}/get_scheduled_flow_runs`, { work_queue_names: ['default'], scheduled_before: new Date(Date.now() + 10_000).toISOString() }],
    heartbeat: () => ['POST', `/work_pools/${POOL}/workers/heartbeat`, { name: `bench-worker-${i}`, heartbeat_interval_seconds: 30, return_id: true }],
    // A run moves Pending → Running → Pending …; `force` so that every proposal is applied (the
    // worker sends force:false for Pending; orchestration then answers 200 ABORT on a repeat).
    set_state: () => {
      turn += 1;
      const state = turn % 2 ? { type: 'PENDING', name: 'Pending' } : { type: 'RUNNING', name: 'Running' };
      return ['POST', `/flow_runs/${flowRunId}/set_state`, { state: { ...state, state_details: {} }, force: true }];
    },
    logs: () => [
      'POST',
      '/logs/',
      Array.from({ length: 5 }, (_, n) => ({
        name: 'prefect.flow_runs.worker',
        level: 20,
        message: `Worker 'bench-worker-${i}' submitting flow run '${flowRunId}' (line ${n})`,
        timestamp: new Date().toISOString(),
        flow_run_id: flowRunId,
      })),
    ],
  };
}

/**
 * One request; resolves { status, micros }. A keep-alive connection the server closed just as it was
 * reused (ECONNRESET on a reused socket) is retried once, as HTTP clients do (Prefect's httpx too);
 * another error resolves with status 0.
 */
function send(agent, origin, method, path, headers, body, retried = false) {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.request(`${origin}${path}`, { method, agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, micros: Number(process.hrtime.bigint() - started) / 1000 }));
      res.on('error', () => resolve({ status: 0, micros: NaN }));
    });
    req.on('error', (error) => {
      if (!retried && req.reusedSocket && error.code === 'ECONNRESET') resolve(send(agent, origin, method, path, headers, body, true));
      else resolve({ status: 0, micros: NaN, error: error.code ?? error.message });
    });
    req.end(payload);
  });
}

/** C clients for `seconds`: latencies (µs) by kind, failures (non-2xx) by status, the server processes' CPU. */
async function block({ target, clients, seconds, servers, minCycles = 0 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies = Object.fromEntries(KINDS.map((k) => [k, []]));
  const failures = {};
  const cpuBefore = servers.map((s) => s.cpuMicros());
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    target.clients.slice(0, clients).map(async (requests) => {
      for (let n = 0; Date.now() < end || n < minCycles * KINDS.length; n++) {
        const kind = KINDS[n % KINDS.length];
        const [method, path, body] = requests[kind]();
        const res = await send(agent, target.origin, method, `${target.prefix}${path}`, target.headers, body);
        if (res.status >= 200 && res.status < 300) latencies[kind].push(res.micros);
        else failures[`${kind} ${res.status}`] = (failures[`${kind} ${res.status}`] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  const count = KINDS.reduce((n, k) => n + latencies[k].length, 0);
  const cpu = servers.map((s, i) => s.cpuMicros() - cpuBefore[i]);
  return { latencies, failures, count, seconds, cpu, cpuPerRequest: cpu.map((c) => c / count) };
}

const sorted = (values) => Float64Array.from(values).sort();

/** Which non-2xx answers came, by request and status, per path (Prefect's 503s on a locked SQLite database). */
function failureNote(results) {
  const parts = [];
  for (const [c, runs] of Object.entries(results)) {
    for (const path of ['direct', 'gatehouse']) {
      const counts = {};
      for (const r of runs[path]) for (const [k, n] of Object.entries(r.failures)) counts[k] = (counts[k] ?? 0) + n;
      if (Object.keys(counts).length) parts.push(`${c} client(s) ${path === 'direct' ? 'straight' : 'through Gatehouse'}: ${Object.entries(counts).map(([k, n]) => `${n} × ${k}`).join(', ')}`);
    }
  }
  return parts.length ? `Non-2xx answers (left out of the latencies; Prefect answers 503 when its SQLite database is locked by a concurrent write, and its client retries them): ${parts.join('; ')}.` : 'Every answer was 2xx.';
}

export async function prefectScenario(ctx) {
  const { options, main } = ctx;
  const { accountId, ownerKey, workerBotId, workerKey, workerRoleId } = main.fixture;
  const prefect = await startPrefect({ dir: ctx.tmpRoot, core: ctx.cores?.server, database: options.prefectDatabase, pgUrl: options.databaseUrl });
  ctx.track(prefect);
  const maxClients = Math.max(...options.prefectConcurrency);

  // Prefect: a process pool, a flow and one flow run per client, straight to the server.
  await prefectCall(prefect, 'POST', '/work_pools/', { name: POOL, type: 'process' }, [201, 409]);
  const flow = await prefectCall(prefect, 'POST', '/flows/', { name: 'bench-flow' });
  const flowRuns = [];
  for (let i = 0; i < maxClients; i++) flowRuns.push((await prefectCall(prefect, 'POST', '/flow_runs/', { flow_id: flow.id, name: `bench-run-${i}` })).id);

  // Gatehouse: a workspace whose upstream is this Prefect server, the worker holding the Worker role there.
  const workspace = await expectCall(201, main.gh.url, 'POST', `/api/accounts/${accountId}/workspaces/`, { key: ownerKey, body: { name: 'prefect', handle: 'prefect' } });
  const workspaceId = workspace.body.id;
  await expectCall(200, main.gh.url, 'POST', `/api/accounts/${accountId}/workspaces/${workspaceId}/bot_access/`, { key: ownerKey, body: { bot_id: workerBotId, workspace_role_id: workerRoleId } });
  await expectCall(200, main.gh.url, 'PUT', `/api/accounts/${accountId}/workspaces/${workspaceId}/gateway`, { key: ownerKey, body: { upstream_url: prefect.apiUrl, upstream_auth_string: prefect.authString } });

  const common = { 'x-prefect-api-version': '0.8.4', 'user-agent': 'prefect/3.9.1 (API 0.8.4)' };
  const clients = flowRuns.map((id, i) => workerRequests(i, id));
  const prefectOrigin = new URL(prefect.apiUrl).origin;
  const targets = {
    direct: { label: 'straight to Prefect (its basic auth)', origin: prefectOrigin, prefix: '/api', headers: { ...common, authorization: prefect.basicAuthorization }, clients, servers: [prefect, main.gh] },
    gatehouse: { label: 'through Gatehouse (Worker key)', origin: new URL(main.gh.url).origin, prefix: `/api/accounts/${accountId}/workspaces/${workspaceId}`, headers: { ...common, authorization: `Bearer ${workerKey}` }, clients, servers: [prefect, main.gh] },
  };
  // Every request answers 2xx both ways before anything is measured (and both paths warm up). Prefect
  // on SQLite answers some concurrent writes 503 (database locked; its client retries those): counted
  // and reported, not fatal, unless a kind of request never succeeds.
  for (const target of Object.values(targets)) {
    const warm = await block({ target, clients: maxClients, seconds: Math.max(1, options.prefectBlock / 2), servers: target.servers, minCycles: 1 });
    const failed = Object.values(warm.failures).reduce((a, b) => a + b, 0);
    if (KINDS.some((k) => warm.latencies[k].length === 0)) {
      throw new Error(`prefect scenario, ${target.label}: the warm-up got ${warm.count} 2xx and these failures: ${JSON.stringify(warm.failures)} (see ${prefect.logFile} and the Gatehouse log)`);
    }
    if (failed) ctx.log(`  prefect warm-up, ${target.label}: ${JSON.stringify(warm.failures)}`);
  }

  const results = {};
  for (const c of options.prefectConcurrency) {
    const runs = { direct: [], gatehouse: [] };
    for (let round = 0; round < options.prefectRounds; round++) {
      const order = round % 2 === 0 ? ['direct', 'gatehouse'] : ['gatehouse', 'direct'];
      for (const name of order) {
        const r = await block({ target: targets[name], clients: c, seconds: options.prefectBlock, servers: targets[name].servers });
        runs[name].push(r);
        const all = sorted(KINDS.flatMap((k) => r.latencies[k]));
        ctx.log(`  prefect ${c} client(s), ${targets[name].label} [${round + 1}/${options.prefectRounds}]: ${int(r.count / options.prefectBlock)} req/s, p50 ${millis(percentile(all, 0.5) / 1000)}, p99 ${millis(percentile(all, 0.99) / 1000)}${Object.keys(r.failures).length ? `, failures ${JSON.stringify(r.failures)}` : ''}`);
      }
    }
    results[c] = runs;
  }

  // Pooled over the rounds: every 2xx latency of a path at a concurrency, by kind and all together.
  const pooled = (runs, kind) => sorted(runs.flatMap((r) => (kind ? r.latencies[kind] : KINDS.flatMap((k) => r.latencies[k]))));
  // Paired per round: the difference of the two paths' medians within a round, then the median of those.
  const pairedAdded = (runs, q) => median(runs.direct.map((d, i) => percentile(pooled([runs.gatehouse[i]]), q) - percentile(pooled([d]), q)));
  const checks = [];
  const rows = [];
  const kindRows = [];
  const plotSeries = [];
  for (const c of options.prefectConcurrency) {
    const runs = results[c];
    const d = pooled(runs.direct);
    const g = pooled(runs.gatehouse);
    const addedMedian = percentile(g, 0.5) - percentile(d, 0.5);
    const addedP99 = percentile(g, 0.99) - percentile(d, 0.99);
    const share = addedMedian / percentile(g, 0.5);
    const fail = (r) => r.reduce((n, x) => n + Object.values(x.failures).reduce((a, b) => a + b, 0), 0);
    // Gatehouse's CPU per proxied request, less what it uses idle (timers, coherence): its CPU per
    // second while the straight blocks ran, which it did not serve.
    const idlePerSecond = median(runs.direct.map((r) => r.cpu[1] / r.seconds));
    const ghCpu = median(runs.gatehouse.map((r) => (r.cpu[1] - idlePerSecond * r.seconds) / r.count));
    const rate = (r) => median(r.map((x) => x.count / options.prefectBlock));
    rows.push([
      String(c),
      millis(percentile(d, 0.5) / 1000),
      millis(percentile(g, 0.5) / 1000),
      `**${micros(addedMedian)}** (paired ${micros(pairedAdded(runs, 0.5))})`,
      millis(percentile(d, 0.99) / 1000),
      millis(percentile(g, 0.99) / 1000),
      `**${micros(addedP99)}** (paired ${micros(pairedAdded(runs, 0.99))})`,
      `${fixed(share * 100, 1)}%`,
      `${int(rate(runs.direct))} / ${int(rate(runs.gatehouse))}`,
      micros(ghCpu),
      `${fail(runs.direct)} / ${fail(runs.gatehouse)}`,
    ]);
    for (const kind of KINDS) {
      const dk = pooled(runs.direct, kind);
      const gk = pooled(runs.gatehouse, kind);
      kindRows.push([String(c), kind, millis(percentile(dk, 0.5) / 1000), millis(percentile(gk, 0.5) / 1000), micros(percentile(gk, 0.5) - percentile(dk, 0.5)), millis(percentile(dk, 0.99) / 1000), millis(percentile(gk, 0.99) / 1000), micros(percentile(gk, 0.99) - percentile(dk, 0.99))]);
    }
    checks.push(check(`T3 real Prefect, ${c} client(s): added median`, '≤ 0.3 ms', `${millis(addedMedian / 1000)} (${fixed(share * 100, 1)}% of the request's time)`, addedMedian <= 300));
    checks.push(check(`T3 real Prefect, ${c} client(s): added p99`, '≤ 1 ms', millis(addedP99 / 1000), addedP99 <= 1000));
    plotSeries.push({ label: `straight to Prefect, ${c} client${c > 1 ? 's' : ''}`, points: PERCENTILES.map((p) => [p, percentile(d, p) / 1000]), color: c === 1 ? '#1f77b4' : '#2ca02c' });
    plotSeries.push({ label: `through Gatehouse, ${c} client${c > 1 ? 's' : ''}`, points: PERCENTILES.map((p) => [p, percentile(g, p) / 1000]), color: c === 1 ? '#1f77b4' : '#2ca02c', dashed: true });
  }
  checks.push(check('T4b peer: Prefect\'s own basic auth (the "straight" rows)', 'side by side', 'see the table; one shared secret per server, no per-worker revocation', null));

  const svg = percentilePlot({
    title: 'Worker requests on a real Prefect server: straight vs through Gatehouse',
    subtitle: `Prefect ${prefect.version} on ${options.prefectDatabase === 'postgres' ? 'PostgreSQL' : 'SQLite'}, Gatehouse on ${ctx.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${options.prefectRounds} × ${options.prefectBlock} s blocks per path (ABBA), poll + heartbeat + set_state + logs`,
    series: plotSeries,
  });
  const plotName = ctx.artifact('prefect-latency.svg', svg);
  ctx.section('Target 3: a real Prefect server (and peer 4b, Prefect\'s basic auth)', [
    `\`prefect server start\` ${prefect.version} (database: ${prefect.database}; \`PREFECT_SERVER_API_AUTH_STRING\` set, no UI, no scheduler; the whole process group on the server core) and Gatehouse (defaults) with a workspace whose upstream is that server. Each client replays a worker's requests in turn, one at a time: \`POST /work_pools/${POOL}/get_scheduled_flow_runs\`, \`POST /work_pools/${POOL}/workers/heartbeat\`, \`POST /flow_runs/{id}/set_state\` (its own flow run, Pending ↔ Running, force) and \`POST /logs/\` (5 lines), with Prefect's client headers; straight to Prefect with \`Authorization: Basic …\` (the peer: Prefect's own check), or through \`/api/accounts/{a}/workspaces/{w}/…\` with the Worker key. ${options.prefectRounds} blocks of ${options.prefectBlock} s per path and concurrency, alternating ABBA; latencies are every 2xx answer of the blocks, pooled ("paired": the median over rounds of the difference within a round).`,
    '',
    table(['clients', 'median straight', 'median through Gatehouse', 'added median', 'p99 straight', 'p99 through Gatehouse', 'added p99', "Gatehouse's share of the median", 'req/s straight / through', 'Gatehouse CPU per request (less idle)', 'non-2xx straight / through'], rows),
    '',
    failureNote(results),
    '',
    'By request (pooled over rounds):',
    '',
    table(['clients', 'request', 'median straight', 'median through', 'added', 'p99 straight', 'p99 through', 'added p99'], kindRows),
    '',
    `![Latency percentiles, straight vs through Gatehouse](${plotName})`,
    '',
    checksTable(checks),
  ]);
  return checks;
}
