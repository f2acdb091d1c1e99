// `/api/accounts/{account_id}`: the account itself and its built-in account roles.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { AccountSettingsUpdate, AccountUpdate } from '../../domain/accounts/inputs.js';
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
    // The caller's address goes along: turning on enforce_ip_allowlist must not lock it out.
    updateOne('/api/accounts/:account_id', account('update:account'), "Update the account's profile and settings", {
      body: AccountUpdate,
      update: (ctx, p, body, req) => services.accounts.update(ctx, p.account_id, body, req.ip),
    }),
    readOne('/api/accounts/:account_id/settings', account('read:account'), "Read the account's settings (Prefect's client reads enforce_ip_allowlist here)", {
      response: Settings,
      read: async (p) => {
        const found = await services.accounts.get(p.account_id);
        return found.ok ? { ok: true, value: found.value.settings } : found;
      },
    }),
    updateOne('/api/accounts/:account_id/settings', account('update:account'), "Update some of the account's settings (enforce_ip_allowlist: refused with 422 IP_ALLOWLIST_LOCKOUT when it would lock the caller out)", {
      body: AccountSettingsUpdate,
      update: (ctx, p, body, req) => services.accounts.update(ctx, p.account_id, { settings: body }, req.ip),
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
