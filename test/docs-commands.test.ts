// Every shell block (```sh, ```bash, ```shell, ```console) in README.md and docs/*.md runs here as
// written, or says on the line before it why it does not: `<!-- not run: REASON -->` (an nginx
// config, a systemd unit or a command that needs Prefect, Docker, Kubernetes or a production
// PostgreSQL). The skipped blocks are counted and listed in the test's output.
//
// How a page runs: its runnable blocks, in order, in one `bash -euo pipefail` session (so variables
// carry from block to block), in a scratch directory inside the clone (where `npx gatehouse` finds
// the clone's own command, as the README says), against a real Gatehouse started with `npm start`
// on a temp data directory, like a new user in a fresh shell. What the test changes, and nothing else:
// - the server gets GATEHOUSE_PORT=0 and a temp GATEHOUSE_DATA_DIR (the session gets the same data
//   directory, which stands for "from the project root"); the docs' addresses
//   http://127.0.0.1:4280 and https://gatehouse.example.com are rewritten to the port it chose;
// - the session has GATEHOUSE_HOME in a temp directory (the client commands' profiles) and, on its
//   standard input, a password: what the reader types when `set-password` asks;
// - a page under docs/ that needs what the README's quick start made says so with
//   `<!-- docs-test given: NAME ... -->`; the test then makes account "acme" with workspace
//   "production" (bootstrap and the API, as the README does) and sets the names listed:
//   MY_KEY and PREFECT_KEY (the Owner's key), ACCOUNT_ID (the account's id).
// Runs on SQLite only: the commands are the same on both stores, and the docs' server uses SQLite.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/build.js';
import { STORE_KIND } from './support/harness.js';

const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
const NOT_RUN = /^<!-- not run: (.*\S)\s*-->$/;
const GIVEN = /<!-- docs-test given: ([A-Z_ ]+?)\s*-->/;
const GIVENS = ['MY_KEY', 'PREFECT_KEY', 'ACCOUNT_ID'];
// Generous for a loaded machine: README.md takes about 15 s on an idle 2-core one.
// Generous: each `npx gatehouse` starts Node and the CLI (about 0.4 s alone, several seconds on a busy machine).
const PAGE_TIMEOUT_MS = 240_000;
// Commands that change the clone itself (its node_modules, its global link) or run the suite: an
// unmarked block with one fails instead of running.
const NEVER_RUN = /\bnpm (ci|install|i|link|test|uninstall)\b/;
const PASSWORD = 'a long passphrase for the docs test';

interface Block {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** Why it is not run, from the marker on the line before it. */
  notRun?: string;
}

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');

/** Fenced blocks of a page with their info string; a marker must sit right before a shell block. */
function blocksOf(page: string): { blocks: Block[]; strayMarkers: number[] } {
  const lines = read(page).split('\n');
  const blocks: Block[] = [];
  const strayMarkers: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^\s*```(\S*)/.exec(lines[i]);
    if (!fence) {
      if (NOT_RUN.test(lines[i].trim()) && !/^\s*```/.test(lines[i + 1] ?? '')) strayMarkers.push(i + 1);
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (end === -1) throw new Error(`${page}:${i + 1}: a fenced block that is never closed`);
    const lang = fence[1].toLowerCase();
    const marker = i > 0 ? NOT_RUN.exec(lines[i - 1].trim()) : null;
    if (marker && !SHELL.has(lang)) strayMarkers.push(i);
    if (SHELL.has(lang)) blocks.push({ page, line: i + 1, lang, code: lines.slice(i + 1, end).join('\n'), notRun: marker?.[1] });
    i = end;
  }
  return { blocks, strayMarkers };
}

/** A ```console block shows a session: its commands are the lines after a `$ ` prompt. */
function commandsOf(block: Block): string {
  if (block.lang !== 'console') return block.code;
  return block.code.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2)).join('\n');
}

