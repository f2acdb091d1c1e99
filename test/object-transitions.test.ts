// V8 gives the empty object literal's hidden class at most 1,536 transitions (one per distinct first
// property an object built from `{}` gains). A process that uses them up gives every such object a
// class of its own, and the inline caches on the request path (Fastify's reply headers, Node's
// request headers) go megamorphic: about 20 µs more CPU per request (src/http/serializers.ts,
// docs/performance.md). Compiling each response schema once keeps Gatehouse far below the limit;
// this fails when a change brings it back near it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/** Transitions a running Gatehouse must still have free (about 600 on 2026-12-08). */
const HEADROOM = 300;

it(`leaves at least ${HEADROOM} transitions of the empty object's hidden class free once an app serves`, () => {
  const child = fileURLToPath(new URL('./support/object-transitions-child.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', child, String(HEADROOM)], {
    env: process.env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const { room } = JSON.parse(out.trim().split('\n').pop()!);
  expect(room).toBe(HEADROOM);
});
