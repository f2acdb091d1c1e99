// A user's free-form settings are stored as JSON text and sent back on every read of the user, so
// their nesting is bounded. JSON.stringify recurses: a value nested a few thousand levels deep
// (which fits in a 1 MiB body) overflows the stack when it is stored, or worse, only later when a
// read serializes it from a deeper stack, so that every read of the user (GET /api/me/ included)
// fails until someone repairs the row.
import { fail, type Failure } from '../../errors.js';

/** Far beyond any settings a client keeps; far below what the serializers can handle. */
export const MAX_SETTINGS_DEPTH = 32;

/** How deeply arrays and objects nest in `value` (a string or number is 0), walked without recursion. */
export function nestingDepth(value: unknown, stopAt = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > stopAt) return deepest;
    for (const child of Object.values(item)) stack.push([child, here]);
  }
  return deepest;
}

/** A failure naming the field when `value` nests deeper than MAX_SETTINGS_DEPTH, else null. */
export function checkSettingsDepth(field: string, value: unknown): Failure | null {
  if (nestingDepth(value, MAX_SETTINGS_DEPTH) <= MAX_SETTINGS_DEPTH) return null;
  return fail('VALIDATION_FAILED', `${field} may nest objects and arrays at most ${MAX_SETTINGS_DEPTH} levels deep`);
}
