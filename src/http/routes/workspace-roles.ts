// `/api/accounts/{account_id}/workspace_roles`: the built-in roles and the account's custom ones.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { WorkspaceRoleCreate, WorkspaceRoleUpdate } from '../../domain/roles/inputs.js';
import { anyOf, opContext, page, respond, type RouteDeps, route, type RouteSpec } from '../route.js';
import { AnyOfStrings, filterBody, idParams, Nullable, Timestamp, Uuid } from '../schemas.js';

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
  const tags = ['Workspace roles'];
  const base = '/api/accounts/:account_id/workspace_roles';
  return [
    route({
      method: 'POST',
      url: `${base}/`,
      requirement: account('create:workspace_role'),
      summary: 'Create a custom workspace role; manage_* scopes expand to the scopes they include',
      tags,
      params: idParams('account_id'),
      body: WorkspaceRoleCreate,
      response: { 201: WorkspaceRole },
      handler: async (req, reply) =>
        respond(req, reply, await services.roles.createWorkspaceRole(opContext(req, clock), req.params.account_id, req.body), 201),
    }),
    route({
      method: 'POST',
      url: `${base}/filter`,
      requirement: account('read:workspace_role'),
      summary: 'List workspace roles: the five built-in ones (account_id null) and the custom ones',
      tags,
      params: idParams('account_id'),
      body: filterBody({
        workspace_roles: Type.Optional(Nullable(Type.Object({ name: Type.Optional(Nullable(AnyOfStrings())) }, { additionalProperties: true }))),
      }),
      response: { 200: Type.Array(WorkspaceRole) },
      handler: async (req) =>
        services.roles.filterWorkspaceRoles(req.params.account_id, anyOf(req.body, 'workspace_roles', 'name'), page(req.body)),
    }),
    route({
      method: 'GET',
      url: `${base}/:workspace_role_id`,
      requirement: account('read:workspace_role'),
      summary: 'Read a workspace role',
      tags,
      params: idParams('account_id', 'workspace_role_id'),
      response: { 200: WorkspaceRole },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.roles.getWorkspaceRole(p.account_id, p.workspace_role_id));
      },
    }),
    route({
      method: 'PATCH',
      url: `${base}/:workspace_role_id`,
      requirement: account('update:workspace_role'),
      summary: 'Update a custom workspace role (built-in roles are read-only)',
      tags,
      params: idParams('account_id', 'workspace_role_id'),
      body: WorkspaceRoleUpdate,
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.roles.updateWorkspaceRole(opContext(req, clock), p.account_id, p.workspace_role_id, req.body), 204);
      },
    }),
    route({
      method: 'DELETE',
      url: `${base}/:workspace_role_id`,
      requirement: account('delete:workspace_role'),
      summary: 'Delete a custom workspace role that is no longer granted',
      tags,
      params: idParams('account_id', 'workspace_role_id'),
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.roles.deleteWorkspaceRole(opContext(req, clock), p.account_id, p.workspace_role_id), 204);
      },
    }),
  ];
}
