// A command run in a pseudo-terminal, as a person runs it: the Prefect CLI asks its interactive
// questions only on a terminal, and reads arrow keys and Enter from it. Python's pty module makes
// the terminal (Node has none of its own); the test reads what the command prints and types keys.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

// Relays the child's terminal to stdout and stdin to the child's terminal; exits with its status.
const RELAY = `
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(sys.argv[1], sys.argv[1:], os.environ)
inputs = [fd, 0]
while True:
    ready, _, _ = select.select(inputs, [], [])
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if 0 in ready:
        data = os.read(0, 1024)
        if data:
            os.write(fd, data)
        else:
            inputs.remove(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** Arrow keys and Enter as a terminal sends them. */
export const KEYS = { up: '\x1b[A', down: '\x1b[B', enter: '\r' } as const;

export interface TerminalRun {
  /** Everything printed so far, escape sequences removed. */
  output(): string;
  /** Types `text` into the terminal. */
  type(text: string): void;
  /** Resolves when the output (from `from` on) matches `pattern`; rejects when the command exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, options?: { timeoutMs?: number; from?: number }): Promise<void>;
  exited: Promise<number | null>;
  /** SIGKILL to the relay and the command (its own process group). */
  kill(): void;
}

const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r/g;

/** Starts `command ARGS` on a new pseudo-terminal, with `python` (3.9+) running the relay. */
export function runInTerminal(python: string, command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }): TerminalRun {
  const child = spawn(python, ['-c', RELAY, command, ...args], { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let raw = '';
  const waiters = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    raw += String(chunk);
    for (const wake of [...waiters]) wake();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  exited.then(() => {
    done = true;
    for (const wake of [...waiters]) wake();
  });
  const output = () => raw.replace(ESCAPES, '');
  return {
    output,
    exited,
    type: (text) => void child.stdin!.write(text),
    waitFor(pattern, { timeoutMs = 60_000, from = 0 } = {}) {
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const check = () => {
          const seen = output().slice(from);
          if (pattern.test(seen)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (done || performance.now() - started > timeoutMs) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`${command} ${done ? 'exited' : `printed nothing matching ${pattern} within ${timeoutMs} ms`}:\n${output()}`));
          }
        };
        const timer = setTimeout(check, timeoutMs + 10);
        waiters.add(check);
        check();
      });
    },
    kill() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    },
  };
}
