// Teams, as Prefect Cloud has them: a named group of an account's users and service accounts that is
// granted workspace roles as a whole. A member's scopes in a workspace are the union of their own
// grant's and each of their teams' grants (auth/grants.ts reads both). Every change runs through
// inTransaction, so every process forgets cached grants before the change returns (contract 4):
// removing someone from a team, or a team's grant, refuses their next request everywhere.
//
// The service's API (kept stable: SCIM Groups are built on it):
//   create(ctx, accountId, {name, description?})                    → Result<Team>            (201 on the wire)
//   filter(accountId, {ids?, names?, memberActorIds?}, page)         → Team[]
//   get(accountId, teamId)                                           → Result<Team>            (memberships + workspaces)
//   update(ctx, accountId, teamId, {name, description?})             → Result<Team>
//   remove(ctx, accountId, teamId)                                   → Result<null>            (members and grants go with it)
//   addMembers(ctx, accountId, teamId, [{member_id, member_type}])   → Result<Team>            (upsert: members already in stay)
//   removeMember(ctx, accountId, teamId, actorId)                    → Result<null>            (keyed by actor id, as Prefect)
//   replaceMembers(ctx, accountId, teamId, [{member_id, member_type}]) → Result<Team>          (the team has exactly these)
//   upsertTeamAccess(ctx, accountId, workspaceId, [{team_id, workspace_role_id}]) → Result<TeamAccess[]>
//   filterTeamAccess(accountId, workspaceId, page)                   → TeamAccess[]
//   deleteTeamAccess(ctx, accountId, workspaceId, teamId)            → Result<null>            (keyed by team id, as Prefect)
// `member_type` is 'user' (member_id: the user's id) or 'service_account' (the service account's id).
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type AnyOf, type OpContext, type Page } from '../context.js';
import { ownedObjectFields } from '../views.js';
import { deleteRecorded, insertRecorded, recordEvent } from '../audit/service.js';
import { findWorkspaceRole } from '../roles/service.js';
import { findPrincipal, recordGrantEvent } from '../access/service.js';
import { findWorkspace } from '../workspaces/service.js';
import { lockAccount } from '../locks.js';
import { confusableName } from '../confusables.js';
import type { TeamsTable } from '../../store/schema.js';
export { removeFromAccountTeams } from './cleanup.js';
import type { TeamAccessGrant, TeamCreate, TeamMemberInput, TeamMemberType, TeamUpdate } from './inputs.js';

export interface TeamMembership {
  /** The member's actor id (Prefect's `memberships[].id`; Terraform matches it to `member_actor_id`). */
  id: string;
  /** The user's or service account's own id. */
  member_id: string;
  type: TeamMemberType;
  handle: string;
  name: string;
  email: string | null;
}

export interface TeamWorkspace {
  workspace_id: string;
  workspace_handle: string;
  workspace_role_id: string;
  workspace_role_name: string;
}

export interface Team {
  id: string;
  created: string;
  updated: string;
  account_id: string;
  name: string;
  description: string;
  workos_directory_group_id: null;
  memberships: TeamMembership[];
  workspaces: TeamWorkspace[];
}

export interface TeamAccess {
  id: string;
  created: string;
  updated: string;
  workspace_id: string;
  workspace_role_id: string;
  team_id: string;
  team_name: string;
}

export interface TeamFilter {
  ids?: AnyOf;
  names?: AnyOf;
  /** Teams having any of these actors as a member. */
  memberActorIds?: AnyOf;
}

const nameTaken = fail('TEAM_NAME_TAKEN');
const teamNotFound = () => fail('NOT_FOUND', 'Team not found');

const some = (ids: readonly string[]) => (ids.length ? ids : ['']);

