// What key governance (issue 19) adds to an authenticated request, measured in-process on the
// compiled modules the server runs (dist/): the last-use note the auth core makes for every key
// (a map write; the row is written in the background, at most once a minute per key), and the IP
// allowlist check of an account that enforces one (a compiled address matcher, cached per account).
// Nanoseconds per call, median of interleaved repetitions; the noise of a shared machine is in
// the spread. Run: `npm run build && node bench/governance.js`.
import { dist } from './lib/paths.js';

const { keyUseRecorder } = await dist('auth/key-use.js');
const { compileNetworks, parseNetwork } = await dist('domain/ip-allowlist/networks.js');

const CALLS = 1_000_000;
const REPEATS = 7;
const keys = Array.from({ length: 1_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
const workspaceId = '11111111-1111-4111-8111-111111111111';

const recorder = keyUseRecorder({ write: async () => {}, intervalMs: 3_600_000 });
const at = new Date();
const note = (i) => recorder.note(keys[i % keys.length], { at, address: '10.0.0.4', client: 'prefect/3.9.1 (API 0.8.4)', workspaceId });

// An allowlist of 10 entries (IPv4 and IPv6 networks); the caller's address is the last one's.
const networks = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.7', '2001:db8::/32', '10.1.0.0/16', '172.16.0.0/12', '100.64.0.0/10', '2001:db8:1::/48', '192.168.0.0/16', '10.0.0.0/24'].map((n) => parseNetwork(n));
const allows = compileNetworks(networks);
const addresses = ['10.0.0.4', '::ffff:10.0.0.4', '203.0.113.7'];
let admitted = 0;
const allow = (i) => {
  if (allows(addresses[i % addresses.length])) admitted++;
};
const nothing = () => {};

function timed(fn) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) fn(i);
  return Number(process.hrtime.bigint() - started) / CALLS;
}

const cases = { 'empty loop (reference)': nothing, 'last-use note (every key request)': note, 'IP allowlist check, 10 entries (accounts that enforce one)': allow };
const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (const fn of Object.values(cases)) timed(fn); // warm-up
for (let r = 0; r < REPEATS; r++) for (const [name, fn] of Object.entries(cases)) results[name].push(timed(fn));
await recorder.close();
if (admitted === 0) throw new Error('the allowlist admitted no address: the measurement is of the wrong thing');

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`| what | ns per call (median of ${REPEATS}) | min–max |`);
console.log('| --- | --- | --- |');
for (const [name, values] of Object.entries(results)) console.log(`| ${name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)} |`);