describe('shell blocks in README.md and docs/', () => {
  it('are each run by this test or marked <!-- not run: REASON --> right before them', () => {
    const all = pages.flatMap((page) => blocksOf(page).blocks);
    const stray = pages.flatMap((page) => blocksOf(page).strayMarkers.map((line) => `${page}:${line}`));
    expect(stray, 'a "not run" marker that is not right before a shell block').toEqual([]);
    const dangerous = all.filter((b) => b.notRun === undefined && NEVER_RUN.test(commandsOf(b))).map((b) => `${b.page}:${b.line}`);
    expect(dangerous, 'blocks that would change the clone: mark them <!-- not run: REASON -->').toEqual([]);
    const skipped = all.filter((b) => b.notRun !== undefined);
    const run = all.filter((b) => b.notRun === undefined);
    console.info(
      `docs-commands: ${run.length} shell blocks run, ${skipped.length} not run:\n` +
        skipped.map((b) => `  ${b.page}:${b.line}  ${b.notRun}`).join('\n'),
    );
    // The README's quick start, walk-through and CLI section are run, not marked away.
    const readme = run.filter((b) => b.page === 'README.md').map((b) => b.code).join('\n');
    for (const command of ['npx gatehouse bootstrap', 'npx gatehouse set-password', 'rotate_api_key', 'npx gatehouse login', 'npx gatehouse service-account create']) {
      expect(readme).toContain(command);
    }
  });

  it('names only the givens this test knows', () => {
    for (const page of pages) {
      const given = GIVEN.exec(read(page));
      if (given) expect(given[1].split(/\s+/).filter((name) => !GIVENS.includes(name)), page).toEqual([]);
    }
  });
});

interface Server {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

// Settings a developer's shell may hold that would steer the server or the commands elsewhere.
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('GATEHOUSE_') && !name.startsWith('PREFECT_')) env[name] = value;
  }
  // npx must find the clone's own command and never fetch a package of that name from a registry.
  return { ...env, npm_config_yes: 'false', NO_COLOR: '1', ...extra };
}

/** Signals the process group the child leads (it was spawned detached); gone already is fine. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** `npm start`, as the README says, in its own process group (npm does not pass SIGTERM on). */
function npmStart(dataDir: string): Promise<Server> {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: cleanEnv({ GATEHOUSE_PORT: '0', GATEHOUSE_DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, 'SIGTERM');
    const killer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`npm start printed no "serving on" line within 30 s:\n${out}`));
    }, 30_000);
    const keep = (chunk: Buffer) => {
      out += String(chunk);
      const match = /serving on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1], child, output: () => out, stop });
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`npm start exited before serving:\n${out}`));
    });
  });
}

/**
 * Runs a command to completion with `input` on its standard input, in its own process group, so
 * that a timeout ends what it started too (a stuck `npx gatehouse` under the page's bash).
 */
function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input?: string; timeout: number }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeout} ms)`;
      killGroup(child, 'SIGKILL');
    }, options.timeout);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that exits without reading its input closes the pipe: not an error of the test.
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input ?? '');
  });
}

/** What the README's quick start made, for a page that names it as given. */
async function makeGivens(server: Server, env: NodeJS.ProcessEnv, names: string[]): Promise<string> {
  const made = await run(process.execPath, ['bin/gatehouse.js', 'bootstrap', '--account-name', 'Acme', '--account-handle', 'acme', '--email', 'ada@example.com', '--json'], {
    cwd: ROOT,
    env,
    timeout: 20_000,
  });
  if (made.code !== 0) throw new Error(`bootstrap for the givens failed:\n${made.stderr}`);
  const owner = JSON.parse(made.stdout.trimEnd().split('\n').at(-1)!) as { account_id: string; api_key: string };
  const response = await fetch(`${server.url}/api/accounts/${owner.account_id}/workspaces/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.api_key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Production', handle: 'production' }),
  });
  if (response.status !== 201) throw new Error(`creating workspace acme/production answered ${response.status}: ${await response.text()}`);
  const values: Record<string, string> = { MY_KEY: owner.api_key, PREFECT_KEY: owner.api_key, ACCOUNT_ID: owner.account_id };
  return names.map((name) => `export ${name}=${values[name]}\n`).join('');
}

