// `gatehouse config check` run as a user runs it, `start` and a store command reading the file, and
// the settings table against what the help prints and what docs/configuration.md says, so that
// neither can drift from the table.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandHelp } from '../src/cli/help.js';
import { findCommand, flagsOf } from '../src/cli/commands.js';
import { CONFIG_FILE, SETTING_KEYS, defaultText, flagOf, settingOf, variableOf } from '../src/settings.js';
import { ROOT } from './support/build.js';
import { STORE_KIND } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/gatehouse.js ARGS` with no GATEHOUSE_* variable from the developer's shell, only `env`. */
function gatehouse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_')));
  return new Promise((resolve) => {
    execFile('node', ['bin/gatehouse.js', ...args], { cwd: ROOT, env: { ...clean, GATEHOUSE_HOME: join(dir, 'home'), ...env }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

const KEY = Buffer.alloc(32, 9).toString('base64');
const write = (name: string, text: string, mode = 0o600) => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  return path;
};

describe('gatehouse config check', () => {
  it('prints every setting as TOML with its source, the secrets masked', async () => {
    const path = write('check.toml', 'port = 5001\nlog_level = "warn"\ndatabase_url = "postgres://gh:db-hunter2@db.example.com/gh"\nsmtp_url = "smtp://ops:smtp-hunter2@mail.example.com:587"\n');
    const run = await gatehouse(['config', 'check', '--config', path, '--log-level', 'error'], { GATEHOUSE_SECRET_KEY: KEY, GATEHOUSE_PORT: '5002' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`# Gatehouse's effective configuration (file: ${path}).`);
    const line = (key: string) => lines.find((l) => l.startsWith(`${key} = `) || l.startsWith(`# ${key} is not set`))?.replace(/\s+#/, '  #');
    expect(line('port')).toBe('port = 5002  # GATEHOUSE_PORT');
    expect(line('log_level')).toBe('log_level = "error"  # --log-level');
    expect(line('database_url')).toBe('database_url = "postgres://gh:*****@db.example.com/gh"  # file');
    expect(line('smtp_url')).toBe('smtp_url = "smtp://ops:*****@mail.example.com:587"  # file');
    expect(line('secret_key')).toMatch(/^secret_key = "\*\*\*\*\*"  # GATEHOUSE_SECRET_KEY \(key id [0-9a-f]{8}\)$/);
    expect(line('host')).toBe('host = "127.0.0.1"  # default');
    expect(line('public_url')).toBe('# public_url is not set: the address Gatehouse listens on');
    for (const key of SETTING_KEYS) expect(line(key), key).toBeDefined();
    expect(run.stdout).not.toMatch(/hunter2/);
    expect(run.stdout).not.toContain(KEY);
  });

  it('--json gives each value and its source, masked the same way', async () => {
    const run = await gatehouse(['config', 'check', '--json'], { GATEHOUSE_PREVIOUS_SECRET_KEYS: `${KEY},${KEY}`, GATEHOUSE_AUTH_CACHE: 'off' });
    expect(run.code, run.stderr).toBe(0);
    const body = JSON.parse(run.stdout) as { file: string | null; settings: Record<string, { value: unknown; source: string }> };
    expect(body.file).toBeNull();
    expect(Object.keys(body.settings)).toEqual(SETTING_KEYS);
    expect(body.settings.previous_secret_keys).toEqual({ value: ['*****', '*****'], source: 'GATEHOUSE_PREVIOUS_SECRET_KEYS' });
    expect(body.settings.auth_cache).toEqual({ value: false, source: 'GATEHOUSE_AUTH_CACHE' });
    expect(body.settings.database_url).toEqual({ value: null, source: 'default' });
  });

  it('exits 2 with the message alone for an invalid configuration', async () => {
    const path = write('bad.toml', 'port = "4280"\n');
    const [file, variable, keyFile] = await Promise.all([
      gatehouse(['config', 'check', '--config', path]),
      gatehouse(['config', 'check'], { GATEHOUSE_BODY_LIMIT: '12' }),
      gatehouse(['config', 'check'], { GATEHOUSE_SECRET_KEY_FILE: join(dir, 'no-such.key') }),
    ]);
    expect([file.code, file.stdout, file.stderr]).toEqual([2, '', `gatehouse config check: Invalid port = "4280" in ${path}: use a number from 0 to 65535 (the file gives a string; port takes an integer)\n`]);
    expect([variable.code, variable.stderr]).toEqual([2, 'gatehouse config check: Invalid GATEHOUSE_BODY_LIMIT "12": a number of bytes, at least 1024\n']);
    // What start would find only when opening the key: checked here too.
    expect([keyFile.code, keyFile.stderr]).toEqual([2, `gatehouse config check: Cannot read the secret key file ${join(dir, 'no-such.key')}: ENOENT\n`]);
  });

  it('warns on standard error when the file holds a secret others can read', async () => {
    const path = write('open.toml', `secret_key = "${KEY}"\n`, 0o644);
    const run = await gatehouse(['config', 'check', '--config', path]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`Warning: ${path} holds secret_key and other users can read it (mode 0644): chmod 600 ${path}\n`);
  });
});

