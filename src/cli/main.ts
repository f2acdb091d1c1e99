// The `gatehouse` command: one binary for the server and its administration. Which command runs,
// its flags and its help all come from the table in commands.ts.
import { parseArgv, UsageError } from './args.js';
import { COMMANDS, GROUPS, VERSION, findCommand, flagsOf, subcommandsOf } from './commands.js';
import { commandHelp, generalHelp, groupHelp, usageErrorText } from './help.js';
import { ApiError } from './client/http.js';
import { editDistance as distance } from '../edit-distance.js';

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

/** A misspelt command's likely meaning: at most two edits away, or what it abbreviates (list → ls). */
function nearest(word: string, names: string[]): string | undefined {
  const close = names.map((n) => ({ n, d: distance(word, n) })).filter(({ d }) => d <= 2).sort((a, b) => a.d - b.d)[0];
  if (close) return close.n;
  return names.find((n) => n.length >= 2 && word.startsWith(n[0]!) && [...n].every((c, i) => word.indexOf(c, i) !== -1));
}

function failJson(message: string, code: string | null, status: number | null): void {
  console.error(JSON.stringify({ detail: message, code, status }));
}

export async function main(argv: string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined) {
    console.error(generalHelp());
    return 2;
  }
  if (isHelp(first)) {
    console.log(generalHelp());
    return 0;
  }
  if (first === '--version' || first === '-V') {
    console.log(`gatehouse ${VERSION}`);
    return 0;
  }
  const helpFor = first === 'help';
  const found = findCommand(helpFor ? argv.slice(1) : argv);
  if (helpFor && !found.command && !found.group) {
    if (argv.length === 1) {
      console.log(generalHelp());
      return 0;
    }
  }
  const wantsJson = argv.includes('--json');
  if (found.group !== undefined) {
    const [sub] = found.rest;
    if (helpFor || sub === undefined || isHelp(sub)) {
      if (helpFor || isHelp(sub)) {
        console.log(groupHelp(found.group));
        return 0;
      }
      return usage(found.group, `missing a command: ${subcommandsOf(found.group).map((c) => c.name.split(' ')[1]).join(', ')}`, undefined, wantsJson);
    }
    const names = subcommandsOf(found.group).map((c) => c.name.split(' ')[1]!);
    const guess = nearest(sub, names);
    return usage(found.group, `unknown command "${found.group} ${sub}"${guess ? ` (did you mean "${found.group} ${guess}"?)` : `; use ${names.join(', ')}`}`, undefined, wantsJson);
  }
  const command = found.command;
  if (!command) {
    const word = helpFor ? argv[1]! : first;
    const names = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]!)), ...Object.keys(GROUPS)];
    const guess = nearest(word, names);
    console.error(`gatehouse: unknown command "${word}"${guess ? `; did you mean "${guess}"?` : ''}\nRun 'gatehouse --help' for the list of commands.`);
    return 2;
  }
  if (helpFor) {
    console.log(commandHelp(command));
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgv(found.rest, flagsOf(command), command.positionals);
  } catch (error) {
    if (error instanceof UsageError) return usage(command.name, error.message, command, wantsJson);
    throw error;
  }
  if (parsed.help) {
    console.log(commandHelp(command));
    return 0;
  }
  const json = parsed.flags.json === true && command.client;
  try {
    return await command.run({ flags: parsed.flags, args: parsed.args });
  } catch (error) {
    if (error instanceof UsageError) return usage(command.name, error.message, command, json);
    if (error instanceof ApiError) {
      if (json) failJson(error.hint ? `${error.detail}: ${error.hint}` : error.detail, error.code, error.status);
      else console.error(`gatehouse ${command.name}: ${error.message}`);
      return 1;
    }
    const code = (error as { code?: string }).code;
    let message = (error as Error).message;
    if (code === 'EADDRINUSE') {
      const { address, port } = error as { address?: string; port?: number };
      const where = port === undefined ? 'the port' : `port ${port}${address ? ` on ${address}` : ''}`;
      message = `${where} is already in use; choose another with --port (or GATEHOUSE_PORT) or stop the server that holds it`;
    } else if (code === 'ECONNREFUSED') {
      message = `cannot reach the database (${message}); is PostgreSQL running at that URL?`;
    }
    if (json) failJson(message, null, null);
    else console.error(`gatehouse ${command.name}: ${message}`);
    return 1;
  }
}

function usage(name: string, message: string, command: Parameters<typeof usageErrorText>[2], json: boolean): number {
  if (json) failJson(message, 'USAGE', null);
  else console.error(usageErrorText(name, message, command));
  return 2;
}
