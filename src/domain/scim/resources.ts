// The SCIM representations Gatehouse serves (RFC 7643): a User is a person of the account, a Group
// is one of its teams. Also the discovery documents an identity provider reads first.
export const SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** A person as the SCIM service keeps them. */
export interface ScimUserRecord {
  userId: string;
  actorId: string;
  email: string;
  /** The provider's userName, when it is not the email. */
  userName: string | null;
  firstName: string;
  lastName: string;
  externalId: string | null;
  /** A member of the account now. */
  active: boolean;
  created: string;
  updated: string;
  /** The account's teams the person is in (SCIM Groups), when known. */
  groups?: { id: string; name: string }[];
}

export function displayName(user: Pick<ScimUserRecord, 'firstName' | 'lastName' | 'email'>): string {
  return [user.firstName, user.lastName].filter(Boolean).join(' ') || user.email;
}

/** The SCIM User for a record; `base` is the account's SCIM base URL, for meta.location. */
export function userResource(user: ScimUserRecord, base: string) {
  return {
    schemas: [SCHEMA.user],
    id: user.userId,
    ...(user.externalId !== null ? { externalId: user.externalId } : {}),
    userName: user.userName ?? user.email,
    name: { givenName: user.firstName, familyName: user.lastName, formatted: displayName(user) },
    displayName: displayName(user),
    emails: [{ value: user.email, type: 'work', primary: true }],
    active: user.active,
    ...(user.groups ? { groups: user.groups.map((g) => ({ value: g.id, display: g.name, $ref: `${base}/Groups/${g.id}` })) } : {}),
    meta: { resourceType: 'User', created: user.created, lastModified: user.updated, location: `${base}/Users/${user.userId}` },
  };
}

export type UserResource = ReturnType<typeof userResource>;

