// `/api/accounts/{account_id}/bots`: service accounts and their API keys (Prefect's wire names).
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { KeyRotation, ServiceAccountCreate, ServiceAccountUpdate } from '../../domain/service-accounts/inputs.js';
import { anyOf, page, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { anyOfFilter, ApiKeyMasked, ApiKeyWithSecret, filterBody, Nullable, Timestamp, Uuid } from '../schemas.js';

const serviceAccountFields = {
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  actor_id: Uuid,
  account_id: Uuid,
  name: Type.String(),
  account_role_name: Type.String(),
};

export const ServiceAccount = Type.Object({ ...serviceAccountFields, api_key: Nullable(ApiKeyMasked) });
export const ServiceAccountWithKey = Type.Object({ ...serviceAccountFields, api_key: ApiKeyWithSecret });

const RotateBody = Type.Union([KeyRotation, Type.Null()]);

export function serviceAccountRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { createOne, filterMany, readOne, updateOne, removeOne } = routeShapes(clock, ['Service accounts']);
  const base = '/api/accounts/:account_id/bots';
  return [
    createOne(`${base}/`, account('create:bot'), 'Create a service account and its first API key; the key is in this response only', {
      body: ServiceAccountCreate,
      response: ServiceAccountWithKey,
      noStore: true,
      create: (ctx, p, body) => services.serviceAccounts.create(ctx, p.account_id, body),
    }),
    filterMany(`${base}/filter`, account('read:bot'), "List the account's service accounts (keys masked)", {
      body: filterBody(anyOfFilter('service_accounts', 'name')),
      item: ServiceAccount,
      list: (p, body) => services.serviceAccounts.filter(p.account_id, anyOf(body, 'service_accounts', 'name'), page(body)),
    }),
    readOne(`${base}/:bot_id`, account('read:bot'), 'Read a service account (key masked)', {
      response: ServiceAccount,
      read: (p) => services.serviceAccounts.get(p.account_id, p.bot_id),
    }),
    updateOne(`${base}/:bot_id`, account('update:bot'), 'Rename a service account (its account role is always Member)', {
      body: ServiceAccountUpdate,
      update: (ctx, p, body) => services.serviceAccounts.update(ctx, p.account_id, p.bot_id, body),
    }),
    removeOne(`${base}/:bot_id`, account('delete:bot'), 'Delete a service account with its keys and workspace access; its keys stop working at once', (ctx, p) =>
      services.serviceAccounts.remove(ctx, p.account_id, p.bot_id),
    ),
    createOne(`${base}/:bot_id/rotate_api_key`, account('update:bot'), 'Issue a new API key; the old one is deleted now or keeps working for up to 48 hours', {
      body: RotateBody,
      response: ServiceAccountWithKey,
      noStore: true,
      create: (ctx, p, body) => services.serviceAccounts.rotateKey(ctx, p.account_id, p.bot_id, body ?? {}),
    }),
    readOne(`${base}/:bot_id/read_bot_api_keys`, account('read:bot'), 'The current key and any old keys still inside their rotation grace (masked)', {
      response: Type.Object({ active_key: Nullable(ApiKeyMasked), rotating_keys: Type.Array(ApiKeyMasked) }),
      read: (p) => services.serviceAccounts.readKeys(p.account_id, p.bot_id),
    }),
    removeOne(`${base}/:bot_id/delete_bot_api_key/:api_key_id`, account('update:bot'), "Delete one of a service account's keys (for example an old key still in its grace)", (ctx, p) =>
      services.serviceAccounts.deleteKey(ctx, p.account_id, p.bot_id, p.api_key_id),
    ),
  ];
}
