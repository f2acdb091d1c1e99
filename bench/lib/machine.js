// What the results file says about the machine: cores, CPU model, memory, Node, kernel, load.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function describeMachine() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux: os.cpus() is the best there is
  }
  return {
    cores: os.availableParallelism?.() ?? os.cpus().length,
    model,
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

/** The 1-minute load average. */
export const loadAverage = () => os.loadavg()[0];
