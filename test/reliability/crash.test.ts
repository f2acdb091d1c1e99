// Crash safety: `gatehouse start` is killed with SIGKILL inside service-account creation, key
// rotation, key deletion and removal (failpoints, src/failpoints.ts), and at random moments under a
// load of writes and reads. After each restart on the same store: every write that was answered is
// there with its audit event, a write cut off mid-way happened completely or not at all, and the
// store's own integrity checks pass. GATEHOUSE_LONG=1 runs more random cycles; GATEHOUSE_SEED
// repeats a run.
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LONG, STORE_KIND, bootstrapOwner, call, expectStatus, isNetworkFailure, killAll, newStore, seedFromEnv, seededRandom, sleep, startGatehouse,
  type Answer, type GatehouseProcess, type NetworkFailure, type Owner,
} from './support.js';
import type { Store } from '../../src/store/store.js';
import { auditByRequest, botState, checkInvariants, type AuditRow } from './store-checks.js';
import { hashKey } from '../../src/domain/api-keys/key-format.js';

const WORKER_ROLE_ID = 'b0000000-0000-4000-8000-000000000005';
const RANDOM_CYCLES = LONG ? 60 : 10;
const RANDOM_WORKERS = 4;

const store = newStore('gh_crash');
let owner: Owner;
let workspaceId: string;
/** The live process, and the failpoint its environment armed ('' for none). */
let current: { proc: GatehouseProcess; armed: string } | null = null;
/** Every write answered with success: request id → the audit action it must have left. */
const acknowledged = new Map<string, string>();
let requestCounter = 0;

const newRequestId = (tag: string) => `crash-${tag}-${++requestCounter}-${Math.random().toString(36).slice(2, 8)}`;

async function useProcess(armed: string): Promise<GatehouseProcess> {
  if (current && current.armed === armed && current.proc.child.exitCode === null && current.proc.child.signalCode === null) return current.proc;
  if (current && current.proc.child.exitCode === null && current.proc.child.signalCode === null) {
    current.proc.child.kill('SIGKILL');
    await current.proc.exited;
  }
  const proc = await startGatehouse(store, armed ? { GATEHOUSE_FAILPOINTS: `${armed}=kill` } : {});
  current = { proc, armed };
  return proc;
}

/** A write through the API that must succeed; remembered as acknowledged with its audit action. */
async function write(proc: GatehouseProcess, method: string, path: string, body: unknown, status: number, action: string): Promise<Answer> {
  const requestId = newRequestId('w');
  const answer = expectStatus(await call(proc.url, method, path, { key: owner.key, body, requestId }), status, `${method} ${path}`);
  acknowledged.set(requestId, action);
  return answer;
}

const bots = (accountId = owner.accountId) => `/api/accounts/${accountId}/bots`;

