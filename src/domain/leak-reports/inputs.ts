// What a secret-scanning partner sends (a JSON array of found tokens) and what it is answered (a
// label per token), in the shape of GitHub's secret scanning partner program.
import { Type, type Static } from '@sinclair/typebox';

/** A report names at most this many tokens; more is a 422 (the partner splits its batch). */
export const MAX_TOKENS_PER_REPORT = 1000;
/** Largest report body accepted, in bytes (well above MAX_TOKENS_PER_REPORT full-size entries of real keys). */
export const MAX_REPORT_BYTES = 512 * 1024;

export const FoundToken = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 1000, description: 'The string the partner found (a Gatehouse key, or anything its pattern matched)' }),
    type: Type.String({ maxLength: 200, description: 'The name the partner gives the pattern that matched' }),
    url: Type.String({ maxLength: 2000, description: 'The public URL it was found at (may be empty)' }),
    source: Type.String({ maxLength: 100, description: 'Where it was found: content, commit, gist_content, npm, unknown, …' }),
  },
  // A partner may add fields; they are ignored, never refused.
  { additionalProperties: true },
);
export type FoundToken = Static<typeof FoundToken>;

export const LeakReport = Type.Array(FoundToken, { minItems: 1, maxItems: MAX_TOKENS_PER_REPORT });

export const TokenLabel = Type.Object({
  token_hash: Type.String({ description: 'SHA-256 of the token, hex (the raw token is never sent back)' }),
  token_type: Type.String({ description: 'The type the partner sent' }),
  label: Type.Union([Type.Literal('true_positive'), Type.Literal('false_positive')], {
    description: 'true_positive: a key this Gatehouse issued and still holds (live, expired or disabled); false_positive: anything else',
  }),
});
export type TokenLabel = Static<typeof TokenLabel>;
