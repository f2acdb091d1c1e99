// Issue 22 target 1 (scenario authz), authn+authz: a service-account key authenticated and its workspace role resolved on
// every request (GET /api/me/workspaces/{id}/scopes with a Worker key), against bare node:http and
// plain Fastify answering the same bytes. Throughput and p99 at N connections, then the median
// latency of one connection.
import { interleaved, ratioTo, differenceTo } from '../lib/compare.js';
import { check, checksTable, generatorNote, fixed, micros, spread, table, throughputTable } from '../lib/report.js';

export async function authzScenario(ctx) {
  const { options, main, baselines } = ctx;
  const path = `/api/me/workspaces/${main.fixture.workspaceId}/scopes`;
  const request = { method: 'GET', path, headers: { authorization: `Bearer ${main.fixture.workerKey}` } };
  const targets = [
    { label: 'bare node:http', url: baselines.bare.url, request, servers: [baselines.bare] },
    { label: 'plain Fastify', url: baselines.fastify.url, request, servers: [baselines.fastify] },
    { label: 'Gatehouse', url: main.gh.url, request, servers: [main.gh] },
  ];
  const common = { runs: options.runs, duration: options.duration, warmup: options.warmup, log: ctx.log };
  ctx.log(`authz: ${options.connections} connections`);
  const loaded = await interleaved(targets, { ...common, connections: options.connections });
  ctx.log('authz: 1 connection');
  const single = await interleaved(targets, { ...common, connections: 1 });

  const [bare, fastify, gatehouse] = loaded;
  // Issue 22 target 1: the cost over the framework, from the server processes' own CPU time.
  const cpu = (r) => r.serverCpuPerRequest.reduce((a, b) => a + b, 0);
  const cpuOver = differenceTo(gatehouse, fastify, cpu);
  const overFastify = ratioTo(gatehouse, fastify);
  const throughput = ratioTo(gatehouse, bare);
  const p99 = ratioTo(gatehouse, bare, (r) => r.p99);
  const latencyAdded = differenceTo(single[2], single[0], (r) => r.p50);
  const store = ctx.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const checks = [
    check(`T1 CPU per authn+authz request minus plain Fastify's, ${store}`, '≤ 3 µs', `${micros(cpuOver.median)} (paired runs ${spread(cpuOver, micros)}; ${micros(gatehouse.serverCpu.median)} − ${micros(fastify.serverCpu.median)})`, cpuOver.median <= 3),
    check(`T1 authn+authz throughput vs plain Fastify, ${store}`, '≥ 0.85×', `${fixed(overFastify.median)}× (${spread(overFastify, fixed)})`, overFastify.median >= 0.85),
    check('authn+authz throughput vs bare node:http (earlier issue, for reference)', '–', `${fixed(throughput.median)}×`, null),
    check(`p99 at ${options.connections} connections vs bare p99 (reference)`, '–', `${fixed(p99.median)}× (${micros(gatehouse.p99.median)} vs ${micros(bare.p99.median)})`, null),
    check('single-connection median latency added to bare (reference)', '–', `+${micros(latencyAdded.median)}`, null),
  ];
  const singleRows = single.map((s) => [
    s.label,
    micros(s.p50.median),
    spread(s.p50, micros),
    s === single[0] ? 'baseline' : `+${micros(differenceTo(s, single[0], (r) => r.p50).median)}`,
    micros(s.p99.median),
    micros(s.serverCpu.median),
  ]);
  ctx.section('Target 1: authentication and authorization over plain Fastify', [
    `\`GET ${path.replace(main.fixture.workspaceId, '{workspace_id}')}\` with a service-account key holding the Worker role; the baselines answer the same body bytes. Fastify's ratio shows the framework's share.`,
    '',
    `**${options.connections} keep-alive connections**, ${options.duration} s runs, ${options.runs} interleaved run(s):`,
    '',
    throughputTable(loaded, bare, ratioTo),
    '',
    generatorNote(loaded),
    '',
    `**Cost over the framework (target 1):** Gatehouse used ${micros(gatehouse.serverCpu.median)} of its process's CPU time per request, plain Fastify serving the same bytes ${micros(fastify.serverCpu.median)}: **${micros(cpuOver.median)} more** (paired per run, ${spread(cpuOver, micros)}; target ≤ 3 µs). Throughput **${fixed(overFastify.median)}×** plain Fastify's (paired, ${spread(overFastify, fixed)}; target ≥ 0.85×). Fastify vs bare node:http: ${fixed(ratioTo(fastify, bare).median)}×.`,
    '',
    '**One connection** (sequential requests; latency as the load generator sees it, its own overhead included equally for all):',
    '',
    table(['target', 'p50 (median of runs)', 'min–max', 'added to bare (paired)', 'p99', 'server CPU per request'], singleRows),
    '',
    checksTable(checks),
  ]);
  return checks;
}
