// Races over two real `gatehouse start` processes on one store (issue 5 item 5): bursts of
// conflicting writes (Promise.all, spread over both processes), then the answers and the database
// are checked. Never a 5xx; never two current keys for one service account, nor an old key kept
// without a grace; never a service account left without a current key unless a caller deleted it;
// and the database's constraints hold afterwards. test/concurrency.test.ts covers the same
// scenarios in one process with few rounds; this suite is about separate processes and volume.
//
// CI-sized run by default; GATEHOUSE_LONG=1 runs more rounds with bigger bursts. Both print the counts.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../../src/authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import type { Store } from '../../src/store/store.js';
import {
  bootstrapOwner, call, errorLogLines, freshSharedStore, startGatehouses,
  type Answer, type GatehouseProcess, type SharedStore,
} from '../support/processes.js';

const LONG = process.env.GATEHOUSE_LONG === '1';
const ROUNDS = LONG ? 200 : 25;
/** Concurrent requests in one burst of creates or rotations. */
const BURST = LONG ? 24 : 12;

let shared: SharedStore;
let servers: GatehouseProcess[] = [];
let urls: string[];
let db: Store;
let ownerKey: string;
let accountId: string;
let bots: string;
let workspaces: string[];
const report: string[] = [];
/** Every answer of every burst, for the one "never a 5xx" check at the end. */
const answers: { what: string; a: Answer }[] = [];

/** Request `i` of a burst goes to process i % 2. */
async function send(i: number, method: string, path: string, body?: unknown, key = ownerKey): Promise<Answer> {
  const a = await call(urls[i % urls.length], method, path, { key, body });
  answers.push({ what: `${method} ${path}`, a });
  return a;
}

