// `gatehouse audit export` and `audit prune` (issue 20 item 6): 100,000 events exported as JSON
// lines in bounded memory, oldest first, each once, with time and account bounds; the command
// writing a file; pruning by age.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAudit, parseSince } from '../src/cli/audit.js';
import { freshStore, type StoreHandle } from './support/harness.js';
import { bootstrapOwner, freshSharedStore, runCli, type SharedStore } from './support/processes.js';

const EVENTS = 100_000;
let handle: StoreHandle;

beforeAll(async () => {
  handle = await freshStore();
  const db = handle.store.db;
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < EVENTS; i += 1_000) {
    const rows = Array.from({ length: 1_000 }, (_, j) => ({
      id: randomUUID(),
      account_id: (i + j) % 2 === 0 ? 'acct-even' : 'acct-odd',
      workspace_id: null,
      actor_id: null,
      actor_type: 'system',
      actor_name: 'test',
      action: 'test.event',
      target_type: 'test',
      target_id: String(i + j),
      request_id: null,
      details: JSON.stringify({ n: i + j, padding: 'x'.repeat(200) }),
      // Several events share a millisecond: the keyset must not skip or repeat them.
      occurred: new Date(start + Math.floor((i + j) / 3) * 1_000).toISOString(),
    }));
    await db.insertInto('audit_events').values(rows).execute();
  }
}, 120_000);

afterAll(async () => handle?.dispose());

/** A slow reader that keeps only a count and a checksum of what it was given. */
function sink() {
  const seen = { lines: 0, first: '', last: '', sumN: 0 };
  let partial = '';
  const out = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, done) {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const event = JSON.parse(line);
        if (seen.lines === 0) seen.first = event.target_id;
        seen.last = event.target_id;
        seen.sumN += event.details.n;
        seen.lines += 1;
      }
      setImmediate(done);
    },
  });
  return { out, seen };
}

describe('audit export', () => {
  it('streams 100,000 events oldest first, each exactly once, in bounded memory', async () => {
    const { out, seen } = sink();
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const count = await exportAudit(handle.store.db, out, {});
    clearInterval(sampler);
    await new Promise<void>((resolve) => out.end(resolve));
    expect(count).toBe(EVENTS);
    expect(seen.lines).toBe(EVENTS);
    expect(seen.sumN).toBe((EVENTS * (EVENTS - 1)) / 2);
    // Events of one second come in id order: the first second holds events 0-2, the last event 99,999 alone.
    expect(['0', '1', '2']).toContain(seen.first);
    expect(seen.last).toBe(String(EVENTS - 1));
    // About 30 MB of JSON went through; what stayed in memory at once is a page or two.
    console.log(`audit export: ${EVENTS} events, heap grew at most ${((peak - before) / 1024 / 1024).toFixed(1)} MiB`);
    expect(peak - before).toBeLessThan(48 * 1024 * 1024);
  }, 120_000);

  it('keeps to the time and account bounds', async () => {
    const { out, seen } = sink();
    const count = await exportAudit(handle.store.db, out, { accountId: 'acct-even', since: '2026-01-01T00:00:30.000Z', until: '2026-01-01T00:01:00.000Z' });
    // Seconds 30..59 hold events 90..179; the even ones are 45.
    expect(count).toBe(45);
    expect(['90', '92']).toContain(seen.first);
    expect(seen.last).toBe('178');
  });

  it('reads times as dates, date-times or spans back from now', () => {
    const now = new Date('2026-12-07T12:00:00Z');
    expect(parseSince('30d', now)).toBe('2026-11-07T12:00:00.000Z');
    expect(parseSince('12h', now)).toBe('2026-12-07T00:00:00.000Z');
    expect(parseSince('2026-12-01', now)).toBe('2026-12-01T00:00:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow('is not a time');
  });
});

describe('the audit commands', () => {
  let store: SharedStore;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-'));
  beforeAll(async () => {
    store = freshSharedStore();
    await bootstrapOwner(store, 'acme');
  }, 60_000);
  afterAll(async () => {
    await store?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('export to a file (refusing one that exists), to standard output, and prune by age', async () => {
    const file = join(dir, 'audit.jsonl');
    const written = await runCli(['audit', 'export', '--account', 'acme', '--to', file, ...store.flags], store.env);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stderr).toMatch(/^Wrote \d+ audit events? to /);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatchObject({ action: expect.any(String), occurred: expect.any(String), details: expect.any(Object) });
    const again = await runCli(['audit', 'export', '--to', file, ...store.flags], store.env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists; choose another file');
    const stdout = await runCli(['audit', 'export', '--since', '1d', ...store.flags], store.env);
    expect(stdout.stdout.trim().split('\n')).toHaveLength(lines.length);
    const unknown = await runCli(['audit', 'export', '--account', 'nobody', ...store.flags], store.env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('there is no account with handle nobody');

    const kept = await runCli(['audit', 'prune', '--older-than', '1d', ...store.flags], store.env);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(/^Removed 0 audit events older than/);
    const bad = await runCli(['audit', 'prune', '--older-than', 'soon', ...store.flags], store.env);
    expect(bad.code).toBe(2);
  }, 60_000);
});
