// The `gatehouse` command: one binary for the server and its administration.
import { bootstrapCommand } from './bootstrap.js';
import { startCommand } from './start.js';
import { setPasswordCommand } from './set-password.js';
import { UsageError } from './args.js';

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  start       Serve the API (applies migrations first)
              [--port 4280] [--host 127.0.0.1] [--data-dir DIR | --database-url postgres://... [--database-schema NAME]] [--log-level info]
  bootstrap   Create an account, its Owner and one API key for the Owner (printed once)
              --account-name NAME --account-handle HANDLE --email EMAIL [--json] [--data-dir DIR | --database-url URL [--database-schema NAME]]
  set-password  Set a user's password, read from standard input (every session of the user ends)
              --email EMAIL [--data-dir DIR | --database-url URL [--database-schema NAME]]

Environment: GATEHOUSE_PORT, GATEHOUSE_HOST, GATEHOUSE_DATA_DIR, GATEHOUSE_DATABASE_URL, GATEHOUSE_DATABASE_SCHEMA,
GATEHOUSE_LOG_LEVEL, GATEHOUSE_BODY_LIMIT (bytes, default 1048576).
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  start: startCommand,
  bootstrap: bootstrapCommand,
  'set-password': setPasswordCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`gatehouse: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`gatehouse ${command}: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      console.error(`gatehouse ${command}: the port is already in use; choose another with --port or stop the other server`);
      return 1;
    }
    if (code === 'ECONNREFUSED') {
      console.error(`gatehouse ${command}: cannot reach the database (${(error as Error).message}); is PostgreSQL running at that URL?`);
      return 1;
    }
    console.error(`gatehouse ${command}: ${(error as Error).message}`);
    return 1;
  }
}
