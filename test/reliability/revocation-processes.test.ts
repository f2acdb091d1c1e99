// Revocation across separate OS processes (DESIGN.md contract 4; issue 5 item 4): two real
// `gatehouse start` processes, P1 and P2, on one store (one PostgreSQL schema, or one SQLite file).
// Every trial prepares a credential through P1, confirms that it works on both processes (which
// also fills their authentication caches), then revokes it: a revoking call on P1 or P2 (each lane
// alternates), or the real clock passing an expiration or the end of a rotation grace. While that
// happens a loop on each process keeps using the credential, and once the revoking answer has
// arrived (or the moment has passed) every use goes to both processes again. A use that succeeds
// although it was sent after that moment fails the suite. Kinds: the seven of the issue, plus a
// custom role losing a scope. test/revocation.test.ts covers the same promise in one process with a
// test clock; this suite is about real processes, real clocks and volume.
//
// CI-sized run by default; GATEHOUSE_LONG=1 runs 1,000 trials of every kind. Both print the counts.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { startFakePrefect, type FakePrefect } from '../support/fake-prefect.js';
import { PG_URL } from '../support/harness.js';
import {
  bootstrapOwner, call, errorLogLines, freshSharedStore, slowLinkTo, startGatehouse,
  type Answer, type GatehouseProcess, type SharedStore, type SlowLink,
} from '../support/processes.js';

const LONG = process.env.GATEHOUSE_LONG === '1';
/** Trials per kind: CI-sized by default (see the report at the end of the run for the time each took). */
const TRIALS = LONG ? 1000 : 100;
/** Trials that run side by side, each on its own service account (a genuine revoke-then-use check each). */
const LANES = 16;
/** Timed kinds mostly wait for the real clock, so more of them run side by side. */
const TIMED_LANES = 100;
/** How far ahead an expiration, or the end of a rotation grace, is set. */
const EXPIRY_MS = 2_500;
const GRACE_SECONDS = 2;
/**
 * PostgreSQL: P2 reaches the database through a relay that delays what the database sends it by
 * this much, so P2 hears of P1's writes (its cache's invalidations) later than the test can ask
 * it something: a write that returned before P2 had emptied its cache would show as a success.
 */
const SLOW_LINK_MS = 8;
/** How many times each use goes to each process at once when the revoking answer arrives. */
const AFTER_COPIES = 3;
/** How long before an expiration the loops start using the key. */
const HAMMER_LEAD_MS = 60;

interface Proc {
  name: 'P1' | 'P2';
  url: string;
}

/** One way of using the credential under test, and how its success and its refusal look. */
interface Use {
  label: string;
  send(p: Proc): Promise<Answer>;
  granted(a: Answer): boolean;
  refused(a: Answer): boolean;
  /** Another answer that is acceptable only for a request sent while the revocation was under way. */
  racing?(a: Answer): boolean;
}

/** The moment after which every use must be refused: a revoking answer's arrival, or an expiration. */
type Deadline = { kind: 'answer'; at: number } | { kind: 'clock'; at: number };

const mustBeRefused = (d: Deadline, a: Answer) => (d.kind === 'answer' ? a.sentAt > d.at : a.sentAtWall >= d.at);

interface Prepared {
  uses: Use[];
  /** Timed kinds: the expiration, known before the revocation "happens". */
  expiresAt?: number;
  revoke(on: Proc): Promise<Deadline>;
  /** Checks after the revocation that are not about the revoked credential (its successor works). */
  afterwards?(): Promise<void>;
}

interface Kind {
  name: string;
  lanes: number;
  /**
   * `on`: the process this trial's revoking call (or the rotation that sets a grace) goes to.
   * Null: the machine was too slow to set up a timed trial; it is run again.
   */
  prepare(lane: Lane, trial: number, on: Proc): Promise<Prepared | null>;
}

/** One service account's state across the trials of one lane. */
interface Lane {
  botId?: string;
  key?: { id: string; key: string; created?: string };
  roleId?: string;
}

