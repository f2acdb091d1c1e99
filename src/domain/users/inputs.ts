// What a user sends to update their own profile; `Static` types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { Email, Handle, Nullable } from '../fields.js';

const Text = Type.String({ maxLength: 255 });

export const UserUpdate = Type.Object(
  {
    handle: Type.Optional(Handle),
    first_name: Type.Optional(Text),
    last_name: Type.Optional(Text),
    email: Type.Optional(Email),
    location: Type.Optional(Nullable(Text)),
    title: Type.Optional(Nullable(Text)),
    image_location: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    settings: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
  },
  { additionalProperties: false },
);
export type UserUpdate = Static<typeof UserUpdate>;
