// The coalescing recorder of keys' last use: one write per key per interval, the latest use wins,
// what is left is written on close, and noting a use is a map write that never waits.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIENT_MAX_LENGTH, keyUseRecorder, toKeyUse, type KeyUse } from './key-use.js';

const KEY_A = '0b7a1c1e-0000-4000-8000-00000000000a';
const KEY_B = '0b7a1c1e-0000-4000-8000-00000000000b';
const WS = '3f2b8c1e-1111-4000-8000-000000000001';
const at = (second: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, second));

let batches: Array<Map<string, KeyUse>>;
const write = async (batch: ReadonlyMap<string, KeyUse>) => void batches.push(new Map(batch));

beforeEach(() => {
  batches = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('noting uses', () => {
  it('writes once per key per interval, however many uses, with the latest use of each', async () => {
    const recorder = keyUseRecorder({ write, intervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) recorder.note(KEY_A, { at: at(i % 50), address: `10.0.0.${i % 50}`, client: 'prefect/3.9.1', workspaceId: WS });
    recorder.note(KEY_A, { at: at(55), address: '10.0.0.4', client: 'prefect/3.9.1', workspaceId: WS });
    recorder.note(KEY_B, { at: at(3), address: '10.0.0.9', client: 'curl/8', workspaceId: null });
    // An older use noted later (another request that started earlier) does not replace a later one.
    recorder.note(KEY_A, { at: at(10), address: '10.0.0.77', client: 'old', workspaceId: null });
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(batches).toHaveLength(1);
    expect(Object.fromEntries(batches[0]!)).toEqual({
      [KEY_A]: { at: at(55).toISOString(), address: '10.0.0.4', client: 'prefect/3.9.1', workspaceId: WS },
      [KEY_B]: { at: at(3).toISOString(), address: '10.0.0.9', client: 'curl/8', workspaceId: null },
    });
    // Nothing noted since: nothing written.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(batches).toHaveLength(1);
    await recorder.close();
  });

  it('answers without a promise and writes nothing while noting', () => {
    let writes = 0;
    const recorder = keyUseRecorder({ write: async () => void (writes += 1) });
    const answer = recorder.note(KEY_A, { at: at(1), address: '127.0.0.1', client: 'x', workspaceId: null });
    expect(answer).toBeUndefined();
    expect(writes).toBe(0);
  });

  it('writes what is left when closed, and stops its interval', async () => {
    const recorder = keyUseRecorder({ write, intervalMs: 60_000 });
    recorder.note(KEY_A, { at: at(1), address: '127.0.0.1', client: 'x', workspaceId: null });
    await recorder.close();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.get(KEY_A)?.at).toBe(at(1).toISOString());
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives up waiting on close after 5 s when the database does not answer', async () => {
    const recorder = keyUseRecorder({ write: () => new Promise(() => {}) });
    recorder.note(KEY_A, { at: at(1), address: '127.0.0.1', client: 'x', workspaceId: null });
    let done = false;
    const closing = recorder.close().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(done).toBe(true);
  });

  it('keeps the uses of a failed write for the next one', async () => {
    let fail = true;
    const errors: unknown[] = [];
    const recorder = keyUseRecorder({
      write: async (batch) => {
        if (fail) throw new Error('database is locked');
        await write(batch);
      },
      onError: (error) => errors.push(error),
    });
    recorder.note(KEY_A, { at: at(1), address: '127.0.0.1', client: 'x', workspaceId: null });
    await recorder.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    await recorder.close();
    expect(batches[0]!.get(KEY_A)?.address).toBe('127.0.0.1');
  });
});

describe('what is kept of a use', () => {
  it('bounds the User-Agent and drops control characters', () => {
    const use = toKeyUse({ at: at(1), address: '10.0.0.4', client: `evil\r\nSet-Cookie: x\u0000${'a'.repeat(5000)}`, workspaceId: null });
    expect(use.client).toHaveLength(CLIENT_MAX_LENGTH);
    expect(use.client).toMatch(/^evil {2}Set-Cookie: x a+$/);
  });

  it('keeps no User-Agent that is not a string, and no workspace that is not a UUID', () => {
    expect(toKeyUse({ at: at(1), address: '::1', client: ['a', 'b'], workspaceId: 'x'.repeat(300) })).toEqual({
      at: at(1).toISOString(),
      address: '::1',
      client: null,
      workspaceId: null,
    });
  });
});