interface Tally {
  trials: number;
  retried: number;
  uses: number;
  raced: number;
  upstreamFailures: number;
  afterDeadline: number;
  violations: string[];
  unexpected: string[];
  ms: number;
}

let store: SharedStore;
let servers: GatehouseProcess[] = [];
let procs: Proc[];
let fake: FakePrefect;
let slowLink: SlowLink | undefined;
let ownerKey: string;
let accountId: string;
let bots: string;
let wsPath: string;
let workspaceId: string;
const report: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function sleepUntilWall(at: number) {
  while (Date.now() < at) await sleep(Math.max(1, at - Date.now()));
}

/** A request as the account Owner, which must answer `status`. */
async function owner(p: Proc, method: string, path: string, body: unknown, status: number): Promise<Answer> {
  const a = await call(p.url, method, path, { key: ownerKey, body });
  if (a.status !== status) throw new Error(`${method} ${path} on ${p.name}: expected ${status}, got ${a.status} ${JSON.stringify(a.body)}`);
  return a;
}

const isUnauthenticated = (a: Answer) => a.status === 401 && a.body?.code === 'UNAUTHENTICATED';

/** GET /api/me/: any live key passes, a revoked one gets the one 401. */
const useMe = (key: string): Use => ({
  label: 'GET /api/me/',
  send: (p) => call(p.url, 'GET', '/api/me/', { key }),
  granted: (a) => a.status === 200,
  refused: isUnauthenticated,
  // Authenticated just before a service account's removal committed, its profile read just after.
  racing: (a) => a.status === 404 && a.body?.code === 'NOT_FOUND',
});

/** The key's scopes in the workspace: 200 while it has access, 404 once it has none. */
const useScopes = (key: string): Use => ({
  label: 'GET /api/me/workspaces/{w}/scopes',
  send: (p) => call(p.url, 'GET', `/api/me/workspaces/${workspaceId}/scopes`, { key }),
  granted: (a) => a.status === 200 && Array.isArray(a.body) && a.body.includes('see_flows'),
  refused: (a) => a.status === 404 && a.body?.code === 'NOT_FOUND',
});

/**
 * The gateway let the request through but the upstream connection failed. That is still a granted
 * use: only an authorized request is forwarded. (Seen now and then when a pooled keep-alive
 * connection to the upstream is closed by it just as a request goes out; counted in the report.)
 */
const forwardedButFailed = (a: Answer) => (a.status === 502 || a.status === 504) && /^UPSTREAM_/.test(a.body?.code ?? '');

/** A Prefect read through the gateway (see_flows): forwarded while it has access, 404 after. */
const useGatewayRead = (key: string): Use => ({
  label: 'gateway POST /flows/filter',
  send: (p) => call(p.url, 'POST', `${wsPath}/flows/filter`, { key, body: {} }),
  granted: (a) => (a.status === 200 && Array.isArray(a.body)) || forwardedButFailed(a),
  refused: (a) => a.status === 404 && a.body?.code === 'NOT_FOUND',
});

/** The scope a Developer has and a Viewer lacks, as the scopes route reports it. */
const useManageFlowsScope = (key: string): Use => ({
  label: 'GET /api/me/workspaces/{w}/scopes has manage_flows',
  send: (p) => call(p.url, 'GET', `/api/me/workspaces/${workspaceId}/scopes`, { key }),
  granted: (a) => a.status === 200 && Array.isArray(a.body) && a.body.includes('manage_flows'),
  refused: (a) => a.status === 200 && Array.isArray(a.body) && !a.body.includes('manage_flows') && a.body.includes('see_flows'),
});

/** A Prefect write through the gateway that needs manage_flows: forwarded for a Developer, 403 for a Viewer. */
const useGatewayDelete = (key: string): Use => ({
  label: 'gateway DELETE /flows/{id}',
  send: (p) => call(p.url, 'DELETE', `${wsPath}/flows/${randomUUID()}`, { key }),
  granted: (a) => a.status === 204 || forwardedButFailed(a),
  refused: (a) => a.status === 403 && a.body?.code === 'FORBIDDEN',
});

