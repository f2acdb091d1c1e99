// Scenario: the access record's cost (issue 22 target 0). The same store served by Gatehouse
// processes that differ only in their logging, at the default log level (info), stdout to a file as
// a user runs it: access log on (the default), off, and Fastify's two lines per request (the old
// default, now at --log-level debug) for reference. Runs in ABBA order (the order reverses every
// round), for the authenticated scopes request and the gateway's poll; throughput ratios are paired
// within a round. Also the size of a line, read back from the server's own output.
import { readFileSync } from 'node:fs';
import { runLoad } from '../lib/load.js';
import { pairedRatios, summarize } from '../lib/stats.js';
import { check, checksTable, fixed, int, micros, spread, table } from '../lib/report.js';

const POLL_BODY = JSON.stringify({ work_queue_names: ['default'], scheduled_before: '2030-01-01T00:00:00Z', limit: 10 });
const WANTED = 0.9;

/** Like lib/load.js's warm-up, with a second and third chance: a freshly started process on a busy machine may answer nothing in its first second. */
async function warmUp(target, seconds, connections) {
  for (let attempt = 1; ; attempt++) {
    const result = await runLoad({ ...target, connections, duration: seconds });
    if (result.ok > 0) return;
    if (attempt === 3) throw new Error(`Warm-up against ${target.label} (${target.url}) got no 2xx answers in 3 tries (${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`);
  }
}

export async function accessLogScenario(ctx) {
  const { options, main } = ctx;
  const { accountId, workspaceId, workerKey } = main.fixture;
  // "on" is exactly the defaults: no --log-level, no GATEHOUSE_ACCESS_LOG.
  const on = await ctx.startGatehouse(main.location, 'gatehouse-access-on', { logLevel: null });
  const off = await ctx.startGatehouse(main.location, 'gatehouse-access-off', { logLevel: null, env: { GATEHOUSE_ACCESS_LOG: 'off' } });
  const fastifyLines = await ctx.startGatehouse(main.location, 'gatehouse-fastify-lines', { logLevel: 'debug', env: { GATEHOUSE_ACCESS_LOG: 'off' } });
  const variants = [
    { label: 'access log on (default)', gh: on },
    { label: 'access log off', gh: off },
    { label: "Fastify's two lines per request (debug, access log off)", gh: fastifyLines },
  ];
  const authorization = `Bearer ${workerKey}`;
  const requests = [
    {
      name: 'authn+authz',
      request: { method: 'GET', path: `/api/me/workspaces/${workspaceId}/scopes`, headers: { authorization } },
    },
    {
      name: 'gateway poll',
      request: {
        method: 'POST',
        path: `/api/accounts/${accountId}/workspaces/${workspaceId}/work_pools/bench-pool/get_scheduled_flow_runs`,
        headers: { authorization, 'content-type': 'application/json' },
        body: POLL_BODY,
      },
    },
  ];

  const checks = [];
  const lines = [
    'The same store served by three Gatehouse processes that differ only in logging, each at the default log level (no `--log-level`) unless noted, standard output to a file (`bench/lib/procs.js`): the access log on (the default: one JSON line per request, buffered, written to stdout in batches), `GATEHOUSE_ACCESS_LOG=off`, and for reference the old default, Fastify\'s two pino lines per request (now written at `--log-level debug` only). Runs in ABBA order (the order reverses every round); ratios are paired within a round. Server CPU per request is the Gatehouse process\'s user+system time over the run divided by the 2xx answers (the gateway rows exclude the upstream\'s CPU).',
    '',
  ];
  for (const { name, request } of requests) {
    const targets = variants.map((v) => ({ label: v.label, url: v.gh.url, request, servers: [v.gh] }));
    const common = { duration: options.duration, connections: options.connections };
    for (const target of targets) await warmUp(target, Math.max(2, options.warmup), options.connections);
    const runs = targets.map(() => []);
    for (let round = 0; round < options.runs; round++) {
      const order = round % 2 === 0 ? [...targets.keys()] : [...targets.keys()].reverse();
      for (const i of order) {
        const result = await runLoad({ ...targets[i], ...common });
        if (result.ok === 0) throw new Error(`${targets[i].label}: no 2xx answers (${result.non2xx} non-2xx, ${result.errors} errors)`);
        runs[i].push(result);
        ctx.log(`  ${name}, ${targets[i].label} [${round + 1}/${options.runs}]: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99.toFixed(0)} µs, server CPU ${result.serverCpuPerRequest[0].toFixed(1)} µs/request`);
      }
    }
    const rps = runs.map((r) => summarize(r.map((x) => x.requestsPerSecond)));
    const cpu = runs.map((r) => summarize(r.map((x) => x.serverCpuPerRequest[0])));
    const p99 = runs.map((r) => summarize(r.map((x) => x.p99)));
    const ratio = (i) => summarize(pairedRatios(runs[i].map((x) => x.requestsPerSecond), runs[1].map((x) => x.requestsPerSecond)));
    lines.push(
      `**${name}** (\`${request.method} ${request.path.replace(workspaceId, '{w}').replace(accountId, '{a}')}\`), ${options.connections} connections, ${options.duration} s runs, ${options.runs} round(s):`,
      '',
      table(
        ['Gatehouse', 'req/s (median)', 'min–max', '× access log off (paired median, min–max)', 'p99', 'server CPU per request', 'CPU added per request'],
        targets.map((t, i) => [
          t.label,
          int(rps[i].median),
          spread(rps[i], int),
          i === 1 ? 'baseline' : `${fixed(ratio(i).median)}× (${spread(ratio(i), fixed)})`,
          micros(p99[i].median),
          micros(cpu[i].median),
          i === 1 ? '–' : micros(cpu[i].median - cpu[1].median),
        ]),
      ),
      '',
    );
    checks.push(check(`T0 ${name}: defaults (access log on) vs request logging off`, `≥ ${WANTED}×`, `${fixed(ratio(0).median)}×`, ratio(0).median >= WANTED));
  }

  // The size of a line, from what the access-log process wrote (give it a flush interval first).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const written = readFileSync(on.logFile, 'utf8').split('\n').filter((line) => line.includes('"msg":"access"'));
  const byRoute = new Map();
  for (const line of written) {
    const route = JSON.parse(line).route ?? '(no route)';
    const entry = byRoute.get(route) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += Buffer.byteLength(line) + 1;
    byRoute.set(route, entry);
  }
  lines.push(
    '**Line size** (read back from the access-log process\'s output, newline included):',
    '',
    table(
      ['route', 'lines', 'bytes per line', 'per day at 100 req/s', 'per day at 1,000 req/s'],
      [...byRoute].map(([route, { count, bytes }]) => {
        const perLine = bytes / count;
        return [`\`${route}\``, int(count), fixed(perLine, 0), `${fixed((perLine * 100 * 86400) / 1e9, 2)} GB`, `${fixed((perLine * 1000 * 86400) / 1e9, 1)} GB`];
      }),
    ),
    '',
    checksTable(checks),
  );
  ctx.section('Target 0: the defaults vs request logging off', lines);
  return checks;
}
