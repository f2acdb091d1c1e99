// SCIM Users (RFC 7644 §3): the people of an account as its identity provider sees them. A User is
// a Gatehouse user who is a member of the account, or whom the provider provisioned there (a
// deprovisioned person stays readable, `active: false`, until the provider deletes them).
// Provisioning makes the person a Member; deprovisioning (`active: false`, or DELETE) removes them
// from the account at once and, when they belong to no other account, revokes their API keys and
// ends their sessions in the same transaction (contract 4: no process accepts them afterwards).
import type { Filter } from 'scim2-parse-filter';
import { ACCOUNT_ROLE_IDS } from '../../authz/permissions.js';
import { fail, ok, type Failure, type Result } from '../../errors.js';
import type { Executor } from '../../store/store.js';
import type { OpContext } from '../context.js';
import type { Deps } from '../deps.js';
import { recordEvent } from '../audit/service.js';
import { inTransaction } from '../transaction.js';
import { lockAccount } from '../locks.js';
import { addMembership, isLastAccountOwner, removeMembership } from '../memberships/service.js';
import { findOrCreateUser } from '../users/create.js';
import { matches, narrowing, USER_ATTRIBUTES } from './filter.js';
import { type ScimUserRecord, type UserInput } from './resources.js';

export interface ScimPage<T> {
  total: number;
  items: T[];
}

export interface ListQuery {
  filter: Filter | null;
  /** 1-based, as SCIM counts. */
  startIndex: number;
  count: number;
  /** Turns a record into the resource the filter is evaluated on. */
  resource: (record: ScimUserRecord) => unknown;
}

function recordsQuery(db: Executor, accountId: string) {
  return db
    .selectFrom('users as u')
    .leftJoin('account_memberships as m', (join) => join.onRef('m.user_id', '=', 'u.id').on('m.account_id', '=', accountId))
    .leftJoin('scim_users as s', (join) => join.onRef('s.user_id', '=', 'u.id').on('s.account_id', '=', accountId))
    .select(['u.id', 'u.actor_id', 'u.email', 'u.first_name', 'u.last_name', 'u.created', 'u.updated', 'm.id as membership_id', 'm.account_role_id', 's.external_id', 's.user_name', 's.updated as scim_updated'])
    .where((eb) => eb.or([eb('m.id', 'is not', null), eb('s.user_id', 'is not', null)]));
}

type Row = Awaited<ReturnType<ReturnType<typeof recordsQuery>['executeTakeFirstOrThrow']>>;

const later = (a: string, b: string | null) => (b !== null && b > a ? b : a);

const toRecord = (r: Row): ScimUserRecord => ({
  userId: r.id,
  actorId: r.actor_id,
  email: r.email,
  userName: r.user_name ?? null,
  firstName: r.first_name,
  lastName: r.last_name,
  externalId: r.external_id ?? null,
  active: r.membership_id !== null,
  created: r.created,
  updated: later(r.updated, r.scim_updated ?? null),
});

async function findRecord(db: Executor, accountId: string, userId: string): Promise<(ScimUserRecord & { row: Row }) | null> {
  const row = await recordsQuery(db, accountId).where('u.id', '=', userId).executeTakeFirst();
  return row ? { ...toRecord(row), row } : null;
}

