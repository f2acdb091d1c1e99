// Every `gatehouse` command in one table: its usage line, flags, one example and its handler. Parsing,
// `--help`, usage errors, the general help, shell completion and docs checks all read this table, so
// help and parsing cannot drift apart.
import { createRequire } from 'node:module';
import { CONFIG_FILE, SETTING_KEYS, defaultText, flagOf, settingOf, variableOf, type SettingKey } from '../settings.js';
import type { FlagSpec, Flags } from './args.js';
import { loginCommand } from './client/login.js';
import { logoutCommand, profileList, profileUse, whoamiCommand } from './client/profile.js';
import { workspaceCheck, workspaceCreate, workspaceList, workspaceRemove, workspaceSet, workspaceShow } from './client/workspace.js';
import { serviceAccountCreate, serviceAccountList, serviceAccountRemove, serviceAccountRotate } from './client/service-account.js';
import { accessGrant, accessList, accessRevoke } from './client/workspace-access.js';
import { keyPolicySet, keyPolicyShow } from './client/key-policy.js';
import { trustRuleAdd, trustRuleList, trustRuleRemove } from './client/trust-rule.js';
import { exchangeCommand } from './client/exchange.js';
import { webhookAdd, webhookList, webhookLog, webhookRemove, webhookSet, webhookTest } from './client/webhook.js';
import { domainAdd, domainList, domainRemove, domainVerify, ssoAdd, ssoList, ssoRemove, ssoRequire } from './client/sso.js';
import { teamAdd, teamAddMember, teamGrant, teamList, teamRemove, teamRemoveMember, teamRevoke } from './client/team.js';
import { ipAllowlistAdd, ipAllowlistDisable, ipAllowlistEnable, ipAllowlistList, ipAllowlistRemove } from './client/ip-allowlist.js';

export interface CommandInput {
  flags: Flags;
  args: string[];
}

export interface CommandSpec {
  /** The words after `gatehouse`, such as `service-account create`. */
  name: string;
  /** What follows the name in the usage line: positionals and flags (--profile/--url are added for client commands). */
  usage: string;
  summary: string;
  /** More for the command's own help: defaults, what is asked, what is printed. */
  details?: string;
  positionals: { min: number; names: string[] };
  flags: Record<string, FlagSpec>;
  example: string;
  /** Calls a running Gatehouse with a saved profile: takes --profile and --url, and --json. */
  client: boolean;
  /** Its help lists every setting of the settings table (the server's configuration). */
  settings?: boolean;
  run: (input: CommandInput) => Promise<number>;
}

const configFlag: Record<string, FlagSpec> = {
  [CONFIG_FILE.flag]: { type: 'string', value: CONFIG_FILE.value, help: `A TOML file of settings (${CONFIG_FILE.variable}); flags and GATEHOUSE_* variables win over it` },
};
/** The flags of these settings, from the settings table (src/settings.ts). */
const settingFlags = (keys: SettingKey[]): Record<string, FlagSpec> =>
  Object.fromEntries(
    keys.map((key) => [flagOf(key)!, { type: 'string', value: settingOf(key).value, help: `${settingOf(key).help} [${[variableOf(key), ...(defaultText(key) === 'none' ? [] : [`default ${defaultText(key)}`])].join('; ')}]` }]),
  );
const storeFlags: Record<string, FlagSpec> = { ...configFlag, ...settingFlags(['data_dir', 'database_url', 'database_schema']) };
/** Every setting that has a flag: what `start` and `config check` take. */
const serverFlags: Record<string, FlagSpec> = { ...configFlag, ...settingFlags(SETTING_KEYS.filter((key) => flagOf(key) !== undefined)) };
const STORE_CHOICE = '[--data-dir DIR | --database-url URL [--database-schema NAME]]';
const STORE_USAGE = `[--config FILE] ${STORE_CHOICE}`;
const SERVER_USAGE = `[--config FILE] [--port 4280] [--host 127.0.0.1] ${STORE_CHOICE} [--log-level info] [--metrics-port PORT] [--metrics-host 127.0.0.1]`;
const init: Record<string, FlagSpec> = { init: { type: 'boolean', help: 'Create a new, empty store when there is none (otherwise the command refuses)' } };

export const connectionFlags: Record<string, FlagSpec> = {
  profile: { type: 'string', value: 'NAME', help: 'The saved profile to use (default: the active one, else "default")' },
  url: { type: 'string', value: 'URL', help: "Gatehouse's address, instead of the profile's" },
  json: { type: 'boolean', help: 'Print one JSON document on standard output; errors as JSON on standard error' },
};

const workspaceFlag: Record<string, FlagSpec> = {
  workspace: { type: 'string', value: 'ACCOUNT/WORKSPACE', help: "The workspace (default: the profile's current one), such as acme/production" },
};
const expiry: Record<string, FlagSpec> = {
  expires: { type: 'string', value: 'YYYY-MM-DD', help: 'The key expires at the end of that day, UTC' },
  'never-expire': { type: 'boolean', help: 'The key never expires' },
};
const principal: Record<string, FlagSpec> = {
  'service-account': { type: 'string', value: 'NAME_OR_ID', help: 'A service account of the account, by name or id' },
  user: { type: 'string', value: 'EMAIL', help: 'A user who is a member of the account, by email' },
};
const yes = (what: string): Record<string, FlagSpec> => ({ yes: { type: 'boolean', help: `${what} without asking (required when not at a terminal)` } });
const none = { min: 0, names: [] };