/** What a User resource from an identity provider says, read leniently (Entra ID's "True"/"False"). */
export interface UserInput {
  /** The person's sign-in email (lowercased). */
  email: string;
  /** The provider's userName when it is not that email; null when it is. */
  userName: string | null;
  givenName: string | null;
  familyName: string | null;
  externalId: string | null;
  active: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A property of a SCIM object, its name matched case-insensitively. */
export function property(node: unknown, name: string): unknown {
  if (!isObject(node)) return undefined;
  const key = Object.keys(node).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : node[key];
}

/** A SCIM boolean: true/false, or Entra ID's "True"/"False". */
export function scimBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return null;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const MAX_NAME = 200;

export type Invalid = { invalid: string; code?: 'SCIM_INVALID_VALUE' | 'SCIM_INVALID_SYNTAX' };

function optionalString(value: unknown, what: string, max = MAX_NAME): string | null | Invalid {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return { invalid: `${what} must be a string` };
  if (value.length > max) return { invalid: `${what} is longer than ${max} characters` };
  if (value.includes('\u0000')) return { invalid: `${what} must not contain the NUL character` };
  return value;
}

const isInvalid = (v: unknown): v is Invalid => isObject(v) && 'invalid' in v;

/** Reads a User resource; an `Invalid` says which attribute is wrong. */
export function readUser(body: unknown): UserInput | Invalid {
  if (!isObject(body)) return { invalid: 'The body must be a SCIM User object', code: 'SCIM_INVALID_SYNTAX' };
  const rawUserName = property(body, 'userName');
  const emails = property(body, 'emails');
  const primary = Array.isArray(emails) ? (emails.find((e) => scimBoolean(property(e, 'primary')) === true) ?? emails.find((e) => property(e, 'type') === 'work') ?? emails[0]) : undefined;
  const primaryEmail = property(primary, 'value');
  const userName = rawUserName ?? primaryEmail;
  if (typeof userName !== 'string' || userName.trim() === '') return { invalid: "userName is required: the person's email address" };
  if (userName.length > 320 || userName.includes('\u0000')) return { invalid: 'userName must be at most 320 characters, without NUL' };
  // userName is the sign-in email; a provider whose userName is another name (a UPN) gives the email in emails[].
  let email: string;
  if (EMAIL.test(userName.trim())) email = userName.trim();
  else if (typeof primaryEmail === 'string' && EMAIL.test(primaryEmail.trim()) && primaryEmail.length <= 320) email = primaryEmail.trim();
  else return { invalid: `userName must be the person's email address, or emails[] must hold it; got userName ${JSON.stringify(userName.slice(0, 100))}` };
  const name = property(body, 'name');
  if (name !== undefined && name !== null && !isObject(name)) return { invalid: 'name must be an object with givenName and familyName' };
  const givenName = optionalString(property(name, 'givenName'), 'name.givenName');
  if (isInvalid(givenName)) return givenName;
  const familyName = optionalString(property(name, 'familyName'), 'name.familyName');
  if (isInvalid(familyName)) return familyName;
  const externalId = optionalString(property(body, 'externalId'), 'externalId', 500);
  if (isInvalid(externalId)) return externalId;
  const rawActive = property(body, 'active');
  const active = rawActive === undefined || rawActive === null ? true : scimBoolean(rawActive);
  if (active === null) return { invalid: 'active must be true or false' };
  // Without name parts, a display name "Ada Lovelace" is split at its first space.
  let given = givenName;
  let family = familyName;
  if (given === null && family === null) {
    const display = optionalString(property(body, 'displayName'), 'displayName');
    if (isInvalid(display)) return display;
    if (display) [given, family] = [display.split(' ')[0]!, display.split(' ').slice(1).join(' ')];
  }
  const lowered = email.toLowerCase();
  const sent = userName.trim();
  return { email: lowered, userName: sent.toLowerCase() === lowered ? null : sent, givenName: given, familyName: family, externalId, active };
}

export { isInvalid };

/** The SCIM Group for a team; `members: false` leaves them out (`excludedAttributes=members`). */
export function groupResource(record: { team: { id: string; name: string; created: string; updated: string; memberships: { member_id: string; type: string; name: string; email: string | null }[] }; externalId: string | null }, base: string, members = true) {
  const { team } = record;
  return {
    schemas: [SCHEMA.group],
    id: team.id,
    ...(record.externalId !== null ? { externalId: record.externalId } : {}),
    displayName: team.name,
    ...(members
      ? {
          members: team.memberships
            .filter((m) => m.type === 'user')
            .map((m) => ({ value: m.member_id, display: m.name || m.email || m.member_id, type: 'User', $ref: `${base}/Users/${m.member_id}` })),
        }
      : {}),
    meta: { resourceType: 'Group', created: team.created, lastModified: team.updated, location: `${base}/Groups/${team.id}` },
  };
}

export interface GroupInputRead {
  displayName: string;
  externalId: string | null;
  memberIds: string[] | null;
}

const NAME = /^[^\u0000-\u001f\u007f]{1,255}$/;
const MAX_MEMBERS = 10_000;

/** Reads a Group resource; `members` absent leaves them as they are (null). */
export function readGroup(body: unknown): GroupInputRead | Invalid {
  if (!isObject(body)) return { invalid: 'The body must be a SCIM Group object', code: 'SCIM_INVALID_SYNTAX' };
  const displayName = property(body, 'displayName');
  if (typeof displayName !== 'string' || !NAME.test(displayName) || displayName.trim() === '') return { invalid: 'displayName is required: 1 to 255 characters, no control characters' };
  const externalId = optionalString(property(body, 'externalId'), 'externalId', 500);
  if (isInvalid(externalId)) return externalId;
  const members = property(body, 'members');
  if (members === undefined || members === null) return { displayName, externalId, memberIds: null };
  if (!Array.isArray(members) || members.length > MAX_MEMBERS) return { invalid: `members must be an array of at most ${MAX_MEMBERS} {"value": "<user id>"}` };
  const ids: string[] = [];
  for (const member of members) {
    const value = property(member, 'value');
    if (typeof value !== 'string' || value.length > 200) return { invalid: 'Each member must be {"value": "<user id>"}' };
    ids.push(value.toLowerCase());
  }
  return { displayName, externalId, memberIds: [...new Set(ids)] };
}
