// How much the fuzz suites run, and from which seed. CI runs a fixed seed, so a red run replays
// exactly; GATEHOUSE_LONG=1 runs ten times as many requests from a random seed that it prints
// (GATEHOUSE_FUZZ_SEED=N replays one, in either mode; GATEHOUSE_FUZZ_RUNS=N sets the count).

export const LONG = process.env.GATEHOUSE_LONG === '1';

const fixedSeed = 0x6a7e_5eed;
const seedText = process.env.GATEHOUSE_FUZZ_SEED;
const runsText = process.env.GATEHOUSE_FUZZ_RUNS;

function parseCount(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}="${text}" is not a positive integer`);
  return value;
}

/** The run's base seed; each endpoint derives its own from it and the endpoint's name. */
export const SEED: number = seedText !== undefined ? parseCount(seedText, 'GATEHOUSE_FUZZ_SEED', 1) | 0 : LONG ? (Math.random() * 2 ** 31) | 0 : fixedSeed;

/** Generated requests per endpoint. */
export const RUNS_PER_ENDPOINT = parseCount(runsText, 'GATEHOUSE_FUZZ_RUNS', LONG ? 10_000 : 1_000);

/**
 * Requests per fast-check run, sent concurrently: a batch keeps the database busy while Node
 * builds the next requests. A failing batch is shrunk like any other value.
 */
export const BATCH = 20;

/**
 * The body limit the fuzzed server runs with (GATEHOUSE_BODY_LIMIT in production, 1 MiB by
 * default): smaller here so that oversized bodies are cheap to build, through the same code path.
 */
export const BODY_LIMIT = 64 * 1024;

/** A stable per-endpoint seed, so that adding a route does not change the others' requests. */
export function seedFor(name: string): number {
  let hash = SEED;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash | 0;
}

export function describeRun(suite: string): string {
  return `${suite}: seed ${SEED}${LONG ? ' (long mode, random)' : ''}, ${RUNS_PER_ENDPOINT} requests per endpoint in batches of ${BATCH}; replay with GATEHOUSE_FUZZ_SEED=${SEED}${LONG ? ' GATEHOUSE_LONG=1' : ''}`;
}
