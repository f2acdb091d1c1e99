#!/usr/bin/env node
// The access log's own CPU cost per request, in one process (`node bench/access-log-cost.js`):
// building a line for a request like the bench's and writing it through AccessLog to a file,
// against pino writing Fastify's two request lines per request (the old default) to a file.
// CPU time (user + system, batched writes included), not wall time: steady on a busy machine.
// Needs dist/ (npm run build).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AccessLog, accessLine } from '../dist/http/access-log.js';

const N = Number(process.argv[2] ?? 300_000);
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-access-cost-'));
const workspaceId = '8f14e45f-ceea-467a-9c5b-0a1c2e3d4f5a';
const request = {
  id: '17c7e013-27fb-40b2-84fd-000000000001',
  ip: '10.1.2.3',
  method: 'GET',
  url: `/api/me/workspaces/${workspaceId}/scopes`,
  routeOptions: { url: '/api/me/workspaces/:workspace_id/scopes' },
  params: { workspace_id: workspaceId },
  auth: { actor: { type: 'bot', id: 'c9f0f895-fb98-4b91-99f5-1a2b3c4d5e6f', name: 'prod-worker-1', apiKeyId: '45c48cce-2e2d-4fbd-a3c1-0f1e2d3c4b5a' }, sessionId: null },
};
const reply = { statusCode: 200, elapsedTime: 0.4213, getHeader: () => '93' };

let runs = 0;
const cpu = (fn) => {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / N;
};

async function accessLog() {
  const file = join(dir, `access-${++runs}.log`);
  const log = new AccessLog({ file });
  const before = process.cpuUsage();
  // In turns of 50 requests (the bench's 50 connections), as a server's event loop turns: the writes get their chance.
  for (let i = 0; i < N; i++) {
    log.add(accessLine(request, reply));
    if (i % 50 === 49) await new Promise(setImmediate);
  }
  await log.close();
  const used = process.cpuUsage(before);
  const lines = readFileSync(file, 'utf8').split('\n').length - 1;
  if (lines !== N) throw new Error(`the access log wrote ${lines} of ${N} lines`);
  return { micros: (used.user + used.system) / N, bytes: statSync(file).size / N };
}

function fastifyLines() {
  const file = join(dir, `fastify-${++runs}.log`);
  const logger = pino({ level: 'info' }, pino.destination({ dest: file, sync: true }));
  const req = { method: request.method, url: request.url, host: '127.0.0.1:4280', remoteAddress: request.ip, remotePort: 51234 };
  const micros = cpu(() => {
    for (let i = 0; i < N; i++) {
      // (sync writes: nothing waits for the event loop)
      const child = logger.child({ reqId: request.id });
      child.info({ req }, 'incoming request');
      child.info({ res: { statusCode: 200 }, responseTime: 0.4213 }, 'request completed');
    }
  });
  return { micros, bytes: statSync(file).size / N };
}

// Warm both up, then measure each twice (ABAB).
await accessLog();
fastifyLines();
const results = { access: [], fastify: [] };
for (let round = 0; round < 2; round++) {
  results.access.push(await accessLog());
  results.fastify.push(fastifyLines());
}
rmSync(dir, { recursive: true, force: true });
const show = (runs) => runs.map((r) => `${r.micros.toFixed(2)} µs`).join(', ') + ` CPU per request; ${runs[0].bytes.toFixed(0)} bytes per request`;
console.log(`${N.toLocaleString('en-US')} requests`);
console.log(`access log (one line, batched, to a file): ${show(results.access)}`);
console.log(`Fastify's two pino lines (sync, to a file): ${show(results.fastify)}`);
