// `/api/me/...`: the caller's own profile, accounts, workspaces, permissions and scopes, for user
// and service-account keys alike.
import { Type } from '@sinclair/typebox';
import { AUTHENTICATED } from '../../authz/requirements.js';
import { respond, sendCachedJson, type RouteDeps, route, type RouteSpec } from '../route.js';
import { ApiKeyMasked, idParams, Uuid } from '../schemas.js';
import { UserSchema } from './users.js';
import { ok, type Result } from '../../errors.js';

export const MyWorkspace = Type.Object({
  account_id: Uuid,
  account_name: Type.String(),
  account_handle: Type.String(),
  workspace_id: Uuid,
  workspace_name: Type.String(),
  workspace_description: Type.String(),
  workspace_handle: Type.String(),
});

export const MyAccount = Type.Object({
  account_membership_id: Uuid,
  account_id: Uuid,
  account_name: Type.String(),
  account_role_name: Type.String(),
  account_handle: Type.String(),
  account_plan_type: Type.String(),
  account_plan_tier: Type.String(),
  account_plan_features: Type.Array(Type.String()),
  self_serve: Type.Boolean(),
  annual_billing: Type.Boolean(),
  annual_self_serve_enabled: Type.Boolean(),
});

export function meRoutes({ services, auth }: RouteDeps): RouteSpec[] {
  const tags = ['Me'];
  return [
    route({
      method: 'GET',
      url: '/api/me/',
      requirement: AUTHENTICATED,
      summary: "The caller's profile (a service account answers with its name as handle)",
      tags,
      response: { 200: UserSchema },
      handler: async (req, reply) => respond(req, reply, await services.users.me(req.auth.actor!)),
    }),
    route({
      method: 'GET',
      url: '/api/me/workspaces',
      requirement: AUTHENTICATED,
      summary: 'Every workspace the caller can reach',
      tags,
      response: { 200: Type.Array(MyWorkspace) },
      handler: async (req) => services.users.myWorkspaces(req.auth.actor!),
    }),
    route({
      method: 'GET',
      url: '/api/me/accounts',
      requirement: AUTHENTICATED,
      summary: 'Every account the caller is a member of, with its account role',
      tags,
      response: { 200: Type.Array(MyAccount) },
      handler: async (req) => services.users.myAccounts(req.auth.actor!),
    }),
    route({
      method: 'GET',
      url: '/api/me/accounts/:account_id/permissions',
      requirement: AUTHENTICATED,
      summary: "The caller's account permissions in this account",
      tags,
      params: idParams('account_id'),
      response: { 200: Type.Array(Type.String()) },
      handler: async (req, reply) =>
        respond(req, reply, await auth.myAccountPermissions(req.auth.actor!, req.params.account_id, req.ip)),
    }),
    route({
      method: 'GET',
      url: '/api/me/workspaces/:workspace_id/scopes',
      requirement: AUTHENTICATED,
      summary: "The caller's scopes in this workspace",
      tags,
      params: idParams('workspace_id'),
      response: { 200: Type.Array(Type.String()) },
      // Asked on every start of a Prefect client: a cached answer is sent at once, serialized once.
      handler: (req, reply) => {
        const actor = req.auth.actor!;
        const workspaceId = req.params.workspace_id;
        const answer = (result: Result<string[]>) => (result.ok ? sendCachedJson(reply, result.value) : respond(req, reply, result));
        const scopes = auth.myWorkspaceScopes(actor, workspaceId, req.ip);
        if (scopes instanceof Promise) return scopes.then(answer);
        answer(scopes);
        return undefined;
      },
    }),
    route({
      method: 'GET',
      url: '/api/me/api_keys',
      requirement: AUTHENTICATED,
      summary: "The caller's own user API keys (masked); a service account has none here",
      tags,
      querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 255 })) }),
      response: { 200: Type.Array(ApiKeyMasked) },
      handler: async (req, reply) => {
        const actor = req.auth.actor!;
        if (actor.type !== 'user' || !actor.id) return respond(req, reply, ok([]));
        const { name } = req.query;
        return services.apiKeys.listUserKeys(actor.id, name);
      },
    }),
  ];
}