/** A command that calls a running Gatehouse with a saved profile; without positionals or flags of its own unless it says. */
const clientCommand = (spec: Omit<CommandSpec, 'client' | 'positionals' | 'flags'> & Partial<Pick<CommandSpec, 'positionals' | 'flags'>>): CommandSpec => ({
  positionals: none,
  flags: {},
  ...spec,
  client: true,
});

/** A client command that takes nothing but the connection flags: its usage is empty and its example is itself. */
const bareCommand = (name: string, summary: string, run: CommandSpec['run']): CommandSpec => clientCommand({ name, usage: '', summary, example: `gatehouse ${name}`, run });

export const COMMANDS: CommandSpec[] = [
  {
    name: 'start',
    usage: SERVER_USAGE,
    summary: 'Serve the API and the web page (applies migrations first)',
    positionals: none,
    flags: serverFlags,
    example: 'gatehouse start --port 4280 --data-dir /var/lib/gatehouse',
    client: false,
    settings: true,
    // The server commands load the server (and the store) only when they run, not for --help.
    run: async ({ flags }) => (await import('./start.js')).startCommand(flags),
  },
  {
    name: 'config check',
    usage: `${SERVER_USAGE} [--json]`,
    summary: 'Print the effective configuration, where each value came from, secrets masked (exit 2 when invalid)',
    details:
      'Reads the flags, GATEHOUSE_* variables and the --config file exactly as `gatehouse start` does, without starting.\n' +
      'Prints TOML (keys as the file takes them) with the source of each value; the secret key and passwords show as *****.',
    positionals: none,
    flags: { ...serverFlags, json: { type: 'boolean', help: 'Print {"file", "settings": {KEY: {"value", "source"}}} instead' } },
    example: 'gatehouse config check --config /etc/gatehouse/gatehouse.toml',
    client: false,
    settings: true,
    run: async ({ flags }) => (await import('./config-check.js')).configCheckCommand(flags),
  },
  {
    name: 'bootstrap',
    usage: `--account-name NAME --account-handle HANDLE --email EMAIL [--json] ${STORE_USAGE} [--init]`,
    summary: 'Create an account, its Owner and one API key for the Owner (printed once)',
    positionals: none,
    flags: {
      'account-name': { type: 'string', value: 'NAME', help: "The account's display name" },
      'account-handle': { type: 'string', value: 'HANDLE', help: 'The account\'s handle: letters, digits, "-" and "_"' },
      email: { type: 'string', value: 'EMAIL', help: "The Owner's email" },
      json: { type: 'boolean', help: 'Print {"account_id", "user_id", "api_key"} as one JSON line' },
      ...storeFlags,
      ...init,
    },
    example: 'gatehouse bootstrap --account-name Acme --account-handle acme --email ada@example.com',
    client: false,
    run: async ({ flags }) => (await import('./bootstrap.js')).bootstrapCommand(flags),
  },
  {
    name: 'set-password',
    usage: `--email EMAIL ${STORE_USAGE} [--init]`,
    summary: "Set a user's password, read from standard input (every session of the user ends)",
    positionals: none,
    flags: { email: { type: 'string', value: 'EMAIL', help: "The user's email" }, ...storeFlags, ...init },
    example: "printf '%s\\n' 'a long passphrase' | gatehouse set-password --email ada@example.com",
    client: false,
    run: async ({ flags }) => (await import('./set-password.js')).setPasswordCommand(flags),
  },
  {
    name: 'secret-key reseal',
    usage: `[--drop-unreadable] ${STORE_USAGE}`,
    summary: 'Seal every upstream credential under GATEHOUSE_SECRET_KEY after a key rotation',
    positionals: none,
    flags: { 'drop-unreadable': { type: 'boolean', help: 'Remove the credentials that no key opens' }, ...storeFlags },
    example: 'GATEHOUSE_SECRET_KEY=NEW GATEHOUSE_PREVIOUS_SECRET_KEYS=OLD gatehouse secret-key reseal --database-url postgres://...',
    client: false,
    run: async ({ flags }) => (await import('./secret-key.js')).secretKeyCommand(flags),
  },
  {
    name: 'backup',
    usage: `--to FILE [--force] ${STORE_USAGE}`,
    summary: "Copy the SQLite store to a file while the server runs (PostgreSQL: says to use pg_dump)",
    details: 'A consistent snapshot through SQLite\'s online backup API, written beside FILE and renamed into place.\n' +
      'Keep GATEHOUSE_SECRET_KEY with it: the upstream credentials in it are sealed with that key.',
    positionals: none,
    flags: { to: { type: 'string', value: 'FILE', help: 'Where the backup goes' }, force: { type: 'boolean', help: 'Replace FILE if it exists' }, ...storeFlags },
    example: 'gatehouse backup --to /var/backups/gatehouse-$(date +%F).db --data-dir /var/lib/gatehouse',
    client: false,
    run: async ({ flags }) => (await import('./backup.js')).backupCommand(flags),
  },
  {
    name: 'restore',
    usage: `--from FILE ${STORE_USAGE}`,
    summary: 'Put a backup in place as the store of an empty data directory (SQLite; PostgreSQL: pg_restore)',
    positionals: none,
    flags: { from: { type: 'string', value: 'FILE', help: 'A file made by gatehouse backup' }, ...storeFlags },
    example: 'gatehouse restore --from /var/backups/gatehouse-2026-12-07.db --data-dir /var/lib/gatehouse',
    client: false,
    run: async ({ flags }) => (await import('./backup.js')).restoreCommand(flags),
  },
  {
    name: 'migrate status',
    usage: `[--json] ${STORE_USAGE}`,
    summary: "The store's schema version against this build's: up to date, behind, or newer (exit 1)",
    positionals: none,
    flags: { json: { type: 'boolean', help: 'Print {"store", "state", "applied", "pending", "unknown"}' }, ...storeFlags },
    example: 'gatehouse migrate status --database-url postgres://gatehouse@db/gatehouse',
    client: false,
    run: async ({ flags }) => (await import('./backup.js')).migrateStatusCommand(flags),
  },
  {
    name: 'audit export',
    usage: `[--since TIME] [--until TIME] [--account HANDLE] [--to FILE] [--format jsonl] ${STORE_USAGE}`,
    summary: 'The audit trail as JSON lines, oldest first, for a log pipeline (standard output or a file)',
    details: 'TIME is a date (2026-12-01), a date-time (2026-12-01T08:00:00Z) or a span back from now (30d, 12h).\n' +
      'Read in pages, so memory stays bounded however long the trail is.',
    positionals: none,
    flags: {
      since: { type: 'string', value: 'TIME', help: 'Events at or after TIME' },
      until: { type: 'string', value: 'TIME', help: 'Events before TIME' },
      account: { type: 'string', value: 'HANDLE', help: "Only this account's events" },
      to: { type: 'string', value: 'FILE', help: 'Write to FILE (created, mode 0600; refused if it exists) instead of standard output' },
      format: { type: 'string', value: 'jsonl', help: 'The format: jsonl (one event per line, as the API shows it)' },
      ...storeFlags,
    },
    example: 'gatehouse audit export --since 1d --to audit-$(date +%F).jsonl',
    client: false,
    run: async ({ flags }) => (await import('./audit.js')).auditExportCommand(flags),
  },
  {
    name: 'audit prune',
    usage: `--older-than DAYSd ${STORE_USAGE}`,
    summary: 'Delete audit events older than a retention (export them first if you keep them)',
    positionals: none,
    flags: { 'older-than': { type: 'string', value: 'DAYSd', help: 'For example 365d' }, ...storeFlags },
    example: 'gatehouse audit prune --older-than 365d',
    client: false,
    run: async ({ flags }) => (await import('./audit.js')).auditPruneCommand(flags),
  },
  clientCommand({
    name: 'login',
    usage: '--key KEY [--url http://127.0.0.1:4280] [--workspace ACCOUNT/WORKSPACE]',
    summary: 'Check a key, choose a workspace and save both as a profile; prints the PREFECT_* settings',
    details:
      'The profile becomes the active one. Prints PREFECT_API_URL, PREFECT_API_KEY and PREFECT_CLOUD_API_URL as NAME=value lines\n' +
      'on standard output (for env, a .env file or prefect config set); messages go to standard error.',
    flags: {
      key: { type: 'string', value: 'KEY', help: 'A pnu_ user key or a pnb_ service account key' },
      url: { type: 'string', value: 'URL', help: "Gatehouse's address, saved in the profile (default: GATEHOUSE_URL, else http://127.0.0.1:4280)" },
      workspace: { type: 'string', value: 'ACCOUNT/WORKSPACE', help: 'The workspace to work on (asked at a terminal when the key reaches several)' },
      profile: { type: 'string', value: 'NAME', help: 'Save as this profile (default: the active one, else "default")' },
    },
    example: 'gatehouse login --key "$GATEHOUSE_KEY" --url http://127.0.0.1:4280 --workspace acme/production',
    run: loginCommand,
  }),
  clientCommand({
    name: 'logout',
    usage: '',
    summary: "Remove the profile's saved key (the profile itself goes with it)",
    example: 'gatehouse logout --profile ci',
    run: logoutCommand,
  }),
  bareCommand('whoami', "Who the profile's key is: user or service account, account role, workspace, key expiry", whoamiCommand),
  bareCommand('profile ls', 'The saved profiles; * marks the active one', profileList),
  clientCommand({
    name: 'profile use',
    usage: 'NAME',
    summary: 'Make a saved profile the active one',
    positionals: { min: 1, names: ['NAME'] },
    example: 'gatehouse profile use staging',
    run: profileUse,
  }),
  bareCommand('workspace ls', "The workspaces the key reaches; * marks the profile's current one", workspaceList),
  clientCommand({
    name: 'workspace set',
    usage: '[ACCOUNT/WORKSPACE] [--upstream URL [--upstream-auth-string-stdin | --clear-upstream-auth-string] [--check] | --clear-upstream]',
    summary: "Make a workspace the profile's current one, or point its gateway at a Prefect server",
    details:
      "With ACCOUNT/WORKSPACE only: the profile works on that workspace from now on. With --upstream: the workspace's\n" +
      '(default: the current one) gateway forwards to that Prefect API; --clear-upstream stops forwarding.',
    positionals: { min: 0, names: ['ACCOUNT/WORKSPACE'] },
    flags: {
      upstream: { type: 'string', value: 'URL', help: "The Prefect server's API, such as http://prefect:4200/api (default workspace: the current one)" },
      'upstream-auth-string-stdin': { type: 'boolean', help: "Read the Prefect server's auth string (user:password) from standard input, never from a flag" },
      'clear-upstream-auth-string': { type: 'boolean', help: 'Remove the stored auth string' },
      'clear-upstream': { type: 'boolean', help: "Stop forwarding the workspace's Prefect requests anywhere" },
      check: { type: 'boolean', help: 'With --upstream: then ask the Prefect server whether it answers (as workspace check)' },
    },
    example: "echo -n 'admin:secret' | gatehouse workspace set acme/production --upstream http://prefect:4200/api --upstream-auth-string-stdin",
    run: workspaceSet,
  }),
  clientCommand({
    name: 'workspace show',
    usage: '[ACCOUNT/WORKSPACE]',
    summary: "The workspace's PREFECT_API_URL and its gateway's upstream",
    positionals: { min: 0, names: ['ACCOUNT/WORKSPACE'] },
    example: 'gatehouse workspace show acme/production',
    run: workspaceShow,
  }),
  clientCommand({
    name: 'workspace check',
    usage: '[ACCOUNT/WORKSPACE]',
    summary: "Ask the workspace's Prefect server whether it answers, with the stored credential",
    details:
      "Gatehouse calls the upstream's /health and /version (5 s at most) and says what it found and what to do.\n" +
      'Exit status 0 when Prefect answered and took the credential, 1 when not.',
    positionals: { min: 0, names: ['ACCOUNT/WORKSPACE'] },
    example: 'gatehouse workspace check acme/production',
    run: workspaceCheck,
  }),
  clientCommand({
    name: 'workspace create',
    usage: 'HANDLE --name NAME [--description TEXT]',
    summary: "Create a workspace in the profile's account; you become its Owner",
    positionals: { min: 1, names: ['HANDLE'] },
    flags: {
      name: { type: 'string', value: 'NAME', help: "The workspace's display name" },
      description: { type: 'string', value: 'TEXT', help: 'What the workspace is for' },
    },
    example: 'gatehouse workspace create staging --name Staging --description "Pre-production flows"',
    run: workspaceCreate,
  }),
  clientCommand({
    name: 'workspace rm',
    usage: 'ACCOUNT/WORKSPACE [--yes]',
    summary: 'Delete a workspace and every access grant to it',
    details: 'Asks at a terminal; elsewhere pass --yes.',
    positionals: { min: 1, names: ['ACCOUNT/WORKSPACE'] },
    flags: yes('Delete'),
    example: 'gatehouse workspace rm acme/staging --yes',
    run: workspaceRemove,
  }),
  clientCommand({
    name: 'trust-rule ls',
    usage: 'SERVICE_ACCOUNT',
    summary: "A service account's trust rules: which workload tokens may be exchanged for its keys",
    positionals: { min: 1, names: ['SERVICE_ACCOUNT'] },
    example: 'gatehouse trust-rule ls ci-deployer',
    run: trustRuleList,
  }),
  clientCommand({
    name: 'trust-rule add',
    usage: "SERVICE_ACCOUNT --issuer URL --audience AUD --subject PATTERN [--claims JSON] [--lifetime SECONDS] [--description TEXT]",
    summary: 'Let OIDC tokens of an issuer be exchanged for short-lived keys of a service account',
    details: 'PATTERN is the exact `sub` claim, or with * for any run of characters. The key lifetime is 60 to 3600 seconds (default 900).',
    positionals: { min: 1, names: ['SERVICE_ACCOUNT'] },
    flags: {
      issuer: { type: 'string', value: 'URL', help: "The tokens' iss claim, such as https://token.actions.githubusercontent.com" },
      audience: { type: 'string', value: 'AUD', help: 'A value their aud claim must hold' },
      subject: { type: 'string', value: 'PATTERN', help: 'The sub claim admitted, such as repo:acme/flows:ref:refs/heads/main' },
      claims: { type: 'string', value: 'JSON', help: 'Other claims that must match exactly, such as \'{"repository_owner": "acme"}\'' },
      lifetime: { type: 'string', value: 'SECONDS', help: 'How long an exchanged key works (60 to 3600, default 900)' },
      description: { type: 'string', value: 'TEXT', help: 'What the rule is for' },
    },
    example: "gatehouse trust-rule add ci-deployer --issuer https://token.actions.githubusercontent.com --audience gatehouse --subject 'repo:acme/flows:ref:refs/heads/main'",
    run: trustRuleAdd,
  }),
  clientCommand({
    name: 'trust-rule rm',
    usage: 'SERVICE_ACCOUNT RULE_ID',
    summary: 'Delete a trust rule; the keys exchanged under it stop working at once',
    positionals: { min: 2, names: ['SERVICE_ACCOUNT', 'RULE_ID'] },
    example: 'gatehouse trust-rule rm ci-deployer 2f0c…',
    run: trustRuleRemove,
  }),
  {
    name: 'exchange',
    usage: '--service-account ID (--token-file FILE | --token-env VARIABLE) [--workspace ACCOUNT/WORKSPACE] [--url URL] [--json]',
    summary: "Exchange a workload's OIDC token for a short-lived key of a service account; prints PREFECT_API_KEY and PREFECT_API_URL",
    details: 'Needs no profile: the token is the credential. NAME=value lines on standard output, for `env`, a .env file or $GITHUB_ENV.',
    positionals: none,
    flags: {
      'service-account': { type: 'string', value: 'ID', help: "The service account's id" },
      'token-file': { type: 'string', value: 'FILE', help: 'A file holding the token (a Kubernetes projected token, for example)' },
      'token-env': { type: 'string', value: 'VARIABLE', help: 'An environment variable holding the token' },
      workspace: { type: 'string', value: 'ACCOUNT/WORKSPACE', help: "Which workspace's PREFECT_API_URL to print (default: the service account's only one)" },
      url: { type: 'string', value: 'URL', help: "Gatehouse's address (default GATEHOUSE_URL, else http://127.0.0.1:4280)" },
      json: { type: 'boolean', help: 'Print the exchange answer as one JSON document' },
    },
    example: 'gatehouse exchange --url https://gatehouse.example.com --service-account 0b6e… --token-file /var/run/secrets/tokens/gatehouse',
    client: false,
    run: exchangeCommand,
  },
  bareCommand('ip-allowlist ls', "The IP allowlist of the profile's account, whether it is enforced, and whether your address is on it", ipAllowlistList),
  clientCommand({
    name: 'ip-allowlist add',
    usage: 'NETWORK [--description TEXT] [--disabled]',
    summary: 'Add an IP address or CIDR network (IPv4 or IPv6) to the allowlist, or replace its entry',
    details: 'Refused while the allowlist is enforced when the new list would not admit your own address.',
    positionals: { min: 1, names: ['NETWORK'] },
    flags: {
      description: { type: 'string', value: 'TEXT', help: 'What the entry is for, such as "office VPN"' },
      disabled: { type: 'boolean', help: 'Add the entry switched off' },
    },
    example: 'gatehouse ip-allowlist add 203.0.113.0/24 --description "office VPN"',
    run: ipAllowlistAdd,
  }),
  clientCommand({
    name: 'ip-allowlist remove',
    usage: 'NETWORK',
    summary: 'Remove an entry from the allowlist',
    details: 'Refused while the allowlist is enforced when the new list would not admit your own address.',
    positionals: { min: 1, names: ['NETWORK'] },
    example: 'gatehouse ip-allowlist remove 203.0.113.0/24',
    run: ipAllowlistRemove,
  }),
  clientCommand({
    name: 'ip-allowlist enable',
    usage: '',
    summary: 'Enforce the allowlist: keys and sessions act in the account only from its enabled entries',
    details: 'Refused, with the reason, when your own address is not on the list (you would be locked out).',
    example: 'gatehouse ip-allowlist enable',
    run: ipAllowlistEnable,
  }),
  bareCommand('ip-allowlist disable', 'Stop enforcing the allowlist; its entries are kept', ipAllowlistDisable),
  bareCommand('service-account ls', "The account's service accounts: masked key, expiry, last use, workspace roles, and any key reported leaked", serviceAccountList),
  clientCommand({
    name: 'service-account create',
    usage: 'NAME [--expires YYYY-MM-DD | --never-expire] [--role ROLE]',
    summary: 'Create a service account; its key is printed once',
    details:
      'Without --expires or --never-expire it asks at a terminal; elsewhere the key never expires and a note on\n' +
      'standard error says so. The key is printed once, with the PREFECT_* settings of the current workspace.',
    positionals: { min: 1, names: ['NAME'] },
    flags: { ...expiry, role: { type: 'string', value: 'ROLE', help: "Grant it this workspace role on the profile's current workspace" } },
    example: 'gatehouse service-account create ci-worker --expires 2030-12-31 --role Worker',
    run: serviceAccountCreate,
  }),
  clientCommand({
    name: 'service-account rotate',
    usage: 'NAME_OR_ID [--expires YYYY-MM-DD | --never-expire] [--keep-old-key-hours 0-48]',
    summary: 'Issue a new key, printed once; the old one stops now unless kept for some hours',
    positionals: { min: 1, names: ['NAME_OR_ID'] },
    flags: { ...expiry, 'keep-old-key-hours': { type: 'string', value: 'HOURS', help: 'Keep the old key working for 0 to 48 hours (never past its own expiry)' } },
    example: 'gatehouse service-account rotate ci-worker --keep-old-key-hours 2',
    run: serviceAccountRotate,
  }),
  clientCommand({
    name: 'service-account rm',
    usage: 'NAME_OR_ID [--yes]',
    summary: 'Delete a service account with its keys and workspace access',
    details: 'Its keys stop working at once. Asks at a terminal; elsewhere pass --yes.',
    positionals: { min: 1, names: ['NAME_OR_ID'] },
    flags: yes('Remove'),
    example: 'gatehouse service-account rm ci-worker --yes',
    run: serviceAccountRemove,
  }),
  bareCommand('key-policy show', "The account's key policy, and the existing service-account keys that break it", keyPolicyShow),
  clientCommand({
    name: 'key-policy set',
    usage: '[--max-key-lifetime-days N|none] [--allow-never-expire yes|no] [--max-rotation-grace-seconds N|none] [--disable-keys-unused-days N|none] [--leaked-key-action disable|flag]',
    summary: "Set the account's key policy (Owner or Admin); existing keys are listed, not changed",
    details:
      'Fields not given keep their value; "none" lifts a limit. New and rotated service-account keys must keep the policy\n' +
      '(the API answers 422 KEY_POLICY_VIOLATION otherwise). A key unused for --disable-keys-unused-days days is disabled.\n' +
      'A key a secret-scanning partner reports leaked is disabled at once, or only flagged with --leaked-key-action flag.',
    flags: {
      'max-key-lifetime-days': { type: 'string', value: 'N', help: 'The longest expiry of a new or rotated key, 1 to 36500 days, or none' },
      'allow-never-expire': { type: 'string', value: 'yes|no', help: 'Whether a key may never expire' },
      'max-rotation-grace-seconds': { type: 'string', value: 'N', help: 'The longest grace a rotation may keep the old key, 0 to 172800 seconds, or none' },
      'disable-keys-unused-days': { type: 'string', value: 'N', help: 'Disable a key unused for this many days, 1 to 36500, or none' },
      'leaked-key-action': { type: 'string', value: 'disable|flag', help: 'What a leak report does to a found key: disable it immediately (default) or flag it' },
    },
    example: 'gatehouse key-policy set --max-key-lifetime-days 90 --allow-never-expire no',
    run: keyPolicySet,
  }),
  bareCommand('sso ls', "The account's OpenID Connect providers (never their secrets) and SSO settings", ssoList),
  clientCommand({
    name: 'sso add',
    usage: 'NAME --issuer URL --client-id ID [--client-secret-file PATH]',
    summary: 'Add an OpenID Connect provider (Owner or Admin); its secret is read from a file',
    details: 'The secret is sealed on the server and never shown again. See docs/single-sign-on.md for the provider side.',
    positionals: { min: 1, names: ['NAME'] },
    flags: {
      issuer: { type: 'string', value: 'URL', help: "The provider's issuer URL, exactly as its id tokens say (https)" },
      'client-id': { type: 'string', value: 'ID', help: 'The client id Gatehouse is registered under at the provider' },
      'client-secret-file': { type: 'string', value: 'PATH', help: 'A file holding the client secret (omit for a public client)' },
    },
    example: 'gatehouse sso add "Acme SSO" --issuer https://idp.example.com --client-id gatehouse --client-secret-file secret.txt',
    run: ssoAdd,
  }),
  clientCommand({
    name: 'sso rm',
    usage: 'ID_OR_NAME [--yes]',
    summary: 'Remove an identity provider; identities linked through it are forgotten',
    details: 'Asks at a terminal; elsewhere pass --yes.',
    positionals: { min: 1, names: ['ID_OR_NAME'] },
    flags: yes('Remove'),
    example: 'gatehouse sso rm "Acme SSO" --yes',
    run: ssoRemove,
  }),
  clientCommand({
    name: 'sso require',
    usage: 'yes|no',
    summary: "Turn passwords off (yes) or on (no) for the account's members; Owners keep theirs",
    positionals: { min: 1, names: ['yes|no'] },
    example: 'gatehouse sso require yes',
    run: ssoRequire,
  }),
  bareCommand('domain ls', "The account's email domains and whether each is verified", domainList),
  clientCommand({
    name: 'domain add',
    usage: 'DOMAIN',
    summary: 'Add an email domain (unverified: it lets no one join until verified)',
    positionals: { min: 1, names: ['DOMAIN'] },
    example: 'gatehouse domain add example.com',
    run: domainAdd,
  }),
  clientCommand({
    name: 'domain verify',
    usage: 'DOMAIN',
    summary: 'Vouch for a domain (Owner or Admin, audited): its provider-verified emails may join by SSO',
    positionals: { min: 1, names: ['DOMAIN'] },
    example: 'gatehouse domain verify example.com',
    run: domainVerify,
  }),
  clientCommand({
    name: 'domain rm',
    usage: 'DOMAIN',
    summary: 'Remove an email domain',
    positionals: { min: 1, names: ['DOMAIN'] },
    example: 'gatehouse domain rm example.com',
    run: domainRemove,
  }),
  bareCommand('webhook ls', "The webhook endpoints of the profile's account (never their signing secrets)", webhookList),
  clientCommand({
    name: 'webhook add',
    usage: 'URL [--events LIST] [--description TEXT] [--disabled]',
    summary: 'Add a webhook endpoint for notices (Owner or Admin); prints its signing secret, once',
    details: 'Notices: api_key.expiring, api_key.expired, api_key.rotated, api_key.grace_ended, service_account.removed, api_key.disabled_dormant, api_key.leak_reported, ip_allowlist.changed. Each POST is signed per Standard Webhooks (docs/notices.md).',
    positionals: { min: 1, names: ['URL'] },
    flags: {
      events: { type: 'string', value: 'LIST', help: 'Comma-separated event types to send it (default: all)' },
      description: { type: 'string', value: 'TEXT', help: 'What the endpoint is, such as "ops pager"' },
      disabled: { type: 'boolean', help: 'Add it switched off' },
    },
    example: 'gatehouse webhook add https://hooks.example.com/gatehouse --events api_key.expiring,api_key.leak_reported',
    run: webhookAdd,
  }),
  clientCommand({
    name: 'webhook set',
    usage: 'ID_OR_URL [--url URL] [--events LIST] [--description TEXT|none] [--enabled yes|no]',
    summary: 'Change a webhook endpoint; fields not given keep their value',
    positionals: { min: 1, names: ['ID_OR_URL'] },
    flags: {
      url: { type: 'string', value: 'URL', help: 'Where to send (http or https)' },
      events: { type: 'string', value: 'LIST', help: 'Comma-separated event types to send it' },
      description: { type: 'string', value: 'TEXT', help: 'What the endpoint is, or none' },
      enabled: { type: 'string', value: 'yes|no', help: 'Whether it is sent anything' },
    },
    example: 'gatehouse webhook set https://hooks.example.com/gatehouse --enabled no',
    run: webhookSet,
  }),
  clientCommand({
    name: 'webhook rm',
    usage: 'ID_OR_URL [--yes]',
    summary: 'Remove a webhook endpoint, its pending deliveries and its log',
    details: 'Asks at a terminal; elsewhere pass --yes.',
    positionals: { min: 1, names: ['ID_OR_URL'] },
    flags: yes('Remove'),
    example: 'gatehouse webhook rm https://hooks.example.com/gatehouse --yes',
    run: webhookRemove,
  }),
  clientCommand({
    name: 'webhook test',
    usage: 'ID_OR_URL',
    summary: 'Send a webhook.test notice now and say how it went (exit 1 when not delivered)',
    positionals: { min: 1, names: ['ID_OR_URL'] },
    example: 'gatehouse webhook test https://hooks.example.com/gatehouse',
    run: webhookTest,
  }),
  clientCommand({
    name: 'webhook log',
    usage: 'ID_OR_URL',
    summary: "The endpoint's last delivery attempts (at most 50): when, which event, the answer or error",
    positionals: { min: 1, names: ['ID_OR_URL'] },
    example: 'gatehouse webhook log https://hooks.example.com/gatehouse',
    run: webhookLog,
  }),
  clientCommand({
    name: 'workspace-access ls',
    usage: '[--workspace ACCOUNT/WORKSPACE]',
    summary: 'The users and service accounts with access to a workspace, and their roles',
    flags: workspaceFlag,
    example: 'gatehouse workspace-access ls --workspace acme/production',
    run: accessList,
  }),
  clientCommand({
    name: 'workspace-access grant',
    usage: '(--service-account NAME_OR_ID | --user EMAIL) --role ROLE [--workspace ACCOUNT/WORKSPACE] [--yes]',
    summary: 'Give a service account or user a workspace role, saying what it was before',
    details:
      'Prints "granted", "changed from OLD to NEW" or "already has". Changing an existing role asks at a terminal;\n' +
      'elsewhere it needs --yes (nothing is changed without it).',
    flags: {
      ...principal,
      role: { type: 'string', value: 'ROLE', help: 'Owner, Developer, Runner, Viewer, Worker, or a custom role\'s name' },
      ...workspaceFlag,
      ...yes('Change an existing role'),
    },
    example: 'gatehouse workspace-access grant --service-account ci-worker --role Worker --workspace acme/production',
    run: accessGrant,
  }),
  clientCommand({
    name: 'workspace-access revoke',
    usage: '(--service-account NAME_OR_ID | --user EMAIL) [--workspace ACCOUNT/WORKSPACE]',
    summary: 'Take away their access to the workspace',
    flags: { ...principal, ...workspaceFlag },
    example: 'gatehouse workspace-access revoke --user bob@example.com',
    run: accessRevoke,
  }),
  bareCommand('team ls', "The teams of the profile's account, their members and their workspace roles", teamList),
  clientCommand({
    name: 'team add',
    usage: 'NAME [--description TEXT]',
    summary: 'Create a team (Owner or Admin)',
    positionals: { min: 1, names: ['NAME'] },
    flags: { description: { type: 'string', value: 'TEXT', help: 'What the team is for' } },
    example: 'gatehouse team add data-platform --description "Runs the data platform"',
    run: teamAdd,
  }),
  clientCommand({
    name: 'team rm',
    usage: 'NAME_OR_ID [--yes]',
    summary: 'Delete a team; its members lose what it granted at once',
    positionals: { min: 1, names: ['NAME_OR_ID'] },
    flags: yes('Delete'),
    example: 'gatehouse team rm data-platform --yes',
    run: teamRemove,
  }),
  clientCommand({
    name: 'team add-member',
    usage: 'TEAM (--user EMAIL | --service-account NAME_OR_ID)',
    summary: 'Put a user or a service account of the account in a team',
    positionals: { min: 1, names: ['TEAM'] },
    flags: principal,
    example: 'gatehouse team add-member data-platform --user bob@example.com',
    run: teamAddMember,
  }),
  clientCommand({
    name: 'team rm-member',
    usage: 'TEAM (--user EMAIL | --service-account NAME_OR_ID)',
    summary: 'Take a member out of a team; what the team granted them ends at once',
    positionals: { min: 1, names: ['TEAM'] },
    flags: principal,
    example: 'gatehouse team rm-member data-platform --user bob@example.com',
    run: teamRemoveMember,
  }),
  clientCommand({
    name: 'team grant',
    usage: 'TEAM --role ROLE [--workspace ACCOUNT/WORKSPACE]',
    summary: "Give a team a workspace role (or change it); its members' scopes there include the role's",
    positionals: { min: 1, names: ['TEAM'] },
    flags: { role: { type: 'string', value: 'ROLE', help: 'A workspace role by name: Owner, Developer, Runner, Viewer, Worker or a custom one' }, ...workspaceFlag },
    example: 'gatehouse team grant data-platform --role Developer --workspace acme/production',
    run: teamGrant,
  }),
  clientCommand({
    name: 'team revoke',
    usage: 'TEAM [--workspace ACCOUNT/WORKSPACE]',
    summary: "Take a team's role on a workspace away",
    positionals: { min: 1, names: ['TEAM'] },
    flags: workspaceFlag,
    example: 'gatehouse team revoke data-platform --workspace acme/production',
    run: teamRevoke,
  }),
  {
    name: 'version',
    usage: '',
    summary: "Print Gatehouse's version (also: gatehouse --version)",
    positionals: none,
    flags: {},
    example: 'gatehouse version',
    client: false,
    run: async () => {
      console.log(`gatehouse ${VERSION}`);
      return 0;
    },
  },
  {
    name: 'completion',
    usage: 'bash|zsh',
    summary: 'Print a shell completion script',
    positionals: { min: 1, names: ['SHELL'] },
    flags: {},
    example: 'source <(gatehouse completion bash)   # or, for zsh: source <(gatehouse completion zsh)',
    client: false,
    run: async ({ args }) => {
      const { completionScript } = await import('./completion.js');
      return completionScript(args[0]!);
    },
  },
];

