#!/usr/bin/env node
// `npm run bench`: starts Gatehouse (from dist/) and the baseline servers on 127.0.0.1, each in its
// own process on the server core, drives them with autocannon from this process on the other core,
// and writes bench/results/<date>-<store>.md (-2, -3, ... for later runs that day).
// docs/performance.md explains the method.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { call, closeClient, expectCall } from './lib/client.js';
import { addServiceAccounts } from './lib/bulk.js';
import { describeMachine, loadAverage } from './lib/machine.js';
import { parseOptions } from './lib/options.js';
import { ROOT, RESULTS, SERVERS } from './lib/paths.js';
import { hasTaskset, pinSelf, startProcess } from './lib/procs.js';
import { byTarget, checksTable, int, table } from './lib/report.js';
import { bootstrap, commandLine, createStoreLocation, startGatehouse } from './lib/stores.js';
import { setUpWorkspace } from './lib/fixture.js';
import { authzScenario } from './scenarios/authz.js';
import { keysScenario } from './scenarios/keys.js';
import { gatewayScenario } from './scenarios/gateway.js';
import { controlScenario } from './scenarios/control.js';
import { revocationScenario } from './scenarios/revocation.js';
import { memoryScenario } from './scenarios/memory.js';
import { accessLogScenario } from './scenarios/accesslog.js';
import { prefectScenario } from './scenarios/prefect.js';
import { ensurePostgres, PG_URL } from '../scripts/postgres.js';
import { betterAuthScenario } from './scenarios/betterauth.js';
import { nginxScenario } from './scenarios/nginx.js';

const SCENARIO_RUNNERS = { authz: authzScenario, keys: keysScenario, gateway: gatewayScenario, control: controlScenario, revocation: revocationScenario, memory: memoryScenario, accesslog: accessLogScenario, prefect: prefectScenario, betterauth: betterAuthScenario, nginx: nginxScenario };
const QUIET_LOAD = 1.5;

const log = (line) => console.log(line);

/** Servers and stores of the run in progress: an interrupted run still stops them and drops its schemas. */
const live = { processes: [], locations: [], tmpRoot: null };
process.once('SIGINT', async () => {
  log('\ninterrupted: stopping the servers, removing the bench stores');
  for (const p of live.processes) await p.stop().catch(() => {});
  for (const l of live.locations) await l.dispose().catch(() => {});
  if (live.tmpRoot) log(`server logs kept in ${live.tmpRoot}`);
  process.exit(130);
});

function checkBuild() {
  const built = join(ROOT, 'dist/app.js');
  if (!existsSync(built)) throw new Error('dist/ is missing: run "npm run build" first (the bench measures the compiled server)');
  const newest = execFileSync('find', [join(ROOT, 'src'), '-name', '*.ts', '-newer', built], { encoding: 'utf8' }).trim();
  if (newest) log(`warning: some src/ files are newer than dist/app.js; run "npm run build" to measure them:\n  ${newest.split('\n').slice(0, 5).join('\n  ')}`);
}

