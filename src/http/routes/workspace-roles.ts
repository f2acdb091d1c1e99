// `/api/accounts/{account_id}/workspace_roles`: the built-in roles and the account's custom ones.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { WorkspaceRoleCreate, WorkspaceRoleUpdate } from '../../domain/roles/inputs.js';
import { anyOf, page, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { anyOfFilter, filterBody, Nullable, Timestamp, Uuid } from '../schemas.js';

const WorkspaceRole = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Nullable(Uuid),
  name: Type.String(),
  description: Type.String(),
  scopes: Type.Array(Type.String()),
  permissions: Type.Array(Type.String()),
  inherited_role_id: Nullable(Uuid),
});

export function workspaceRoleRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { createOne, filterMany, readOne, updateOne, removeOne } = routeShapes(clock, ['Workspace roles']);
  const base = '/api/accounts/:account_id/workspace_roles';
  return [
    createOne(`${base}/`, account('create:workspace_role'), 'Create a custom workspace role; manage_* scopes expand to the scopes they include', {
      body: WorkspaceRoleCreate,
      response: WorkspaceRole,
      create: (ctx, p, body) => services.roles.createWorkspaceRole(ctx, p.account_id, body),
    }),
    filterMany(`${base}/filter`, account('read:workspace_role'), 'List workspace roles: the five built-in ones (account_id null) and the custom ones', {
      body: filterBody(anyOfFilter('workspace_roles', 'name')),
      item: WorkspaceRole,
      list: (p, body) => services.roles.filterWorkspaceRoles(p.account_id, anyOf(body, 'workspace_roles', 'name'), page(body)),
    }),
    readOne(`${base}/:workspace_role_id`, account('read:workspace_role'), 'Read a workspace role', {
      response: WorkspaceRole,
      read: (p) => services.roles.getWorkspaceRole(p.account_id, p.workspace_role_id),
    }),
    updateOne(`${base}/:workspace_role_id`, account('update:workspace_role'), 'Update a custom workspace role (built-in roles are read-only)', {
      body: WorkspaceRoleUpdate,
      update: (ctx, p, body) => services.roles.updateWorkspaceRole(ctx, p.account_id, p.workspace_role_id, body),
    }),
    removeOne(`${base}/:workspace_role_id`, account('delete:workspace_role'), 'Delete a custom workspace role that is no longer granted', (ctx, p) =>
      services.roles.deleteWorkspaceRole(ctx, p.account_id, p.workspace_role_id),
    ),
  ];
}
