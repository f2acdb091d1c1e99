// The documentation must say what the code does: the generated tables in docs/api.md are current,
// every route, error code, flag and environment variable is documented, and links resolve.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_DOC_PATH, appRoutes, describeNeed, generateApiDoc, prefectPath } from '../scripts/gen-api-doc.js';
import { ERRORS } from '../src/errors.js';
import type { RouteSpec } from '../src/http/route.js';
import { generateKey, maskKey } from '../src/domain/api-keys/key-format.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const apiDoc = () => readFileSync(API_DOC_PATH, 'utf8');

describe('docs/api.md', () => {
  let routes: RouteSpec[];
  beforeAll(async () => {
    routes = await appRoutes();
  });

  it('matches the routes and error codes in the code', async () => {
    const current = apiDoc();
    const expected = await generateApiDoc(current, routes);
    if (expected !== current) expect.fail('docs/api.md is stale: run npm run docs:api');
  });

  it('has a row for every route the app registers, with its path and requirement', () => {
    const doc = apiDoc();
    expect(routes.length).toBeGreaterThan(40);
    const rows = routes.map((r) => `| ${r.method} | \`${prefectPath(r.url)}\` | ${describeNeed(r.requirement)} |`);
    expect(rows.filter((row) => !doc.includes(row))).toEqual([]);
  });

  it('lists every error code with its status', () => {
    const doc = apiDoc();
    const rows = Object.entries(ERRORS).map(([code, { status }]) => `| \`${code}\` | ${status} |`);
    expect(rows.filter((row) => !doc.includes(row))).toEqual([]);
  });

  it('shows masked_key in the shape maskKey produces', () => {
    const shape = /^pn[bu]_[0-9A-Za-z]{4}\*{8}$/;
    expect(maskKey(generateKey('bot'))).toMatch(shape);
    const examples = apiDoc().match(/pn[bu]_[0-9A-Za-z]{4}\*+/g) ?? [];
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(example).toMatch(shape);
  });
});

describe('README.md', () => {
  it('gives the install, run, test and bootstrap commands and the Prefect CLI setting', () => {
    const readme = read('README.md');
    const required = ['npm ci', 'npm start', 'npm test', 'npx gatehouse bootstrap', 'PREFECT_CLOUD_API_URL'];
    expect(required.filter((text) => !readme.includes(text))).toEqual([]);
  });

  it('puts the install-and-run commands right after the opening sentence', () => {
    const readme = read('README.md');
    const firstBlock = readme.indexOf('```');
    expect(firstBlock).toBeGreaterThan(0);
    expect(readme.slice(firstBlock, readme.indexOf('```', firstBlock + 3))).toMatch(/npm ci\s+npm start/);
    // Nothing but a title and one paragraph before it.
    expect(readme.slice(0, firstBlock).trim().split(/\n\s*\n/).length).toBeLessThanOrEqual(3);
  });
});

describe('configuration docs', () => {
  it('documents every environment variable the server and the client commands read, and no other', async () => {
    const clientSources = readdirSync(join(ROOT, 'src/cli/client')).map((f) => read(`src/cli/client/${f}`)).join('\n');
    // The server's: every setting of the settings table (src/settings.ts) and the file's own variable.
    const { CONFIG_FILE, SETTING_KEYS, variableOf } = await import('../src/settings.js');
    const server = [...SETTING_KEYS.map(variableOf), CONFIG_FILE.variable];
    const read_ = new Set([...server, ...[...clientSources.matchAll(/env\.(GATEHOUSE_[A-Z_]+)/g)].map((m) => m[1])]);
    expect(read_.size).toBeGreaterThan(5);
    const documented = new Set([...read('docs/configuration.md').matchAll(/\b(GATEHOUSE_[A-Z_]+)\b/g)].map((m) => m[1]));
    documented.delete('GATEHOUSE_TEST_STORE');
    documented.delete('GATEHOUSE_TEST_DATABASE_URL');
    expect([...documented].sort()).toEqual([...read_].sort());
  });

  it('documents every command-line flag', async () => {
    // The command table (src/cli/commands.ts) is where every command's flags are declared.
    const { COMMANDS, flagsOf } = await import('../src/cli/commands.js');
    const flags = new Set(COMMANDS.flatMap((command) => Object.keys(flagsOf(command))));
    expect(flags.size).toBeGreaterThan(8);
    const doc = read('docs/configuration.md');
    expect([...flags].filter((flag) => !doc.includes(`--${flag}`))).toEqual([]);
  });
});

describe('links', () => {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  it.each(pages)('every relative link in %s points to a file that exists', (page) => {
    const text = read(page);
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t) && !t.startsWith('#'));
    const broken = targets.filter((t) => !existsSync(resolve(dirname(join(ROOT, page)), t.split('#')[0])));
    expect(broken).toEqual([]);
  });
});

describe('file paths cited in docs and code comments', () => {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir)).flatMap((name) => {
      const path = `${dir}/${name}`;
      return statSync(join(ROOT, path)).isDirectory() ? walk(path) : [path];
    });
  const sources = () => [
    'README.md',
    ...walk('docs').filter((f) => f.endsWith('.md')),
    ...['src', 'test', 'scripts'].flatMap((dir) => walk(dir).filter((f) => /\.(ts|tsx|js)$/.test(f))),
  ];
  // A path into the repository's own folders; `reference/` is no folder of it, so a citation of one fails.
  const REPO_PATH = /(?<![\w./-])((?:src|test|docs|scripts|web|bin|reference)\/[\w./-]*\.(?:ts|tsx|js|mjs|md|json|txt|py|sh|sql|ya?ml))\b/g;
  // Not the repository's: Prefect's own source tree, and files the real-client tests write.
  const ELSEWHERE = [/^src\/prefect\//, /^test\/real\/results\//];

  it('name files that exist in the repository', () => {
    const missing: string[] = [];
    for (const file of sources()) {
      for (const [, path] of read(file).matchAll(REPO_PATH)) {
        if (!ELSEWHERE.some((pattern) => pattern.test(path!)) && !existsSync(join(ROOT, path!))) missing.push(`${file}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('name a page of docs/ by its bare name only when it exists there or at the top', () => {
    const missing: string[] = [];
    for (const file of ['README.md', ...walk('docs').filter((f) => f.endsWith('.md'))]) {
      for (const [, name] of read(file).matchAll(/`([\w.-]+\.md)`/g)) {
        if (!existsSync(join(ROOT, 'docs', name!)) && !existsSync(join(ROOT, name!))) missing.push(`${file}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