function gitState() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${commit} with uncommitted changes in src/` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

async function benchStore(kind, options, machine, cores) {
  const tmpRoot = (live.tmpRoot = mkdtempSync(join(tmpdir(), `gatehouse-bench-${kind}-`)));
  const env = { GATEHOUSE_SECRET_KEY: randomBytes(32).toString('base64') };
  const processes = live.processes;
  const locations = live.locations;
  const sections = [];
  const setupTimes = [];
  const loads = [['start', loadAverage()]];
  const distBuilt = distBuildTime();
  // Read when the servers start, not when the results are written: src/ may be edited meanwhile.
  const commit = gitState();
  const scenarios = options.scenarios;
  let failed = true;

  const start = async (spec) => {
    const handle = await startProcess({ logDir: tmpRoot, cwd: tmpRoot, core: cores.server, env, ...spec });
    processes.push(handle);
    return handle;
  };
  const artifacts = [];
  const ctx = {
    options,
    kind,
    tmpRoot,
    cores,
    log,
    /** A server process of a scenario (a peer), pinned like the others, stopped at the end of the run. */
    startServer: (spec) => start(spec),
    /** A process (or anything with stop()) the run stops at its end, like the servers it starts itself. */
    track: (handle) => processes.push(handle),
    /** A file written next to the results file (`<results name>-<suffix>`); returns the name to link to. */
    artifact: (suffix, content) => {
      artifacts.push({ suffix, content });
      return `{{artifact:${suffix}}}`;
    },
    section: (title, lines) => sections.push(`## ${title}\n\n${lines.join('\n').replace(/\n{3,}/g, '\n\n')}`),
    setup: (what, seconds) => {
      setupTimes.push([what, `${seconds.toFixed(1)} s`]);
      log(`setup: ${what}: ${seconds.toFixed(1)} s`);
    },
    // `extra`: { env, logLevel } for a variant of the default process (scenarios/accesslog.js).
    startGatehouse: async (location, name, extra = {}) => {
      const handle = await startGatehouse(location, { name, cwd: tmpRoot, env: { ...env, ...extra.env }, logDir: tmpRoot, core: cores.server, logLevel: 'logLevel' in extra ? extra.logLevel : options.logLevel, profileDir: options.profileDir });
      processes.push(handle);
      return handle;
    },
  };

  /** A store with `keyCount` service-account keys: the worker's, and the rest written in bulk. */
  const prepareStore = async (label, keyCount, upstreamUrl) => {
    const location = createStoreLocation(kind, { tmpRoot, pgUrl: options.databaseUrl, label });
    locations.push(location);
    const owner = await bootstrap(location, { cwd: tmpRoot, env, handle: `bench-${label}` });
    const setupServer = await ctx.startGatehouse(location, `gatehouse-${label}-setup`);
    const fixture = await setUpWorkspace(setupServer.url, owner, { upstreamUrl });
    await setupServer.stop();
    const bulk = await addServiceAccounts(location, {
      ...fixture,
      count: keyCount - 1,
      prefix: 'bulk',
      sampleSize: Math.min(999, keyCount - 1),
    });
    ctx.setup(`${int(keyCount - 1)} service accounts written in bulk (${label} store)`, bulk.seconds);
    // Started on the full store, so whatever it loads at start-up is measured.
    const gh = await ctx.startGatehouse(location, `gatehouse-${label}`);
    return { location, gh, fixture, sampleKeys: [fixture.workerKey, ...bulk.sampleKeys], serviceAccounts: keyCount };
  };

  try {
    const needsLarge = scenarios.includes('keys') || scenarios.includes('memory');
    const upstream = await start({ name: 'upstream', args: [join(SERVERS, 'upstream.js')], ready: /listening on (\S+)/ });
    ctx.main = await prepareStore('main', options.smallKeys, `${upstream.url}/api`);
    ctx.large = needsLarge ? await prepareStore('large', options.largeKeys) : null;
    const sample = await expectCall(200, ctx.main.gh.url, 'GET', `/api/me/workspaces/${ctx.main.fixture.workspaceId}/scopes`, { key: ctx.main.fixture.workerKey });
    const body = { BENCH_BODY: sample.raw.toString('base64') };
    ctx.baselines = {
      upstream,
      bare: await start({ name: 'bare', args: [join(SERVERS, 'bare.js')], env: { ...env, ...body }, ready: /listening on (\S+)/ }),
      fastify: await start({ name: 'fastify', args: [join(SERVERS, 'fastify.js')], env: { ...env, ...body }, ready: /listening on (\S+)/ }),
      bareProxy: await start({ name: 'bare-proxy', args: [join(SERVERS, 'bare-proxy.js')], env: { ...env, BENCH_UPSTREAM: upstream.url }, ready: /listening on (\S+)/ }),
    };
    // The gateway is set up: the proxied poll must answer before it is measured.
    const poll = await call(ctx.main.gh.url, 'POST', `/api/accounts/${ctx.main.fixture.accountId}/workspaces/${ctx.main.fixture.workspaceId}/work_pools/bench-pool/get_scheduled_flow_runs`, { key: ctx.main.fixture.workerKey, body: {} });
    if (poll.status !== 200) throw new Error(`The proxied poll answered ${poll.status}: ${JSON.stringify(poll.body)}`);

    const checks = [];
    for (const name of Object.keys(SCENARIO_RUNNERS)) {
      if (!scenarios.includes(name)) continue;
      log(`\n== ${kind}: ${name}`);
      checks.push(...(await SCENARIO_RUNNERS[name](ctx)));
      loads.push([`after ${name}`, loadAverage()]);
    }
    const file = writeResults({ kind, options, machine, cores, ctx, processes, sections, setupTimes, loads, checks, distBuilt, commit, artifacts });
    log(`\n${checksTable(byTarget(checks))}\n\nwrote ${relative(process.cwd(), file)}`);
    failed = false;
  } finally {
    for (const p of processes.splice(0).reverse()) await p.stop().catch(() => {});
    for (const l of locations.splice(0)) await l.dispose().catch((error) => log(`could not remove ${l.describe()}: ${error.message}`));
    if (failed) log(`server logs kept in ${tmpRoot}`);
    else rmSync(tmpRoot, { recursive: true, force: true });
  }
}

