// Failpoints for the crash tests: named places inside multi-step writes where a test can make the
// process die, to prove that a crash there leaves the store as if the write never happened (inside
// the transaction) or fully happened (after commit). Armed only by GATEHOUSE_FAILPOINTS, e.g.
// `GATEHOUSE_FAILPOINTS=rotate.after_insert=kill` (several: comma-separated); never set it in
// production. Unset, a failpoint is one map lookup on an empty map.

/** What an armed failpoint does. `kill`: SIGKILL this process on the spot, as `kill -9` would. */
type FailpointAction = 'kill';

function parse(spec: string | undefined): Map<string, FailpointAction> {
  const armed = new Map<string, FailpointAction>();
  for (const entry of (spec ?? '').split(',')) {
    const [name, action] = entry.trim().split('=').map((part) => part.trim());
    if (!name) continue;
    if (action !== 'kill') {
      throw new Error(`GATEHOUSE_FAILPOINTS: "${entry.trim()}" is not understood; write name=kill, e.g. rotate.after_insert=kill`);
    }
    armed.set(name, action);
  }
  return armed;
}

// Read once at start-up: a bad value stops the process at once instead of at the first write.
const ARMED = parse(process.env.GATEHOUSE_FAILPOINTS);

/** Dies here if the environment armed this failpoint; otherwise does nothing. */
export function failpoint(name: string): void {
  if (ARMED.size === 0) return;
  // SIGKILL to ourselves is delivered before the call returns: no later line of the caller runs.
  if (ARMED.get(name) === 'kill') process.kill(process.pid, 'SIGKILL');
}
