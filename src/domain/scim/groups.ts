// SCIM Groups (RFC 7644 §3) over the account's teams (domain/teams): a Group is a team, its members
// are people of the account (SCIM Users, by user id). Every change goes through the team service;
// this service keeps only the provider's externalId beside it (scim_groups). Service accounts in a
// team are Gatehouse's own business: the provider neither sees nor removes them.
import type { Filter } from 'scim2-parse-filter';
import { fail, ok, type Failure, type Result } from '../../errors.js';
import type { OpContext } from '../context.js';
import type { Deps } from '../deps.js';
import { recordEvent } from '../audit/service.js';
import { inTransaction } from '../transaction.js';
import type { Team, TeamService } from '../teams/service.js';
import { GROUP_ATTRIBUTES, matches } from './filter.js';
import type { ScimPage } from './users.js';

/** A team as SCIM shows it. */
export interface ScimGroupRecord {
  team: Team;
  externalId: string | null;
}

export interface GroupInput {
  displayName: string;
  externalId: string | null;
  /** User ids; null: leave the members as they are. */
  memberIds: string[] | null;
}

export interface GroupQuery {
  filter: Filter | null;
  startIndex: number;
  count: number;
  resource: (record: ScimGroupRecord) => unknown;
}

const ALL = { limit: 1_000_000, offset: 0 };

/** A team service refusal in SCIM's words. */
function scimFailure(failure: Failure): Failure {
  switch (failure.code) {
    case 'TEAM_NAME_TAKEN':
      return fail('SCIM_UNIQUENESS', 'Another group (team) of this account already has this displayName');
    case 'UNKNOWN_USER':
    case 'UNKNOWN_SERVICE_ACCOUNT':
      return fail('SCIM_INVALID_VALUE', `${failure.detail ?? 'A member is not a person of this account'}: provision the user before adding them to a group`);
    case 'CONFUSABLE_NAME':
      return fail('SCIM_INVALID_VALUE', failure.detail);
    default:
      return failure;
  }
}

const userIdsOf = (team: Team) => team.memberships.filter((m) => m.type === 'user').map((m) => m.member_id);

