// `/api/users/{user_id}`: a user's own profile and their own user API keys (`pnu_`).
import { Type } from '@sinclair/typebox';
import { SELF } from '../../authz/requirements.js';
import { ApiKeyCreate } from '../../domain/api-keys/inputs.js';
import { UserUpdate } from '../../domain/users/inputs.js';
import { noContent, opContext, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { ApiKeyMasked, ApiKeyWithSecret, Nullable, Timestamp, Uuid } from '../schemas.js';
import { fail } from '../../errors.js';
import { sendVerificationWithin, type Mailer } from '../../mail/mailer.js';

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

// `last_login` is sent by some clients; the server keeps its own record of sign-ins.
const UserUpdateBody = Type.Object(
  { ...UserUpdate.properties, last_login: Type.Optional(Nullable(Type.String())) },
  { additionalProperties: false },
);

const PendingEmail = Type.Object({
  pending_email: Nullable(Type.String({ description: 'A new email waiting for its verification code; null when none' })),
  expiration: Nullable(Timestamp),
});

const EmailCode = Type.Object({ code: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export function userRoutes({ services, clock, publicUrl }: RouteDeps, options: { mailer?: Mailer | null } = {}): RouteSpec[] {
  const { on, createOne, readOne, updateOne, removeOne } = routeShapes(clock, ['Users']);
  return [
    readOne('/api/users/:user_id', SELF, "A user's own profile", {
      response: UserSchema,
      read: (p) => services.users.get(p.user_id),
    }),
    on('PATCH', '/api/users/:user_id', SELF, "Update a user's own profile; a new email takes effect once confirmed with the code mailed to it", {
      body: UserUpdateBody,
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const { last_login: _ignored, ...input } = req.body;
        const { user_id } = req.params;
        const ctx = opContext(req, clock);
        const { mailer } = options;
        const result = await services.users.update(ctx, user_id, input, { canVerifyEmail: Boolean(mailer) });
        if (!result.ok) return respond(req, reply, result);
        const change = result.value.emailChange;
        if (change && mailer) {
          // In the fragment, the code stays in the browser: it reaches no server or proxy log.
          const verifyUrl = `${publicUrl.base()}/verify-email#code=${change.code}`;
          const sent = await sendVerificationWithin(mailer, { to: change.email, verifyUrl, expiration: change.expiration, userName: req.auth.actor?.name ?? '' });
          if (!sent.sent) {
            req.log.warn({ user_id, mail_error: sent.error }, 'email verification mail not sent');
            await services.users.cancelEmailChange(ctx, user_id, change.code, 'verification mail not sent');
            return respond(req, reply, fail('EMAIL_VERIFICATION_NOT_SENT'));
          }
        }
        return noContent(reply);
      },
    }),
    readOne('/api/users/:user_id/email_change', SELF, 'The new email waiting for verification, if any', {
      response: PendingEmail,
      read: (p) => services.users.pendingEmail(p.user_id),
    }),
    updateOne('/api/users/:user_id/email_change/confirm', SELF, 'Confirm a new email with the one-time code mailed to it; it becomes the email if no other user has it', {
      method: 'POST',
      body: EmailCode,
      update: (ctx, p, body) => services.users.confirmEmail(ctx, p.user_id, body.code),
    }),
    createOne('/api/users/:user_id/api_keys', SELF, 'Create a user API key; the key is in this response only', {
      body: ApiKeyCreate,
      response: ApiKeyWithSecret,
      noStore: true,
      create: (ctx, p, body) => services.apiKeys.createUserKey(ctx, p.user_id, body),
    }),
    on('GET', '/api/users/:user_id/api_keys', SELF, "A user's API keys (masked)", {
      querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 255 })) }),
      response: { 200: Type.Array(ApiKeyMasked) },
      handler: async (req) => services.apiKeys.listUserKeys(req.params.user_id, req.query.name),
    }),
    readOne('/api/users/:user_id/api_keys/:api_key_id', SELF, 'One of the user API keys (masked)', {
      response: ApiKeyMasked,
      read: (p) => services.apiKeys.getUserKey(p.user_id, p.api_key_id),
    }),
    removeOne('/api/users/:user_id/api_keys/:api_key_id', SELF, 'Delete a user API key; it stops working at once', (ctx, p) =>
      services.apiKeys.deleteUserKey(ctx, p.user_id, p.api_key_id),
    ),
  ];
}
