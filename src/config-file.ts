// The configuration file (--config FILE or GATEHOUSE_CONFIG): TOML, one key per setting at the top
// level, named as in the settings table. Unknown keys are refused, so a typo is never silently ignored.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { SETTING_KEYS } from './settings.js';
import { editDistance as distance } from './edit-distance.js';

export interface ConfigFile {
  /** Absolute path, for messages and `config check`. */
  path: string;
  values: Record<string, unknown>;
  /** Its permission bits: a file holding a secret should be readable by its owner alone. */
  mode: number;
}

const KEYS_ARE = 'the keys are the GATEHOUSE_* variables in lower case without GATEHOUSE_ (gatehouse start --help lists them)';

function unknownKey(key: string, value: unknown, path: string): string {
  const asKey = key.toLowerCase().replace(/^gatehouse_/, '').replace(/-/g, '_');
  const near = SETTING_KEYS.find((k) => k === asKey) ?? SETTING_KEYS.map((k) => ({ k, d: distance(asKey, k) })).filter(({ d }) => d <= 2).sort((a, b) => a.d - b.d)[0]?.k;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
    return `Unknown table [${key}] in ${path}: the file has no tables; write every key at the top level, with no [table] line`;
  }
  return `Unknown key "${key}" in ${path}${near ? ` (did you mean "${near}"?)` : ''}: ${KEYS_ARE}`;
}

/** Reads and parses the file; `given` names where its path came from (--config or GATEHOUSE_CONFIG). */
export function readConfigFile(file: string, given: string): { ok: true; file: ConfigFile } | { ok: false; error: string } {
  const path = resolve(file);
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = statSync(path).mode & 0o777;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
    return { ok: false, error: `Cannot read the configuration file ${path} (from ${given}): ${why}` };
  }
  let values: Record<string, unknown>;
  try {
    values = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // The first line only: the rest quotes the file, which may hold a secret.
    const what = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    return { ok: false, error: `${path} is not valid TOML: ${what} (line ${error.line}, column ${error.column})` };
  }
  for (const [key, value] of Object.entries(values)) {
    if (!(SETTING_KEYS as string[]).includes(key)) return { ok: false, error: unknownKey(key, value, path) };
  }
  return { ok: true, file: { path, values, mode } };
}