async function withDb<T>(work: (db: Store) => Promise<T>): Promise<T> {
  const db = await store.open();
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

const checkAgent = new Agent({ keepAlive: true, maxSockets: 8 });

/** Status of a request authenticated with `key` against the live process: 200 works, 401 does not. */
async function keyStatus(proc: GatehouseProcess, key: string): Promise<number | 'network'> {
  return (await call(proc.url, 'GET', '/api/me/workspaces', { key, agent: checkAgent })).status;
}

beforeAll(async () => {
  owner = await bootstrapOwner(store, 'crash');
  const proc = await useProcess('');
  const ws = await write(proc, 'POST', `/api/accounts/${owner.accountId}/workspaces/`, { name: 'Crash', handle: 'crash' }, 201, 'workspace.created');
  workspaceId = ws.body.id;
  console.log(`crash suite on ${STORE_KIND}: ${RANDOM_CYCLES} random kill cycles${LONG ? ' (long mode)' : ''}`);
});

afterAll(async () => {
  checkAgent.destroy();
  await killAll();
  await store.dispose();
});

interface MadeBot {
  id: string;
  name: string;
  key: string;
  keyId: string;
}

async function makeBot(proc: GatehouseProcess, name: string, withAccess: boolean): Promise<MadeBot> {
  const made = await write(proc, 'POST', `${bots()}/`, { name }, 201, 'service_account.created');
  if (withAccess) {
    await write(proc, 'POST', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/bot_access/`, { bot_id: made.body.id, workspace_role_id: WORKER_ROLE_ID }, 200, 'workspace_bot_access.granted');
  }
  return { id: made.body.id, name, key: made.body.api_key.key, keyId: made.body.api_key.id };
}

type FailpointCase = {
  failpoint: string;
  /** Whether the cut-off operation must be found complete (true) or absent (false) after restart. */
  committed: boolean;
  op: 'create' | 'rotate' | 'remove' | 'delete_key';
  /** Rotation only: old_key_expires_in_seconds. */
  grace?: number | null;
};

const FAILPOINT_CASES: FailpointCase[] = [
  { failpoint: 'create.after_insert', committed: false, op: 'create' },
  { failpoint: 'create.before_commit', committed: false, op: 'create' },
  { failpoint: 'create.after_commit', committed: true, op: 'create' },
  { failpoint: 'rotate.after_old_key', committed: false, op: 'rotate', grace: null },
  { failpoint: 'rotate.after_insert', committed: false, op: 'rotate', grace: 3600 },
  { failpoint: 'rotate.before_commit', committed: false, op: 'rotate', grace: 0 },
  { failpoint: 'rotate.after_commit', committed: true, op: 'rotate', grace: null },
  // Each extra case costs a process start (1.5-3 s on a busy 2-core machine): variants run in long mode.
  ...(LONG
    ? ([
        { failpoint: 'rotate.after_commit', committed: true, op: 'rotate', grace: 3600 },
        { failpoint: 'rotate.after_old_key', committed: false, op: 'rotate', grace: 3600 },
        { failpoint: 'rotate.before_commit', committed: false, op: 'rotate', grace: null },
      ] satisfies FailpointCase[])
    : []),
  { failpoint: 'delete_key.before_commit', committed: false, op: 'delete_key' },
  { failpoint: 'remove.after_keys', committed: false, op: 'remove' },
  { failpoint: 'remove.before_commit', committed: false, op: 'remove' },
  { failpoint: 'remove.after_commit', committed: true, op: 'remove' },
];

describe('kill -9 at a failpoint inside a write, then restart on the same store', () => {
  FAILPOINT_CASES.forEach((c, index) => {
    const next = FAILPOINT_CASES[index + 1]?.failpoint ?? '';
    const outcome = c.committed ? 'finds it complete' : 'finds no trace of it';
    const graceNote = c.op === 'rotate' ? ` (grace ${c.grace})` : '';
    it(`${c.failpoint}${graceNote}: the process dies, the restart ${outcome}, and acknowledged writes are all there`, async () => {
      const proc = await useProcess(c.failpoint);
      const tag = `${index}-${c.failpoint.replace(/\W/g, '-')}`;
      // An acknowledged write unrelated to the failpoint, on the process about to die.
      await write(proc, 'PATCH', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}`, { description: `before ${tag}` }, 204, 'workspace.updated');

      let target: MadeBot | null = null;
      let graceKey: { id: string; key: string } | null = null;
      if (c.op !== 'create') {
        target = await makeBot(proc, `target-${tag}`, true);
        if (c.op === 'remove' || c.op === 'delete_key') {
          const rotated = await write(proc, 'POST', `${bots()}/${target.id}/rotate_api_key`, { old_key_expires_in_seconds: 3600 }, 201, 'service_account.api_key_rotated');
          graceKey = { id: target.keyId, key: target.key };
          target = { ...target, key: rotated.body.api_key.key, keyId: rotated.body.api_key.id };
        }
      }
      const before = target ? await withDb((db) => botState(db, target!.id)) : null;

      const requestId = newRequestId('fp');
      const name = `created-${tag}`;
      const [method, path, body] =
        c.op === 'create' ? ['POST', `${bots()}/`, { name }]
        : c.op === 'rotate' ? ['POST', `${bots()}/${target!.id}/rotate_api_key`, { old_key_expires_in_seconds: c.grace }]
        : c.op === 'delete_key' ? ['DELETE', `${bots()}/${target!.id}/delete_bot_api_key/${graceKey!.id}`, undefined]
        : ['DELETE', `${bots()}/${target!.id}`, undefined];
      const answer = await call(proc.url, method, path, { key: owner.key, body, requestId });
      expect(isNetworkFailure(answer) && !answer.responseStarted, `the failpoint ${c.failpoint} is on this path, so no answer comes back`).toBe(true);
      expect(await proc.exited).toEqual({ code: null, signal: 'SIGKILL' });

      const restarted = await useProcess(next);
      await withDb(async (db) => {
        const events = await auditByRequest(db, requestId);
        expect(events.length, 'audit events of the cut-off request').toBe(c.committed ? 1 : 0);
        const event = events[0];

        if (c.op === 'create') {
          const found = await db.db.selectFrom('bots').select(['id']).where('account_id', '=', owner.accountId).where('name', '=', name).execute();
          expect(found.length).toBe(c.committed ? 1 : 0);
          if (c.committed) {
            expect(event.target_id).toBe(found[0].id);
            const state = await botState(db, found[0].id);
            expect(state.membership.length).toBe(1);
            expect(state.keys.map((k) => [k.id, k.is_active])).toEqual([[JSON.parse(event.details).api_key_id, 1]]);
          }
        } else {
          const after = await botState(db, target!.id);
          if (!c.committed) {
            expect(after).toEqual(before);
          } else if (c.op === 'rotate') {
            const details = JSON.parse(event.details);
            expect(details.old_api_key_id).toBe(target!.keyId);
            const active = after.keys.filter((k) => k.is_active === 1).map((k) => k.id);
            expect(active).toEqual([details.api_key_id]);
            const old = after.keys.find((k) => k.id === target!.keyId);
            if (c.grace === null) expect(old).toBeUndefined();
            else expect(old).toMatchObject({ is_active: 0, expiration: details.old_key_expiration });
            expect(after.access).toEqual(before!.access);
          } else {
            expect(after).toEqual({ bot: undefined, keys: [], access: [], membership: [] });
            expect(event.action).toBe('service_account.deleted');
          }
        }
        await checkInvariants(db, acknowledged);
      });

      // The same answers through the restarted server: which keys open the door.
      if (target) {
        const currentKeyWorks = !(c.committed && (c.op === 'remove' || (c.op === 'rotate' && c.grace === null)));
        expect(await keyStatus(restarted, target.key)).toBe(currentKeyWorks ? 200 : 401);
      }
      if (graceKey) expect(await keyStatus(restarted, graceKey.key)).toBe(c.committed ? 401 : 200);
    });
  });
});

