// One load run with autocannon: throughput, latency percentiles at microsecond resolution (from
// each response, since autocannon's own histogram keeps whole milliseconds), and the CPU the load
// generator and the servers under test used during the run.
import autocannon from 'autocannon';
import { percentile } from './stats.js';

/**
 * Runs `connections` keep-alive connections against `url` for `duration` seconds.
 * `request`: { method, path, headers, body } or `requests`: a list of them, sent in turn.
 * `servers`: process handles whose CPU time per request is reported.
 */
export function runLoad({ url, request, requests, connections, duration, servers = [] }) {
  return new Promise((resolve, reject) => {
    let latencies = new Float64Array(1 << 16);
    let count = 0;
    const serverCpuBefore = servers.map((s) => s.cpuMicros());
    const ownCpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const options = {
      url,
      connections,
      duration,
      pipelining: 1,
      timeout: 10,
      ...(requests ? { requests } : { method: request.method, headers: request.headers, body: request.body }),
    };
    if (!requests) options.url = new URL(request.path, url).toString();
    const tracker = autocannon(options, (error, result) => {
      if (error) return reject(error);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const ownCpu = process.cpuUsage(ownCpuBefore);
      const sample = latencies.subarray(0, count).sort();
      const ok = result['2xx'];
      resolve({
        requestsPerSecond: ok / result.duration,
        ok,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        seconds: result.duration,
        // Latencies in microseconds.
        p50: percentile(sample, 0.5) * 1000,
        p99: percentile(sample, 0.99) * 1000,
        max: sample.length ? sample[sample.length - 1] * 1000 : NaN,
        generatorCpu: (ownCpu.user + ownCpu.system) / 1e6 / seconds,
        serverCpuPerRequest: servers.map((s, i) => (ok ? (s.cpuMicros() - serverCpuBefore[i]) / ok : NaN)),
      });
    });
    tracker.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTimeMs;
    });
  });
}

/** A short run whose figures are thrown away: JIT, pools and caches warm, connections open. */
export async function warmUp(target, seconds, connections) {
  if (seconds <= 0) return;
  const result = await runLoad({ ...target, connections, duration: seconds });
  if (result.ok === 0) {
    throw new Error(`Warm-up against ${target.url} got no 2xx answers (${result.non2xx} non-2xx, ${result.errors} errors): the scenario's setup is wrong`);
  }
}
