// Schemas shared by many routes. Each one both validates requests and describes them in
// `/api/openapi.json`, so the API description cannot drift from the code.
import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { Nullable, Timestamp, Uuid } from '../domain/fields.js';

export { Description, Email, Handle, Name, Nullable, Timestamp, Uuid } from '../domain/fields.js';

export const MAX_LIMIT = 200;
/** `limit` defaults to 200 (Prefect's default) and may not exceed it. */
export const pageFields = {
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIMIT, description: 'Default 200, at most 200' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'Default 0' })),
};

/** `{"any_": [...]}`; `null` or absent means "no filter" (Terraform sends `any_: null`). */
export const AnyOfStrings = (item: TSchema = Type.String({ maxLength: 1000 })) =>
  Type.Object({ any_: Type.Optional(Nullable(Type.Array(item, { maxItems: 1000 }))) }, { additionalProperties: true });

const anyOfField = () => Type.Optional(Nullable(AnyOfStrings()));
const collectionFilter = <F extends string>(field: F) =>
  Type.Optional(Nullable(Type.Object({ [field]: anyOfField() } as Record<F, ReturnType<typeof anyOfField>>, { additionalProperties: true })));

/** `{"<collection>": {"<field>": {"any_": [...]}}}` in a filter body, each level optional or `null`; read it with `anyOf()`. */
export const anyOfFilter = <C extends string, F extends string>(collection: C, field: F) =>
  ({ [collection]: collectionFilter(field) }) as Record<C, ReturnType<typeof collectionFilter<F>>>;

/** Filter bodies: an empty body and `{}` are both "everything, first page". */
export const filterBody = <F extends TProperties>(fields: F) =>
  Type.Union([Type.Object({ ...pageFields, ...fields }, { additionalProperties: true }), Type.Null()]);

export const accountParams = Type.Object({ account_id: Uuid });
export const idParams = <K extends string>(...names: K[]) =>
  Type.Object(Object.fromEntries(names.map((n) => [n, Uuid])) as Record<K, typeof Uuid>);

export const ApiKeyMasked = Type.Object({
  id: Uuid,
  created: Timestamp,
  name: Type.String(),
  expiration: Nullable(Timestamp),
  masked_key: Nullable(Type.String()),
  last_used_at: Nullable(Type.String({ format: 'date-time', description: 'When the key was last used, RFC 3339 UTC (written at most once a minute); null if never' })),
  last_used_from: Nullable(Type.String({ description: 'The client address it was last used from' })),
  last_used_client: Nullable(Type.String({ description: "The client's User-Agent then (at most 200 characters)" })),
  last_used_workspace_id: Nullable(Type.String({ format: 'uuid', description: 'The workspace that request named, if any' })),
  leak_reported_at: Nullable(Type.String({ format: 'date-time', description: 'When a secret-scanning partner last reported this key found in public, RFC 3339 UTC; null if never' })),
  leak_url: Nullable(Type.String({ description: 'The public URL the partner found it at (may be empty)' })),
  leak_source: Nullable(Type.String({ description: 'Where the partner found it (e.g. commit, content, gist_content)' })),
});

export const ApiKeyWithSecret = Type.Object({
  id: Uuid,
  created: Timestamp,
  name: Type.String(),
  expiration: Nullable(Timestamp),
  key: Type.String({ description: 'Shown once: in this response and never again' }),
});

export const ErrorBody = Type.Object({
  detail: Type.Union([Type.String(), Type.Array(Type.Any())]),
  code: Type.String(),
  request_id: Type.String(),
});
