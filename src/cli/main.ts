// The `gatehouse` command: one binary for the server and its administration.
import { bootstrapCommand } from './bootstrap.js';
import { startCommand } from './start.js';
import { setPasswordCommand } from './set-password.js';
import { secretKeyCommand } from './secret-key.js';
import { UsageError } from './args.js';
import { loginCommand } from './client/login.js';
import { workspaceCommand } from './client/workspace.js';
import { serviceAccountCommand } from './client/service-account.js';
import { workspaceAccessCommand } from './client/workspace-access.js';

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  start       Serve the API (applies migrations first)
              [--port 4280] [--host 127.0.0.1] [--data-dir DIR | --database-url postgres://... [--database-schema NAME]] [--log-level info]
  bootstrap   Create an account, its Owner and one API key for the Owner (printed once)
              --account-name NAME --account-handle HANDLE --email EMAIL [--json] [--data-dir DIR | --database-url URL [--database-schema NAME]] [--init]
  set-password  Set a user's password, read from standard input (every session of the user ends)
              --email EMAIL [--data-dir DIR | --database-url URL [--database-schema NAME]] [--init]
              Both refuse a store that does not exist yet unless --init is given, and print the store they wrote to.
  secret-key reseal  Seal every upstream credential under GATEHOUSE_SECRET_KEY after a key rotation
              (the old key in GATEHOUSE_PREVIOUS_SECRET_KEYS) [--drop-unreadable] [store flags]

Client commands: call a running Gatehouse over its HTTP API with the key of a saved profile. Each takes
[--profile NAME] (default: the active profile, else "default") and [--url URL] (overrides the profile's).
Data goes to standard output (NAME=value lines, tables, one-line JSON); messages to standard error.
  login       Check a key, choose a workspace, save the profile (and make it active); prints
              PREFECT_API_URL, PREFECT_API_KEY and PREFECT_CLOUD_API_URL as NAME=value lines
              --key KEY [--url http://127.0.0.1:4280] [--workspace ACCOUNT_HANDLE/WORKSPACE_HANDLE] [--profile NAME]
  workspace ls [--json]
              The workspaces the key reaches; * marks the profile's current one
  workspace set ACCOUNT_HANDLE/WORKSPACE_HANDLE
              Make it the profile's current workspace
  workspace set [ACCOUNT_HANDLE/WORKSPACE_HANDLE] --upstream URL [--upstream-auth-string-stdin | --clear-upstream-auth-string] [--json]
              Point the workspace's gateway (default: the current workspace) at its Prefect server's API;
              the upstream auth string is read from standard input, never from a flag
  workspace set [ACCOUNT_HANDLE/WORKSPACE_HANDLE] --clear-upstream
              Stop forwarding the workspace's Prefect requests anywhere
  workspace show [ACCOUNT_HANDLE/WORKSPACE_HANDLE] [--json]
              The workspace's PREFECT_API_URL and its gateway's upstream
  service-account ls [--json]
  service-account create NAME [--expires YYYY-MM-DD | --never-expire] [--role WORKSPACE_ROLE_NAME] [--json]
              The key is printed once; --role grants it on the current workspace; --expires: end of that day, UTC
  service-account rotate NAME_OR_ID [--expires YYYY-MM-DD | --never-expire] [--keep-old-key-hours 0-48] [--json]
              A new key, printed once; the old one stops now unless kept for some hours
  service-account rm NAME_OR_ID [--yes]
              Delete it with its keys and workspace access (asks at a terminal; elsewhere pass --yes)
  workspace-access grant (--service-account NAME_OR_ID | --user EMAIL) --role ROLE_NAME [--workspace A/W]
  workspace-access revoke (--service-account NAME_OR_ID | --user EMAIL) [--workspace A/W]
              Workspace roles: Owner, Developer, Runner, Viewer, Worker, or a custom role's name

Environment: GATEHOUSE_PORT, GATEHOUSE_HOST, GATEHOUSE_DATA_DIR, GATEHOUSE_DATABASE_URL, GATEHOUSE_DATABASE_SCHEMA,
GATEHOUSE_LOG_LEVEL, GATEHOUSE_LOG_FORMAT (json|pretty|auto), GATEHOUSE_BODY_LIMIT (bytes, default 1048576), GATEHOUSE_SECRET_KEY or GATEHOUSE_SECRET_KEY_FILE,
GATEHOUSE_PREVIOUS_SECRET_KEYS (docs/configuration.md has them all); for client commands, GATEHOUSE_HOME
(where profiles.toml is kept, default ~/.gatehouse).
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  start: startCommand,
  bootstrap: bootstrapCommand,
  'set-password': setPasswordCommand,
  'secret-key': secretKeyCommand,
  login: loginCommand,
  workspace: workspaceCommand,
  'service-account': serviceAccountCommand,
  'workspace-access': workspaceAccessCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
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
      const { address, port } = error as { address?: string; port?: number };
      const where = port === undefined ? 'the port' : `port ${port}${address ? ` on ${address}` : ''}`;
      console.error(`gatehouse ${command}: ${where} is already in use; choose another with --port (or GATEHOUSE_PORT) or stop the server that holds it`);
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