/** The teams' members and workspace grants, joined onto their rows (two queries for any number of teams). */
async function withDetails(db: Executor, rows: TeamsTable[]): Promise<Team[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const members = await db
    .selectFrom('team_members as m')
    .leftJoin('users as u', 'u.id', 'm.user_id')
    .leftJoin('bots as b', 'b.id', 'm.bot_id')
    .select(['m.team_id', 'm.actor_id', 'm.user_id', 'm.bot_id', 'u.handle', 'u.first_name', 'u.last_name', 'u.email', 'b.name as bot_name'])
    .where('m.team_id', 'in', ids)
    .orderBy('m.created')
    .orderBy('m.actor_id')
    .execute();
  const grants = await db
    .selectFrom('team_access as a')
    .innerJoin('workspaces as w', 'w.id', 'a.workspace_id')
    .innerJoin('workspace_roles as r', 'r.id', 'a.workspace_role_id')
    .select(['a.team_id', 'a.workspace_id', 'w.handle as workspace_handle', 'a.workspace_role_id', 'r.name as workspace_role_name'])
    .where('a.team_id', 'in', ids)
    .orderBy('w.handle')
    .execute();
  return rows.map((row) => ({
    ...ownedObjectFields(row),
    name: row.name,
    description: row.description,
    workos_directory_group_id: null,
    memberships: members
      .filter((m) => m.team_id === row.id)
      .map((m): TeamMembership =>
        m.user_id
          ? {
              id: m.actor_id,
              member_id: m.user_id,
              type: 'user',
              handle: m.handle ?? '',
              name: `${m.first_name ?? ''} ${m.last_name ?? ''}`.trim() || (m.handle ?? ''),
              email: m.email ?? null,
            }
          : { id: m.actor_id, member_id: m.bot_id ?? '', type: 'service_account', handle: m.bot_name ?? '', name: m.bot_name ?? '', email: null },
      ),
    workspaces: grants
      .filter((g) => g.team_id === row.id)
      .map((g) => ({ workspace_id: g.workspace_id, workspace_handle: g.workspace_handle, workspace_role_id: g.workspace_role_id, workspace_role_name: g.workspace_role_name })),
  }));
}

async function findTeam(db: Executor, accountId: string, teamId: string): Promise<TeamsTable | undefined> {
  return db.selectFrom('teams').selectAll().where('id', '=', teamId).where('account_id', '=', accountId).executeTakeFirst();
}

async function readTeam(db: Executor, accountId: string, teamId: string): Promise<Result<Team>> {
  const row = await findTeam(db, accountId, teamId);
  if (!row) return teamNotFound();
  const [team] = await withDetails(db, [row]);
  return ok(team!);
}

/** The actor of a prospective member, when it belongs to the account: a user by their membership, a service account by being created in it. */
async function resolveMember(tx: Executor, accountId: string, member: TeamMemberInput): Promise<Result<{ actorId: string; userId: string | null; botId: string | null }>> {
  const isUser = member.member_type === 'user';
  const found = await findPrincipal(tx, accountId, isUser ? 'user' : 'bot', member.member_id);
  if (!found.ok) return found;
  return ok({ actorId: found.value.actorId, userId: isUser ? member.member_id : null, botId: isUser ? null : member.member_id });
}