describe.skipIf(STORE_KIND !== 'sqlite')('the server commands read the file', () => {
  it('bootstrap and start use the store the file names, relative to the file', { timeout: 120_000 }, async () => {
    const folder = mkdtempSync(join(dir, 'served-'));
    const path = join(folder, 'gatehouse.toml');
    writeFileSync(path, `data_dir = "data"\nport = 0\nsecret_key = "${KEY}"\n`, { mode: 0o600 });
    const made = await gatehouse(['bootstrap', '--config', path, '--init', '--account-name', 'Acme', '--account-handle', 'acme', '--email', 'ada@example.com', '--json']);
    expect(made.code, made.stderr).toBe(0);
    // start, by GATEHOUSE_CONFIG, from another directory: the store is the one bootstrap made.
    const { spawn } = await import('node:child_process');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_')));
    const child = spawn('node', [join(ROOT, 'bin/gatehouse.js'), 'start'], { cwd: tmpdir(), env: { ...clean, GATEHOUSE_CONFIG: path }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const serving = await new Promise<string>((resolve, reject) => {
        // Generous: a loaded 2-core machine can take many seconds to start a Node process.
        const timer = setTimeout(() => reject(new Error(`no "serving on" line within 60 s:\n${out}`)), 60_000);
        const keep = (chunk: Buffer) => {
          out += String(chunk);
          const line = out.split('\n').find((l) => l.includes('serving on'));
          if (line) {
            clearTimeout(timer);
            resolve(line);
          }
        };
        child.stdout!.on('data', keep);
        child.stderr!.on('data', keep);
      });
      expect(serving).toContain(`(store: SQLite ${join(folder, 'data', 'gatehouse.db')})`);
      expect(out).not.toContain('No account exists yet');
      const url = /serving on (\S+)/.exec(serving)![1];
      const key = (JSON.parse(made.stdout.trim().split('\n').at(-1)!) as { api_key: string }).api_key;
      const me = await fetch(`${url}/api/me/`, { headers: { authorization: `Bearer ${key}` } });
      expect(me.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('the settings table, the help and the docs agree', () => {
  const start = findCommand(['start']).command!;
  const help = commandHelp(start);

  it('start takes --config and a flag for each setting the table gives one, with its variable and default in the help', () => {
    const withFlag = SETTING_KEYS.filter((key) => flagOf(key));
    expect(Object.keys(flagsOf(start))).toEqual([CONFIG_FILE.flag, ...withFlag.map((key) => flagOf(key)!)]);
    for (const key of withFlag) {
      const line = help.split('\n').find((l) => l.startsWith(`  --${flagOf(key)} ${settingOf(key).value} `));
      expect(line, key).toBeDefined();
      expect(line).toContain(settingOf(key).help);
      expect(line).toContain(variableOf(key));
      if (defaultText(key) !== 'none') expect(line).toContain(`default ${defaultText(key)}`);
    }
    expect(Object.keys(flagsOf(findCommand(['config', 'check']).command!))).toEqual([...Object.keys(flagsOf(start)), 'json']);
  });

  it("start --help lists every setting's variable with its help and default, in the table's order", async () => {
    const lines = help.split('\n');
    const rows = SETTING_KEYS.map((key) => lines.findIndex((l) => new RegExp(`^  ${variableOf(key)} +${settingOf(key).help.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(l)));
    expect(rows.every((row) => row > 0), SETTING_KEYS.filter((_, i) => rows[i]! <= 0).join(', ')).toBe(true);
    expect([...rows].sort((a, b) => a - b)).toEqual(rows);
    for (const key of SETTING_KEYS) if (defaultText(key) !== 'none') expect(lines[rows[SETTING_KEYS.indexOf(key)]!]).toContain(`default ${defaultText(key)}`);
    // The command prints what the table renders.
    const run = await gatehouse(['start', '--help']);
    expect(run.stdout).toBe(`${help}\n`);
  });

  it('docs/configuration.md has one row per setting: its key, flag, variable and default', () => {
    const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    // The settings table's rows: a key, then a variable (the client commands' table has neither).
    const rows = doc.split('\n').filter((l) => /^\| `[a-z_]+` \|[^|]*\| `GATEHOUSE_/.test(l));
    const cells = (row: string) => row.split('|').slice(1).map((c) => c.replace(/`/g, '').trim());
    expect(rows.map((row) => cells(row)[0])).toEqual(SETTING_KEYS);
    for (const [i, key] of SETTING_KEYS.entries()) {
      const [, flag, variable, fallback] = cells(rows[i]!);
      expect(flag, key).toBe(flagOf(key) ? `--${flagOf(key)}` : '');
      expect(variable, key).toBe(variableOf(key));
      expect(fallback, key).toContain(defaultText(key));
    }
  });

  it("docs/configuration.md's example file names every key and is a valid configuration", async () => {
    const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    const example = /\n```toml\n([\s\S]*?)\n```\n/.exec(doc)?.[1];
    expect(example, 'a ```toml block').toBeDefined();
    const named = new Set([...example!.matchAll(/^#? ?([a-z_]+) = /gm)].map((m) => m[1]));
    expect(SETTING_KEYS.filter((key) => !named.has(key))).toEqual([]);
    const path = write('example.toml', example!);
    const { loadConfig } = await import('../src/config.js');
    const loaded = loadConfig({ config: path }, {});
    expect(loaded.ok ? 'valid' : loaded.error).toBe('valid');
  });
});