/**
 * The page's runnable blocks as one script. Each block is announced on standard error by its line
 * (with the time), and on standard output by a marker line, so that its output can be told apart.
 */
const OUTPUT_MARK = '@@docs-test block@@';
function script(blocks: Block[], url: string): string {
  const rewrite = (code: string) => code.replaceAll('http://127.0.0.1:4280', url).replaceAll('https://gatehouse.example.com', url);
  return blocks
    .map((b) => `echo "--- ${b.page}:${b.line} at \${EPOCHREALTIME}" >&2\necho '${OUTPUT_MARK}'\n${rewrite(commandsOf(b))}\n`)
    .join('');
}

/**
 * A block's whole-line comments show what its commands print, and are checked loosely: a comment
 * that names JSON fields ("name":) must find each of them in the block's output; any other must
 * find its text, where "…" stands for anything.
 */
function outputMismatches(block: Block, output: string): string[] {
  const shown = commandsOf(block).split('\n').filter((l) => /^\s*#/.test(l)).map((l) => l.replace(/^\s*#\s*/, ''));
  const missing: string[] = [];
  for (const line of shown) {
    const fields = [...line.matchAll(/"([A-Za-z_]+)":/g)].map((m) => `"${m[1]}":`);
    const wanted = fields.length ? fields : line.split(/…|\.\.\./).map((part) => part.trim()).filter(Boolean);
    for (const text of wanted) if (!output.includes(text)) missing.push(`${block.page}:${block.line}: ${JSON.stringify(text)} (from "# ${line}") not in:\n${output}`);
  }
  return missing;
}

const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

const runnable = pages
  .map((page) => ({ page, blocks: blocksOf(page).blocks.filter((b) => b.notRun === undefined) }))
  .filter((p) => p.blocks.length > 0);

// The pages run side by side: each has its own server, data directory and scratch directory.
describe.skipIf(STORE_KIND !== 'sqlite').concurrent('each page\'s commands, as written, against a real Gatehouse (SQLite)', () => {
  it.each(runnable)('$page: its shell blocks run in order and exit 0', { timeout: PAGE_TIMEOUT_MS + 60_000 }, async ({ page, blocks }) => {
    const dangerous = blocks.filter((b) => NEVER_RUN.test(commandsOf(b))).map((b) => `${b.page}:${b.line}`);
    if (dangerous.length) expect.fail(`not run, they would change the clone: ${dangerous.join(', ')}`);
    // Inside the clone, so that `npx gatehouse` is the clone's command; ignored by git.
    const scratch = mkdtempSync(join(ROOT, '.docs-test-'));
    const temp = mkdtempSync(join(tmpdir(), 'gatehouse-docs-'));
    scratchDirs.push(scratch, temp);
    const dataDir = join(temp, 'data');
    const home = join(temp, 'gatehouse-home');
    mkdirSync(home);
    const server = await npmStart(dataDir);
    try {
      const env = cleanEnv({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_HOME: home });
      const given = GIVEN.exec(read(page));
      const prelude = given ? await makeGivens(server, env, given[1].split(/\s+/)) : '';
      const file = join(temp, 'page.sh');
      writeFileSync(file, prelude + script(blocks, server.url));
      const started = Date.now();
      const result = await run('bash', ['-euo', 'pipefail', file], { cwd: scratch, env, input: `${PASSWORD}\n`, timeout: PAGE_TIMEOUT_MS });
      const report = `${page} (${Date.now() - started} ms), exit ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}\n--- server\n${server.output().slice(-2000)}`;
      expect(result.code, report).toBe(0);
      const outputs = result.stdout.split(`${OUTPUT_MARK}\n`).slice(1);
      expect(outputs.length).toBe(blocks.length);
      expect(blocks.flatMap((block, i) => outputMismatches(block, outputs[i]))).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
