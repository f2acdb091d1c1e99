// `gatehouse completion bash|zsh`: a completion script generated from the command table, so a new
// command or flag completes without editing a script by hand.
import { UsageError } from './args.js';
import { COMMANDS, flagsOf } from './commands.js';

/** Each command's words and its flags: { "": top-level words, "workspace": subcommands, "workspace ls": flags }. */
function completionTable(): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const add = (key: string, words: string[]) => table.set(key, [...new Set([...(table.get(key) ?? []), ...words])]);
  add('', ['--help', '--version']);
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    add('', [words[0]!]);
    if (words.length === 2) add(words[0]!, [words[1]!]);
    add(command.name, [...Object.keys(flagsOf(command)).map((f) => `--${f}`), '--help']);
  }
  return table;
}

function bash(): string {
  const cases = [...completionTable()].map(([key, words]) => `    ${JSON.stringify(key)}) words=${JSON.stringify(words.join(' '))} ;;`);
  return `# gatehouse completion for bash: source <(gatehouse completion bash)
_gatehouse() {
  local cur key words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  key=""
  if [ "$COMP_CWORD" -ge 2 ]; then key="\${COMP_WORDS[1]}"; fi
  if [ "$COMP_CWORD" -ge 3 ] && [[ "\${COMP_WORDS[2]}" != -* ]]; then key="\${COMP_WORDS[1]} \${COMP_WORDS[2]}"; fi
  words=""
  case "$key" in
${cases.join('\n')}
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _gatehouse gatehouse
`;
}

function zsh(): string {
  const cases = [...completionTable()].map(([key, words]) => `    ${JSON.stringify(key)}) candidates=(${words.join(' ')}) ;;`);
  return `#compdef gatehouse
# gatehouse completion for zsh: source <(gatehouse completion zsh)
_gatehouse() {
  local key=""
  local -a candidates
  if (( CURRENT >= 3 )); then key="\${words[2]}"; fi
  if (( CURRENT >= 4 )) && [[ "\${words[3]}" != -* ]]; then key="\${words[2]} \${words[3]}"; fi
  case "$key" in
${cases.join('\n')}
  esac
  compadd -- $candidates
}
compdef _gatehouse gatehouse
`;
}

export async function completionScript(shell: string): Promise<number> {
  if (shell === 'bash') process.stdout.write(bash());
  else if (shell === 'zsh') process.stdout.write(zsh());
  else throw new UsageError(`no completion for "${shell}": use bash or zsh`);
  return 0;
}
