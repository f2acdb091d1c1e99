// `/api/users/{user_id}`: a user's own profile and their own user API keys (`pnu_`).
import { Type } from '@sinclair/typebox';
import { SELF } from '../../authz/requirements.js';
import { opContext, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { ApiKeyMasked, ApiKeyWithSecret, Handle, idParams, Name, Nullable, Timestamp, Uuid } from '../schemas.js';

export const UserSchema = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  actor_id: Uuid,
  handle: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  location: Nullable(Type.String()),
  title: Nullable(Type.String()),
  image_location: Nullable(Type.String()),
  idp_user_id: Nullable(Type.String()),
  personal_account_id: Nullable(Uuid),
  settings: Type.Object({}, { additionalProperties: true }),
  last_login: Nullable(Timestamp),
});

const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' });
const Text = Type.String({ maxLength: 255 });

const UserUpdate = Type.Object(
  {
    handle: Type.Optional(Handle),
    first_name: Type.Optional(Text),
    last_name: Type.Optional(Text),
    email: Type.Optional(Email),
    location: Type.Optional(Nullable(Text)),
    title: Type.Optional(Nullable(Text)),
    image_location: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    settings: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
    // Sent by some clients; the server keeps its own record of sign-ins.
    last_login: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
);

const ApiKeyCreate = Type.Object(
  { name: Name, expiration: Type.Optional(Nullable(Timestamp)) },
  { additionalProperties: false },
);

type UserParams = { user_id: string };
type KeyParams = { user_id: string; api_key_id: string };

export function userRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const tags = ['Users'];
  return [
    {
      method: 'GET',
      url: '/api/users/:user_id',
      requirement: SELF,
      summary: "A user's own profile",
      tags,
      params: idParams('user_id'),
      response: { 200: UserSchema },
      handler: async (req, reply) => respond(req, reply, await services.users.get((req.params as UserParams).user_id)),
    },
    {
      method: 'PATCH',
      url: '/api/users/:user_id',
      requirement: SELF,
      summary: "Update a user's own profile",
      tags,
      params: idParams('user_id'),
      body: UserUpdate,
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const { last_login: _ignored, ...input } = req.body as Record<string, unknown>;
        return respond(req, reply, await services.users.update(opContext(req, clock), (req.params as UserParams).user_id, input), 204);
      },
    },
    {
      method: 'POST',
      url: '/api/users/:user_id/api_keys',
      requirement: SELF,
      summary: 'Create a user API key; the key is in this response only',
      tags,
      params: idParams('user_id'),
      body: ApiKeyCreate,
      response: { 201: ApiKeyWithSecret },
      noStore: true,
      handler: async (req, reply) =>
        respond(req, reply, await services.apiKeys.createUserKey(opContext(req, clock), (req.params as UserParams).user_id, req.body as { name: string; expiration?: string | null }), 201),
    },
    {
      method: 'GET',
      url: '/api/users/:user_id/api_keys',
      requirement: SELF,
      summary: "A user's API keys (masked)",
      tags,
      params: idParams('user_id'),
      querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 255 })) }),
      response: { 200: Type.Array(ApiKeyMasked) },
      handler: async (req) => services.apiKeys.listUserKeys((req.params as UserParams).user_id, (req.query as { name?: string }).name),
    },
    {
      method: 'GET',
      url: '/api/users/:user_id/api_keys/:api_key_id',
      requirement: SELF,
      summary: 'One of the user API keys (masked)',
      tags,
      params: idParams('user_id', 'api_key_id'),
      response: { 200: ApiKeyMasked },
      handler: async (req, reply) => {
        const p = req.params as KeyParams;
        return respond(req, reply, await services.apiKeys.getUserKey(p.user_id, p.api_key_id));
      },
    },
    {
      method: 'DELETE',
      url: '/api/users/:user_id/api_keys/:api_key_id',
      requirement: SELF,
      summary: 'Delete a user API key; it stops working at once',
      tags,
      params: idParams('user_id', 'api_key_id'),
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params as KeyParams;
        return respond(req, reply, await services.apiKeys.deleteUserKey(opContext(req, clock), p.user_id, p.api_key_id), 204);
      },
    },
  ];
}
