// When does a revoked key stop working, seen from outside? While `revoke()` runs, one sequential
// prober per server keeps presenting the key (a request, its answer, the next request); each
// request's send time is noted. For each server: the send time of the first refusal after which
// nothing was accepted. The figure the issue asks for (target 5) is the latest of those minus the
// moment the revoking call returned: ≤ 0 means every server refused requests sent before the
// call had even returned; any 2xx to a request sent after the return is a stale acceptance.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

function probeOnce(agent, { url, path, headers, localAddress }) {
  return new Promise((resolve) => {
    const sent = now();
    const req = http.request(new URL(path, url), { method: 'GET', agent, headers, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body.length < 300 ? (body += chunk) : null));
      res.on('end', () => resolve({ sent, received: now(), status: res.statusCode, body: res.statusCode >= 300 ? body : undefined }));
    });
    req.on('error', (error) => resolve({ sent, received: now(), status: 0, error: error.message }));
    req.end();
  });
}

/**
 * probes: [{ name, url, path, headers, localAddress? }] (a 127.0.0.N of its own per trial keeps the
 * refused probes of many trials under Gatehouse's failed-key throttle); revoke: async () => void (the revoking call). Waits until
 * every prober has had `accepted` 2xx answers, then revokes, then probes `afterMs` more
 * (and until each prober has seen a refusal, at most `maxAfterMs`).
 * Returns { callMs, waitMs, stale, perProbe: [{ name, firstRefusedMs, lastAcceptedMs, stale, statuses }] }
 * with times relative to the call's return.
 */
export async function watchRevocation({ probes, revoke, accepted = 3, afterMs = 50, maxAfterMs = 5_000 }) {
  const agents = probes.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const logs = probes.map(() => []);
  let returnedAt = null;
  let stop = false;
  // Once refused, a prober slows down (one request every 10 ms): enough to see a later acceptance,
  // and few failed keys for Gatehouse's per-address throttle (30 a minute).
  const loops = probes.map(async (probe, i) => {
    while (!stop) {
      const result = await probeOnce(agents[i], probe);
      logs[i].push(result);
      if (result.status >= 400) await sleep(10);
    }
  });
  try {
    const readyBy = now() + 10_000;
    while (logs.some((log) => log.filter((r) => r.status >= 200 && r.status < 300).length < accepted)) {
      if (now() > readyBy) throw new Error(`the key was not accepted ${accepted} times by every server before revocation: ${logs.map((l) => l.slice(-3).map((r) => `${r.status} ${r.body ?? ''}`).join(', ')).join(' | ')}`);
      await sleep(2);
    }
    const started = now();
    await revoke();
    returnedAt = now();
    const until = returnedAt + maxAfterMs;
    while (now() < until) {
      const refusedAll = logs.every((log) => log.some((r) => r.sent > returnedAt && r.status >= 400));
      if (refusedAll && now() > returnedAt + afterMs) break;
      await sleep(2);
    }
    stop = true;
    await Promise.all(loops);
    const perProbe = probes.map((probe, i) => {
      const log = logs[i];
      const lastAccepted = [...log].reverse().find((r) => r.status >= 200 && r.status < 300);
      const firstRefused = log.find((r) => r.status >= 400 && (!lastAccepted || r.sent > lastAccepted.sent));
      return {
        name: probe.name,
        firstRefusedMs: firstRefused ? firstRefused.sent - returnedAt : Infinity,
        lastAcceptedMs: lastAccepted ? lastAccepted.sent - returnedAt : -Infinity,
        stale: log.filter((r) => r.sent > returnedAt && r.status >= 200 && r.status < 300).length,
        statuses: [...new Set(log.filter((r) => r.status >= 400 || r.status === 0).map((r) => r.status))],
      };
    });
    return {
      callMs: returnedAt - started,
      waitMs: Math.max(...perProbe.map((p) => p.firstRefusedMs)),
      stale: perProbe.reduce((n, p) => n + p.stale, 0),
      perProbe,
    };
  } finally {
    stop = true;
    await Promise.all(loops);
    for (const agent of agents) agent.destroy();
  }
}
