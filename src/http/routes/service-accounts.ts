// `/api/accounts/{account_id}/bots`: service accounts and their API keys (Prefect's wire names).
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { KeyRotation, ServiceAccountCreate, ServiceAccountUpdate } from '../../domain/service-accounts/inputs.js';
import { anyOf, opContext, page, respond, type RouteDeps, route, type RouteSpec } from '../route.js';
import { AnyOfStrings, ApiKeyMasked, ApiKeyWithSecret, filterBody, idParams, Nullable, Timestamp, Uuid } from '../schemas.js';

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

const FilterBody = filterBody({
  service_accounts: Type.Optional(Nullable(Type.Object({ name: Type.Optional(Nullable(AnyOfStrings())) }, { additionalProperties: true }))),
});

export function serviceAccountRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const tags = ['Service accounts'];
  const base = '/api/accounts/:account_id/bots';
  return [
    route({
      method: 'POST',
      url: `${base}/`,
      requirement: account('create:bot'),
      summary: 'Create a service account and its first API key; the key is in this response only',
      tags,
      params: idParams('account_id'),
      body: ServiceAccountCreate,
      response: { 201: ServiceAccountWithKey },
      noStore: true,
      handler: async (req, reply) =>
        respond(req, reply, await services.serviceAccounts.create(opContext(req, clock), req.params.account_id, req.body), 201),
    }),
    route({
      method: 'POST',
      url: `${base}/filter`,
      requirement: account('read:bot'),
      summary: "List the account's service accounts (keys masked)",
      tags,
      params: idParams('account_id'),
      body: FilterBody,
      response: { 200: Type.Array(ServiceAccount) },
      handler: async (req) =>
        services.serviceAccounts.filter(req.params.account_id, anyOf(req.body, 'service_accounts', 'name'), page(req.body)),
    }),
    route({
      method: 'GET',
      url: `${base}/:bot_id`,
      requirement: account('read:bot'),
      summary: 'Read a service account (key masked)',
      tags,
      params: idParams('account_id', 'bot_id'),
      response: { 200: ServiceAccount },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.serviceAccounts.get(p.account_id, p.bot_id));
      },
    }),
    route({
      method: 'PATCH',
      url: `${base}/:bot_id`,
      requirement: account('update:bot'),
      summary: 'Rename a service account (its account role is always Member)',
      tags,
      params: idParams('account_id', 'bot_id'),
      body: ServiceAccountUpdate,
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.serviceAccounts.update(opContext(req, clock), p.account_id, p.bot_id, req.body), 204);
      },
    }),
    route({
      method: 'DELETE',
      url: `${base}/:bot_id`,
      requirement: account('delete:bot'),
      summary: 'Delete a service account with its keys and workspace access; its keys stop working at once',
      tags,
      params: idParams('account_id', 'bot_id'),
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.serviceAccounts.remove(opContext(req, clock), p.account_id, p.bot_id), 204);
      },
    }),
    route({
      method: 'POST',
      url: `${base}/:bot_id/rotate_api_key`,
      requirement: account('update:bot'),
      summary: 'Issue a new API key; the old one is deleted now or keeps working for up to 48 hours',
      tags,
      params: idParams('account_id', 'bot_id'),
      body: RotateBody,
      response: { 201: ServiceAccountWithKey },
      noStore: true,
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.serviceAccounts.rotateKey(opContext(req, clock), p.account_id, p.bot_id, req.body ?? {}), 201);
      },
    }),
    route({
      method: 'GET',
      url: `${base}/:bot_id/read_bot_api_keys`,
      requirement: account('read:bot'),
      summary: 'The current key and any old keys still inside their rotation grace (masked)',
      tags,
      params: idParams('account_id', 'bot_id'),
      response: { 200: Type.Object({ active_key: Nullable(ApiKeyMasked), rotating_keys: Type.Array(ApiKeyMasked) }) },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.serviceAccounts.readKeys(p.account_id, p.bot_id));
      },
    }),
    route({
      method: 'DELETE',
      url: `${base}/:bot_id/delete_bot_api_key/:api_key_id`,
      requirement: account('update:bot'),
      summary: "Delete one of a service account's keys (for example an old key still in its grace)",
      tags,
      params: idParams('account_id', 'bot_id', 'api_key_id'),
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.serviceAccounts.deleteKey(opContext(req, clock), p.account_id, p.bot_id, p.api_key_id), 204);
      },
    }),
  ];
}
