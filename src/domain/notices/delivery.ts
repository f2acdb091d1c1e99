// Delivering notices: every process runs this worker on a timer. It claims due deliveries with a
// lease (a conditional update, so two processes on PostgreSQL never both take one), POSTs each signed
// body with a short timeout and no redirects, and records the attempt; a failure is retried with
// exponential backoff up to a bounded number of attempts. Nothing here runs on a request's path:
// a slow or dead receiver holds only this worker's own fetch, never a transaction or a lock.
import { performance } from 'node:perf_hooks';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../clock.js';
import type { NoticeDeliveriesTable } from '../../store/schema.js';
import type { SecretKeyring } from '../../secret-key.js';
import type { Mailer } from '../../mail/mailer.js';
import { parseJsonColumn } from '../../store/json-column.js';
import { ACCOUNT_ROLE_IDS } from '../../authz/permissions.js';
import { unseal } from '../gateways/sealed.js';
import { newId } from '../context.js';
import { signatureHeaders } from './signing.js';
import { ATTEMPTS_KEPT, sealContext } from './service.js';
import { noticeSentence } from '../audit/notice-events.js';

export interface DeliveryOptions {
  store: Store;
  clock: Clock;
  ring: SecretKeyring;
  mailer: Mailer | null;
  /** How long a receiver has to answer (default 5 s). */
  timeoutMs?: number;
  /** The first retry's delay; each next one doubles it (default 30 s: 30 s, 1 min, 2 min … about 1 h in all). */
  retryBaseMs?: number;
  /** Attempts before a delivery is given up as failed (default 8). */
  maxAttempts?: number;
  /** Deliveries one run takes at most (default 20). */
  batch?: number;
}

export interface AttemptResult {
  delivery_id: string;
  delivered: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

type Claimed = NoticeDeliveriesTable & { lease_token: string };

export function noticeDelivery(options: DeliveryOptions) {
  const { store, clock, ring, mailer } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retryBaseMs = options.retryBaseMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const batch = options.batch ?? 20;
  // Longer than any attempt can take, so a lease only lapses when its process died mid-attempt.
  const leaseMs = timeoutMs + 60_000;

  /** Takes one delivery if it is still pending, due (or `force`) and nobody else holds it. */
  async function claim(id: string, force = false): Promise<Claimed | null> {
    const now = clock.now();
    const stamp = now.toISOString();
    const token = newId();
    let update = store.db
      .updateTable('notice_deliveries')
      .set({ lease_until: new Date(now.getTime() + leaseMs).toISOString(), lease_token: token })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', stamp)]));
    if (!force) update = update.where('next_attempt_at', '<=', stamp);
    const done = await update.executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1) return null;
    const row = await store.db.selectFrom('notice_deliveries').selectAll().where('id', '=', id).where('lease_token', '=', token).executeTakeFirst();
    return row ? ({ ...row, attempts: Number(row.attempts), lease_token: token } as Claimed) : null;
  }