async function createBot(body: Record<string, unknown> = {}): Promise<{ botId: string; key: { id: string; key: string } }> {
  const a = await owner(procs[0], 'POST', `${bots}/`, { name: `rev-${randomUUID()}`, ...body }, 201);
  return { botId: a.body.id, key: { id: a.body.api_key.id, key: a.body.api_key.key } };
}

async function rotate(p: Proc, botId: string, body: Record<string, unknown>): Promise<Answer> {
  return owner(p, 'POST', `${bots}/${botId}/rotate_api_key`, body, 201);
}

/** The successor key must work on both processes. */
async function expectWorks(key: string, what: string) {
  for (const p of procs) {
    const a = await useMe(key).send(p);
    if (a.status !== 200) throw new Error(`${what} refused on ${p.name}: ${a.status} ${JSON.stringify(a.body)}`);
  }
}

const answered = (a: Answer): Deadline => ({ kind: 'answer', at: a.answeredAt });

const KINDS: Kind[] = [
  {
    // Even trials delete the current key, odd ones a key inside its rotation grace.
    name: 'delete key',
    lanes: LANES,
    async prepare(lane, trial) {
      if (!lane.botId) Object.assign(lane, await createBot());
      else lane.key = (await rotate(procs[0], lane.botId, { old_key_expires_in_seconds: 3600 })).body.api_key;
      const target = lane.key!;
      if (trial % 2 === 1) lane.key = (await rotate(procs[0], lane.botId!, { old_key_expires_in_seconds: 3600 })).body.api_key;
      return {
        uses: [useMe(target.key)],
        revoke: async (p) => answered(await owner(p, 'DELETE', `${bots}/${lane.botId}/delete_bot_api_key/${target.id}`, undefined, 204)),
      };
    },
  },
  {
    // Grace omitted (the old key is deleted) and grace 0 (it expires at once), alternately.
    name: 'rotate without grace',
    lanes: LANES,
    async prepare(lane, trial) {
      if (!lane.botId) Object.assign(lane, await createBot());
      const old = lane.key!;
      return {
        uses: [useMe(old.key)],
        revoke: async (p) => {
          const a = await rotate(p, lane.botId!, trial % 2 ? {} : { old_key_expires_in_seconds: 0 });
          lane.key = a.body.api_key;
          return answered(a);
        },
        afterwards: () => expectWorks(lane.key!.key, 'the key that replaced a rotated-out key'),
      };
    },
  },
  {
    name: 'grace end',
    lanes: TIMED_LANES,
    async prepare(lane, _trial, on) {
      if (!lane.botId) Object.assign(lane, await createBot());
      const old = lane.key!;
      lane.key = (await rotate(on, lane.botId!, { old_key_expires_in_seconds: GRACE_SECONDS })).body.api_key;
      // The grace runs from the rotation's own time, which is the new key's `created`.
      const expiresAt = Date.parse(lane.key!.created!) + GRACE_SECONDS * 1000;
      return {
        uses: [useMe(old.key)],
        expiresAt,
        revoke: async () => {
          await sleepUntilWall(expiresAt);
          return { kind: 'clock', at: expiresAt };
        },
        afterwards: () => expectWorks(lane.key!.key, 'the key that replaced a key whose grace ended'),
      };
    },
  },
  {
    name: 'expiry',
    lanes: TIMED_LANES,
    async prepare(lane, _trial, on) {
      const expiration = new Date(Date.now() + EXPIRY_MS).toISOString();
      const [p, path, body] = lane.botId
        ? [on, `${bots}/${lane.botId}/rotate_api_key`, { api_key_expiration: expiration }]
        : [procs[0], `${bots}/`, { name: `rev-${randomUUID()}`, api_key_expiration: expiration }];
      const made = await call(p.url, 'POST', path, { key: ownerKey, body });
      // The machine took longer than EXPIRY_MS to deliver the request: try again with a new expiration.
      if (made.status === 422 && made.body?.code === 'EXPIRATION_IN_PAST') return null;
      if (made.status !== 201) throw new Error(`POST ${path} on ${p.name}: expected 201, got ${made.status} ${JSON.stringify(made.body)}`);
      if (!lane.botId) lane.botId = made.body.id;
      lane.key = made.body.api_key;
      const expiresAt = Date.parse(expiration);
      return {
        uses: [useMe(lane.key!.key)],
        expiresAt,
        revoke: async () => {
          await sleepUntilWall(expiresAt);
          return { kind: 'clock', at: expiresAt };
        },
      };
    },
  },
  {
    // Odd trials first rotate with a grace, so the service account has two working keys to lose.
    name: 'remove service account',
    lanes: LANES,
    async prepare(_lane, trial) {
      const { botId, key } = await createBot();
      const keys = [key.key];
      if (trial % 2 === 1) keys.push((await rotate(procs[0], botId, { old_key_expires_in_seconds: 3600 })).body.api_key.key);
      return {
        uses: keys.map(useMe),
        revoke: async (p) => answered(await owner(p, 'DELETE', `${bots}/${botId}`, undefined, 204)),
      };
    },
  },
  {
    name: 'remove workspace access',
    lanes: LANES,
    async prepare(lane) {
      if (!lane.botId) Object.assign(lane, await createBot());
      const grant = await owner(procs[0], 'POST', `${wsPath}/bot_access/`, { bot_id: lane.botId, workspace_role_id: WORKSPACE_ROLE_IDS.Developer }, 200);
      const accessId = grant.body[0].id as string;
      const key = lane.key!.key;
      return {
        uses: [useScopes(key), useGatewayRead(key)],
        revoke: async (p) => answered(await owner(p, 'DELETE', `${wsPath}/bot_access/${accessId}`, undefined, 204)),
      };
    },
  },
  {
    // Developer → Viewer: manage_flows goes, see_flows stays.
    name: 'change workspace role',
    lanes: LANES,
    async prepare(lane) {
      if (!lane.botId) Object.assign(lane, await createBot());
      await owner(procs[0], 'POST', `${wsPath}/bot_access/`, { bot_id: lane.botId, workspace_role_id: WORKSPACE_ROLE_IDS.Developer }, 200);
      const key = lane.key!.key;
      return {
        uses: [useManageFlowsScope(key), useGatewayDelete(key)],
        revoke: async (p) =>
          answered(await owner(p, 'POST', `${wsPath}/bot_access/`, { bot_id: lane.botId, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }, 200)),
      };
    },
  },
  {
    // Not in the issue's list, but the same promise: a custom role loses manage_flows while granted.
    name: 'narrow a custom workspace role',
    lanes: LANES,
    async prepare(lane) {
      const roles = `/api/accounts/${accountId}/workspace_roles`;
      if (!lane.botId) {
        Object.assign(lane, await createBot());
        lane.roleId = (await owner(procs[0], 'POST', `${roles}/`, { name: `narrowed-${randomUUID()}`, scopes: ['see_flows'] }, 201)).body.id;
        await owner(procs[0], 'POST', `${wsPath}/bot_access/`, { bot_id: lane.botId, workspace_role_id: lane.roleId }, 200);
      }
      await owner(procs[0], 'PATCH', `${roles}/${lane.roleId}`, { scopes: ['see_flows', 'manage_flows'] }, 204);
      const key = lane.key!.key;
      return {
        uses: [useManageFlowsScope(key), useGatewayDelete(key)],
        revoke: async (p) => answered(await owner(p, 'PATCH', `${roles}/${lane.roleId}`, { scopes: ['see_flows'] }, 204)),
      };
    },
  },
];

