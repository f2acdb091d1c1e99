// `/api/accounts/{account_id}`: the account itself and its built-in account roles.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { AccountUpdate } from '../../domain/accounts/inputs.js';
import { anyOf, page, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { anyOfFilter, filterBody, Nullable, Timestamp, Uuid } from '../schemas.js';

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
  const { readOne, updateOne } = routeShapes(clock, ['Accounts']);
  const roles = routeShapes(clock, ['Account roles']);
  return [
    readOne('/api/accounts/:account_id', account('read:account'), 'Read the account', {
      response: Account,
      read: (p) => services.accounts.get(p.account_id),
    }),
    updateOne('/api/accounts/:account_id', account('update:account'), "Update the account's profile and settings", {
      body: AccountUpdate,
      update: (ctx, p, body) => services.accounts.update(ctx, p.account_id, body),
    }),
    roles.filterMany('/api/accounts/:account_id/account_roles/filter', account('read:account_role'), 'List account roles (the built-in Owner, Admin and Member)', {
      body: filterBody(anyOfFilter('account_roles', 'name')),
      item: AccountRole,
      list: (p, body) => services.roles.filterAccountRoles(p.account_id, anyOf(body, 'account_roles', 'name'), page(body)),
    }),
    roles.readOne('/api/accounts/:account_id/account_roles/:account_role_id', account('read:account_role'), 'Read an account role', {
      response: AccountRole,
      read: (p) => services.roles.getAccountRole(p.account_id, p.account_role_id),
    }),
  ];
}
