// Browser tests drive Debian's Chromium. This installs it when it is missing (as root, from the
// machine's package sources), so no one installs it by hand and nothing is downloaded from elsewhere.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return { ok: true, path: CHROMIUM };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, error: `${CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium) as root` };
  }
  console.log('Installing Debian\'s chromium package for the browser tests…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) return { ok: false, error: 'apt-get update failed' };
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  if (install.status !== 0 || !existsSync(CHROMIUM)) return { ok: false, error: 'apt-get install chromium failed' };
  return { ok: true, path: CHROMIUM };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = ensureChromium();
  console.log(result.ok ? `Chromium: ${result.path}` : result.error);
  process.exit(result.ok ? 0 : 1);
}