/** Uses the credential on one process in a loop until it has seen each use sent after the deadline. */
async function hammer(p: Proc, uses: Use[], state: { deadline: Deadline | null; stop: boolean }, seen: (a: Answer, use: Use, p: Proc) => void) {
  let n = 0;
  let after = 0;
  while (!state.stop && after < uses.length) {
    const use = uses[n++ % uses.length];
    const a = await use.send(p);
    seen(a, use, p);
    if (state.deadline && mustBeRefused(state.deadline, a)) after += 1;
  }
}

type Seen = { a: Answer; use: Use; p: Proc; phase: 'confirm' | 'during' | 'after' };

/** Every use sent to both processes at once, `copies` times each. */
async function useEverywhere(uses: Use[], phase: Seen['phase'], copies = 1): Promise<Seen[]> {
  const sends = uses.flatMap((use) => procs.flatMap((p) => Array.from({ length: copies }, () => ({ use, p }))));
  return Promise.all(sends.map(async ({ use, p }) => ({ a: await use.send(p), use, p, phase })));
}

/** Counts what a trial saw: a success sent after the deadline is a violation, whatever the phase. */
function judge(kind: Kind, trial: number, seen: Seen[], deadline: Deadline, tally: Tally): void {
  for (const { a, use, p, phase } of seen) {
    tally.uses += 1;
    if (forwardedButFailed(a)) tally.upstreamFailures += 1;
    const where = `${kind.name} #${trial} ${use.label} on ${p.name} (${phase})`;
    if (!mustBeRefused(deadline, a)) {
      if (use.racing?.(a)) tally.raced += 1;
      else if (!use.granted(a) && !use.refused(a)) tally.unexpected.push(`${where}: ${a.status} ${JSON.stringify(a.body)}`);
      continue;
    }
    tally.afterDeadline += 1;
    const by = deadline.kind === 'answer' ? a.sentAt - deadline.at : a.sentAtWall - deadline.at;
    if (use.granted(a)) tally.violations.push(`${where}: ${a.status}, sent ${by.toFixed(2)} ms after the revocation`);
    else if (!use.refused(a)) tally.unexpected.push(`${where}: ${a.status} ${JSON.stringify(a.body)}`);
  }
}

