// `/api/accounts/{account_id}/workspaces/{workspace_id}/{user_access,bot_access}`: who can reach a
// workspace and with which workspace role. Upserts take one grant or an array and answer 200 with an array.
import { Type, type TSchema } from '@sinclair/typebox';
import { workspace } from '../../authz/requirements.js';
import type { GrantInput } from '../../domain/access/service.js';
import { opContext, page, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { filterBody, Timestamp, Uuid } from '../schemas.js';

const accessFields = {
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  workspace_id: Uuid,
  workspace_role_id: Uuid,
  actor_id: Uuid,
};

const UserAccess = Type.Object({
  ...accessFields,
  user_id: Uuid,
  first_name: Type.String(),
  last_name: Type.String(),
  email: Type.String(),
  handle: Type.String(),
});

const ServiceAccountAccess = Type.Object({ ...accessFields, bot_id: Uuid, bot_name: Type.String() });

const oneOrMany = <T extends TSchema>(item: T) => Type.Union([item, Type.Array(item, { minItems: 1, maxItems: 100 })]);

const UserGrant = Type.Object({ user_id: Uuid, workspace_role_id: Uuid }, { additionalProperties: false });
const ServiceAccountGrant = Type.Object({ bot_id: Uuid, workspace_role_id: Uuid }, { additionalProperties: false });

interface KindSpec {
  path: 'user_access' | 'bot_access';
  label: string;
  grant: typeof UserGrant | typeof ServiceAccountGrant;
  item: typeof UserAccess | typeof ServiceAccountAccess;
  see: string;
  manage: string;
}

const KINDS: KindSpec[] = [
  { path: 'user_access', label: 'users', grant: UserGrant, item: UserAccess, see: 'see_workspace_users', manage: 'manage_workspace_users' },
  { path: 'bot_access', label: 'service accounts', grant: ServiceAccountGrant, item: ServiceAccountAccess, see: 'see_workspace_service_accounts', manage: 'manage_workspace_service_accounts' },
];

export function accessRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { on } = routeShapes(clock, ['Workspace access']);
  return KINDS.flatMap((kind): RouteSpec[] => {
    const base = `/api/accounts/:account_id/workspaces/:workspace_id/${kind.path}` as const;
    const isUser = kind.path === 'user_access';
    return [
      on('POST', `${base}/`, workspace(kind.manage), `Grant ${kind.label} a workspace role here (upsert: an existing grant changes role)`, {
        body: oneOrMany(kind.grant),
        response: { 200: Type.Array(kind.item) },
        handler: async (req, reply) => {
          const p = req.params;
          const body = req.body;
          const grants: GrantInput[] = (Array.isArray(body) ? body : [body]).map((g) => ({
            principalId: 'user_id' in g ? g.user_id : g.bot_id,
            workspaceRoleId: g.workspace_role_id,
          }));
          const ctx = opContext(req, clock);
          const result = isUser
            ? await services.access.upsertUserAccess(ctx, p.account_id, p.workspace_id, grants)
            : await services.access.upsertBotAccess(ctx, p.account_id, p.workspace_id, grants);
          return respond(req, reply, result);
        },
      }),
      on('POST', `${base}/filter`, workspace(kind.see), `List the ${kind.label} with access to this workspace`, {
        body: filterBody({}),
        response: { 200: Type.Array(kind.item) },
        handler: async (req) => {
          const p = req.params;
          return isUser ? services.access.filterUserAccess(p.workspace_id, page(req.body)) : services.access.filterServiceAccountAccess(p.workspace_id, page(req.body));
        },
      }),
      on('GET', `${base}/:access_id`, workspace(kind.see), `Read one grant to ${kind.label}`, {
        response: { 200: kind.item },
        handler: async (req, reply) => {
          const p = req.params;
          const result = isUser ? await services.access.getUserAccess(p.workspace_id, p.access_id) : await services.access.getServiceAccountAccess(p.workspace_id, p.access_id);
          return respond(req, reply, result);
        },
      }),
      on('DELETE', `${base}/:access_id`, workspace(kind.manage), `Remove a grant; the ${kind.label} lose access at once`, {
        response: { 204: Type.Null() },
        handler: async (req, reply) => {
          const p = req.params;
          const ctx = opContext(req, clock);
          const result = isUser
            ? await services.access.deleteUserAccess(ctx, p.account_id, p.workspace_id, p.access_id)
            : await services.access.deleteBotAccess(ctx, p.account_id, p.workspace_id, p.access_id);
          return respond(req, reply, result, 204);
        },
      }),
    ];
  });
}
