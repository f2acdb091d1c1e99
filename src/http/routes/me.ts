// `/api/me/...`: the caller's own profile, accounts, workspaces, permissions and scopes, for user
// and service-account keys alike.
import { Type } from '@sinclair/typebox';
import { AUTHENTICATED } from '../../authz/requirements.js';
import { respond, sendCachedJson, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { ApiKeyMasked, Uuid } from '../schemas.js';
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

export function meRoutes({ services, auth, clock }: RouteDeps): RouteSpec[] {
  const { on } = routeShapes(clock, ['Me']);
  return [
    on('GET', '/api/me/', AUTHENTICATED, "The caller's profile (a service account answers with its name as handle)", {
      response: { 200: UserSchema },
      handler: async (req, reply) => respond(req, reply, await services.users.me(req.auth.actor!)),
    }),
    on('GET', '/api/me/workspaces', AUTHENTICATED, 'Every workspace the caller can reach', {
      response: { 200: Type.Array(MyWorkspace) },
      handler: async (req) => services.users.myWorkspaces(req.auth.actor!),
    }),
    on('GET', '/api/me/accounts', AUTHENTICATED, 'Every account the caller is a member of, with its account role', {
      response: { 200: Type.Array(MyAccount) },
      handler: async (req) => services.users.myAccounts(req.auth.actor!),
    }),
    on('GET', '/api/me/accounts/:account_id/permissions', AUTHENTICATED, "The caller's account permissions in this account", {
      response: { 200: Type.Array(Type.String()) },
      handler: async (req, reply) =>
        respond(req, reply, await auth.myAccountPermissions(req.auth.actor!, req.params.account_id, req.ip)),
    }),
    on('GET', '/api/me/workspaces/:workspace_id/scopes', AUTHENTICATED, "The caller's scopes in this workspace", {
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
    on('GET', '/api/me/api_keys', AUTHENTICATED, "The caller's own user API keys (masked); a service account has none here", {
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
