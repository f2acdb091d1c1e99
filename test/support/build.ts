// Compiles src/ to dist/ once per vitest run, before any test file starts (vitest globalSetup), for
// the tests that run the real `gatehouse` command. `npm test` has built it already and says so with
// GATEHOUSE_TEST_BUILT=1. Compiling here, once, rather than in each test file keeps one file's tsc
// from rewriting dist/ while another file is running the command from it.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export default function setup(): void {
  if (process.env.GATEHOUSE_TEST_BUILT === '1') return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    // Type errors still emit JavaScript; a missing entry point is what stops these tests.
    statSync(join(ROOT, 'dist', 'cli', 'main.js'));
    console.warn(`tsc reported errors:\n${String((error as { stdout?: Buffer }).stdout ?? '')}`);
  }
}
