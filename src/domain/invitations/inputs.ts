// What an inviter sends to invite an email, and what the invited person sends to accept;
// `Static` types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { MAX_PASSWORD_LENGTH } from '../secrets.js';
import { Email, Uuid } from '../fields.js';

export const InvitationCreate = Type.Object({ email: Email, account_role_id: Uuid }, { additionalProperties: false });
export type InvitationCreate = Static<typeof InvitationCreate>;

export const InvitationAcceptance = Type.Object(
  {
    password: Type.Optional(Type.String({ maxLength: MAX_PASSWORD_LENGTH })),
    first_name: Type.Optional(Type.String({ maxLength: 255 })),
    last_name: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);
export type InvitationAcceptance = Static<typeof InvitationAcceptance>;