/**
 * One trial. Returns false when a timed trial could not be set up and confirmed before its
 * expiration (the machine was slow): the lane then runs it again with a new key.
 */
async function runTrial(kind: Kind, lane: Lane, trial: number, on: Proc, tally: Tally): Promise<boolean> {
  const prepared = await kind.prepare(lane, trial, on);
  if (!prepared) return false;
  const { expiresAt } = prepared;
  const seen = await useEverywhere(prepared.uses, 'confirm');
  for (const { a, use, p } of seen) {
    if (use.granted(a)) continue;
    // A refusal that may have been decided after the expiration proves nothing: run the trial again
    // (a success sent after it still counts against the suite).
    if (expiresAt !== undefined && a.sentAtWall + (a.answeredAt - a.sentAt) >= expiresAt) {
      judge(kind, trial, seen.filter((x) => x.use.granted(x.a)), { kind: 'clock', at: expiresAt }, tally);
      return false;
    }
    throw new Error(`${kind.name} #${trial}: ${use.label} on ${p.name} refused before the revocation: ${a.status} ${JSON.stringify(a.body)}`);
  }
  if (expiresAt !== undefined) await sleepUntilWall(expiresAt - HAMMER_LEAD_MS);
  const state: { deadline: Deadline | null; stop: boolean } = { deadline: expiresAt !== undefined ? { kind: 'clock', at: expiresAt } : null, stop: false };
  const loops = Promise.all(procs.map((p) => hammer(p, prepared.uses, state, (a, use, q) => seen.push({ a, use, p: q, phase: 'during' }))));
  let deadline: Deadline;
  try {
    deadline = await prepared.revoke(on);
  } catch (error) {
    state.stop = true;
    await loops.catch(() => {});
    throw error;
  }
  state.deadline = deadline;
  // The moment right after the answer is where a process that has not yet heard of the write would
  // show: several uses at once there.
  seen.push(...(await useEverywhere(prepared.uses, 'after', AFTER_COPIES)));
  await loops;
  await prepared.afterwards?.();
  tally.trials += 1;
  judge(kind, trial, seen, deadline, tally);
  return true;
}

