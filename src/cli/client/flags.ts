// Flag values of the client commands checked into what the API takes, with errors a person can act
// on. Parsing itself is args.ts, from the command table in commands.ts.
import { UsageError } from '../args.js';

/** --profile, --url and --json: every client command takes them. */
export interface ConnectionFlags {
  profile?: string;
  url?: string;
  json?: boolean;
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
  if (flags.expires !== undefined && flags['never-expire']) throw new UsageError('give --expires or --never-expire, not both');
  if (flags['never-expire']) return null;
  if (flags.expires === undefined) return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(flags.expires);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59)) : null;
  if (!date || date.toISOString().slice(0, 10) !== flags.expires) throw new UsageError(`--expires "${flags.expires}" must be a date as YYYY-MM-DD, such as 2030-12-31`);
  return date.toISOString().replace('.000Z', 'Z');
}
