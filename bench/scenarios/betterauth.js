// Issue 22 target 4a: better-auth's API-key plugin (bench/servers/better-auth.js: better-auth on
// better-sqlite3, the plugin verifying the key on every request, same answer bytes) against
// Gatehouse's scopes route with a Worker key, same connections, interleaved. Then what each does
// when the key is revoked while a client keeps using it (bench/lib/revoke-probe.js): better-auth
// disabling the key through its plugin API, Gatehouse deleting the service account.
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expectCall } from '../lib/client.js';
import { interleaved, ratioTo } from '../lib/compare.js';
import { SERVERS } from '../lib/paths.js';
import { watchRevocation } from '../lib/revoke-probe.js';
import { check, checksTable, fixed, int, micros, millis, table, throughputTable, generatorNote } from '../lib/report.js';
import { median } from '../lib/stats.js';

const TRIALS = 5;

export async function betterAuthScenario(ctx) {
  const { options, main } = ctx;
  const { accountId, workspaceId, workerKey, ownerKey, workerRoleId } = main.fixture;
  const path = `/api/me/workspaces/${workspaceId}/scopes`;
  const sample = await expectCall(200, main.gh.url, 'GET', path, { key: workerKey });
  const peer = await ctx.startServer({
    name: 'better-auth',
    args: [join(SERVERS, 'better-auth.js')],
    env: { BENCH_BODY: sample.raw.toString('base64'), BENCH_DB: join(ctx.tmpRoot, 'better-auth.db'), BENCH_SECRET: randomBytes(24).toString('hex') },
    ready: /listening on (\S+)/,
  });
  const peerKey = (await expectCall(200, peer.url, 'POST', '/bench/key', { body: {} })).body;
  await expectCall(200, peer.url, 'GET', path, { headers: { 'x-api-key': peerKey.key } });

  const targets = [
    { label: 'better-auth API-key plugin (SQLite)', url: peer.url, request: { method: 'GET', path, headers: { 'x-api-key': peerKey.key } }, servers: [peer] },
    { label: 'Gatehouse (defaults)', url: main.gh.url, request: { method: 'GET', path, headers: { authorization: `Bearer ${workerKey}` } }, servers: [main.gh] },
  ];
  const common = { runs: options.runs, duration: options.duration, warmup: options.warmup, log: ctx.log };
  ctx.log(`betterauth: ${options.connections} connections`);
  const loaded = await interleaved(targets, { ...common, connections: options.connections });
  ctx.log('betterauth: 1 connection');
  const single = await interleaved(targets, { ...common, connections: 1 });
  const [ba, gh] = loaded;
  const rps = ratioTo(gh, ba);

  // Revocation while a client keeps presenting the key.
  const revocations = { peer: [], gatehouse: [] };
  for (let trial = 0; trial < TRIALS; trial++) {
    const k = (await expectCall(200, peer.url, 'POST', '/bench/key', { body: {} })).body;
    revocations.peer.push(await watchRevocation({
      probes: [{ name: 'better-auth', url: peer.url, path, headers: { 'x-api-key': k.key } }],
      revoke: () => expectCall(200, peer.url, 'POST', '/bench/revoke', { body: { userId: k.userId, keyId: k.keyId } }),
    }));
    const bot = await expectCall(201, main.gh.url, 'POST', `/api/accounts/${accountId}/bots/`, { key: ownerKey, body: { name: `ba-revoke-${trial}` } });
    await expectCall(200, main.gh.url, 'POST', `/api/accounts/${accountId}/workspaces/${workspaceId}/bot_access/`, { key: ownerKey, body: { bot_id: bot.body.id, workspace_role_id: workerRoleId } });
    revocations.gatehouse.push(await watchRevocation({
      probes: [{ name: 'Gatehouse', url: main.gh.url, path, headers: { authorization: `Bearer ${bot.body.api_key.key}` }, localAddress: `127.0.0.${10 + trial}` }],
      revoke: () => expectCall(204, main.gh.url, 'DELETE', `/api/accounts/${accountId}/bots/${bot.body.id}`, { key: ownerKey }),
    }));
  }
  const revRow = (label, list) => [label, millis(median(list.map((r) => r.callMs))), millis(median(list.map((r) => r.waitMs))), millis(Math.max(...list.map((r) => r.waitMs))), String(list.reduce((n, r) => n + r.stale, 0))];

  const checks = [
    check('T4a Gatehouse vs better-auth API keys: requests/s', '> 1×', `${fixed(rps.median)}× (${int(gh.rps.median)} vs ${int(ba.rps.median)} req/s)`, rps.median > 1),
    check(`T4a Gatehouse vs better-auth API keys: p99 at ${options.connections} connections`, 'lower', `${micros(gh.p99.median)} vs ${micros(ba.p99.median)}`, gh.p99.median < ba.p99.median),
    check('T4a revoked key: last acceptance after the revoking call returned (Gatehouse / better-auth)', '0 (Gatehouse)', `${revocations.gatehouse.reduce((n, r) => n + r.stale, 0)} / ${revocations.peer.reduce((n, r) => n + r.stale, 0)} stale 2xx`, revocations.gatehouse.every((r) => r.stale === 0)),
  ];
  ctx.section('Target 4a: better-auth\'s API-key plugin', [
    `\`GET ${path.replace(workspaceId, '{w}')}\` answered by better-auth ${'1.7'} with \`@better-auth/api-key\` on better-sqlite3 (\`bench/servers/better-auth.js\`: Fastify, better-auth's handler mounted on \`/api/auth/*\` as its docs show, the route verifying the \`x-api-key\` key with \`auth.api.verifyApiKey\` and answering Gatehouse's bytes; plugin defaults except \`rateLimit: { enabled: false }\`, since the default allows 10 requests per key per day) and by Gatehouse with the Worker key, interleaved.`,
    '',
    `**${options.connections} connections:**`,
    '',
    throughputTable(loaded, ba, ratioTo),
    '',
    generatorNote(loaded),
    '',
    '**One connection:**',
    '',
    table(['target', 'p50 (median of runs)', 'p99', 'server CPU per request'], single.map((s) => [s.label, micros(s.p50.median), micros(s.p99.median), micros(s.serverCpu.median)])),
    '',
    `**Revocation** (${TRIALS} trials each, no other load): one client presents the key again and again; better-auth's key is disabled through the plugin (\`auth.api.updateApiKey\` with \`enabled: false\`), Gatehouse's service account is deleted. "Refusing from" is the send time of the first refused request after the last accepted one, relative to the moment the revoking call returned (negative: already refused before it returned).`,
    '',
    table(['server', 'revoking call (median)', 'refusing from (median)', 'refusing from (latest)', 'requests sent after the return and accepted'], [revRow('better-auth (storage: database, one process)', revocations.peer), revRow('Gatehouse', revocations.gatehouse)]),
    '',
    "better-auth's plugin reads the key's row on every verification with its default `storage: \"database\"` (and writes it back: `updatedAt`, the rate-limit counters), so one process on one database refuses a disabled key at once, as above. With `storage: \"secondary-storage\"` (Redis and the like, which its docs suggest for speed) a verification reads the cached copy, and a key changed in the database without going through the plugin, or by another deployment sharing the database but not the cache, stays valid from the cache until the key itself expires (the cached entry has no other lifetime); the plugin has no invalidation of its own beyond its own calls. Gatehouse caches too, and a revoking call returns only after every process has dropped what it cached (target 5).",
    '',
    checksTable(checks),
  ]);
  return checks;
}
