// Contract 4 under load: two Gatehouse processes on the same store, one under the authn+authz load
// of scenario 1; each trial makes a service account, uses its key on both processes, revokes it
// through one of them (delete the service account, or rotate with the old key deleted at once),
// and as soon as that call returns presents the old key to both. Any 2xx is a stale acceptance.
import { call, expectCall } from '../lib/client.js';
import { runLoad } from '../lib/load.js';
import { check, checksTable, int, micros, table } from '../lib/report.js';
import { summarize } from '../lib/stats.js';

export async function revocationScenario(ctx) {
  const { options, main } = ctx;
  const second = await ctx.startGatehouse(main.location, 'gatehouse-main-2');
  const processes = [main.gh, second];
  const { accountId, workspaceId, workerRoleId, ownerKey: key } = main.fixture;
  const scopes = `/api/me/workspaces/${workspaceId}/scopes`;
  const background = runLoad({
    url: main.gh.url,
    request: { method: 'GET', path: scopes, headers: { authorization: `Bearer ${main.fixture.workerKey}` } },
    connections: options.connections,
    duration: Math.max(options.duration, 5),
    servers: [main.gh],
  });
  const waits = [];
  let stale = 0;
  let probes = 0;
  let newKeyRefused = 0;
  let load;
  try {
    for (let trial = 0; trial < options.revocationTrials; trial++) {
      const via = processes[trial % 2];
      const bot = await expectCall(201, via.url, 'POST', `/api/accounts/${accountId}/bots/`, { key, body: { name: `revoke-${trial}` } });
      await expectCall(200, via.url, 'POST', `/api/accounts/${accountId}/workspaces/${workspaceId}/bot_access/`, {
        key,
        body: { bot_id: bot.body.id, workspace_role_id: workerRoleId },
      });
      const oldKey = bot.body.api_key.key;
      // Used on both processes first, so any cache holds it when it is revoked.
      for (const p of processes) for (let i = 0; i < 3; i++) await expectCall(200, p.url, 'GET', scopes, { key: oldKey });
      const rotate = trial % 4 >= 2;
      const started = process.hrtime.bigint();
      const revoked = rotate
        ? await expectCall(201, via.url, 'POST', `/api/accounts/${accountId}/bots/${bot.body.id}/rotate_api_key`, { key, body: {} })
        : await expectCall(204, via.url, 'DELETE', `/api/accounts/${accountId}/bots/${bot.body.id}`, { key });
      waits.push(Number(process.hrtime.bigint() - started) / 1000);
      for (const p of processes) {
        probes += 1;
        const res = await call(p.url, 'GET', scopes, { key: oldKey });
        if (res.status < 300) stale += 1;
        else if (res.status !== 401) throw new Error(`A revoked key got ${res.status} from ${p.name}, expected 401`);
      }
      if (rotate) {
        for (const p of processes) if ((await call(p.url, 'GET', scopes, { key: revoked.body.api_key.key })).status !== 200) newKeyRefused += 1;
        await expectCall(204, via.url, 'DELETE', `/api/accounts/${accountId}/bots/${bot.body.id}`, { key });
      }
    }
  } finally {
    load = await background;
    await second.stop();
  }
  const wait = summarize(waits);
  const checks = [
    check('requests accepted with a revoked key, right after the revoking call returned', '0', `${stale} of ${probes} probes`, stale === 0),
    check('new key after rotation works at once on both processes', 'always', newKeyRefused ? `${newKeyRefused} refusals` : 'always', newKeyRefused === 0),
  ];
  ctx.section('5. Revocation under load', [
    `Two Gatehouse processes on the same ${ctx.kind === 'sqlite' ? 'SQLite file' : 'PostgreSQL schema'}; the first under the load of scenario 1 (${options.connections} connections, ${int(load.requestsPerSecond)} req/s, ${load.non2xx + load.errors} failures during the trials). ${options.revocationTrials} trials, alternating the process that revokes and between deleting the service account and rotating its key without grace; after each revoking call returns, the old key is presented to both processes.`,
    '',
    table(['revoking call (delete or rotate) latency', 'median', 'min', 'max'], [['as the client waits for it', micros(wait.median), micros(wait.min), micros(wait.max)]]),
    '',
    checksTable(checks),
  ]);
  return checks;
}
