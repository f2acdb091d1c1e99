// The high-availability suite (test/ha/) runs PostgreSQL under Patroni, with etcd for Patroni's
// leader key and HAProxy in front, all from Debian's packages. This installs them when missing (as
// root, from the machine's package sources) without starting any system service: the suite runs
// its own etcd, Patroni and HAProxy on ports and folders of its own (scripts/ha-topology.js).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** What the topology runs; each binary comes from one of PACKAGES. */
export const HA_BINARIES = {
  patroni: '/usr/bin/patroni',
  patronictl: '/usr/bin/patronictl',
  etcd: '/usr/bin/etcd',
  haproxy: '/usr/sbin/haproxy',
  postgres: '/usr/lib/postgresql/15/bin/postgres',
};
// patroni pulls python3-etcd (its DCS client; etcd3 is spoken through urllib3); PostgreSQL 15
// itself comes from scripts/postgres.js's `postgresql` package, named here too for a bare machine.
const PACKAGES = ['patroni', 'etcd-server', 'haproxy', 'postgresql-15'];
const POLICY_RC = '/usr/sbin/policy-rc.d';

const missing = () => Object.entries(HA_BINARIES).filter(([, path]) => !existsSync(path)).map(([name]) => name);

/**
 * `{ ok: true }` once every binary is there; `{ ok: false, error }` when they are missing and
 * cannot be installed (not root, no package source): the suite is then skipped with that reason.
 */
export function ensureHa() {
  if (missing().length === 0) return { ok: true };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, error: `${missing().join(', ')} missing; install Debian's ${PACKAGES.join(' ')} packages (apt-get install ${PACKAGES.join(' ')}) as root` };
  }
  console.log(`Installing Debian's ${PACKAGES.join(', ')} packages for the high-availability suite…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) return { ok: false, error: 'apt-get update failed' };
  // The packages' postinst scripts start etcd, Patroni and HAProxy through invoke-rc.d, which asks
  // policy-rc.d first; its answer 101 means "start nothing". Container images ship such a file;
  // elsewhere add one for this install only.
  const addedPolicy = !existsSync(POLICY_RC);
  if (addedPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\n# Written by Gatehouse scripts/ensure-ha.js for the length of one apt-get install.\nexit 101\n', { mode: 0o755 });
  try {
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES], { stdio: 'inherit', env });
    if (install.status !== 0) return { ok: false, error: `apt-get install ${PACKAGES.join(' ')} failed` };
  } finally {
    if (addedPolicy) rmSync(POLICY_RC, { force: true });
  }
  const still = missing();
  return still.length === 0 ? { ok: true } : { ok: false, error: `after apt-get install, still missing: ${still.map((name) => HA_BINARIES[name]).join(', ')}` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = ensureHa();
  console.log(result.ok ? `high-availability tools: ${Object.values(HA_BINARIES).join(', ')}` : result.error);
  process.exit(result.ok ? 0 : 1);
}
