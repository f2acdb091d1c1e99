// Scenario 4, control plane: service accounts created, rotated (old key deleted at once) and
// deleted per second through the API, from one client, one call at a time and several at once;
// then `bots/filter` pages of 200 out of 10,000 service accounts in the account.
import { expectCall } from '../lib/client.js';
import { addServiceAccounts } from '../lib/bulk.js';
import { interleaved } from '../lib/compare.js';
import { check, checksTable, int, micros, millis, spread, table } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { commitProbe, fsyncProbe } from '../lib/commit-probe.js';

/**
 * Runs `work(i)` for i in 0..count-1 with at most `concurrency` at once; returns calls per second
 * and the server's CPU time per call (low CPU at a low rate means waiting: fsync, locks).
 */
async function rate(server, count, concurrency, work) {
  let next = 0;
  const cpuBefore = server.cpuMicros();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
  return { perSecond: count / (Number(process.hrtime.bigint() - started) / 1e9), cpu: (server.cpuMicros() - cpuBefore) / count };
}

export async function controlScenario(ctx) {
  const { options, main, baselines } = ctx;
  const base = main.gh.url;
  const { accountId, ownerKey: key } = main.fixture;
  const count = options.controlOperations;
  const modes = [
    { label: 'one at a time', concurrency: 1 },
    { label: `${options.controlConcurrency} at once`, concurrency: options.controlConcurrency },
  ];
  const measured = { baseline: [] };
  for (const mode of modes) for (const op of ['create', 'rotate', 'delete']) measured[`${mode.label}/${op}`] = [];

  for (let round = 0; round < options.runs; round++) {
    measured.baseline.push(await rate(baselines.bare, count, 1, () => expectCall(200, baselines.bare.url, 'GET', '/')));
    for (const mode of modes) {
      const ids = [];
      const prefix = `cp-${round}-${mode.concurrency}`;
      const add = (op, value) => {
        measured[`${mode.label}/${op}`].push(value);
        ctx.log(`  control ${mode.label} [${round + 1}/${options.runs}]: ${op} ${Math.round(value.perSecond)}/s, ${Math.round(value.cpu)} µs server CPU each`);
      };
      add('create', await rate(main.gh, count, mode.concurrency, async (i) => {
        const res = await expectCall(201, base, 'POST', `/api/accounts/${accountId}/bots/`, { key, body: { name: `${prefix}-${i}` } });
        ids[i] = res.body.id;
      }));
      add('rotate', await rate(main.gh, count, mode.concurrency, (i) =>
        expectCall(201, base, 'POST', `/api/accounts/${accountId}/bots/${ids[i]}/rotate_api_key`, { key, body: {} })));
      add('delete', await rate(main.gh, count, mode.concurrency, (i) => expectCall(204, base, 'DELETE', `/api/accounts/${accountId}/bots/${ids[i]}`, { key })));
    }
  }

  // Fill the account up to the filter size (it holds the worker and the small store's keys already).
  const missing = options.filterAccounts - main.serviceAccounts;
  if (missing > 0) {
    const added = await addServiceAccounts(main.location, { ...main.fixture, count: missing, prefix: 'filter' });
    main.serviceAccounts += missing;
    ctx.setup(`${int(missing)} more service accounts for bots/filter (${main.location.kind})`, added.seconds);
  }
  const filter = (offset) => ({
    method: 'POST',
    path: `/api/accounts/${accountId}/bots/filter`,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ limit: 200, offset }),
  });
  const lastPage = options.filterAccounts - 200;
  for (const offset of [0, lastPage]) {
    const res = await expectCall(200, base, 'POST', filter(offset).path, { key, body: { limit: 200, offset } });
    if (res.body.length !== 200) throw new Error(`bots/filter at offset ${offset} answered ${res.body.length} service accounts, expected 200`);
  }
  ctx.log('control: bots/filter, 1 connection');
  const pages = await interleaved(
    [
      { label: 'bare node:http (same client, 1 connection)', url: baselines.bare.url, request: { method: 'GET', path: '/', headers: {} }, servers: [baselines.bare] },
      { label: 'bots/filter, first page', url: base, request: filter(0), servers: [main.gh] },
      { label: `bots/filter, offset ${int(lastPage)}`, url: base, request: filter(lastPage), servers: [main.gh] },
    ],
    { runs: options.runs, duration: options.duration, warmup: options.warmup, connections: 1, log: ctx.log },
  );

  const probe = await commitProbe(main.location, ctx.tmpRoot);
  const fsync = fsyncProbe(ctx.tmpRoot);
  ctx.log(`control: fsync (4 KiB write + fdatasync) median ${Math.round(fsync.median)} µs, p99 ${Math.round(fsync.p99)} µs`);
  ctx.log(`control: durable commits one at a time: ${int(probe.durable)}/s (${probe.label})`);

  const rates = Object.fromEntries(
    Object.entries(measured).map(([name, values]) => [name, { ...summarize(values.map((v) => v.perSecond)), cpu: summarize(values.map((v) => v.cpu)) }]),
  );
  const onSqlite = ctx.kind === 'sqlite';
  const target = (name, wanted, value, pass) => check(name, wanted + (onSqlite ? '' : ' (a SQLite target)'), value, onSqlite ? pass : null);
  const create = rates['one at a time/create'].median;
  const rotate = rates['one at a time/rotate'].median;
  const firstPage = pages[1].p50.median / 1000;
  const checks = [
    target('T6 service-account creations per second, one client', '≥ 1,000/s', `${int(create)}/s (disk fsync ${micros(fsync.median)} median, ${micros(fsync.p99)} p99)`, create >= 1000),
    target('T6 key rotations per second, one client', '≥ 1,000/s', `${int(rotate)}/s (disk fsync ${micros(fsync.median)} median)`, rotate >= 1000),
    target('bots/filter page of 200 out of 10,000, median', '≤ 5 ms', millis(firstPage), firstPage <= 5),
  ];
  const rateRow = (label, s) => [label, int(s.median), spread(s, int), micros(s.cpu.median)];
  ctx.section('Target 6: control plane (creations and rotations per second)', [
    `${int(count)} service accounts created, then each key rotated (\`old_key_expires_in_seconds\` absent: the old key is deleted at once), then each deleted, over the API with the Owner's key, from one client process with keep-alive; one call at a time, then ${options.controlConcurrency} at once. Each call writes its audit event in the same transaction. The baseline is the same client calling bare node:http one at a time: the client's own ceiling.`,
    '',
    table(['operation', 'per second (median)', 'min–max', 'server CPU per call'], [
      rateRow('baseline: GET bare node:http, one at a time', rates.baseline),
      ...modes.flatMap((mode) => ['create', 'rotate', 'delete'].map((op) => rateRow(`${op}, ${mode.label}`, rates[`${mode.label}/${op}`]))),
    ]),
    '',
    `The disk's ceiling for writes made one at a time: ${int(probe.durable)} one-row commits/s (${probe.label}), measured just after on the same file system by \`bench/lib/commit-probe.js\`${probe.other ? `; ${int(probe.other.rate)}/s with ${probe.other.label}` : ''}. Each creation, rotation and deletion is one such commit. The disk's fsync itself (a 4 KiB write then \`fdatasync\`, one at a time, ${fsync.count} times, in the bench's temporary directory): median ${micros(fsync.median)}, p99 ${micros(fsync.p99)}.`,
    '',
    `\`POST /api/accounts/{a}/bots/filter\` \`{"limit": 200, "offset": N}\` with ${int(options.filterAccounts)} service accounts in the account (each with its active key), one connection:`,
    '',
    table(
      ['request', 'p50 (median of runs)', 'min–max', 'p99', 'requests/s', 'server CPU per request'],
      pages.map((s) => [s.label, micros(s.p50.median), spread(s.p50, micros), micros(s.p99.median), int(s.rps.median), micros(s.serverCpu.median)]),
    ),
    '',
    checksTable(checks),
  ]);
  return checks;
}
