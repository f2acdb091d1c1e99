#!/usr/bin/env node
// Where a Gatehouse process spent its CPU: reads a V8 .cpuprofile (from `npm run bench -- --profile
// DIR`) and prints self time (as a share of the busy time) by package or dist/ module, then the
// top functions.
//   node bench/profile-top.js DIR/gatehouse-main.*.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (positionals.length !== 1) {
  console.error('usage: node bench/profile-top.js FILE.cpuprofile [--top N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfMicros = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

/** node_modules/<package>, dist/<module>, node:<internal>, or the V8 pseudo-frame. */
function where(frame) {
  const url = frame.url || '';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `dist/${dist[1]}`;
  if (url.startsWith('node:')) return url.split('/')[0] === 'node:internal' ? url.replace(/^node:internal\//, 'node:').split('/')[0] : url;
  return frame.functionName ? `(${frame.functionName})` : '(native)';
}

const groups = new Map();
const functions = new Map();
let total = 0;
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id).callFrame;
  // Waiting for work is not a cost; shares are of the time the process was busy.
  if (frame.functionName === '(idle)') continue;
  total += micros;
  const group = where(frame);
  groups.set(group, (groups.get(group) ?? 0) + micros);
  const name = `${frame.functionName || '(anonymous)'}  ${group}:${frame.lineNumber + 1}`;
  functions.set(name, (functions.get(name) ?? 0) + micros);
}
const top = Number(values.top);
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * micros) / total).toFixed(1).padStart(6)}%  ${name}`);
  }
};
console.log(`${positionals[0]}: ${(total / 1e6).toFixed(2)} s busy`);
print('self time by package / module', groups);
print('self time by function', functions);
