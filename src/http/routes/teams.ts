// `/api/accounts/{account_id}/teams` and `/workspaces/{workspace_id}/team_access` (Prefect Cloud's
// wire, as its Terraform provider's `prefect_team`, `prefect_team_access` and `prefect_workspace_access`
// with accessor TEAM send it): teams, their members, and their workspace roles. Account Owners and
// Admins manage teams (`create|update|delete:team`), every member reads them (`read:team`); a
// workspace's team grants need `manage_workspace_teams` there.
import { Type, type TSchema } from '@sinclair/typebox';
import { account, workspace } from '../../authz/requirements.js';
import { TeamAccessGrant, TeamCreate, TeamMembersUpsert, TeamUpdate } from '../../domain/teams/inputs.js';
import { anyOf, page, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { AnyOfStrings, filterBody, Nullable, Timestamp, Uuid } from '../schemas.js';

const TeamMembership = Type.Object({
  id: Uuid,
  member_id: Uuid,
  type: Type.String({ description: 'user or service_account' }),
  handle: Type.String(),
  name: Type.String(),
  email: Nullable(Type.String()),
});

const TeamWorkspace = Type.Object({
  workspace_id: Uuid,
  workspace_handle: Type.String(),
  workspace_role_id: Uuid,
  workspace_role_name: Type.String(),
});

export const Team = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Uuid,
  name: Type.String(),
  description: Type.String(),
  workos_directory_group_id: Type.Null(),
  memberships: Type.Array(TeamMembership),
  workspaces: Type.Array(TeamWorkspace),
});

const TeamAccess = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  workspace_id: Uuid,
  workspace_role_id: Uuid,
  team_id: Uuid,
  team_name: Type.String(),
});

const oneOrMany = <T extends TSchema>(item: T) => Type.Union([item, Type.Array(item, { minItems: 1, maxItems: 100 })]);

const anyOfField = Type.Optional(Nullable(AnyOfStrings()));
const TeamFilterBody = filterBody({
  teams: Type.Optional(Nullable(Type.Object({ id: anyOfField, name: anyOfField, member_id: anyOfField }, { additionalProperties: true }))),
});

export function teamRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { createOne, filterMany, readOne, updateOne, removeOne } = routeShapes(clock, ['Teams']);
  const base = '/api/accounts/:account_id/teams';
  const one = `${base}/:team_id` as const;
  const access = '/api/accounts/:account_id/workspaces/:workspace_id/team_access';
  return [
    createOne(`${base}/`, account('create:team'), 'Create a team (no members, no workspace roles yet)', {
      body: TeamCreate,
      response: Team,
      create: (ctx, p, body) => services.teams.create(ctx, p.account_id, body),
    }),
    filterMany(`${base}/filter`, account('read:team'), "List the account's teams, with their members and workspace roles", {
      body: TeamFilterBody,
      item: Team,
      list: (p, body) =>
        services.teams.filter(
          p.account_id,
          { ids: anyOf(body, 'teams', 'id'), names: anyOf(body, 'teams', 'name'), memberActorIds: anyOf(body, 'teams', 'member_id') },
          page(body),
        ),
    }),
    readOne(one, account('read:team'), 'Read a team, with its members (`memberships[].id` is the actor id) and workspace roles', {
      response: Team,
      read: (p) => services.teams.get(p.account_id, p.team_id),
    }),
    updateOne(one, account('update:team'), 'Rename a team or change its description', {
      method: 'PUT',
      body: TeamUpdate,
      response: Team,
      update: (ctx, p, body) => services.teams.update(ctx, p.account_id, p.team_id, body),
    }),
    removeOne(one, account('delete:team'), 'Delete a team; its members lose what it granted at once', (ctx, p) => services.teams.remove(ctx, p.account_id, p.team_id)),
    updateOne(`${one}/members`, account('update:team'), 'Add users or service accounts to a team (members already in it stay)', {
      method: 'PUT',
      body: TeamMembersUpsert,
      response: Team,
      update: (ctx, p, body) => services.teams.addMembers(ctx, p.account_id, p.team_id, body.members),
    }),
    removeOne(`${one}/members/:actor_id`, account('update:team'), 'Remove a member (by actor id) from a team; what the team granted them ends at once', (ctx, p) =>
      services.teams.removeMember(ctx, p.account_id, p.team_id, p.actor_id),
    ),
    updateOne(`${access}/`, workspace('manage_workspace_teams'), 'Grant teams a workspace role here (upsert: an existing grant changes role)', {
      method: 'PUT',
      body: oneOrMany(TeamAccessGrant),
      response: Type.Array(TeamAccess),
      update: (ctx, p, body) => services.teams.upsertTeamAccess(ctx, p.account_id, p.workspace_id, Array.isArray(body) ? body : [body]),
    }),
    filterMany(`${access}/filter`, workspace('see_workspace_users'), 'List the teams with access to this workspace', {
      body: filterBody({}),
      item: TeamAccess,
      list: (p, body) => services.teams.filterTeamAccess(p.account_id, p.workspace_id, page(body)),
    }),
    removeOne(`${access}/:team_id`, workspace('manage_workspace_teams'), "Remove a team's grant (by team id); its members lose it at once", (ctx, p) =>
      services.teams.deleteTeamAccess(ctx, p.account_id, p.workspace_id, p.team_id),
    ),
  ];
}
