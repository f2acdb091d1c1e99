// What the person opening the one-time setup link sends; `Static` types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { MAX_PASSWORD_LENGTH } from '../secrets.js';
import { Email, Handle, Name } from '../fields.js';

export const SetupInput = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    account_name: Name,
    account_handle: Handle,
    email: Email,
    password: Type.String({ maxLength: MAX_PASSWORD_LENGTH }),
    first_name: Type.Optional(Type.String({ maxLength: 255 })),
    last_name: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);
export type SetupInput = Static<typeof SetupInput>;
