// The `gatehouse` command as a user runs it (`node bin/gatehouse.js …` in the checkout), with its
// profiles in `home` (GATEHOUSE_HOME) and HOME one level up, for the client-command tests.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './build.js';
import type { CliRun } from './processes.js';

/** The environment of a `gatehouse` run whose profiles live in `home`. */
export const cliEnv = (home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, GATEHOUSE_HOME: home, HOME: join(home, '..'), ...extra });

/** Runs `gatehouse ARGS` to completion, with `input` on standard input (closed at once by default). */
export function gatehouseAt(home: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile('node', ['bin/gatehouse.js', ...args], { cwd: ROOT, env: cliEnv(home, options.env), timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
    // A command that exits without reading its input closes the pipe: not an error of the test.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}
