// Field schemas shared by the domain's input schemas and the HTTP API's schemas (`http/schemas.ts`
// re-exports them). Each validates a request and describes it in `/api/openapi.json`.
import { Type, type TSchema } from '@sinclair/typebox';

export const Uuid = Type.String({ format: 'uuid', description: 'A UUID' });
export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339, UTC' });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A name a person types: trimmed of nothing, but bounded and free of control characters. */
export const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
export const Handle = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9_-]*$',
  description: 'Letters, digits, "-" and "_", starting with a letter or digit',
});
export const Description = Type.String({ maxLength: 5000 });
/** An email as a person types it: bounded, with one "@" and no spaces. */
export const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' });
