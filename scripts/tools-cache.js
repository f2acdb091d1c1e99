// Where the real peers the test suite talks to (Prefect from PyPI, the Prefect Terraform provider and a
// Terraform-compatible core built from the Go module proxy) are installed: a folder outside the
// repository, kept between runs on one machine. GATEHOUSE_TOOLS_CACHE moves it.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const TOOLS_CACHE = process.env.GATEHOUSE_TOOLS_CACHE ?? join(homedir(), '.cache', 'gatehouse-tools');

/** A folder of the cache (made when missing): `toolsDir('prefect-3.9.1')`. */
export function toolsDir(name) {
  const dir = join(TOOLS_CACHE, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
