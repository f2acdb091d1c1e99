// Flags of the client commands: parsed like the server commands' (args.ts) but with positional
// arguments, plus --profile and --url, which every client command takes.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../args.js';

export const connectionFlags = {
  profile: { type: 'string' },
  url: { type: 'string' },
} as const;

export interface ConnectionFlags {
  profile?: string;
  url?: string;
}

/** Flags and positionals; `positionals` names the ones allowed, in order, for the error message. */
export function parseCommand<T>(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  positionals: { min: number; names: string[] },
): { flags: T & ConnectionFlags; args: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...connectionFlags, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const args = parsed.positionals;
  if (args.length < positionals.min) throw new UsageError(`Missing ${positionals.names.slice(args.length, positionals.min).join(' ')}`);
  if (args.length > positionals.names.length) {
    throw new UsageError(`Unexpected argument "${args[positionals.names.length]}"${positionals.names.length ? ` after ${positionals.names.join(' ')}` : ''}`);
  }
  return { flags: parsed.values as T & ConnectionFlags, args };
}

/** `ACCOUNT_HANDLE/WORKSPACE_HANDLE`, as Prefect's `--workspace` takes it. */
export function checkWorkspaceRef(ref: string, flag: string): string {
  if (!/^[^/\s]+\/[^/\s]+$/.test(ref)) throw new UsageError(`${flag} "${ref}" must be ACCOUNT_HANDLE/WORKSPACE_HANDLE, such as acme/production`);
  return ref;
}

/** A flag's whole-number value within bounds. */
export function integerFlag(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  return Number(value);
}

/**
 * The key's expiration from --expires YYYY-MM-DD (the end of that day, UTC) or --never-expire
 * (null); undefined when neither is given, which the API also reads as "never expires".
 */
export function expirationFlags(flags: { expires?: string; 'never-expire'?: boolean }): string | null | undefined {
  if (flags.expires !== undefined && flags['never-expire']) throw new UsageError('Give --expires or --never-expire, not both');
  if (flags['never-expire']) return null;
  if (flags.expires === undefined) return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(flags.expires);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59)) : null;
  if (!date || date.toISOString().slice(0, 10) !== flags.expires) throw new UsageError(`--expires "${flags.expires}" must be a date as YYYY-MM-DD, such as 2030-12-31`);
  return date.toISOString().replace('.000Z', 'Z');
}

type Subcommand = (argv: string[]) => Promise<number>;

/** Runs `gatehouse GROUP SUBCOMMAND ...`; an unknown or missing subcommand is a usage error. */
export function dispatch(subcommands: Record<string, Subcommand>, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const names = Object.keys(subcommands).join(', ');
  if (sub === undefined) throw new UsageError(`Missing a subcommand: ${names}`);
  if (!Object.hasOwn(subcommands, sub)) throw new UsageError(`Unknown subcommand "${sub}": use ${names}`);
  return subcommands[sub](rest);
}
