// What a caller sends to create or change a team, add members or grant a team a workspace role:
// each schema validates the request, describes it in the API document and types the service's input.
import { Type, type Static } from '@sinclair/typebox';
import { Description, Name, Nullable, Uuid } from '../fields.js';

export const TeamCreate = Type.Object(
  {
    name: Name,
    /** Prefect's Terraform provider sends `null` when unset and expects `""` back. */
    description: Type.Optional(Nullable(Description)),
  },
  { additionalProperties: false },
);
export type TeamCreate = Static<typeof TeamCreate>;

export const TeamUpdate = Type.Object(
  {
    name: Name,
    description: Type.Optional(Nullable(Description)),
    /** Prefect Cloud's directory-sync field: accepted and ignored (SCIM groups are Gatehouse's own). */
    workos_directory_group_id: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  },
  { additionalProperties: false },
);
export type TeamUpdate = Static<typeof TeamUpdate>;

export const TeamMemberType = Type.Union([Type.Literal('user'), Type.Literal('service_account')]);
export type TeamMemberType = Static<typeof TeamMemberType>;

export const TeamMemberInput = Type.Object(
  {
    /** A user's id or a service account's id (not the actor id), as Prefect's API takes it. */
    member_id: Uuid,
    member_type: TeamMemberType,
  },
  { additionalProperties: false },
);
export type TeamMemberInput = Static<typeof TeamMemberInput>;

export const TeamMembersUpsert = Type.Object(
  { members: Type.Array(TeamMemberInput, { maxItems: 1000 }) },
  { additionalProperties: false },
);
export type TeamMembersUpsert = Static<typeof TeamMembersUpsert>;

export const TeamAccessGrant = Type.Object(
  { team_id: Uuid, workspace_role_id: Uuid },
  { additionalProperties: false },
);
export type TeamAccessGrant = Static<typeof TeamAccessGrant>;
