// The runner's command-line options, validated once; `--quick` is the short development run.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const SCENARIOS = ['authz', 'keys', 'gateway', 'control', 'revocation', 'memory', 'accesslog', 'prefect', 'betterauth', 'nginx'];

const USAGE = `npm run bench -- [options]
  --store sqlite|postgres|all   store(s) to measure (default: sqlite)
  --duration SECONDS            length of one load run (default 10; --quick: 2)
  --connections N               keep-alive connections for throughput runs (default 50)
  --runs N                      interleaved runs per target (default 5; --quick: 1)
  --scenario NAME[,NAME]        ${SCENARIOS.join(', ')} (default: all)
  --keys N                      service-account keys in the large store (default 1000000; --quick: 10000)
  --quick                       short runs, one run, 10,000 keys: for development on a shared machine
  --database-url URL            PostgreSQL (default postgres://postgres@127.0.0.1:5432/test)
  --log-level LEVEL             Gatehouse's log level while measured (default: none given, i.e. the
                                product's default, info, with the access log on)
  --prefect-db sqlite|postgres  the real Prefect server's database (default postgres, on --database-url's
                                server: Prefect on SQLite refuses most concurrent writes with 503)
  --out DIR                     where the results file goes (default bench/results)
  --profile DIR                 run Gatehouse with --cpu-prof into DIR (see bench/profile-top.js)
  --help`;

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string', default: 'sqlite' },
      duration: { type: 'string' },
      connections: { type: 'string', default: '50' },
      runs: { type: 'string' },
      scenario: { type: 'string' },
      keys: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'database-url': { type: 'string', default: process.env.GATEHOUSE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
      'log-level': { type: 'string' },
      out: { type: 'string' },
      'prefect-db': { type: 'string', default: 'postgres' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return { help: USAGE };
  const quick = values.quick;
  const number = (name, text, min) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number of at least ${min}, got "${text}"\n\n${USAGE}`);
    return value;
  };
  const stores = values.store === 'all' ? ['sqlite', 'postgres'] : [values.store];
  for (const store of stores) {
    if (!['sqlite', 'postgres'].includes(store)) throw new Error(`--store must be sqlite, postgres or all, got "${values.store}"`);
  }
  const scenarios = values.scenario ? values.scenario.split(',').map((s) => s.trim()) : SCENARIOS;
  for (const scenario of scenarios) {
    if (!SCENARIOS.includes(scenario)) throw new Error(`Unknown scenario "${scenario}": use one of ${SCENARIOS.join(', ')}`);
  }
  if (!['sqlite', 'postgres'].includes(values['prefect-db'])) throw new Error(`--prefect-db must be sqlite or postgres, got "${values['prefect-db']}"`);
  const duration = number('duration', values.duration ?? (quick ? '2' : '10'), 1);
  return {
    stores,
    scenarios,
    quick,
    duration,
    // Warm-up before a target's first run: JIT, pools, caches; a fifth of a run, at least a second.
    warmup: Math.max(1, Math.round(duration / 5)),
    connections: Math.floor(number('connections', values.connections, 1)),
    runs: Math.floor(number('runs', values.runs ?? (quick ? '1' : '5'), 1)),
    largeKeys: Math.floor(number('keys', values.keys ?? (quick ? '10000' : '1000000'), 2000)),
    smallKeys: 1_000,
    filterAccounts: 10_000,
    controlOperations: quick ? 100 : 500,
    controlConcurrency: 8,
    revocationTrials: quick ? 4 : 20,
    // Real-Prefect scenario: seconds per block, blocks per target and concurrency (interleaved).
    prefectBlock: quick ? 2 : 5,
    prefectRounds: quick ? 2 : 6,
    prefectConcurrency: [1, 8],
    prefectDatabase: values['prefect-db'],
    databaseUrl: values['database-url'],
    logLevel: values['log-level'],
    out: values.out,
    profileDir: values.profile && resolve(values.profile),
  };
}
