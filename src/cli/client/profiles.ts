// Named connection profiles for the client commands, in ~/.gatehouse/profiles.toml (GATEHOUSE_HOME
// names another directory). The file holds API keys: it is written 0600 in a 0700 directory, and
// replaced atomically so a crash never leaves half a file or a readable copy of a key behind.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'smol-toml';
import { UsageError } from '../args.js';

export interface Profile {
  url: string;
  key: string;
  account_id: string;
  account_handle: string;
  workspace_id: string;
  workspace_handle: string;
}

export interface ProfileFile {
  active: string | null;
  profiles: Record<string, Profile>;
}

const FIELDS = ['url', 'key', 'account_id', 'account_handle', 'workspace_id', 'workspace_handle'] as const;
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const DEFAULT_PROFILE = 'default';

export function profilesDir(): string {
  return process.env.GATEHOUSE_HOME || join(homedir(), '.gatehouse');
}

export function profilesPath(): string {
  return join(profilesDir(), 'profiles.toml');
}

export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new UsageError(`--profile "${name}" must be 1-64 letters, digits, ".", "-" or "_", starting with a letter or digit`);
  return name;
}

/** The saved profiles; an absent file is an empty one. */
export function readProfiles(path = profilesPath()): ProfileFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { active: null, profiles: {} };
    throw error;
  }
  let data: Record<string, unknown>;
  try {
    data = parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path} is not valid TOML (${(error as Error).message.split('\n')[0]}); fix it or remove it and log in again`);
  }
  const profiles: Record<string, Profile> = {};
  const table = (data.profiles ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, entry] of Object.entries(table)) {
    const missing = FIELDS.filter((field) => typeof entry?.[field] !== 'string');
    if (missing.length) throw new Error(`Profile "${name}" in ${path} lacks ${missing.join(', ')}; log in again with: gatehouse login --profile ${name} --key KEY`);
    profiles[name] = Object.fromEntries(FIELDS.map((field) => [field, entry[field]])) as unknown as Profile;
  }
  return { active: typeof data.active === 'string' ? data.active : null, profiles };
}

/** The profile a command uses: --profile, else the active one, else "default". */
export function selectedProfileName(file: ProfileFile, requested: string | undefined): string {
  return requested !== undefined ? checkProfileName(requested) : (file.active ?? DEFAULT_PROFILE);
}

export function writeProfiles(file: ProfileFile, path = profilesPath()): void {
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const content = stringify({ ...(file.active ? { active: file.active } : {}), profiles: file.profiles });
  const temp = join(dir, `.profiles.toml.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `# Gatehouse client profiles, written by "gatehouse login". Holds API keys: keep it private (mode 0600).\n${content}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  // The umask can only take bits away from 0600, but say the mode exactly all the same.
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}
