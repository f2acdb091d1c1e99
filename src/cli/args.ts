// Flag parsing shared by every command, with errors a person can act on.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export function parseFlags<T>(argv: string[], options: NonNullable<ParseArgsConfig['options']>): T {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values as T;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export const storeFlags = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  'database-schema': { type: 'string' },
} as const;
