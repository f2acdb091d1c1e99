// Interleaved load runs: every target is warmed up, then run once per round in turn (A, B, A, B,
// ...), so a slow spell of the shared machine hits all of them rather than one.
import { runLoad, warmUp } from './load.js';
import { pairedRatios, summarize } from './stats.js';

/**
 * targets: [{ label, url, request | requests, servers }]. Returns per target the list of run
 * results, plus the summaries the tables need.
 */
export async function interleaved(targets, { runs, duration, connections, warmup, log }) {
  for (const target of targets) await warmUp(target, warmup, connections);
  const results = targets.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, target] of targets.entries()) {
      const result = await runLoad({ ...target, connections, duration });
      if (result.ok === 0) throw new Error(`${target.label}: no 2xx answers in a run (${result.non2xx} non-2xx, ${result.errors} errors)`);
      results[i].push(result);
      log(`  ${target.label} [${round + 1}/${runs}, ${connections} conn]: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50.toFixed(0)} µs, p99 ${result.p99.toFixed(0)} µs${result.non2xx || result.errors ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`);
    }
  }
  return targets.map((target, i) => summarizeTarget(target, results[i]));
}

function summarizeTarget(target, runs) {
  const of = (pick) => summarize(runs.map(pick));
  return {
    label: target.label,
    runs,
    rps: of((r) => r.requestsPerSecond),
    p50: of((r) => r.p50),
    p99: of((r) => r.p99),
    serverCpu: of((r) => r.serverCpuPerRequest.reduce((a, b) => a + b, 0)),
    generatorCpu: of((r) => r.generatorCpu),
    failures: runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
  };
}

/** Paired ratio of a measure of `a` to `b`, run by run: median and range. */
export function ratioTo(a, b, pick = (r) => r.requestsPerSecond) {
  return summarize(pairedRatios(a.runs.map(pick), b.runs.map(pick)));
}

/** Paired difference a − b of a measure, run by run (microsecond latencies). */
export function differenceTo(a, b, pick) {
  return summarize(a.runs.map((r, i) => pick(r) - pick(b.runs[i])));
}