  async function post(delivery: Claimed): Promise<Omit<AttemptResult, 'delivery_id' | 'delivered' | 'duration_ms'> | 'skip'> {
    const endpoint = await store.db.selectFrom('webhook_endpoints').select(['url', 'enabled', 'secret_sealed']).where('id', '=', delivery.endpoint_id!).executeTakeFirst();
    if (!endpoint) return 'skip';
    if (endpoint.enabled !== 1 && delivery.event_type !== 'webhook.test') return 'skip';
    const secret = unseal(ring, endpoint.secret_sealed, sealContext(delivery.endpoint_id!));
    if (!secret.ok) return { status_code: null, error: 'The signing secret was sealed with another secret key: give every Gatehouse process the same GATEHOUSE_SECRET_KEY' };
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Gatehouse-Webhooks/1',
      ...signatureHeaders(secret.value, delivery.id, Math.floor(clock.now().getTime() / 1000), delivery.payload),
    };
    try {
      const response = await fetch(endpoint.url, { method: 'POST', headers, body: delivery.payload, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel().catch(() => undefined);
      const good = response.status >= 200 && response.status < 300;
      return { status_code: response.status, error: good ? null : `The receiver answered ${response.status}${response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : ''}` };
    } catch (error) {
      return { status_code: null, error: describeFetchError(error, timeoutMs) };
    }
  }

  async function mail(delivery: Claimed): Promise<Omit<AttemptResult, 'delivery_id' | 'delivered' | 'duration_ms'> | 'skip'> {
    if (!mailer) return 'skip';
    const owners = await store.db
      .selectFrom('account_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select('u.email')
      .where('m.account_id', '=', delivery.account_id)
      .where('m.account_role_id', '=', ACCOUNT_ROLE_IDS.Owner)
      .orderBy('u.email')
      .execute();
    if (owners.length === 0) return 'skip';
    const account = await store.db.selectFrom('accounts').select(['name']).where('id', '=', delivery.account_id).executeTakeFirst();
    const body = parseJsonColumn<{ type: string; timestamp: string; data: { details?: Record<string, unknown> } }>(delivery.payload, { type: delivery.event_type, timestamp: '', data: {} });
    const sentence = noticeSentence(delivery.event_type, body.data);
    const result = await mailer.sendNotice({ to: owners.map((o) => o.email), accountName: account?.name ?? delivery.account_id, sentence, type: delivery.event_type, occurred: body.timestamp, details: body.data.details ?? {} });
    return { status_code: null, error: result.sent ? null : (result.error ?? 'not sent') };
  }

  async function finish(delivery: Claimed, outcome: Awaited<ReturnType<typeof post>>, durationMs: number): Promise<AttemptResult> {
    const now = clock.now();
    const stamp = now.toISOString();
    if (outcome === 'skip') {
      await store.db.updateTable('notice_deliveries').set({ status: 'skipped', lease_until: null, lease_token: null, updated: stamp }).where('id', '=', delivery.id).where('lease_token', '=', delivery.lease_token).execute();
      return { delivery_id: delivery.id, delivered: false, status_code: null, error: 'skipped', duration_ms: 0 };
    }
    const delivered = outcome.error === null;
    const attempts = delivery.attempts + 1;
    const status = delivered ? 'delivered' : attempts >= maxAttempts ? 'failed' : 'pending';
    const next = delivered || status === 'failed' ? delivery.next_attempt_at : new Date(now.getTime() + retryBaseMs * 2 ** (attempts - 1)).toISOString();
    await store.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('notice_deliveries')
        .set({ status, attempts, next_attempt_at: next, lease_until: null, lease_token: null, updated: stamp })
        .where('id', '=', delivery.id)
        .where('lease_token', '=', delivery.lease_token)
        .execute();
      await tx
        .insertInto('notice_attempts')
        .values({ id: newId(), delivery_id: delivery.id, endpoint_id: delivery.endpoint_id, attempted_at: stamp, status_code: outcome.status_code, error: outcome.error, duration_ms: durationMs })
        .execute();
      if (delivery.endpoint_id) {
        // The log keeps the endpoint's last ATTEMPTS_KEPT attempts.
        const old = await tx.selectFrom('notice_attempts').select('id').where('endpoint_id', '=', delivery.endpoint_id).orderBy('attempted_at', 'desc').orderBy('id', 'desc').offset(ATTEMPTS_KEPT).limit(1000).execute();
        if (old.length) await tx.deleteFrom('notice_attempts').where('id', 'in', old.map((o) => o.id)).execute();
      }
    });
    return { delivery_id: delivery.id, delivered, status_code: outcome.status_code, error: outcome.error, duration_ms: durationMs };
  }

  async function attempt(delivery: Claimed): Promise<AttemptResult> {
    const started = performance.now();
    const outcome = delivery.endpoint_id ? await post(delivery) : await mail(delivery);
    return finish(delivery, outcome, Math.round(performance.now() - started));
  }

  return {
    /** Claims and attempts the due deliveries (at most `batch`), all at once; returns what was tried. */
    async deliverDue(): Promise<AttemptResult[]> {
      const stamp = clock.now().toISOString();
      const due = await store.db
        .selectFrom('notice_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', stamp)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', stamp)]))
        .orderBy('next_attempt_at')
        .limit(batch)
        .execute();
      const claimed = (await Promise.all(due.map((d) => claim(d.id)))).filter((c): c is Claimed => c !== null);
      // One delivery's trouble (its endpoint removed mid-attempt, a store error) leaves the others'
      // results standing; its lease lapses and it is tried again.
      const results = await Promise.allSettled(claimed.map(attempt));
      return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    },

    /** Attempts one delivery now, due or not (the "Send test" action); null when another process holds it. */
    async deliverNow(id: string): Promise<AttemptResult | null> {
      const claimed = await claim(id, true);
      return claimed ? attempt(claimed) : null;
    },
  };
}

export type NoticeDelivery = ReturnType<typeof noticeDelivery>;

/** What went wrong, in words that carry no secret (the URL is the Owner's own; no header is quoted). */
function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `No answer within ${timeoutMs / 1000} s`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `Could not reach the receiver: ${cause}` : `Could not reach the receiver: ${e?.message ?? 'unknown error'}`;
}
