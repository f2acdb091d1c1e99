// What a signed-in user sends to change their password; `Static` types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { MAX_PASSWORD_LENGTH } from '../secrets.js';
import { Nullable } from '../fields.js';

export const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });

export const PasswordChange = Type.Object(
  { current_password: Type.Optional(Nullable(Password)), new_password: Type.String({ maxLength: MAX_PASSWORD_LENGTH }) },
  { additionalProperties: false },
);
export type PasswordChange = Static<typeof PasswordChange>;
