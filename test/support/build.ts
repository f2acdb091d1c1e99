// Compiles src/ to dist/ for the tests that run the real `gatehouse` command (npm test has built
// it already; this keeps a single test file runnable on its own).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Compiles src/ to dist/ once, serialised with any other test file doing the same. */
export async function buildOnce(): Promise<void> {
  const lock = join(tmpdir(), `gatehouse-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is taken over after two minutes.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    // Type errors still emit JavaScript; a missing entry point is what stops these tests.
    statSync(join(ROOT, 'dist', 'cli', 'main.js'));
    console.warn(`tsc reported errors:\n${String((error as { stdout?: Buffer }).stdout ?? '')}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