// ---- kill -9 at random moments under load ----

interface ModelBot {
  id: string;
  name: string;
  worker: number;
  /** The current key's plaintext when an answer carried it; null when the answer was lost. */
  key: string | null;
  keyId: string;
  /** Old keys inside a 1-hour grace: they must keep working. */
  graceKeys: { id: string; key: string | null }[];
  /** Keys that must no longer work (rotated out, grace 0, deleted, or of a removed account). */
  deadKeys: string[];
  /** Ids of old keys with grace 0: the store may still hold them (expired) or have cleaned them up. */
  expiredKeyIds: Set<string>;
  hasAccess: boolean;
}

type Op =
  | { kind: 'create'; name: string }
  | { kind: 'rotate'; bot: ModelBot; grace: number | null }
  | { kind: 'grant'; bot: ModelBot }
  | { kind: 'delete_key'; bot: ModelBot; keyId: string }
  | { kind: 'remove'; bot: ModelBot }
  | { kind: 'read'; bot: ModelBot };

const model: ModelBot[] = [];

function choose(random: () => number, worker: number): Op {
  const mine = model.filter((b) => b.worker === worker);
  const r = random();
  if (mine.length < 2 || r < 0.15) return { kind: 'create', name: `load-${worker}-${++requestCounter}` };
  const bot = mine[Math.floor(random() * mine.length)];
  if (r < 0.5) return { kind: 'rotate', bot, grace: [null, 0, 3600][Math.floor(random() * 3)] };
  if (r < 0.6 && !bot.hasAccess) return { kind: 'grant', bot };
  if (r < 0.7 && bot.graceKeys.length) return { kind: 'delete_key', bot, keyId: bot.graceKeys[0].id };
  if (r < 0.75 && mine.length > 3) return { kind: 'remove', bot };
  if (bot.key) return { kind: 'read', bot };
  return { kind: 'rotate', bot, grace: null };
}