async function runKind(kind: Kind): Promise<Tally> {
  const tally: Tally = { trials: 0, retried: 0, uses: 0, raced: 0, upstreamFailures: 0, afterDeadline: 0, violations: [], unexpected: [], ms: 0 };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(kind.lanes, TRIALS) }, async (_, laneNo) => {
      const lane: Lane = {};
      for (let trial = laneNo, round = 0; trial < TRIALS; trial += kind.lanes, round++) {
        // Each lane alternates the revoking process; odd and even trials sit in alternate lanes.
        const on = procs[(laneNo + round) % 2];
        for (let attempt = 1; !(await runTrial(kind, lane, trial, on, tally)); attempt++) {
          tally.retried += 1;
          if (attempt >= 5) throw new Error(`${kind.name} #${trial}: five attempts in a row could not set up and confirm a key before it expired`);
        }
      }
    }),
  );
  tally.ms = performance.now() - started;
  fake.reset();
  return tally;
}

beforeAll(async () => {
  store = freshSharedStore();
  fake = await startFakePrefect();
  const made = await bootstrapOwner(store, 'revocation');
  ({ accountId, key: ownerKey } = made);
  // The throttle on failed key authentications must not answer for the store here: every refusal
  // these tests count has to come from the store saying no.
  const env = { ...store.env, GATEHOUSE_KEY_FAILURE_LIMIT: '1000000000' };
  const args = ['--port', '0', '--log-level', 'warn'];
  if (store.flagsVia) slowLink = await slowLinkTo(PG_URL, SLOW_LINK_MS);
  servers = await Promise.all([
    startGatehouse([...args, ...store.flags], env),
    startGatehouse([...args, ...(slowLink ? store.flagsVia!(slowLink.url) : store.flags)], env),
  ]);
  procs = servers.map((s, i) => ({ name: i === 0 ? 'P1' : 'P2', url: s.url }));
  bots = `/api/accounts/${accountId}/bots`;
  const ws = await owner(procs[0], 'POST', `/api/accounts/${accountId}/workspaces/`, { name: 'Shared', handle: 'shared' }, 201);
  workspaceId = ws.body.id;
  wsPath = `/api/accounts/${accountId}/workspaces/${workspaceId}`;
  await owner(procs[1], 'PUT', `${wsPath}/gateway`, { upstream_url: fake.url }, 200);
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.stop();
  await slowLink?.close();
  await fake?.close();
  await store?.dispose();
  if (report.length) console.log(report.join('\n'));
});

describe(`revocation across two gatehouse processes on one ${process.env.GATEHOUSE_TEST_STORE ?? 'sqlite'} store (${LONG ? 'long' : 'CI'} run: ${TRIALS} trials per kind)`, () => {
  it.each(KINDS.map((k) => [k.name, k] as const))(
    'no use succeeds once %s has taken effect, on either process',
    async (_name, kind) => {
      const tally = await runKind(kind);
      report.push(
        `[revocation ${store.kind}] ${kind.name}: ${tally.trials} trials (${kind.lanes} side by side, ${tally.retried} retried), ` +
          `${tally.uses} uses, ${tally.afterDeadline} sent after the revocation, ${tally.violations.length} succeeded` +
          `${tally.raced ? ` (${tally.raced} in-flight uses answered 404)` : ''}` +
          `${tally.upstreamFailures ? ` (${tally.upstreamFailures} forwarded uses answered 502/504 by the gateway)` : ''}; ${(tally.ms / 1000).toFixed(1)} s`,
      );
      expect(tally.trials).toBe(TRIALS);
      expect(tally.unexpected.slice(0, 10), `${tally.unexpected.length} unexpected answers`).toEqual([]);
      expect(tally.violations.slice(0, 10), `${tally.violations.length} uses succeeded after the revocation`).toEqual([]);
      // Each trial sends every use to both processes after the revocation, besides the loops.
      expect(tally.afterDeadline).toBeGreaterThanOrEqual(TRIALS * 2 * AFTER_COPIES);
    },
    LONG ? 1_800_000 : 300_000,
  );

  it('logged no server error on either process', () => {
    for (const server of servers) expect(errorLogLines(server.output())).toEqual([]);
  });
});
