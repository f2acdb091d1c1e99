// Keeps process.nextTick fast in a process that registers many routes.
//
// Node 20 queues each tick as an object literal keyed by two internal symbols. V8 gives such
// objects a chain of shapes (maps) that its transition tree holds only weakly: a full garbage
// collection at a moment when no tick is queued drops the chain, and the next tick builds a new
// one. nextTick's inline caches see each rebuilt chain as new shapes; after four they turn
// megamorphic for good, and from then on every tick is built by the V8 runtime (~250 ns instead of
// ~55). A Node HTTP request takes about a dozen ticks. Starting Gatehouse runs many collections
// while it compiles a hundred routes, so about half of all processes came out 2-3 µs slower per
// request, at random (docs/performance.md, "The tick shape"). Holding one real tick object keeps
// the chain alive, so the caches stay monomorphic.
import { createHook } from 'node:async_hooks';

let kept: object | null = null;

/**
 * Holds one queued tick object for the life of the process (once per process; later calls do
 * nothing). Returns whether one is held: false would mean this Node queues ticks differently.
 */
export function keepTickShape(): boolean {
  if (kept) return true;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && !kept) kept = resource;
    },
  });
  hook.enable();
  try {
    process.nextTick(noop);
  } finally {
    hook.disable();
  }
  return kept !== null;
}

/** Whether this process holds a tick object (for the test that createApp keeps one). */
export const tickShapeHeld = (): boolean => kept !== null;

function noop(): void {}