function send(proc: GatehouseProcess, op: Op, requestId: string): Promise<Answer | NetworkFailure> {
  const o = { key: owner.key, requestId };
  switch (op.kind) {
    case 'create':
      return call(proc.url, 'POST', `${bots()}/`, { ...o, body: { name: op.name } });
    case 'rotate':
      return call(proc.url, 'POST', `${bots()}/${op.bot.id}/rotate_api_key`, { ...o, body: { old_key_expires_in_seconds: op.grace } });
    case 'grant':
      return call(proc.url, 'POST', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/bot_access/`, { ...o, body: { bot_id: op.bot.id, workspace_role_id: WORKER_ROLE_ID } });
    case 'delete_key':
      return call(proc.url, 'DELETE', `${bots()}/${op.bot.id}/delete_bot_api_key/${op.keyId}`, o);
    case 'remove':
      return call(proc.url, 'DELETE', `${bots()}/${op.bot.id}`, o);
    case 'read':
      return call(proc.url, 'GET', '/api/me/workspaces', { key: op.bot.key!, requestId });
  }
}

const ACTIONS: Record<Exclude<Op['kind'], 'read'>, string> = {
  create: 'service_account.created',
  rotate: 'service_account.api_key_rotated',
  grant: 'workspace_bot_access.granted',
  delete_key: 'service_account.api_key_deleted',
  remove: 'service_account.deleted',
};

/** Applies a write that happened to the model; `answer` is null when its answer was lost in the crash. */
function apply(op: Exclude<Op, { kind: 'read' }>, worker: number, answer: { body: any } | null, audit: AuditRow | null): void {
  const details = audit ? JSON.parse(audit.details) : {};
  switch (op.kind) {
    case 'create':
      model.push({
        id: answer?.body.id ?? audit!.target_id!,
        name: op.name,
        worker,
        key: answer?.body.api_key.key ?? null,
        keyId: answer?.body.api_key.id ?? details.api_key_id,
        graceKeys: [],
        deadKeys: [],
        expiredKeyIds: new Set(),
        hasAccess: false,
      });
      return;
    case 'rotate': {
      const { bot } = op;
      // A rotation ends every earlier grace: those keys are deleted (at most one old key in grace).
      for (const ended of bot.graceKeys) if (ended.key) bot.deadKeys.push(ended.key);
      bot.graceKeys = [];
      if (op.grace === 3600) bot.graceKeys.push({ id: bot.keyId, key: bot.key });
      else {
        if (bot.key) bot.deadKeys.push(bot.key);
        if (op.grace === 0) bot.expiredKeyIds.add(bot.keyId);
      }
      bot.key = answer?.body.api_key.key ?? null;
      bot.keyId = answer?.body.api_key.id ?? details.api_key_id;
      return;
    }
    case 'grant':
      op.bot.hasAccess = true;
      return;
    case 'delete_key': {
      const gone = op.bot.graceKeys.find((k) => k.id === op.keyId)!;
      op.bot.graceKeys = op.bot.graceKeys.filter((k) => k !== gone);
      if (gone.key) op.bot.deadKeys.push(gone.key);
      return;
    }
    case 'remove': {
      const { bot } = op;
      model.splice(model.indexOf(bot), 1);
      removedKeys.push(...[bot.key, ...bot.graceKeys.map((k) => k.key), ...bot.deadKeys].filter((k): k is string => k !== null));
      removedBotIds.push(bot.id);
    }
  }
}

const removedKeys: string[] = [];
const removedBotIds: string[] = [];
/** Keys already shown to be refused by a server; each is checked there once. */
const refusedByServer = new Set<string>();
/**
 * Refused keys per process that are tried through the API: Gatehouse answers 429 to an address
 * after 30 failed key authentications a minute, so the rest are checked in the store.
 */
const REFUSALS_TRIED_PER_PROCESS = 10;

/** Compares the model with the store and the restarted server. */
async function checkModel(proc: GatehouseProcess, db: Store): Promise<void> {
  for (const bot of model) {
    const state = await botState(db, bot.id);
    expect(state.bot, `service account ${bot.name}`).toBeDefined();
    expect(state.keys.filter((k) => k.is_active === 1).map((k) => k.id), `current key of ${bot.name}`).toEqual([bot.keyId]);
    const old = state.keys.filter((k) => k.is_active === 0).map((k) => k.id);
    for (const grace of bot.graceKeys) expect(old, `grace key of ${bot.name}`).toContain(grace.id);
    const known = new Set([...bot.graceKeys.map((k) => k.id), ...bot.expiredKeyIds]);
    expect(old.filter((id) => !known.has(id)), `unexpected old keys of ${bot.name}`).toEqual([]);
    expect(state.access.length, `workspace access of ${bot.name}`).toBe(bot.hasAccess ? 1 : 0);
  }
  for (const id of removedBotIds) expect((await botState(db, id)).bot, `removed service account ${id}`).toBeUndefined();
  // Working keys first: an address throttled for refused keys is refused new good keys too.
  const mustWork = model.flatMap((b) => [b.key, ...b.graceKeys.map((k) => k.key)]).filter((k): k is string => k !== null);
  const working = await Promise.all(mustWork.map((key) => keyStatus(proc, key)));
  expect(working.filter((s) => s !== 200), 'keys that must work').toEqual([]);

  const mustFail = [...model.flatMap((b) => b.deadKeys), ...removedKeys];
  const now = new Date().toISOString();
  const stillValid = await db.db
    .selectFrom('api_keys')
    .select('id')
    .where('key_hash', 'in', mustFail.length ? mustFail.map(hashKey) : [''])
    .where((eb) => eb.or([eb('expiration', 'is', null), eb('expiration', '>', now)]))
    .execute();
  expect(stillValid, 'keys that must not work, in the store').toEqual([]);
  const tried = mustFail.filter((k) => !refusedByServer.has(k)).slice(0, REFUSALS_TRIED_PER_PROCESS);
  const refused = await Promise.all(tried.map((key) => keyStatus(proc, key)));
  expect(refused.filter((s) => s !== 401), 'keys that must not work, through the server').toEqual([]);
  for (const key of tried) refusedByServer.add(key);
}

describe('kill -9 at random moments under load, then restart on the same store', () => {
  it(`keeps every acknowledged write and no half-done one, over ${RANDOM_CYCLES} cycles`, async () => {
    const seed = seedFromEnv();
    const random = seededRandom(seed);
    const totals = { acknowledged: 0, reads: 0, cutCommitted: 0, cutAbsent: 0, cutReads: 0 };
    let proc = await useProcess('');
    for (let cycle = 1; cycle <= RANDOM_CYCLES; cycle++) {
      let stop = false;
      const pending: { worker: number; op: Exclude<Op, { kind: 'read' }>; requestId: string }[] = [];
      const unexpected: string[] = [];
      const workers = Array.from({ length: RANDOM_WORKERS }, async (_, worker) => {
        while (!stop) {
          const op = choose(random, worker);
          const requestId = newRequestId(`c${cycle}`);
          const answer = await send(proc, op, requestId);
          if (isNetworkFailure(answer)) {
            if (op.kind === 'read') totals.cutReads += 1;
            else pending.push({ worker, op, requestId });
            return;
          }
          const expected = op.kind === 'create' || op.kind === 'rotate' ? 201 : op.kind === 'grant' || op.kind === 'read' ? 200 : 204;
          if (answer.status !== expected) {
            unexpected.push(`${op.kind} → ${answer.status} ${JSON.stringify(answer.body)}`);
            return;
          }
          if (op.kind === 'read') {
            totals.reads += 1;
            continue;
          }
          acknowledged.set(requestId, ACTIONS[op.kind]);
          totals.acknowledged += 1;
          apply(op, worker, answer, null);
        }
      });
      await sleep(150 + random() * (LONG ? 2500 : 900));
      proc.child.kill('SIGKILL');
      expect(await proc.exited).toEqual({ code: null, signal: 'SIGKILL' });
      stop = true;
      await Promise.all(workers);
      expect(unexpected, `answers other than success before the kill (cycle ${cycle}, seed ${seed})`).toEqual([]);

      proc = await useProcess('');
      await withDb(async (db) => {
        for (const cut of pending) {
          const events = await auditByRequest(db, cut.requestId);
          expect(events.length, `audit events of a ${cut.op.kind} cut off by the kill`).toBeLessThanOrEqual(1);
          if (events.length === 1) {
            expect(events[0].action).toBe(ACTIONS[cut.op.kind]);
            totals.cutCommitted += 1;
            apply(cut.op, cut.worker, null, events[0]);
          } else {
            totals.cutAbsent += 1;
            if (cut.op.kind === 'create') {
              const found = await db.db.selectFrom('bots').select('id').where('name', '=', cut.op.name).execute();
              expect(found, `a create cut off without its audit event left a service account`).toEqual([]);
            }
          }
        }
        await checkModel(proc, db);
        await checkInvariants(db, acknowledged);
      });
    }
    console.log(
      `crash suite on ${STORE_KIND}, seed ${seed}: ${RANDOM_CYCLES} kill -9 cycles, ${totals.acknowledged} acknowledged writes and ${totals.reads} reads kept; ` +
        `writes cut off by the kill: ${totals.cutCommitted} found complete, ${totals.cutAbsent} found absent; ${model.length} service accounts live`,
    );
    // A process start is 1-3 s on a busy 2-core machine; each cycle has one.
  }, RANDOM_CYCLES * 20_000);
});
