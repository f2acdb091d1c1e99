// Child processes of a bench run: each server in its own process, pinned to the server core when
// taskset exists, its output going to a log file (never a pipe the load generator must drain).
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Whether `taskset` (util-linux) can pin processes here. */
export function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins this process (the load generator) to `core`; false when that is not possible. */
export function pinSelf(core) {
  try {
    execFileSync('taskset', ['-pc', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `node <args>` (pinned to `core` when given), waits until its log matches `ready`, and
 * returns a handle with the first capture group of `ready` as `url`.
 */
export async function startProcess({ name, args, env = {}, cwd, logDir, core, ready, timeoutMs = 60_000 }) {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const [command, argv] = core === null || core === undefined
    ? [process.execPath, args]
    : ['taskset', ['-c', String(core), process.execPath, ...args]];
  const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));
  const started = Date.now();
  let match = null;
  while (!match) {
    if (exited) throw new Error(`${name} exited (${exited.code ?? exited.signal}) before it was ready; see ${logFile}`);
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within ${timeoutMs / 1000} s; see ${logFile}`);
    }
    await sleep(50);
    match = ready.exec(readFileSync(logFile, 'utf8'));
  }
  return {
    name,
    /** The command line as run, for the results file. */
    command: [command === process.execPath ? 'node' : command, ...argv.map((a) => (a === process.execPath ? 'node' : a))],
    pid: child.pid,
    url: match[1],
    logFile,
    /** Resident set size in bytes (VmRSS). */
    rss: () => readRss(child.pid),
    /** User + system CPU time the process has used so far, in microseconds; NaN once it has gone. */
    cpuMicros: () => (exited ? NaN : readCpuMicros(child.pid)),
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await exit;
      clearTimeout(timer);
      return result;
    },
  };
}

export function readRss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!kb) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(kb[1]) * 1024;
}

export function readCpuMicros(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return NaN; // the process ended (an interrupted run stops its servers under a running load)
  }
  // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / TICKS_PER_SECOND;
}

/** Process ids of `pid` and all its descendants (from /proc/<pid>/task/<pid>/children). */
export function processTree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      const children = readFileSync(`/proc/${all[i]}/task/${all[i]}/children`, 'utf8').trim();
      if (children) all.push(...children.split(/\s+/).map(Number));
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** User + system CPU of a process and its descendants, microseconds. */
export const treeCpuMicros = (pid) => processTree(pid).reduce((sum, p) => sum + (readCpuMicros(p) || 0), 0);