export function teamService(deps: Deps) {
  const { store } = deps;

  /** Adds the members not in the team yet; audits each one added. */
  async function addTo(tx: Executor, ctx: OpContext, accountId: string, team: TeamsTable, members: readonly TeamMemberInput[]): Promise<Result<null>> {
    const now = ctx.now.toISOString();
    for (const member of members) {
      const resolved = await resolveMember(tx, accountId, member);
      if (!resolved.ok) return resolved;
      const { actorId, userId, botId } = resolved.value;
      const present = await tx.selectFrom('team_members').select('actor_id').where('team_id', '=', team.id).where('actor_id', '=', actorId).executeTakeFirst();
      if (present) continue;
      await tx.insertInto('team_members').values({ team_id: team.id, actor_id: actorId, user_id: userId, bot_id: botId, created: now }).execute();
      await recordEvent(tx, ctx, {
        action: 'team.member_added',
        accountId,
        targetType: 'team',
        targetId: team.id,
        details: { team_name: team.name, member_type: member.member_type, member_id: member.member_id, actor_id: actorId },
      });
    }
    return ok(null);
  }

  async function removeFrom(tx: Executor, ctx: OpContext, accountId: string, team: TeamsTable, actorId: string): Promise<boolean> {
    const gone = await tx.deleteFrom('team_members').where('team_id', '=', team.id).where('actor_id', '=', actorId).returning(['user_id', 'bot_id']).executeTakeFirst();
    if (!gone) return false;
    await recordEvent(tx, ctx, {
      action: 'team.member_removed',
      accountId,
      targetType: 'team',
      targetId: team.id,
      details: { team_name: team.name, member_type: gone.user_id ? 'user' : 'service_account', member_id: gone.user_id ?? gone.bot_id, actor_id: actorId },
    });
    return true;
  }

  /** Runs a change to one team under the account lock (the order every grant change takes), or NOT_FOUND. */
  function changeTeam<T>(accountId: string, teamId: string, work: (tx: Executor, team: TeamsTable) => Promise<Result<T>>, options: { onUniqueViolation?: ReturnType<typeof fail> } = {}) {
    return inTransaction(
      deps,
      async (tx) => {
        await lockAccount(tx, accountId);
        const team = await findTeam(tx, accountId, teamId);
        if (!team) return teamNotFound();
        return work(tx, team);
      },
      { ...options, onForeignKeyViolation: fail('CONCURRENT_CHANGE') },
    );
  }

  return {
    async create(ctx: OpContext, accountId: string, input: TeamCreate): Promise<Result<Team>> {
      const confusable = confusableName('team', input.name);
      if (confusable) return confusable;
      const now = ctx.now.toISOString();
      const row: TeamsTable = { id: newId(), account_id: accountId, name: input.name, description: input.description ?? '', created: now, updated: now };
      return inTransaction(
        deps,
        async (tx) => {
          const clash = await tx.selectFrom('teams').select('id').where('account_id', '=', accountId).where('name', '=', input.name).executeTakeFirst();
          if (clash) return nameTaken;
          await insertRecorded(tx, ctx, 'teams', row, { action: 'team.created', targetType: 'team', details: { name: row.name } });
          return ok({ ...row, workos_directory_group_id: null, memberships: [], workspaces: [] });
        },
        // A new team has no members or grants: nothing cached is about it.
        { onUniqueViolation: nameTaken, invalidates: false },
      );
    },

    async filter(accountId: string, filter: TeamFilter, page: Page): Promise<Team[]> {
      let query = store.db.selectFrom('teams').selectAll().where('account_id', '=', accountId);
      if (filter.ids) query = query.where('id', 'in', some(filter.ids));
      if (filter.names) query = query.where('name', 'in', some(filter.names));
      if (filter.memberActorIds) {
        const actors = some(filter.memberActorIds);
        query = query.where('id', 'in', (eb) => eb.selectFrom('team_members').select('team_id').where('actor_id', 'in', actors));
      }
      const rows = await query.orderBy('name').orderBy('id').limit(page.limit).offset(page.offset).execute();
      return withDetails(store.db, rows);
    },

    get: (accountId: string, teamId: string): Promise<Result<Team>> => readTeam(store.db, accountId, teamId),

    async update(ctx: OpContext, accountId: string, teamId: string, input: TeamUpdate): Promise<Result<Team>> {
      const confusable = confusableName('team', input.name);
      if (confusable) return confusable;
      return changeTeam(
        accountId,
        teamId,
        async (tx, team) => {
          if (input.name !== team.name) {
            const clash = await tx.selectFrom('teams').select('id').where('account_id', '=', accountId).where('name', '=', input.name).executeTakeFirst();
            if (clash) return nameTaken;
          }
          // Absent keeps the description; null clears it (Prefect's `""`).
          const description = input.description === undefined ? team.description : (input.description ?? '');
          await tx.updateTable('teams').set({ name: input.name, description, updated: ctx.now.toISOString() }).where('id', '=', teamId).execute();
          await recordEvent(tx, ctx, { action: 'team.updated', accountId, targetType: 'team', targetId: teamId, details: { name: input.name, previous_name: team.name } });
          return readTeam(tx, accountId, teamId);
        },
        { onUniqueViolation: nameTaken },
      );
    },

    async remove(ctx: OpContext, accountId: string, teamId: string): Promise<Result<null>> {
      return changeTeam(accountId, teamId, async (tx, team) => {
        const grants = await tx.selectFrom('team_access').select('workspace_id').where('team_id', '=', teamId).execute();
        // Explicit deletes, children first, whatever the store's foreign-key settings.
        await tx.deleteFrom('team_access').where('team_id', '=', teamId).execute();
        await tx.deleteFrom('team_members').where('team_id', '=', teamId).execute();
        await deleteRecorded(tx, ctx, 'teams', team, {
          action: 'team.deleted',
          targetType: 'team',
          details: { name: team.name, workspace_ids: grants.map((g) => g.workspace_id) },
        });
        return ok(null);
      });
    },

    async addMembers(ctx: OpContext, accountId: string, teamId: string, members: readonly TeamMemberInput[]): Promise<Result<Team>> {
      return changeTeam(accountId, teamId, async (tx, team) => {
        const added = await addTo(tx, ctx, accountId, team, members);
        if (!added.ok) return added;
        return readTeam(tx, accountId, teamId);
      });
    },

    async removeMember(ctx: OpContext, accountId: string, teamId: string, actorId: string): Promise<Result<null>> {
      return changeTeam(accountId, teamId, async (tx, team) => ((await removeFrom(tx, ctx, accountId, team, actorId)) ? ok(null) : fail('NOT_FOUND', 'Team member not found')));
    },

    async replaceMembers(ctx: OpContext, accountId: string, teamId: string, members: readonly TeamMemberInput[]): Promise<Result<Team>> {
      return changeTeam(accountId, teamId, async (tx, team) => {
        const wanted = new Set<string>();
        for (const member of members) {
          const resolved = await resolveMember(tx, accountId, member);
          if (!resolved.ok) return resolved;
          wanted.add(resolved.value.actorId);
        }
        const current = await tx.selectFrom('team_members').select('actor_id').where('team_id', '=', teamId).execute();
        for (const { actor_id } of current) if (!wanted.has(actor_id)) await removeFrom(tx, ctx, accountId, team, actor_id);
        const added = await addTo(tx, ctx, accountId, team, members);
        if (!added.ok) return added;
        return readTeam(tx, accountId, teamId);
      });
    },

    async upsertTeamAccess(ctx: OpContext, accountId: string, workspaceId: string, grants: readonly TeamAccessGrant[]): Promise<Result<TeamAccess[]>> {
      return inTransaction(
        deps,
        async (tx) => {
          await lockAccount(tx, accountId);
          if (!(await findWorkspace(tx, accountId, workspaceId))) return fail('NOT_FOUND', 'Workspace not found');
          const ids: string[] = [];
          for (const grant of grants) {
            const role = await findWorkspaceRole(tx, accountId, grant.workspace_role_id);
            if (!role) return fail('UNKNOWN_WORKSPACE_ROLE', `No workspace role ${grant.workspace_role_id} in this account`);
            const team = await findTeam(tx, accountId, grant.team_id);
            if (!team) return fail('UNKNOWN_TEAM', `No team ${grant.team_id} in this account`);
            const now = ctx.now.toISOString();
            const existing = await tx.selectFrom('team_access').select(['id', 'workspace_role_id']).where('workspace_id', '=', workspaceId).where('team_id', '=', team.id).executeTakeFirst();
            let id: string;
            if (existing) {
              id = existing.id;
              await tx.updateTable('team_access').set({ workspace_role_id: role.id, updated: now }).where('id', '=', id).execute();
            } else {
              id = newId();
              await tx.insertInto('team_access').values({ id, team_id: team.id, workspace_id: workspaceId, workspace_role_id: role.id, created: now, updated: now }).execute();
            }
            ids.push(id);
            await recordGrantEvent(tx, ctx, 'workspace_team_access', 'granted', { accountId, workspaceId, id }, {
              team_id: team.id,
              team_name: team.name,
              workspace_role_id: role.id,
              workspace_role_name: role.name,
              previous_workspace_role_id: existing?.workspace_role_id ?? null,
            });
          }
          const rows = await readTeamAccess(tx, workspaceId, ids);
          const byId = new Map(rows.map((r) => [r.id, r]));
          return ok(ids.map((id) => byId.get(id)!));
        },
        {
          onUniqueViolation: fail('CONCURRENT_CHANGE'),
          onForeignKeyViolation: fail('UNKNOWN_WORKSPACE_ROLE', 'The workspace role or team was deleted meanwhile'),
        },
      );
    },

    filterTeamAccess: (accountId: string, workspaceId: string, page: Page): Promise<TeamAccess[]> => readTeamAccess(store.db, workspaceId, null, page, accountId),

    async deleteTeamAccess(ctx: OpContext, accountId: string, workspaceId: string, teamId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        await lockAccount(tx, accountId);
        const gone = await tx
          .deleteFrom('team_access')
          .where('workspace_id', '=', workspaceId)
          .where('team_id', '=', teamId)
          .where('team_id', 'in', (eb) => eb.selectFrom('teams').select('id').where('account_id', '=', accountId))
          .returning(['id', 'workspace_role_id'])
          .executeTakeFirst();
        if (!gone) return fail('NOT_FOUND', 'Workspace access not found');
        await recordGrantEvent(tx, ctx, 'workspace_team_access', 'revoked', { accountId, workspaceId, id: gone.id }, { team_id: teamId, workspace_role_id: gone.workspace_role_id });
        return ok(null);
      });
    },
  };
}

async function readTeamAccess(db: Executor, workspaceId: string, ids: readonly string[] | null, page?: Page, accountId?: string): Promise<TeamAccess[]> {
  let query = db
    .selectFrom('team_access as a')
    .innerJoin('teams as t', 't.id', 'a.team_id')
    .select(['a.id', 'a.created', 'a.updated', 'a.workspace_id', 'a.workspace_role_id', 'a.team_id', 't.name as team_name'])
    .where('a.workspace_id', '=', workspaceId);
  if (accountId) query = query.where('t.account_id', '=', accountId);
  if (ids) query = query.where('a.id', 'in', some(ids));
  query = query.orderBy('t.name').orderBy('a.id');
  if (page) query = query.limit(page.limit).offset(page.offset);
  return query.execute();
}

export type TeamService = ReturnType<typeof teamService>;
