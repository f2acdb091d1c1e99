// The tick shape (src/http/tick-shape.ts): an app holds one queued tick object for the life of the
// process, taken before its routes compile, so the garbage collections of that work cannot leave
// process.nextTick megamorphic (docs/performance.md, "The tick shape"). If a Node upgrade stops
// queuing ticks as objects an async hook sees, this fails and the workaround must be looked at again.
import { expect, it } from 'vitest';
import { keepTickShape, tickShapeHeld } from '../src/http/tick-shape.js';
import { startHarness } from './support/harness.js';

it('createApp holds a queued tick object before it compiles routes, once per process', async () => {
  expect(tickShapeHeld()).toBe(false); // this file's process has built no app yet
  const h = await startHarness();
  try {
    expect(tickShapeHeld()).toBe(true);
    expect(keepTickShape()).toBe(true); // a second app (or call) holds the same one
  } finally {
    await h.close();
  }
});