/** Groups of subcommands and what they are for, for `gatehouse GROUP --help`. */
export const GROUPS: Record<string, string> = {
  config: "The server's configuration: flags, GATEHOUSE_* variables and the --config file",
  'secret-key': 'The secret key that seals upstream credentials',
  profile: 'Saved profiles (server address, key, current workspace)',
  workspace: 'Workspaces: list, choose, create, remove, point at a Prefect server',
  'service-account': "The account's service accounts and their API keys",
  'workspace-access': 'Who has which role on a workspace',
  'key-policy': "The account's limits on its service-account keys",
  webhook: "The account's webhook endpoints for notices (keys expiring, rotated, leaked …)",
  team: 'Teams of account members and service accounts, and their workspace roles',
};

export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** All flags a command accepts, its own and the shared client ones. */
export function flagsOf(command: CommandSpec): Record<string, FlagSpec> {
  if (!command.client) return command.flags;
  const all = { ...command.flags };
  for (const [name, spec] of Object.entries(connectionFlags)) if (!Object.hasOwn(all, name)) all[name] = spec;
  return all;
}

export function findCommand(words: string[]): { command?: CommandSpec; group?: string; rest: string[] } {
  const [first, second] = words;
  if (first === undefined) return { rest: [] };
  const two = COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (two) return { command: two, rest: words.slice(2) };
  const one = COMMANDS.find((c) => c.name === first);
  if (one) return { command: one, rest: words.slice(1) };
  if (Object.hasOwn(GROUPS, first)) return { group: first, rest: words.slice(1) };
  return { rest: words };
}

export const subcommandsOf = (group: string) => COMMANDS.filter((c) => c.name.startsWith(`${group} `));
