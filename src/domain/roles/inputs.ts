// What a caller sends to create or update a custom workspace role; `Static` types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { Description, Name, Nullable, Uuid } from '../fields.js';

const Scopes = Nullable(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 200 }));

export const WorkspaceRoleCreate = Type.Object(
  {
    name: Name,
    description: Type.Optional(Nullable(Description)),
    scopes: Type.Optional(Scopes),
    inherited_role_id: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false },
);
export type WorkspaceRoleCreate = Static<typeof WorkspaceRoleCreate>;

export const WorkspaceRoleUpdate = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Nullable(Description)),
    scopes: Type.Optional(Scopes),
    inherited_role_id: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false },
);
export type WorkspaceRoleUpdate = Static<typeof WorkspaceRoleUpdate>;
