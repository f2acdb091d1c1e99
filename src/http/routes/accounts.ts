// `/api/accounts/{account_id}`: the account itself and its built-in account roles.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { anyOf, opContext, page, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { AnyOfStrings, filterBody, Handle, idParams, Name, Nullable, Timestamp, Uuid } from '../schemas.js';

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

const Account = Type.Object({
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

const Text = Type.String({ maxLength: 2000 });
const AccountUpdate = Type.Object(
  {
    name: Type.Optional(Nullable(Name)),
    handle: Type.Optional(Nullable(Handle)),
    location: Type.Optional(Nullable(Text)),
    link: Type.Optional(Nullable(Text)),
    image_location: Type.Optional(Nullable(Text)),
    billing_email: Type.Optional(Nullable(Text)),
    auth_expiration_seconds: Type.Optional(Nullable(Type.Integer({ minimum: 60, maximum: 31_536_000 }))),
    settings: Type.Optional(
      Nullable(
        Type.Object(
          {
            allow_public_workspaces: Type.Optional(Type.Boolean()),
            ai_log_summaries: Type.Optional(Type.Boolean()),
            managed_execution: Type.Optional(Type.Boolean()),
            enforce_ip_allowlist: Type.Optional(Type.Boolean()),
            enforce_webhook_authentication: Type.Optional(Type.Boolean()),
            self_healing_enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

const AccountRole = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Nullable(Uuid),
  name: Type.String(),
  permissions: Type.Array(Type.String()),
  is_system_role: Type.Boolean(),
});

type Params = { account_id: string };

export function accountRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const tags = ['Accounts'];
  return [
    {
      method: 'GET',
      url: '/api/accounts/:account_id',
      requirement: account('read:account'),
      summary: 'Read the account',
      tags,
      params: idParams('account_id'),
      response: { 200: Account },
      handler: async (req, reply) => respond(req, reply, await services.accounts.get((req.params as Params).account_id)),
    },
    {
      method: 'PATCH',
      url: '/api/accounts/:account_id',
      requirement: account('update:account'),
      summary: "Update the account's profile and settings",
      tags,
      params: idParams('account_id'),
      body: AccountUpdate,
      response: { 204: Type.Null() },
      handler: async (req, reply) =>
        respond(req, reply, await services.accounts.update(opContext(req, clock), (req.params as Params).account_id, req.body as object), 204),
    },
    {
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
        services.roles.filterAccountRoles((req.params as Params).account_id, anyOf(req.body, 'account_roles', 'name'), page(req.body)),
    },
    {
      method: 'GET',
      url: '/api/accounts/:account_id/account_roles/:account_role_id',
      requirement: account('read:account_role'),
      summary: 'Read an account role',
      tags: ['Account roles'],
      params: idParams('account_id', 'account_role_id'),
      response: { 200: AccountRole },
      handler: async (req, reply) => {
        const p = req.params as Params & { account_role_id: string };
        return respond(req, reply, await services.roles.getAccountRole(p.account_id, p.account_role_id));
      },
    },
  ];
}
