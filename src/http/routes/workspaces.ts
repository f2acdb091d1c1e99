// `/api/accounts/{account_id}/workspaces`: create, list what the caller can reach, read, update, delete.
import { Type } from '@sinclair/typebox';
import { account, workspace } from '../../authz/requirements.js';
import { ACTS_AS_WORKSPACE_OWNER } from '../../authz/permissions.js';
import { WorkspaceCreate, WorkspaceUpdate } from '../../domain/workspaces/inputs.js';
import { anyOf, page, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { anyOfFilter, filterBody, Nullable, Timestamp, Uuid } from '../schemas.js';

export const WorkspaceSchema = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Uuid,
  name: Type.String(),
  handle: Type.String(),
  description: Type.String(),
  default_workspace_role_id: Nullable(Uuid),
  is_public: Type.Boolean(),
});

export function workspaceRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { createOne, filterMany, readOne, updateOne, removeOne } = routeShapes(clock, ['Workspaces']);
  const base = '/api/accounts/:account_id/workspaces';
  return [
    createOne(`${base}/`, account('create:workspace'), 'Create a workspace; the creator gets the Owner workspace role in it', {
      body: WorkspaceCreate,
      response: WorkspaceSchema,
      create: (ctx, p, body) => services.workspaces.create(ctx, p.account_id, body),
    }),
    filterMany(`${base}/filter`, account('read:workspace'), 'List the workspaces of the account that the caller can reach', {
      body: filterBody(anyOfFilter('workspaces', 'handle')),
      item: WorkspaceSchema,
      list: (p, body, req) => {
        const seesAll = req.auth.account?.permissions.has(ACTS_AS_WORKSPACE_OWNER) ?? false;
        return services.workspaces.filter(p.account_id, req.auth.actor!, seesAll, anyOf(body, 'workspaces', 'handle'), page(body));
      },
    }),
    readOne(`${base}/:workspace_id`, workspace(null), 'Read a workspace', {
      response: WorkspaceSchema,
      read: (p) => services.workspaces.get(p.account_id, p.workspace_id),
    }),
    updateOne(`${base}/:workspace_id`, workspace('write_workspace_settings'), "Update a workspace's name, handle, description or default role", {
      body: WorkspaceUpdate,
      update: (ctx, p, body) => services.workspaces.update(ctx, p.account_id, p.workspace_id, body),
    }),
    removeOne(`${base}/:workspace_id`, workspace('manage_workspace_settings'), 'Delete a workspace and every access grant to it', (ctx, p) =>
      services.workspaces.remove(ctx, p.account_id, p.workspace_id),
    ),
  ];
}
