// `gatehouse --help`, per-command help, usage errors, --version and shell completion, run as a user
// runs them (`node bin/gatehouse.js …`), plus the command table's own consistency: the usage line of
// each command names exactly the flags it parses.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, connectionFlags } from '../src/cli/commands.js';
import { ROOT } from './support/build.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function gatehouse(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('node', ['bin/gatehouse.js', ...args], { cwd: ROOT, env: { ...process.env, GATEHOUSE_HOME: '/nonexistent-gatehouse-home' }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const NODE_WORDING = /parseArgs|ERR_PARSE_ARGS|To specify a positional argument|place it at the end of the command/;

describe('per-command --help', () => {
  it('login --help prints the usage line, each flag and an example on stdout, exit 0, not the general help', async () => {
    const run = await gatehouse(['login', '--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Usage: gatehouse login --key KEY [--url http://127.0.0.1:4280] [--workspace ACCOUNT/WORKSPACE] [--profile NAME] [--json]');
    expect(lines).toContain('Flags:');
    expect(lines.find((l) => l.startsWith('  --key KEY'))).toMatch(/pnu_ user key or a pnb_ service account key/);
    expect(lines).toContain('Example:');
    expect(run.stdout).toContain('  gatehouse login --key');
    expect(run.stdout).not.toContain('Server commands');
    expect(run.stdout).not.toMatch(NODE_WORDING);
  });

  it('takes -h anywhere among the flags, and `gatehouse help COMMAND`', async () => {
    const [short, late, viaHelp] = await Promise.all([
      gatehouse(['service-account', 'create', '-h']),
      gatehouse(['service-account', 'create', 'x', '--role', 'Worker', '--help']),
      gatehouse(['help', 'service-account', 'create']),
    ]);
    for (const run of [short, late, viaHelp]) {
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n')[0]).toBe('Usage: gatehouse service-account create NAME [--expires YYYY-MM-DD | --never-expire] [--role ROLE] [--profile NAME] [--url URL] [--json]');
      expect(run.stdout).toContain('--never-expire');
      expect(run.stdout).toContain('gatehouse service-account create ci-worker --expires 2030-12-31 --role Worker');
    }
    expect(late.stdout).toBe(short.stdout);
    expect(viaHelp.stdout).toBe(short.stdout);
  });

  it('workspace --help lists its subcommands', async () => {
    const run = await gatehouse(['workspace', '--help']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Usage: gatehouse workspace <ls|set|show|check|create|rm> [flags]');
    for (const sub of ['ls', 'set', 'show', 'check', 'create', 'rm']) expect(lines.some((l) => l.startsWith(`  workspace ${sub} `))).toBe(true);
    expect(run.stdout).toContain("Run 'gatehouse workspace COMMAND --help'");
  });

  it('every command of the table has --help with its own usage line', async () => {
    const runs = await Promise.all(COMMANDS.map((c) => gatehouse([...c.name.split(' '), '--help'])));
    runs.forEach((run, i) => {
      expect(run.code, COMMANDS[i]!.name).toBe(0);
      expect(run.stdout.startsWith(`Usage: gatehouse ${COMMANDS[i]!.name}`)).toBe(true);
    });
  });
});

describe('usage errors: one line saying what is wrong, the usage line, where to read more; exit 2', () => {
  it('an unknown flag, in plain words instead of Node parseArgs wording', async () => {
    const run = await gatehouse(['login', '--x']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      'gatehouse login: unknown flag --x',
      'Usage: gatehouse login --key KEY [--url http://127.0.0.1:4280] [--workspace ACCOUNT/WORKSPACE] [--profile NAME] [--json]',
      "Run 'gatehouse login --help' for more.",
      '',
    ]);
  });

  it('a flag without its value, an unexpected argument, a misspelt flag, a single-dash flag', async () => {
    const [noValue, extra, near, dash, twice] = await Promise.all([
      gatehouse(['service-account', 'create', 'x', '--expires']),
      gatehouse(['whoami', 'me']),
      gatehouse(['service-account', 'create', 'x', '--never-expires']),
      gatehouse(['workspace', 'ls', '-j']),
      gatehouse(['workspace-access', 'grant', '--role', 'Viewer', '--role', 'Owner']),
    ]);
    expect([noValue, extra, near, dash, twice].map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    expect(noValue.stderr.split('\n')[0]).toBe('gatehouse service-account create: --expires needs a value: --expires YYYY-MM-DD');
    expect(extra.stderr.split('\n')[0]).toBe('gatehouse whoami: unexpected argument "me"');
    expect(near.stderr.split('\n')[0]).toBe('gatehouse service-account create: unknown flag --never-expires (did you mean --never-expire?)');
    expect(dash.stderr.split('\n')[0]).toBe('gatehouse workspace ls: unknown flag -j (flags are written --name)');
    expect(twice.stderr.split('\n')[0]).toBe('gatehouse workspace-access grant: --role is given twice');
    for (const run of [noValue, extra, near, dash, twice]) {
      expect(run.stderr.split('\n')).toHaveLength(4);
      expect(run.stderr).not.toMatch(NODE_WORDING);
    }
  });

  it('a missing or unknown subcommand names the group and its commands', async () => {
    const [missing, unknown] = await Promise.all([gatehouse(['workspace']), gatehouse(['service-account', 'list'])]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n')).toEqual([
      'gatehouse workspace: missing a command: ls, set, show, check, create, rm',
      'Usage: gatehouse workspace <ls|set|show|check|create|rm> [flags]',
      "Run 'gatehouse workspace --help' for more.",
      '',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe('gatehouse service-account: unknown command "service-account list" (did you mean "service-account ls"?)');
  });

  it('an unknown command suggests the nearest one and does not print the whole help', async () => {
    const run = await gatehouse(['bootstap']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('gatehouse: unknown command "bootstap"; did you mean "bootstrap"?\nRun \'gatehouse --help\' for the list of commands.\n');
  });

  it('with --json, the usage error is one JSON document on stderr', async () => {
    const run = await gatehouse(['service-account', 'ls', '--json', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(JSON.parse(run.stderr)).toEqual({ detail: 'unknown flag --bogus', code: 'USAGE', status: null });
  });
});

describe('gatehouse --help, --version and completion', () => {
  it('the general help lists every command, one line each, with no more than 15 lines around them', async () => {
    const run = await gatehouse(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').length).toBeLessThanOrEqual(COMMANDS.length + 15);
    for (const c of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${c.name} `, 'm'));
  });

  it('--version and `version` print the package version', async () => {
    const [flag, word] = await Promise.all([gatehouse(['--version']), gatehouse(['version'])]);
    expect([flag.code, flag.stdout]).toEqual([0, `gatehouse ${VERSION}\n`]);
    expect([word.code, word.stdout]).toEqual([0, `gatehouse ${VERSION}\n`]);
  });

  it('completion bash completes commands, subcommands and flags from the command table', async () => {
    const run = await gatehouse(['completion', 'bash']);
    expect(run.code).toBe(0);
    const complete = (words: string[]) =>
      new Promise<string>((resolve, reject) => {
        const line = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _gatehouse; echo "\${COMPREPLY[*]}"`;
        const child = execFile('bash', ['-c', `source /dev/stdin <<'EOS'\n${run.stdout}\nEOS\n${line}`], (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
        child.stdin?.end();
      });
    expect((await complete(['gatehouse', 'work'])).split(' ').sort()).toEqual(['workspace', 'workspace-access']);
    expect((await complete(['gatehouse', 'workspace', ''])).split(' ')).toEqual(['ls', 'set', 'show', 'check', 'create', 'rm']);
    expect((await complete(['gatehouse', 'service-account', 'create', 'x', '--n'])).split(' ')).toEqual(['--never-expire']);
  });

  it('completion zsh defines the function for every command; an unknown shell is a usage error', async () => {
    const [zsh, fish] = await Promise.all([gatehouse(['completion', 'zsh']), gatehouse(['completion', 'fish'])]);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef gatehouse/);
    for (const c of COMMANDS) expect(zsh.stdout).toContain(`"${c.name}")`);
    expect(fish.code).toBe(2);
    expect(fish.stderr.split('\n')[0]).toBe('gatehouse completion: no completion for "fish": use bash or zsh');
  });
});

describe('the command table', () => {
  it("names each command's own flags in its usage line, and no other", () => {
    for (const c of COMMANDS) {
      const inUsage = new Set([...c.usage.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]));
      const own = Object.keys(c.flags).filter((f) => !(c.client && Object.hasOwn(connectionFlags, f) && !inUsage.has(f)));
      expect([...inUsage].sort(), c.name).toEqual(own.sort());
    }
  });

  it('gives each command an example that runs it', () => {
    for (const c of COMMANDS) expect(c.example, c.name).toContain(`gatehouse ${c.name}`);
  });
});
