// Help text, rendered from the command table: the general help, one command's help, a group's list
// of subcommands, and the short answer to a usage error.
import { COMMANDS, GROUPS, connectionFlags, flagsOf, subcommandsOf, type CommandSpec } from './commands.js';
import { CONFIG_FILE, SETTING_KEYS, defaultText, settingOf, variableOf } from '../settings.js';

export function usageLine(command: CommandSpec): string {
  // The shared client flags, unless the command's own usage already places them.
  const shared = command.client ? ['[--profile NAME]', '[--url URL]', '[--json]'].filter((f) => !command.usage.includes(f.slice(1).split(' ')[0]!)) : [];
  return ['Usage: gatehouse', command.name, command.usage, ...shared].filter(Boolean).join(' ');
}

function columns(rows: [string, string][], indent = '  '): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`);
}

export function commandHelp(command: CommandSpec): string {
  const flagRows: [string, string][] = Object.entries(flagsOf(command)).map(([name, spec]) => [
    `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`,
    spec.help,
  ]);
  flagRows.push(['-h, --help', 'Show this help']);
  const settings = command.settings ? ['', ...settingsHelp()] : [];
  return [usageLine(command), '', command.summary, ...(command.details ? [command.details] : []), '', 'Flags:', ...columns(flagRows), ...settings, '', 'Example:', `  ${command.example}`, ''].join('\n');
}

/** Every setting of the settings table: its variable, what it does, its default. */
export function settingsHelp(): string[] {
  const rows = SETTING_KEYS.map((key): [string, string] => {
    const spec = settingOf(key);
    const notes = [...(defaultText(key) === 'none' ? [] : [`default ${defaultText(key)}`]), ...(spec.secret === 'value' ? ['secret'] : [])];
    return [variableOf(key), `${spec.help}${notes.length ? ` [${notes.join('; ')}]` : ''}`];
  });
  return [
    `Settings: a flag wins over its GATEHOUSE_* variable, which wins over the file (--config or ${CONFIG_FILE.variable}), then the default.`,
    'In the file, a key is the variable\'s name in lower case without GATEHOUSE_ (GATEHOUSE_LOG_LEVEL: log_level = "warn").',
    ...columns(rows),
  ];
}

export function groupHelp(group: string): string {
  const subs = subcommandsOf(group);
  return [
    `Usage: gatehouse ${group} <${subs.map((c) => c.name.split(' ')[1]).join('|')}> [flags]`,
    '',
    GROUPS[group],
    '',
    'Commands:',
    ...columns(subs.map((c) => [c.name, c.summary])),
    '',
    `Run 'gatehouse ${group} COMMAND --help' for a command's flags and an example.`,
    '',
  ].join('\n');
}

export function generalHelp(): string {
  const server = COMMANDS.filter((c) => !c.client);
  const client = COMMANDS.filter((c) => c.client);
  const connection = Object.entries(connectionFlags).map(([name, spec]): [string, string] => [`--${name}${spec.type === 'string' ? ` ${spec.value}` : ''}`, spec.help]);
  return [
    'Usage: gatehouse <command> [flags]',
    '',
    'Server commands (run where the store is):',
    ...columns(server.map((c) => [c.name, c.summary])),
    '',
    'Client commands (call a running Gatehouse over its HTTP API with the key of a saved profile):',
    ...columns(client.map((c) => [c.name, c.summary])),
    '',
    'Every client command takes:',
    ...columns(connection),
    '',
    "Run 'gatehouse COMMAND --help' for a command's flags and an example; 'gatehouse --version' for the version.",
    `Configuration: flags, GATEHOUSE_* variables or a TOML file (--config FILE or ${CONFIG_FILE.variable}); 'gatehouse start --help'`,
    "lists every setting, 'gatehouse config check' shows those in effect (docs/configuration.md). GATEHOUSE_HOME is where",
    'client profiles are kept (default ~/.gatehouse).',
    '',
  ].join('\n');
}

/** What a usage error prints: what was wrong, the usage line, and where to read more. */
export function usageErrorText(name: string, message: string, command?: CommandSpec): string {
  const usage = command ? usageLine(command) : `Usage: gatehouse ${name} <${subcommandsOf(name).map((c) => c.name.split(' ')[1]).join('|')}> [flags]`;
  return `gatehouse ${name}: ${message}\n${usage}\nRun 'gatehouse ${name} --help' for more.`;
}