async function must(i: number, method: string, path: string, body: unknown, status: number): Promise<Answer> {
  const a = await send(i, method, path, body);
  if (a.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${a.status} ${JSON.stringify(a.body)}`);
  return a;
}

const tally = (list: Answer[]) => {
  const out: Record<number, number> = {};
  for (const a of list) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
};

async function newBot(): Promise<{ id: string; actorId: string; key: { id: string; key: string } }> {
  const a = await must(0, 'POST', `${bots}/`, { name: `race-${randomUUID()}` }, 201);
  return { id: a.body.id, actorId: a.body.actor_id, key: { id: a.body.api_key.id, key: a.body.api_key.key } };
}

/** Whether a key authenticates, asked of both processes, which must agree. */
async function works(key: string): Promise<boolean> {
  const [a, b] = await Promise.all(urls.map((url) => call(url, 'GET', '/api/me/', { key })));
  for (const x of [a, b]) expect([200, 401], JSON.stringify(x.body)).toContain(x.status);
  expect(a.status, 'both processes agree on a key').toBe(b.status);
  return a.status === 200;
}

/** Rows that break an invariant the schema or the services promise, by invariant; empty when all hold. */
async function brokenInvariants(): Promise<Record<string, unknown[]>> {
  const rows = async (query: ReturnType<typeof sql>) => (await query.execute(db.db)).rows;
  const found: Record<string, unknown[]> = {
    'service accounts without exactly one current key': await rows(sql`
      select b.id, count(k.id) as current from bots b left join api_keys k on k.bot_id = b.id and k.is_active = 1
      group by b.id having count(k.id) <> 1`),
    'old service-account keys without a grace end': await rows(sql`
      select id from api_keys where bot_id is not null and is_active = 0 and expiration is null`),
    'keys whose owner is missing or is not their actor': await rows(sql`
      select k.id from api_keys k left join bots b on b.id = k.bot_id left join users u on u.id = k.user_id
      where (k.bot_id is null) = (k.user_id is null) or coalesce(b.actor_id, u.actor_id) is null
         or coalesce(b.actor_id, u.actor_id) <> k.actor_id`),
    'service accounts without exactly one Member membership': await rows(sql`
      select b.id from bots b left join account_memberships m on m.bot_id = b.id and m.account_id = b.account_id
        and m.actor_id = b.actor_id and m.account_role_id = ${ACCOUNT_ROLE_IDS.Member}
      group by b.id having count(m.id) <> 1`),
    'memberships of missing service accounts': await rows(sql`
      select m.id from account_memberships m left join bots b on b.id = m.bot_id where m.bot_id is not null and b.id is null`),
    'workspace access to a missing role, workspace or principal': await rows(sql`
      select a.id from workspace_access a left join workspace_roles r on r.id = a.workspace_role_id
        left join workspaces w on w.id = a.workspace_id left join bots b on b.id = a.bot_id left join users u on u.id = a.user_id
      where r.id is null or w.id is null or coalesce(b.actor_id, u.actor_id) is null or coalesce(b.actor_id, u.actor_id) <> a.actor_id`),
    'workspace access with a role of another account': await rows(sql`
      select a.id from workspace_access a join workspace_roles r on r.id = a.workspace_role_id join workspaces w on w.id = a.workspace_id
      where r.account_id is not null and r.account_id <> w.account_id`),
  };
  if (db.dialect === 'sqlite') {
    found['foreign_key_check'] = await rows(sql`pragma foreign_key_check`);
    found['integrity_check'] = (await rows(sql`pragma integrity_check`)).filter((r) => (r as { integrity_check: string }).integrity_check !== 'ok');
  }
  return Object.fromEntries(Object.entries(found).filter(([, list]) => list.length > 0));
}

/** Runs `body` for every round, and reports the rounds and the time they took. */
async function rounds(name: string, count: number, body: (round: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  const before = answers.length;
  for (let round = 0; round < count; round++) await body(round);
  const statuses = JSON.stringify(tally(answers.slice(before).map((x) => x.a)));
  report.push(`[races ${shared.kind}] ${name}: ${count} rounds, ${answers.length - before} requests ${statuses}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

beforeAll(async () => {
  shared = freshSharedStore();
  ({ accountId, key: ownerKey } = await bootstrapOwner(shared, 'races'));
  // The throttle on failed key authentications must not answer for the store here: every refusal
  // these tests count has to come from the store saying no.
  servers = await startGatehouses(shared, 2, { args: ['--log-level', 'warn'], env: { GATEHOUSE_KEY_FAILURE_LIMIT: '1000000000' } });
  urls = servers.map((s) => s.url);
  db = await shared.open();
  bots = `/api/accounts/${accountId}/bots`;
  workspaces = [];
  for (const handle of ['race-one', 'race-two']) {
    workspaces.push((await must(0, 'POST', `/api/accounts/${accountId}/workspaces/`, { name: handle, handle }, 201)).body.id);
  }
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.stop();
  await db?.close();
  await shared?.dispose();
  if (report.length) console.log(report.join('\n'));
});

const TITLE = `races over two gatehouse processes on one ${process.env.GATEHOUSE_TEST_STORE ?? 'sqlite'} store (${LONG ? 'long' : 'CI'} run: ${ROUNDS} rounds, bursts of ${BURST})`;

describe(TITLE, { timeout: LONG ? 1_800_000 : 180_000 }, () => {
  it('same-name creates and renames: exactly one wins, every other gets 409 SERVICE_ACCOUNT_NAME_TAKEN', async () => {
    await rounds('same-name creates and renames', ROUNDS, async (round) => {
      const name = `contested-${round}-${randomUUID().slice(0, 8)}`;
      // A quarter of the contenders are existing service accounts being renamed to the name.
      const renamed = await Promise.all(Array.from({ length: BURST / 4 }, () => newBot()));
      const results = await Promise.all([
        ...Array.from({ length: BURST - renamed.length }, (_, i) => send(i + round, 'POST', `${bots}/`, { name })),
        ...renamed.map((bot, i) => send(i + round + 1, 'PATCH', `${bots}/${bot.id}`, { name })),
      ]);
      const won = results.filter((a) => a.status === 201 || a.status === 204);
      expect(won, JSON.stringify(tally(results))).toHaveLength(1);
      for (const a of results.filter((x) => !won.includes(x))) {
        expect(a.status, JSON.stringify(a.body)).toBe(409);
        expect(a.body.code).toBe('SERVICE_ACCOUNT_NAME_TAKEN');
      }
      const holders = await db.db.selectFrom('bots').select('id').where('account_id', '=', accountId).where('name', '=', name).execute();
      expect(holders).toHaveLength(1);
      if (won[0].status === 201) {
        expect(holders[0].id).toBe(won[0].body.id);
        expect(await works(won[0].body.api_key.key)).toBe(true);
      }
    });
  });

  it('concurrent rotations of one service account: one current key at every moment, one unbroken chain of rotations', async () => {
    const graces = [null, 0, 3600, 60] as const;
    let samples = 0;
    await rounds('concurrent rotations', ROUNDS, async (round) => {
      const bot = await newBot();
      const bodies = Array.from({ length: BURST }, (_, i) => {
        const grace = graces[(i + round) % graces.length];
        return grace === null ? {} : { old_key_expires_in_seconds: grace };
      });
      // While the burst runs, the database is read over and over: the current key is never missing or doubled.
      let running = true;
      const seenWrong: unknown[] = [];
      const monitor = (async () => {
        while (running) {
          const keys = await db.db.selectFrom('api_keys').select(['id', 'is_active', 'expiration']).where('bot_id', '=', bot.id).execute();
          samples += 1;
          const current = keys.filter((k) => k.is_active === 1);
          if (current.length !== 1 || keys.some((k) => k.is_active === 0 && k.expiration === null)) seenWrong.push(keys);
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const results = await Promise.all(bodies.map((body, i) => send(i, 'POST', `${bots}/${bot.id}/rotate_api_key`, body)));
      running = false;
      await monitor;
      expect(seenWrong.slice(0, 3)).toEqual([]);
      for (const a of results) {
        expect([201, 409], JSON.stringify(a.body)).toContain(a.status);
        if (a.status === 409) expect(a.body.code).toBe('CONCURRENT_CHANGE');
      }

      // The audit rows link every successful rotation to the key it replaced: one chain, no fork.
      const events = await db.db.selectFrom('audit_events').select('details')
        .where('action', '=', 'service_account.api_key_rotated').where('target_id', '=', bot.id).execute();
      const links = events.map((e) => JSON.parse(e.details) as { api_key_id: string; old_api_key_id: string; old_key_expires_in_seconds: number | null });
      const issued = results.filter((a) => a.status === 201).map((a) => a.body.api_key as { id: string; key: string });
      expect(links.map((l) => l.api_key_id).sort()).toEqual(issued.map((k) => k.id).sort());
      const byOld = new Map(links.map((l) => [l.old_api_key_id, l]));
      expect(byOld.size, 'two rotations replaced the same key').toBe(links.length);
      const chain = [bot.key.id];
      while (byOld.has(chain.at(-1)!)) chain.push(byOld.get(chain.at(-1)!)!.api_key_id);
      expect(chain).toHaveLength(links.length + 1);

      // Exactly the chain's last key is current; a replaced key works only if it was given a grace
      // above 0 by the rotation that made the current key (each rotation ends older graces).
      const current = await must(round, 'GET', `${bots}/${bot.id}/read_bot_api_keys`, undefined, 200);
      expect(current.body.active_key.id).toBe(chain.at(-1));
      const plaintext = new Map([[bot.key.id, bot.key.key], ...issued.map((k) => [k.id, k.key] as [string, string])]);
      for (const id of chain) {
        const link = byOld.get(id);
        const expected = !link || ((link.old_key_expires_in_seconds ?? 0) > 0 && link.api_key_id === chain.at(-1));
        expect(await works(plaintext.get(id)!), `key ${chain.indexOf(id)} of ${chain.length}`).toBe(expected);
      }
    });
    report.push(`[races ${shared.kind}]   (${samples} database samples taken during the rotation bursts)`);
  });

  it('rotation racing removal of the service account: one removal wins, and nothing of the service account survives', async () => {
    await rounds('rotate during service-account removal', ROUNDS, async (round) => {
      const bot = await newBot();
      await must(0, 'POST', `/api/accounts/${accountId}/workspaces/${workspaces[0]}/bot_access/`, { bot_id: bot.id, workspace_role_id: WORKSPACE_ROLE_IDS.Worker }, 200);
      const graced = await must(1, 'POST', `${bots}/${bot.id}/rotate_api_key`, { old_key_expires_in_seconds: 3600 }, 201);
      const calls = [
        () => send(round, 'POST', `${bots}/${bot.id}/rotate_api_key`, {}),
        () => send(round + 1, 'DELETE', `${bots}/${bot.id}`),
        () => send(round + 1, 'POST', `${bots}/${bot.id}/rotate_api_key`, { old_key_expires_in_seconds: 600 }),
        () => send(round, 'DELETE', `${bots}/${bot.id}`),
      ];
      const order = round % 2 ? calls : [...calls].reverse();
      const results = await Promise.all(order.map((c) => c()));
      const [rotations, removals] = [results.filter((_, i) => order[i] === calls[0] || order[i] === calls[2]), results.filter((_, i) => order[i] === calls[1] || order[i] === calls[3])];
      expect(tally(removals)).toEqual({ 204: 1, 404: 1 });
      for (const a of rotations) expect([201, 404, 409], JSON.stringify(a.body)).toContain(a.status);

      for (const table of ['api_keys', 'workspace_access', 'account_memberships'] as const) {
        expect(await db.db.selectFrom(table).select('id').where('bot_id', '=', bot.id).execute(), table).toEqual([]);
      }
      expect(await db.db.selectFrom('bots').select('id').where('id', '=', bot.id).execute()).toEqual([]);
      const keys = [bot.key.key, graced.body.api_key.key, ...rotations.filter((a) => a.status === 201).map((a) => a.body.api_key.key)];
      for (const key of keys) expect(await works(key)).toBe(false);
    });
  });

  it('rotation racing deletion of the current key: the rotated-in key is current and works; the deleted one never does', async () => {
    const graces = [null, 0, 3600] as const;
    await rounds('rotate during key deletion', ROUNDS, async (round) => {
      const bot = await newBot();
      const grace = graces[round % graces.length];
      const rotate = () => send(round, 'POST', `${bots}/${bot.id}/rotate_api_key`, grace === null ? {} : { old_key_expires_in_seconds: grace });
      const remove = () => send(round + 1, 'DELETE', `${bots}/${bot.id}/delete_bot_api_key/${bot.key.id}`);
      const [rotation, removal] = round % 2 ? await Promise.all([rotate(), remove()]) : await Promise.all([remove(), rotate()]).then(([d, r]) => [r, d]);
      expect(rotation.status, JSON.stringify(rotation.body)).toBe(201);
      // 404 only when the rotation deleted the key first, which it does only without a grace.
      expect(grace === null ? [204, 404] : [204], JSON.stringify(removal.body)).toContain(removal.status);
      if (removal.status === 404) expect(removal.body.code).toBe('NOT_FOUND');

      const keys = await must(round, 'GET', `${bots}/${bot.id}/read_bot_api_keys`, undefined, 200);
      expect(keys.body.active_key?.id).toBe(rotation.body.api_key.id);
      expect(await works(rotation.body.api_key.key)).toBe(true);
      expect(await works(bot.key.key)).toBe(false);
    });
  });

  it('access upsert racing deletion of its workspace role: the grant or the deletion wins, never both', async () => {
    const tallies = { granted: 0, deleted: 0 };
    await rounds('access upsert during role deletion', ROUNDS, async (round) => {
      const role = await must(0, 'POST', `/api/accounts/${accountId}/workspace_roles/`, { name: `racing-${randomUUID()}`, scopes: ['see_flows', 'manage_flows'] }, 201);
      const [first, second] = [await newBot(), await newBot()];
      // Odd rounds: the first service account already holds Viewer, so its upsert is a role change.
      if (round % 2) await must(1, 'POST', `/api/accounts/${accountId}/workspaces/${workspaces[0]}/bot_access/`, { bot_id: first.id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }, 200);
      const access = (w: number) => `/api/accounts/${accountId}/workspaces/${workspaces[w]}/bot_access/`;
      const [upsertA, removal, upsertB] = await Promise.all([
        send(round, 'POST', access(0), { bot_id: first.id, workspace_role_id: role.body.id }),
        send(round + 1, 'DELETE', `/api/accounts/${accountId}/workspace_roles/${role.body.id}`),
        send(round + 1, 'POST', access(1), [{ bot_id: second.id, workspace_role_id: role.body.id }]),
      ]);
      for (const a of [upsertA, upsertB]) {
        expect([200, 422], JSON.stringify(a.body)).toContain(a.status);
        if (a.status === 422) expect(a.body.code).toBe('UNKNOWN_WORKSPACE_ROLE');
      }
      expect([204, 409], JSON.stringify(removal.body)).toContain(removal.status);
      const grants = [upsertA, upsertB].filter((a) => a.status === 200).length;
      if (removal.status === 204) {
        expect(grants, 'a grant succeeded with a role that was deleted').toBe(0);
        tallies.deleted += 1;
      } else {
        expect(removal.body.code).toBe('WORKSPACE_ROLE_IN_USE');
        expect(grants, 'the role was refused deletion although nothing was granted it').toBeGreaterThan(0);
        tallies.granted += 1;
      }
      const rows = await db.db.selectFrom('workspace_access').select(['workspace_id', 'workspace_role_id']).where('actor_id', 'in', [first.actorId, second.actorId]).orderBy('workspace_id').execute();
      const expected = [
        ...(upsertA.status === 200 ? [{ workspace_id: workspaces[0], workspace_role_id: role.body.id }] : round % 2 ? [{ workspace_id: workspaces[0], workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }] : []),
        ...(upsertB.status === 200 ? [{ workspace_id: workspaces[1], workspace_role_id: role.body.id }] : []),
      ];
      expect(rows).toEqual(expect.arrayContaining(expected));
      expect(rows).toHaveLength(expected.length);
      const scopes = await send(round, 'GET', `/api/me/workspaces/${workspaces[0]}/scopes`, undefined, first.key.key);
      if (upsertA.status === 200) expect(scopes.body, JSON.stringify({ role: role.body, upsertA: upsertA.body, removal: removal.status, rows })).toContain('manage_flows');
      else if (round % 2) expect(scopes.body).not.toContain('manage_flows');
      else expect(scopes.status).toBe(404);
    });
    report.push(`[races ${shared.kind}]   (grant won ${tallies.granted} rounds, deletion won ${tallies.deleted})`);
  });

  it('answered no request with a 5xx, logged no server error, and left every constraint holding', async () => {
    const failures = answers.filter(({ a }) => a.status >= 500).map(({ what, a }) => `${what}: ${a.status} ${JSON.stringify(a.body)}`);
    expect(failures.slice(0, 10), `${failures.length} answers were 5xx`).toEqual([]);
    for (const server of servers) expect(errorLogLines(server.output())).toEqual([]);
    expect(await brokenInvariants()).toEqual({});
    report.push(`[races ${shared.kind}] ${answers.length} requests in all, ${failures.length} answered 5xx`);
  });
});
