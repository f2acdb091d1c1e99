// Flag parsing for every command, from the command's own flag table (commands.ts), with errors in
// plain words: never Node's parseArgs wording. Help is rendered from the same table.

export class UsageError extends Error {}

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in help, such as YYYY-MM-DD. */
  value?: string;
  help: string;
}

export type Flags = Record<string, string | boolean | undefined>;

export interface Parsed {
  flags: Flags;
  args: string[];
  help: boolean;
}

/**
 * `--name value`, `--name=value`, `--flag`, `-h`/`--help`, and positionals (also everything after
 * `--`). `positionals` names the allowed positionals in order; `min` of them are required.
 */
export function parseArgv(argv: string[], options: Record<string, FlagSpec>, positionals: { min: number; names: string[] }): Parsed {
  const flags: Flags = {};
  const args: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      args.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown flag ${arg} (flags are written --name)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!spec) {
      const near = Object.keys(options).find((o) => o.startsWith(name) || name.startsWith(o));
      throw new UsageError(`unknown flag --${name}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    if (flags[name] !== undefined) throw new UsageError(`--${name} is given twice`);
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // A known flag right after means the value was left out, not that it is the value.
      const nextIsFlag = next !== undefined && next.startsWith('--') && Object.hasOwn(options, next.slice(2).split('=')[0]!);
      if (next === undefined || nextIsFlag || next === '-h' || next === '--help') throw new UsageError(`--${name} needs a value: --${name} ${spec.value ?? 'VALUE'}`);
      value = next;
      i++;
    }
    flags[name] = value;
  }
  if (help) return { flags, args, help };
  if (args.length < positionals.min) throw new UsageError(`missing ${positionals.names.slice(args.length, positionals.min).join(' ')}`);
  if (args.length > positionals.names.length) {
    const extra = args[positionals.names.length];
    throw new UsageError(`unexpected argument "${extra}"${positionals.names.length ? ` after ${positionals.names.join(' ')}` : ''}`);
  }
  return { flags, args, help };
}
