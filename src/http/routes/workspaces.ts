// `/api/accounts/{account_id}/workspaces`: create, list what the caller can reach, read, update, delete.
import { Type } from '@sinclair/typebox';
import { account, workspace } from '../../authz/requirements.js';
import { ACTS_AS_WORKSPACE_OWNER } from '../../authz/permissions.js';
import { WorkspaceCreate, WorkspaceUpdate } from '../../domain/workspaces/inputs.js';
import { anyOf, opContext, page, respond, type RouteDeps, route, type RouteSpec } from '../route.js';
import { AnyOfStrings, filterBody, idParams, Nullable, Timestamp, Uuid } from '../schemas.js';

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
  const tags = ['Workspaces'];
  const base = '/api/accounts/:account_id/workspaces';
  return [
    route({
      method: 'POST',
      url: `${base}/`,
      requirement: account('create:workspace'),
      summary: 'Create a workspace; the creator gets the Owner workspace role in it',
      tags,
      params: idParams('account_id'),
      body: WorkspaceCreate,
      response: { 201: WorkspaceSchema },
      handler: async (req, reply) =>
        respond(req, reply, await services.workspaces.create(opContext(req, clock), req.params.account_id, req.body), 201),
    }),
    route({
      method: 'POST',
      url: `${base}/filter`,
      requirement: account('read:workspace'),
      summary: 'List the workspaces of the account that the caller can reach',
      tags,
      params: idParams('account_id'),
      body: filterBody({
        workspaces: Type.Optional(Nullable(Type.Object({ handle: Type.Optional(Nullable(AnyOfStrings())) }, { additionalProperties: true }))),
      }),
      response: { 200: Type.Array(WorkspaceSchema) },
      handler: async (req) => {
        const seesAll = req.auth.account?.permissions.has(ACTS_AS_WORKSPACE_OWNER) ?? false;
        return services.workspaces.filter(req.params.account_id, req.auth.actor!, seesAll, anyOf(req.body, 'workspaces', 'handle'), page(req.body));
      },
    }),
    route({
      method: 'GET',
      url: `${base}/:workspace_id`,
      requirement: workspace(null),
      summary: 'Read a workspace',
      tags,
      params: idParams('account_id', 'workspace_id'),
      response: { 200: WorkspaceSchema },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.workspaces.get(p.account_id, p.workspace_id));
      },
    }),
    route({
      method: 'PATCH',
      url: `${base}/:workspace_id`,
      requirement: workspace('write_workspace_settings'),
      summary: "Update a workspace's name, handle, description or default role",
      tags,
      params: idParams('account_id', 'workspace_id'),
      body: WorkspaceUpdate,
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.workspaces.update(opContext(req, clock), p.account_id, p.workspace_id, req.body), 204);
      },
    }),
    route({
      method: 'DELETE',
      url: `${base}/:workspace_id`,
      requirement: workspace('manage_workspace_settings'),
      summary: 'Delete a workspace and every access grant to it',
      tags,
      params: idParams('account_id', 'workspace_id'),
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.workspaces.remove(opContext(req, clock), p.account_id, p.workspace_id), 204);
      },
    }),
  ];
}
