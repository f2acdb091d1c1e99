// `gatehouse config check`: the configuration `start` would run with, read the same way, printed as
// TOML with where each value came from; secrets masked. Invalid: the message and exit 2, as `start`.
import { loadConfig, type ConfigFlags, type Effective } from '../config.js';
import { readSecretKeyFile } from '../secret-key.js';
import { settingOf } from '../settings.js';
import { maskUrlPassword } from '../url-password.js';
import type { Flags } from './args.js';

const MASK = '*****';

/** A value as `config check` prints it: the secret key and passwords masked. */
function masked({ key, value }: Effective): unknown {
  const secret = settingOf(key).secret;
  if (value === undefined || secret === undefined) return value;
  if (secret === 'url-password') return maskUrlPassword(String(value), '(unparseable URL)');
  return Array.isArray(value) ? value.map(() => MASK) : MASK;
}

function refuse(message: string): number {
  console.error(`gatehouse config check: ${message}`);
  return 2;
}

const sourceText = ({ source }: Effective) => (source.kind === 'default' ? 'default' : source.kind === 'file' ? 'file' : source.name);

export async function configCheckCommand(flags: Flags): Promise<number> {
  const loaded = loadConfig(flags as ConfigFlags);
  // The message alone (no usage line): saying what is wrong with the configuration is this command's job.
  if (!loaded.ok) return refuse(loaded.error);
  const { config, settings, file } = loaded;
  // What start would refuse a moment later: a named key file that cannot be read or holds no key.
  if (config.secretKeyFile) {
    try {
      readSecretKeyFile(config.secretKeyFile);
    } catch (error) {
      return refuse((error as Error).message);
    }
  }
  if (flags.json === true) {
    const all = Object.fromEntries(settings.map((s) => [s.key, { value: masked(s) ?? null, source: sourceText(s) }]));
    console.log(JSON.stringify({ file: file ?? null, settings: all }, null, 2));
    return 0;
  }
  const lines = settings.map((s): [string, string] => {
    const value = masked(s);
    if (value === undefined) return [`# ${s.key} is not set${settingOf(s.key).defaultText ? `: ${settingOf(s.key).defaultText}` : ''}`, ''];
    const note = s.key === 'secret_key' && config.secretKey ? ` (key id ${config.secretKey.id})` : '';
    return [`${s.key} = ${JSON.stringify(value)}`, `${sourceText(s)}${note}`];
  });
  const width = Math.max(...lines.map(([left]) => left.length));
  console.log(`# Gatehouse's effective configuration (file: ${file ?? 'none'}).`);
  console.log('# A flag wins over its GATEHOUSE_* variable, which wins over the file, then the default.');
  for (const [left, right] of lines) console.log(right ? `${left.padEnd(width)}  # ${right}` : left);
  for (const warning of loaded.warnings) console.error(`Warning: ${warning}`);
  return 0;
}
