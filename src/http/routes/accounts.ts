// `/api/accounts/{account_id}`: the account itself and its built-in account roles.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { AccountUpdate } from '../../domain/accounts/inputs.js';
import { anyOf, opContext, page, respond, type RouteDeps, route, type RouteSpec } from '../route.js';
import { AnyOfStrings, filterBody, idParams, Nullable, Timestamp, Uuid } from '../schemas.js';

const Settings = Type.Object(
  {
    allow_public_workspaces: Type.Boolean(),
    ai_log_summaries: Type.Boolean(),
    managed_execution: Type.Boolean(),
    enforce_ip_allowlist: Type.Boolean(),
    enforce_webhook_authentication: Type.Boolean(),
    self_healing_enabled: Type.Boolean(),
    enabled_feature_flags: Type.Array(Type.String()),
    default_result_storage: Type.Any(),
  },
  { additionalProperties: true },
);

export const Account = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  name: Type.String(),
  handle: Type.String(),
  location: Nullable(Type.String()),
  link: Nullable(Type.String()),
  image_location: Nullable(Type.String()),
  billing_email: Nullable(Type.String()),
  auth_expiration_seconds: Nullable(Type.Integer()),
  settings: Settings,
  plan_type: Type.String(),
  plan_tier: Type.String(),
  features: Type.Array(Type.String()),
  self_serve: Type.Boolean(),
  sso_state: Type.String(),
  scim_state: Type.String(),
  run_retention_days: Nullable(Type.Integer()),
  audit_log_retention_days: Nullable(Type.Integer()),
  automations_limit: Nullable(Type.Integer()),
});

const AccountRole = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Nullable(Uuid),
  name: Type.String(),
  permissions: Type.Array(Type.String()),
  is_system_role: Type.Boolean(),
});

export function accountRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const tags = ['Accounts'];
  return [
    route({
      method: 'GET',
      url: '/api/accounts/:account_id',
      requirement: account('read:account'),
      summary: 'Read the account',
      tags,
      params: idParams('account_id'),
      response: { 200: Account },
      handler: async (req, reply) => respond(req, reply, await services.accounts.get(req.params.account_id)),
    }),
    route({
      method: 'PATCH',
      url: '/api/accounts/:account_id',
      requirement: account('update:account'),
      summary: "Update the account's profile and settings",
      tags,
      params: idParams('account_id'),
      body: AccountUpdate,
      response: { 204: Type.Null() },
      handler: async (req, reply) =>
        respond(req, reply, await services.accounts.update(opContext(req, clock), req.params.account_id, req.body), 204),
    }),
    route({
      method: 'POST',
      url: '/api/accounts/:account_id/account_roles/filter',
      requirement: account('read:account_role'),
      summary: 'List account roles (the built-in Owner, Admin and Member)',
      tags: ['Account roles'],
      params: idParams('account_id'),
      body: filterBody({
        account_roles: Type.Optional(Nullable(Type.Object({ name: Type.Optional(Nullable(AnyOfStrings())) }, { additionalProperties: true }))),
      }),
      response: { 200: Type.Array(AccountRole) },
      handler: async (req) =>
        services.roles.filterAccountRoles(req.params.account_id, anyOf(req.body, 'account_roles', 'name'), page(req.body)),
    }),
    route({
      method: 'GET',
      url: '/api/accounts/:account_id/account_roles/:account_role_id',
      requirement: account('read:account_role'),
      summary: 'Read an account role',
      tags: ['Account roles'],
      params: idParams('account_id', 'account_role_id'),
      response: { 200: AccountRole },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.roles.getAccountRole(p.account_id, p.account_role_id));
      },
    }),
  ];
}