export function scimGroupService(deps: Deps, teams: TeamService) {
  const { store } = deps;

  async function externalIds(accountId: string): Promise<Map<string, string | null>> {
    const rows = await store.db.selectFrom('scim_groups').select(['team_id', 'external_id']).where('account_id', '=', accountId).execute();
    return new Map(rows.map((r) => [r.team_id, r.external_id]));
  }

  async function record(accountId: string, teamId: string): Promise<Result<ScimGroupRecord>> {
    const team = await teams.get(accountId, teamId);
    if (!team.ok) return fail('NOT_FOUND', 'Group not found in this account');
    const link = await store.db.selectFrom('scim_groups').select('external_id').where('team_id', '=', teamId).executeTakeFirst();
    return ok({ team: team.value, externalId: link?.external_id ?? null });
  }

  /** Keeps the provider's externalId for a team (unique within the account). */
  async function link(ctx: OpContext, accountId: string, teamId: string, externalId: string | null): Promise<Result<null>> {
    return inTransaction(
      deps,
      async (tx) => {
        const taken = externalId === null ? null : await tx.selectFrom('scim_groups').select('team_id').where('account_id', '=', accountId).where('external_id', '=', externalId).where('team_id', '!=', teamId).executeTakeFirst();
        if (taken) return fail('SCIM_UNIQUENESS', `Another group of this account already has the externalId ${externalId}`);
        const now = ctx.now.toISOString();
        const existing = await tx.selectFrom('scim_groups').select(['team_id', 'external_id']).where('team_id', '=', teamId).executeTakeFirst();
        if (existing?.external_id === externalId) return ok(null);
        if (existing) await tx.updateTable('scim_groups').set({ external_id: externalId, updated: now }).where('team_id', '=', teamId).execute();
        else await tx.insertInto('scim_groups').values({ team_id: teamId, account_id: accountId, external_id: externalId, created: now, updated: now }).execute();
        await recordEvent(tx, ctx, { action: 'scim.group_linked', accountId, targetType: 'team', targetId: teamId, details: { external_id: externalId } });
        return ok(null);
      },
      { onUniqueViolation: fail('SCIM_UNIQUENESS', 'Another group of this account already has this externalId'), invalidates: false },
    );
  }

  /** Makes the team's user members exactly `wanted`, through the team service (its audit events included). */
  async function setMembers(ctx: OpContext, accountId: string, team: Team, wanted: string[]): Promise<Result<null>> {
    const current = new Set(userIdsOf(team));
    const target = new Set(wanted);
    const added = [...target].filter((id) => !current.has(id));
    if (added.length) {
      const result = await teams.addMembers(ctx, accountId, team.id, added.map((member_id) => ({ member_id, member_type: 'user' as const })));
      if (!result.ok) return scimFailure(result);
    }
    for (const membership of team.memberships) {
      if (membership.type !== 'user' || target.has(membership.member_id)) continue;
      const removed = await teams.removeMember(ctx, accountId, team.id, membership.id);
      if (!removed.ok && removed.code !== 'NOT_FOUND') return scimFailure(removed);
    }
    return ok(null);
  }

  async function apply(ctx: OpContext, accountId: string, current: ScimGroupRecord, input: GroupInput): Promise<Result<ScimGroupRecord>> {
    if (input.displayName !== current.team.name) {
      const renamed = await teams.update(ctx, accountId, current.team.id, { name: input.displayName });
      if (!renamed.ok) return scimFailure(renamed);
    }
    if (input.externalId !== current.externalId) {
      const linked = await link(ctx, accountId, current.team.id, input.externalId);
      if (!linked.ok) return linked;
    }
    if (input.memberIds !== null) {
      const members = await setMembers(ctx, accountId, current.team, input.memberIds);
      if (!members.ok) return members;
    }
    return record(accountId, current.team.id);
  }

  return {
    async list(accountId: string, query: GroupQuery): Promise<ScimPage<ScimGroupRecord>> {
      const [all, links] = await Promise.all([teams.filter(accountId, {}, ALL), externalIds(accountId)]);
      const records = all.map((team) => ({ team, externalId: links.get(team.id) ?? null }));
      const found = query.filter ? records.filter((r) => matches(query.filter!, query.resource(r), GROUP_ATTRIBUTES)) : records;
      const offset = query.startIndex - 1;
      return { total: found.length, items: found.slice(offset, offset + query.count) };
    },

    get: (accountId: string, teamId: string) => record(accountId, teamId.toLowerCase()),

    async create(ctx: OpContext, accountId: string, input: GroupInput): Promise<Result<ScimGroupRecord>> {
      if (input.externalId !== null) {
        const taken = await store.db.selectFrom('scim_groups').select('team_id').where('account_id', '=', accountId).where('external_id', '=', input.externalId).executeTakeFirst();
        if (taken) return fail('SCIM_UNIQUENESS', `Another group of this account already has the externalId ${input.externalId}`);
      }
      const created = await teams.create(ctx, accountId, { name: input.displayName });
      if (!created.ok) return scimFailure(created);
      const team = created.value;
      const done = await apply(ctx, accountId, { team, externalId: null }, { ...input, displayName: team.name });
      if (!done.ok) {
        // The group is created whole or not at all: the team made a moment ago goes again.
        await teams.remove(ctx, accountId, team.id);
        return done;
      }
      return done;
    },

    async replace(ctx: OpContext, accountId: string, teamId: string, input: GroupInput | ((current: ScimGroupRecord) => Result<GroupInput>)): Promise<Result<ScimGroupRecord>> {
      const current = await record(accountId, teamId.toLowerCase());
      if (!current.ok) return current;
      const wanted = typeof input === 'function' ? input(current.value) : ok(input);
      if (!wanted.ok) return wanted;
      return apply(ctx, accountId, current.value, wanted.value);
    },

    async remove(ctx: OpContext, accountId: string, teamId: string): Promise<Result<null>> {
      const removed = await teams.remove(ctx, accountId, teamId.toLowerCase());
      return removed.ok ? removed : fail('NOT_FOUND', 'Group not found in this account');
    },
  };
}

export type ScimGroupService = ReturnType<typeof scimGroupService>;