async function otherAccounts(tx: Executor, accountId: string, userId: string): Promise<number> {
  const row = await tx
    .selectFrom('account_memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('account_id', '!=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function externalIdTaken(tx: Executor, accountId: string, externalId: string | null, userId: string | null): Promise<boolean> {
  if (externalId === null) return false;
  let query = tx.selectFrom('scim_users').select('user_id').where('account_id', '=', accountId).where('external_id', '=', externalId);
  if (userId) query = query.where('user_id', '!=', userId);
  return Boolean(await query.executeTakeFirst());
}

const uniqueness = (detail: string) => fail('SCIM_UNIQUENESS', detail);

export function scimUserService(deps: Deps) {
  const { store } = deps;

  /** Keeps what the provider said in scim_users (a person already a member gets their row here). */
  async function upsertLink(tx: Executor, accountId: string, userId: string, fields: { external_id?: string | null; user_name?: string | null; active: boolean }, now: string) {
    const existing = await tx.selectFrom('scim_users').select('user_id').where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
    if (existing) {
      await tx
        .updateTable('scim_users')
        .set({ ...(fields.external_id !== undefined ? { external_id: fields.external_id } : {}), ...(fields.user_name !== undefined ? { user_name: fields.user_name } : {}), active: fields.active ? 1 : 0, updated: now })
        .where('account_id', '=', accountId)
        .where('user_id', '=', userId)
        .execute();
    } else {
      await tx.insertInto('scim_users').values({ account_id: accountId, user_id: userId, external_id: fields.external_id ?? null, user_name: fields.user_name ?? null, active: fields.active ? 1 : 0, created: now, updated: now }).execute();
    }
  }

  /**
   * Takes the person out of the account as the memberships service does (their workspace access and
   * teams with it); with no other account left, their API keys and sessions go too. The last-Owner
   * rules of the account and of its workspaces hold as everywhere else.
   */
  async function deprovision(tx: Executor, ctx: OpContext, accountId: string, record: ScimUserRecord & { row: Row }): Promise<Failure | null> {
    await lockAccount(tx, accountId);
    const membership = await tx.selectFrom('account_memberships').select(['id', 'actor_id', 'account_role_id']).where('account_id', '=', accountId).where('user_id', '=', record.userId).executeTakeFirst();
    if (!membership) return null;
    if (await isLastAccountOwner(tx, accountId, membership.account_role_id)) {
      return fail('LAST_OWNER', `${record.email} is the only Owner of this account, so the identity provider cannot deprovision them: make someone else Owner in Gatehouse first, then retry`);
    }
    const refused = await removeMembership(tx, accountId, membership, record.email);
    if (refused) return { ...refused, detail: `${refused.detail}; then retry the deprovisioning` };
    let keysRevoked = 0;
    let sessionsEnded = 0;
    if ((await otherAccounts(tx, accountId, record.userId)) === 0) {
      keysRevoked = Number((await tx.deleteFrom('api_keys').where('user_id', '=', record.userId).executeTakeFirst()).numDeletedRows);
      sessionsEnded = Number((await tx.deleteFrom('sessions').where('user_id', '=', record.userId).executeTakeFirst()).numDeletedRows);
    }
    await recordEvent(tx, ctx, {
      action: 'scim.user_deprovisioned',
      accountId,
      targetType: 'user',
      targetId: record.userId,
      details: { account_membership_id: membership.id, keys_revoked: keysRevoked, sessions_ended: sessionsEnded },
    });
    return null;
  }

  /** Applies a whole User (PUT, or a PATCH's result) to a person of the account. */
  async function apply(tx: Executor, ctx: OpContext, accountId: string, record: ScimUserRecord & { row: Row }, input: UserInput): Promise<Result<null>> {
    const now = ctx.now.toISOString();
    const changed: string[] = [];
    const shared = (await otherAccounts(tx, accountId, record.userId)) > 0;
    const profile: { email?: string; first_name?: string; last_name?: string } = {};
    if (input.email !== record.email) profile.email = input.email;
    if (input.givenName !== null && input.givenName !== record.firstName) profile.first_name = input.givenName;
    if (input.familyName !== null && input.familyName !== record.lastName) profile.last_name = input.familyName;
    if (Object.keys(profile).length > 0) {
      // The person's profile is theirs in every account: one account's provider may not rewrite it.
      if (shared) return fail('SCIM_MUTABILITY', `${record.email} also belongs to another Gatehouse account, so this account's identity provider cannot change their userName or name`);
      if (profile.email) {
        const taken = await tx.selectFrom('users').select('id').where('email', '=', profile.email).where('id', '!=', record.userId).executeTakeFirst();
        if (taken) return uniqueness(`Another Gatehouse user already has the userName ${profile.email}`);
      }
      await tx.updateTable('users').set({ ...profile, updated: now }).where('id', '=', record.userId).execute();
      changed.push(...Object.keys(profile));
    }
    if (input.externalId !== record.externalId) {
      if (await externalIdTaken(tx, accountId, input.externalId, record.userId)) return uniqueness(`Another user of this account already has the externalId ${input.externalId}`);
      changed.push('external_id');
    }
    if (input.userName !== record.userName) changed.push('user_name');
    await upsertLink(tx, accountId, record.userId, { external_id: input.externalId, user_name: input.userName, active: input.active }, now);
    if (changed.length > 0) {
      await recordEvent(tx, ctx, { action: 'scim.user_updated', accountId, targetType: 'user', targetId: record.userId, details: { changed } });
    }
    if (record.active && !input.active) {
      const refused = await deprovision(tx, ctx, accountId, record);
      if (refused) return refused;
    } else if (!record.active && input.active) {
      await addMembership(tx, accountId, record, ACCOUNT_ROLE_IDS.Member, ctx.now);
      await recordEvent(tx, ctx, { action: 'scim.user_reactivated', accountId, targetType: 'user', targetId: record.userId, details: { account_role_name: 'Member' } });
    }
    return ok(null);
  }

  return {
    async list(accountId: string, query: ListQuery): Promise<ScimPage<ScimUserRecord>> {
      const offset = query.startIndex - 1;
      let base = recordsQuery(store.db, accountId);
      if (!query.filter) {
        const counted = await store.db
          .selectFrom(base.as('r'))
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        const rows = query.count === 0 ? [] : await base.orderBy('u.created').orderBy('u.id').limit(query.count).offset(offset).execute();
        return { total: Number(counted.n), items: rows.map(toRecord) };
      }
      const narrow = narrowing(query.filter);
      if (narrow?.attribute === 'username') {
        const wanted = narrow.value.trim().toLowerCase();
        base = base.where((eb) => eb.or([eb('u.email', '=', wanted), eb(eb.fn<string>('lower', ['s.user_name']), '=', wanted)]));
      }
      else if (narrow?.attribute === 'externalid') base = base.where('s.external_id', '=', narrow.value);
      else if (narrow?.attribute === 'id') base = base.where('u.id', '=', narrow.value.toLowerCase());
      const rows = await base.orderBy('u.created').orderBy('u.id').execute();
      const found = rows.map(toRecord).filter((r) => matches(query.filter!, query.resource(r), USER_ATTRIBUTES));
      return { total: found.length, items: found.slice(offset, offset + query.count) };
    },

    async get(accountId: string, userId: string): Promise<Result<ScimUserRecord>> {
      const record = await findRecord(store.db, accountId, userId.toLowerCase());
      return record ? ok(strip(record)) : fail('NOT_FOUND', 'User not found in this account');
    },

    async create(ctx: OpContext, accountId: string, input: UserInput): Promise<Result<ScimUserRecord>> {
      const now = ctx.now.toISOString();
      const done = await inTransaction(
        deps,
        async (tx) => {
          const sent = input.userName ?? input.email;
          const existing = await tx.selectFrom('users').select('id').where('email', '=', input.email).executeTakeFirst();
          if (existing && (await findRecord(tx, accountId, existing.id))) {
            return uniqueness(`A user with userName ${sent} already exists in this account (id ${existing.id}): read it with a filter and update it instead`);
          }
          if (input.userName !== null) {
            const named = await tx.selectFrom('scim_users').select('user_id').where('account_id', '=', accountId).where((eb) => eb(eb.fn<string>('lower', ['user_name']), '=', input.userName!.toLowerCase())).executeTakeFirst();
            if (named) return uniqueness(`A user with userName ${sent} already exists in this account (id ${named.user_id})`);
          }
          if (await externalIdTaken(tx, accountId, input.externalId, null)) return uniqueness(`Another user of this account already has the externalId ${input.externalId}`);
          const user = await findOrCreateUser(tx, { email: input.email, now: ctx.now, firstName: input.givenName ?? '', lastName: input.familyName ?? '' });
          await upsertLink(tx, accountId, user.id, { external_id: input.externalId, user_name: input.userName, active: input.active }, now);
          if (input.active) await addMembership(tx, accountId, { userId: user.id, actorId: user.actor_id }, ACCOUNT_ROLE_IDS.Member, ctx.now);
          await recordEvent(tx, ctx, {
            action: 'scim.user_provisioned',
            accountId,
            targetType: 'user',
            targetId: user.id,
            details: { new_user: user.created, active: input.active, ...(input.active ? { account_role_name: 'Member' } : {}) },
          });
          return ok(user.id);
        },
        { onUniqueViolation: uniqueness(`A user with userName ${input.userName ?? input.email} or this externalId already exists in this account`) },
      );
      if (!done.ok) return done;
      return this.get(accountId, done.value);
    },

    async replace(ctx: OpContext, accountId: string, userId: string, input: UserInput | ((current: ScimUserRecord) => Result<UserInput>)): Promise<Result<ScimUserRecord>> {
      const done = await inTransaction(
        deps,
        async (tx) => {
          const record = await findRecord(tx, accountId, userId.toLowerCase());
          if (!record) return fail('NOT_FOUND', 'User not found in this account');
          const wanted = typeof input === 'function' ? input(strip(record)) : ok(input);
          if (!wanted.ok) return wanted;
          return apply(tx, ctx, accountId, record, wanted.value);
        },
        { onUniqueViolation: uniqueness('Another user already has this userName or externalId') },
      );
      if (!done.ok) return done;
      return this.get(accountId, userId);
    },

    async remove(ctx: OpContext, accountId: string, userId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const record = await findRecord(tx, accountId, userId.toLowerCase());
        if (!record) return fail('NOT_FOUND', 'User not found in this account');
        const refused = await deprovision(tx, ctx, accountId, record);
        if (refused) return refused;
        await tx.deleteFrom('scim_users').where('account_id', '=', accountId).where('user_id', '=', record.userId).execute();
        await recordEvent(tx, ctx, { action: 'scim.user_deleted', accountId, targetType: 'user', targetId: record.userId });
        return ok(null);
      });
    },
  };
}

function strip(record: ScimUserRecord & { row?: Row }): ScimUserRecord {
  const { row: _row, ...rest } = record;
  return rest;
}

export type ScimUserService = ReturnType<typeof scimUserService>;
