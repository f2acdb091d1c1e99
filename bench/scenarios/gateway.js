// Scenario 3, gateway: a Prefect worker's poll (POST .../work_pools/{name}/get_scheduled_flow_runs
// with a Worker key) through Gatehouse to a stand-in Prefect server, against the same request sent
// to that server directly. Both servers run on the server core: the proxy's cost is what it takes
// from the upstream's share.
import { interleaved, ratioTo, differenceTo } from '../lib/compare.js';
import { check, checksTable, generatorNote, fixed, micros, spread, table, throughputTable } from '../lib/report.js';

const POLL_BODY = JSON.stringify({ work_queue_names: ['default'], scheduled_before: '2030-01-01T00:00:00Z', limit: 10 });

export async function gatewayScenario(ctx) {
  const { options, main, baselines } = ctx;
  const { accountId, workspaceId, workerKey } = main.fixture;
  const route = '/work_pools/bench-pool/get_scheduled_flow_runs';
  const headers = { authorization: `Bearer ${workerKey}`, 'content-type': 'application/json' };
  const direct = { method: 'POST', path: `/api${route}`, headers, body: POLL_BODY };
  const proxied = { ...direct, path: `/api/accounts/${accountId}/workspaces/${workspaceId}${route}` };
  const targets = [
    { label: 'upstream directly', url: baselines.upstream.url, request: direct, servers: [baselines.upstream] },
    { label: 'through a bare proxy (node:http server, undici client)', url: baselines.bareProxy.url, request: proxied, servers: [baselines.bareProxy, baselines.upstream] },
    { label: 'through Gatehouse', url: main.gh.url, request: proxied, servers: [main.gh, baselines.upstream] },
  ];
  const common = { runs: options.runs, duration: options.duration, warmup: options.warmup, log: ctx.log };
  ctx.log(`gateway: ${options.connections} connections`);
  const loaded = await interleaved(targets, { ...common, connections: options.connections });
  ctx.log('gateway: 1 connection');
  const single = await interleaved(targets, { ...common, connections: 1 });

  const [upstream, bareProxy, gateway] = loaded;
  const throughput = ratioTo(gateway, upstream);
  const p99Added = differenceTo(gateway, upstream, (r) => r.p99);
  const p50Added = differenceTo(single[2], single[0], (r) => r.p50);
  const versusBareProxy = ratioTo(gateway, bareProxy);
  const checks = [
    check('T2 gateway throughput vs a bare undici reverse proxy, same run', '≥ 0.85×', `${fixed(versusBareProxy.median)}× (${spread(versusBareProxy, fixed)})`, versusBareProxy.median >= 0.85),
    check('T2 gateway CPU per request over the bare proxy (proxy processes only)', '–', micros(differenceTo(gateway, bareProxy, (r) => r.serverCpuPerRequest[0]).median), null),
    check('gateway throughput vs the stand-in directly (reference)', '–', `${fixed(throughput.median)}×`, null),
    check(`gateway p99 added at ${options.connections} connections (reference; target 3 measures a real Prefect server)`, '–', micros(p99Added.median), null),
    check('single-connection median added (reference)', '–', micros(p50Added.median), null),
  ];
  ctx.section('Target 2: gateway over a bare proxy', [
    `\`POST /api/accounts/{a}/workspaces/{w}${route}\` with a Worker key, forwarded to a node:http stand-in for the Prefect server (own process, same core as Gatehouse, answers \`[]\`; the workspace has an upstream auth string, so Gatehouse adds Basic auth), against the same request sent to the stand-in directly, and through a bare proxy (\`bench/servers/bare-proxy.js\`: a node:http server forwarding with undici, the client Gatehouse uses; no authentication, no route table) that shows what proxying in Node costs before any of Gatehouse's work. "Server CPU" of the proxied rows is the proxy's and the upstream's together.`,
    '',
    `**${options.connections} keep-alive connections:**`,
    '',
    throughputTable(loaded, upstream, ratioTo),
    '',
    generatorNote(loaded),
    '',
    '**One connection:**',
    '',
    table(
      ['target', 'p50 (median of runs)', 'min–max', 'p99', 'server CPU per request'],
      single.map((s) => [s.label, micros(s.p50.median), spread(s.p50, micros), micros(s.p99.median), micros(s.serverCpu.median)]),
    ),
    '',
    checksTable(checks),
  ]);
  return checks;
}
