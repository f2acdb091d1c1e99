// The forward-auth test puts Debian's nginx in front of a Prefect server. This installs nginx when
// it is missing (as root, from the machine's package sources) without ever starting the system
// service: the test runs its own nginx, and a packaged one would sit on port 80.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const NGINX = process.env.GATEHOUSE_NGINX ?? '/usr/sbin/nginx';
// Debian 12's `nginx` package holds the binary (nginx-light and friends only add modules to it);
// on older releases it is a metapackage that pulls one in. Either way it has auth_request.
const PACKAGE = 'nginx';
const POLICY_RC = '/usr/sbin/policy-rc.d';

/** Whether the nginx at NGINX was built with the module the forward-auth test relies on. */
function hasAuthRequest() {
  const version = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
  return version.status === 0 && `${version.stdout}${version.stderr}`.includes('--with-http_auth_request_module');
}

function checked() {
  if (hasAuthRequest()) return { ok: true, path: NGINX };
  return { ok: false, error: `${NGINX} was built without the auth_request module; install Debian's nginx package or point GATEHOUSE_NGINX at an nginx that has it` };
}

export function ensureNginx() {
  if (existsSync(NGINX)) return checked();
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, error: `${NGINX} is missing; install Debian's ${PACKAGE} package (apt-get install ${PACKAGE}) as root` };
  }
  console.log(`Installing Debian's ${PACKAGE} package for the forward-auth test…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) return { ok: false, error: 'apt-get update failed' };
  // The package's postinst starts the service through invoke-rc.d, which asks policy-rc.d first;
  // its answer 101 means "start nothing". Container images ship such a file; elsewhere add one
  // for this install only.
  const addedPolicy = !existsSync(POLICY_RC);
  if (addedPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\n# Written by Gatehouse scripts/ensure-nginx.js for the length of one apt-get install.\nexit 101\n', { mode: 0o755 });
  try {
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', PACKAGE], { stdio: 'inherit', env });
    if (install.status !== 0 || !existsSync(NGINX)) return { ok: false, error: `apt-get install ${PACKAGE} failed` };
  } finally {
    if (addedPolicy) rmSync(POLICY_RC, { force: true });
  }
  return checked();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = ensureNginx();
  console.log(result.ok ? `nginx: ${result.path}` : result.error);
  process.exit(result.ok ? 0 : 1);
}