/** How this run falls short of the full method, or '' when it does not. */
function reduced(options) {
  const short = [];
  if (options.duration < 10) short.push(`${options.duration} s runs`);
  if (options.runs < 5) short.push(`${options.runs} run(s) per target`);
  if (options.largeKeys < 1_000_000) short.push(`${int(options.largeKeys)} keys in the large store`);
  return short.join(', ');
}

const distBuildTime = () => statSync(join(ROOT, 'dist/app.js')).mtime.toISOString();

function writeResults({ kind, options, machine, cores, ctx, processes, sections, setupTimes, loads, checks, distBuilt, commit, artifacts }) {
  const date = machine.date.slice(0, 10);
  const partial = options.scenarios.length < Object.keys(SCENARIO_RUNNERS).length;
  const suffix = options.quick ? '-quick' : partial ? '-partial' : '';
  const dir = options.out ?? RESULTS;
  mkdirSync(dir, { recursive: true });
  // A second run on the same day gets its own file (-2, -3, ...): earlier results stay as they were.
  let file = join(dir, `${date}-${kind}${suffix}.md`);
  for (let n = 2; existsSync(file); n++) file = join(dir, `${date}-${kind}${suffix}-${n}.md`);
  const busiest = Math.max(...loads.map(([, value]) => value));
  const noisy = busiest >= QUIET_LOAD;
  const store = ctx.main.location.describe().replace(/\/tmp\/[^ ]+/, '(a temporary directory)');
  const rebuilt = distBuildTime() !== distBuilt ? distBuildTime() : null;
  const servers = processes
    .filter((p) => !p.name.endsWith('-setup'))
    .map((p) => `- ${p.name}: \`${commandLine(p.command.map((a) => a.replace(ROOT, '').replace(/\/tmp\/[^/]+\//, '$TMP/')))}\``);
  const text = [
    `# Gatehouse benchmark: ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${date}${options.quick ? ' (quick run)' : ''}`,
    '',
    noisy
      ? `> **Noisy machine:** the 1-minute load average reached ${busiest.toFixed(2)} during this run (other work was running). Treat the ratios as indicative; absolute figures are low.`
      : `> The 1-minute load average stayed below ${QUIET_LOAD} during this run.`,
    options.quick
      ? '> **Quick run** (`--quick`): short runs, one run per target, a reduced key count. For development only.'
      : reduced(options)
        ? `> **Reduced run:** ${reduced(options)} (the full method is 10 s runs, 5 interleaved runs per target, 1,000,000 keys).`
        : '',
    rebuilt ? `> **dist/ was rebuilt during this run** (at ${rebuilt}): processes started after that ran the newer build.` : '',
    '',
    '## Setup',
    '',
    `- Machine: ${machine.cores} cores, ${machine.model}, ${machine.memoryGiB.toFixed(1)} GiB; ${machine.kernel}; Node ${machine.node}; ${machine.date}`,
    cores.server === null
      ? '- Pinning: **none** (taskset missing or one core): server and load generator share the CPUs'
      : `- Pinning: every server process on core ${cores.server} (\`taskset -c ${cores.server}\`), the load generator (this runner, autocannon ${cores.autocannon}) on core ${cores.generator}`,
    `- Store: ${store}`,
    `- Gatehouse: commit ${commit}; dist/ built ${distBuilt}; log level ${options.logLevel ? `\`${options.logLevel}\` (--log-level)` : 'the default (`info`: no --log-level given), access log on (the default: one line per request to standard output, which goes to a file here)'}`,
    `- Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``,
    `- Settings: ${options.duration} s per run after a ${options.warmup} s warm-up per target, ${options.connections} connections, ${options.runs} interleaved run(s) per target; large store ${int(options.largeKeys)} keys`,
    `- Load average (1 min): ${loads.map(([when, value]) => `${when} ${value.toFixed(2)}`).join(', ')}`,
    '',
    'Server processes:',
    '',
    ...servers,
    '',
    table(['setup step', 'time'], setupTimes),
    '',
    '## Targets',
    '',
    'Issue 22\'s targets are the rows named T0–T6 (T0 defaults vs request logging off, T1 cost over plain Fastify, T2 gateway vs a bare proxy, T3 a real Prefect server, T4 the peers, T5 revocation wait, T6 scale); the other rows are reference figures. Every figure is recorded, met or not; "n/a" rows have no pass/fail.',
    '',
    checksTable(byTarget(checks)),
    '',
    ...sections.flatMap((s) => [s, '']),
    '## Reading these figures',
    '',
    'Throughput is 2xx responses per second over a run; latencies are per response as autocannon sees it (its own overhead included, equally for every target). Ratios are paired: each run of a target is divided by the run of its baseline made next to it, and the median of those ratios is shown. "Server CPU per request" is the user+system CPU time of the server process(es) during the run divided by the responses; it is the figure least moved by other load on the machine. On PostgreSQL the database server\'s own CPU is not included.',
    '',
  ].join('\n');
  // Files beside the results (the real-Prefect plot): same name, their own suffix; the text links them.
  const stem = basename(file, '.md');
  let linked = text;
  for (const { suffix, content } of artifacts) {
    writeFileSync(join(dir, `${stem}-${suffix}`), content);
    linked = linked.replaceAll(`{{artifact:${suffix}}}`, `${stem}-${suffix}`);
  }
  writeFileSync(file, linked);
  return file;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(options.help);
    return 0;
  }
  checkBuild();
  const machine = describeMachine();
  const { version: autocannon } = JSON.parse(execFileSync(process.execPath, ['-p', 'JSON.stringify(require("autocannon/package.json"))'], { cwd: ROOT, encoding: 'utf8' }));
  const pin = machine.cores >= 2 && hasTaskset() && pinSelf(1);
  const cores = pin ? { server: 0, generator: 1, autocannon } : { server: null, generator: null, autocannon };
  if (!pin) log('warning: cannot pin processes (taskset missing or a single core): figures will mix server and load generator');
  const load = loadAverage();
  if (load >= QUIET_LOAD && !options.quick) log(`warning: load average ${load.toFixed(2)}: the machine is busy; the results file will say so`);
  log(`${machine.cores} cores, ${machine.model}, Node ${machine.node}; stores: ${options.stores.join(', ')}; scenarios: ${options.scenarios.join(', ')}`);
  // PostgreSQL (a store, or the real Prefect server's database): the tests' own cluster is started
  // (and installed, as root) the way `npm test` does it, when the bench uses that default address.
  const needsPostgres = options.stores.includes('postgres') || (options.scenarios.includes('prefect') && options.prefectDatabase === 'postgres');
  if (needsPostgres && options.databaseUrl === PG_URL) {
    const ready = await ensurePostgres();
    if (!ready.ok) throw new Error(`PostgreSQL is not reachable at ${PG_URL}: ${ready.error} (or give --database-url, or --prefect-db sqlite)`);
  }
  for (const kind of options.stores) await benchStore(kind, options, machine, cores);
  closeClient();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench: ${error.message}`);
    process.exit(1);
  },
);
