// What a caller sends to create or update a workspace; `Static` types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { Description, Handle, Name, Nullable, Uuid } from '../fields.js';

export const WorkspaceCreate = Type.Object(
  { name: Name, handle: Handle, description: Type.Optional(Nullable(Description)) },
  { additionalProperties: false },
);
export type WorkspaceCreate = Static<typeof WorkspaceCreate>;

export const WorkspaceUpdate = Type.Object(
  {
    name: Type.Optional(Name),
    handle: Type.Optional(Handle),
    description: Type.Optional(Nullable(Description)),
    default_workspace_role_id: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false },
);
export type WorkspaceUpdate = Static<typeof WorkspaceUpdate>;
