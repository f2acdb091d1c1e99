// One compiled response serializer per distinct schema, shared by every route that answers with it.
//
// Fastify compiles a fast-json-stringify serializer for each route and status code: about 770 in
// Gatehouse, most of them for the same few bodies (the error envelope above all). Besides the time
// and memory, each compilation leaves one live object whose first property is a fresh name
// (`__fjs_root_<n>`, in its schema resolver), and V8 gives the empty object literal's hidden class
// at most 1,536 such transitions. Once they are used up, every object that starts as `{}` and gains
// properties (Fastify's reply headers, Node's request headers, ours) gets a hidden class of its own,
// so every inline cache on the request path goes megamorphic: about 20 µs more CPU per request,
// measured on 2026-12-08 when the single sign-on routes took the count past the limit
// (docs/performance.md, "The empty object's transitions"). Compiling each schema once keeps it far
// below the limit; test/object-transitions.test.ts fails if it comes near again.
import fastJsonStringify from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';

type Serializer = (data: unknown) => string;

/** A serializer compiler for `setSerializerCompiler` that compiles each distinct schema once. */
export function sharedSerializerCompiler(): FastifySerializerCompiler<unknown> {
  const compiled = new Map<string, Serializer>();
  return ({ schema }) => {
    // By content: TypeBox builds a new object for each route even where the body is the same.
    const key = JSON.stringify(schema);
    let serialize = compiled.get(key);
    if (!serialize) {
      serialize = fastJsonStringify(schema as Parameters<typeof fastJsonStringify>[0]) as Serializer;
      compiled.set(key, serialize);
    }
    return serialize;
  };
}
