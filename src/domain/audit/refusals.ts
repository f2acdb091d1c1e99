// Refused gateway requests, in the audit trail without letting a flood fill the disk: each refusal
// is counted in memory under its group (door, reason, account, workspace, actor or else address,
// route) and each interval one row per group is written, `gateway.request_refused` with the count.
// At most MAX_GROUPS groups are kept per interval; refusals past that are counted in one row per
// door and reason ("others"), so a flood of distinct addresses, keys or paths adds at most
// MAX_GROUPS + a few rows a minute per process, and holds as little memory.
import type { Store } from '../../store/store.js';
import { newId, type Actor } from '../context.js';

export const REFUSAL_ACTION = 'gateway.request_refused';
export const REFUSAL_INTERVAL_MS = 60_000;
export const MAX_GROUPS = 100;
const DETAIL_MAX = 300;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Which of the gateway's doors refused. */
export type RefusalDoor = 'proxy' | 'forward_auth' | 'websocket' | 'prefect_ui';

export interface Refusal {
  via: RefusalDoor;
  /** The error code answered (the reason). */
  code: string;
  status: number;
  /** As the request named them; kept only when they are UUIDs, and written only when they exist. */
  accountId: string | null | undefined;
  workspaceId: string | null | undefined;
  /** Who was refused, when its key or session was good (no access, a missing scope, the IP allowlist). */
  actor: Actor | null | undefined;
  address: string;
  /** `GET /api/flows/{id}`: the route table's path, never the raw path; `unknown` when none matched. */
  method: string;
  route: string;
  requestId: string;
  detail?: string;
}

interface Group {
  first: Refusal;
  at: Date;
  last: Date;
  count: number;
  /** The "others" group of a door and reason, past MAX_GROUPS. */
  others: boolean;
}

export interface RefusalRecorder {
  /** Counts a refusal: a map write, nothing else. */
  note(refusal: Refusal): void;
  /** Writes a row per group counted since the last flush. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface RefusalRecorderOptions {
  write: (groups: readonly RefusalGroup[]) => Promise<void>;
  now: () => Date;
  intervalMs?: number;
  maxGroups?: number;
  onError?: (error: unknown) => void;
}

/** One row to write. */
export interface RefusalGroup {
  refusal: Refusal;
  first: Date;
  last: Date;
  count: number;
  others: boolean;
}

const uuidOrNull = (id: string | null | undefined) => (id && UUID.test(id) ? id : null);

export function refusalRecorder(options: RefusalRecorderOptions): RefusalRecorder {
  const maxGroups = options.maxGroups ?? MAX_GROUPS;
  let groups = new Map<string, Group>();
  let running: Promise<void> = Promise.resolve();

  function note(refusal: Refusal): void {
    const accountId = uuidOrNull(refusal.accountId);
    const workspaceId = uuidOrNull(refusal.workspaceId);
    const who = refusal.actor?.actorId ? `actor:${refusal.actor.actorId}` : `address:${refusal.address}`;
    let key = [refusal.via, refusal.code, accountId, workspaceId, who, refusal.method, refusal.route].join('|');
    let others = false;
    if (!groups.has(key) && groups.size >= maxGroups) {
      key = `others|${refusal.via}|${refusal.code}`;
      others = true;
    }
    const now = options.now();
    const held = groups.get(key);
    if (held) {
      held.count += 1;
      held.last = now;
      return;
    }
    groups.set(key, { first: { ...refusal, accountId, workspaceId }, at: now, last: now, count: 1, others });
  }

  function flush(): Promise<void> {
    running = running.then(async () => {
      if (groups.size === 0) return;
      const batch = groups;
      groups = new Map();
      try {
        await options.write([...batch.values()].map((g) => ({ refusal: g.first, first: g.at, last: g.last, count: g.count, others: g.others })));
      } catch (error) {
        // Dropped, not kept: a store that is down for long must not make this grow.
        options.onError?.(error);
      }
    });
    return running;
  }

  const timer = setInterval(() => void flush(), options.intervalMs ?? REFUSAL_INTERVAL_MS);
  timer.unref();
  return {
    note,
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/**
 * Writes one audit row per group. The account and workspace are kept only when they exist (and
 * the workspace is the account's); a service account of another account is not named there.
 */
export async function writeRefusals(store: Store, groups: readonly RefusalGroup[]): Promise<void> {
  if (groups.length === 0) return;
  const accountIds = [...new Set(groups.flatMap((g) => (g.refusal.accountId ? [g.refusal.accountId] : [])))];
  const workspaceIds = [...new Set(groups.flatMap((g) => (g.refusal.workspaceId ? [g.refusal.workspaceId] : [])))];
  const accounts = new Set(accountIds.length ? (await store.db.selectFrom('accounts').select('id').where('id', 'in', accountIds).execute()).map((r) => r.id) : []);
  const workspaces = new Map(
    workspaceIds.length ? (await store.db.selectFrom('workspaces').select(['id', 'account_id']).where('id', 'in', workspaceIds).execute()).map((r) => [r.id, r.account_id] as const) : [],
  );
  const rows = groups.map(({ refusal, first, last, count, others }) => {
    const accountId = !others && refusal.accountId && accounts.has(refusal.accountId) ? refusal.accountId : null;
    const workspaceId = accountId && refusal.workspaceId && workspaces.get(refusal.workspaceId) === accountId ? refusal.workspaceId : null;
    const actor = others ? null : refusal.actor ?? null;
    const named = actor && (actor.type !== 'bot' || actor.accountId === accountId);
    const details: Record<string, unknown> = others
      ? { via: refusal.via, reason: refusal.code, status: refusal.status, count, first: first.toISOString(), last: last.toISOString(), others: true }
      : {
          via: refusal.via,
          reason: refusal.code,
          status: refusal.status,
          method: refusal.method,
          route: refusal.route,
          address: refusal.address,
          count,
          first: first.toISOString(),
          last: last.toISOString(),
          ...(refusal.detail ? { detail: refusal.detail.slice(0, DETAIL_MAX) } : {}),
        };
    return {
      id: newId(),
      account_id: accountId,
      workspace_id: workspaceId,
      actor_id: actor?.actorId ?? null,
      actor_type: actor?.type ?? 'anonymous',
      actor_name: named ? actor.name : null,
      action: REFUSAL_ACTION,
      target_type: 'workspace',
      target_id: others ? null : refusal.workspaceId ?? null,
      request_id: others ? null : refusal.requestId,
      details: JSON.stringify(details),
      occurred: first.toISOString(),
    };
  });
  await store.db.insertInto('audit_events').values(rows).execute();
}
