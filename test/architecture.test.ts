// The layers of docs/architecture.md, checked: what each top-level folder (or module) of src/ may
// import, that no two of them import each other, and that no two concept folders of src/domain/
// import each other, even through a third.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** Top-level folder or module → what it may import (besides itself). `*`: anything. Kept in step with docs/architecture.md. */
export const ALLOWED: Record<string, readonly string[] | '*'> = {
  errors: [],
  clock: [],
  failpoints: [],
  'secret-key': [],
  'url-password': [],
  'leak-report-keys': [],
  'edit-distance': [],
  observability: [],
  authz: ['errors'],
  store: ['authz', 'errors', 'clock', 'failpoints', 'url-password', 'observability'],
  cache: ['store', 'errors', 'clock', 'observability'],
  mail: ['errors', 'clock', 'url-password'],
  settings: ['mail', 'secret-key'],
  'config-file': ['settings', 'edit-distance'],
  config: ['errors', 'clock', 'mail', 'secret-key', 'settings', 'config-file', 'url-password', 'leak-report-keys'],
  domain: ['store', 'cache', 'authz', 'mail', 'errors', 'clock', 'failpoints', 'secret-key', 'observability'],
  auth: ['domain', 'store', 'cache', 'authz', 'errors', 'clock', 'observability'],
  http: ['auth', 'domain', 'authz', 'store', 'cache', 'mail', 'errors', 'clock', 'config', 'leak-report-keys'],
  gateway: ['auth', 'authz', 'domain', 'http', 'errors', 'clock', 'observability'],
  tracing: ['auth', 'domain', 'gateway', 'config'],
  app: '*',
  main: '*',
  cli: '*',
};

interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?\sfrom\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Every relative import of a non-test .ts file under `root`, as paths relative to `root` without extension. */
export function relativeImports(root: string, files: Array<{ path: string; text: string }>): Import[] {
  const found: Import[] = [];
  for (const { path, text } of files) {
    for (const match of text.matchAll(IMPORT)) {
      const target = match[1] ?? match[2] ?? match[3];
      const to = relative(root, resolve(dirname(path), target)).replace(/\.js$/, '');
      found.push({ from: relative(root, path).replace(/\.ts$/, ''), to });
    }
  }
  return found;
}

/** `http/routes/access` → `http`; `errors` → `errors`. */
const topOf = (module: string) => module.split('/')[0];
/** Within src/domain: `domain/users/service` → `users`; `domain/plan` → `plan`. */
const conceptOf = (module: string) => module.split('/')[1];

export function forbiddenImports(imports: Import[], allowed = ALLOWED): string[] {
  const problems: string[] = [];
  for (const { from, to } of imports) {
    const [a, b] = [topOf(from), topOf(to)];
    if (a === b) continue;
    const rule = allowed[a];
    if (rule === undefined) problems.push(`${from}: src/${a} has no rule in test/architecture.test.ts (add one, and a row in docs/architecture.md)`);
    else if (rule !== '*' && !rule.includes(b)) problems.push(`${from} imports ${to}: src/${a} may import only ${rule.join(', ') || 'nothing of ours'}`);
  }
  return [...new Set(problems)];
}

/** Every edge that lies on a cycle (its target leads back to its source, directly or through others). */
export function cycles(edges: Array<[string, string]>): string[] {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of edges) if (a !== b) (next.get(a) ?? next.set(a, new Set()).get(a)!).add(b);
  const reach = (start: string) => {
    const seen = new Set<string>();
    const stack = [...(next.get(start) ?? [])];
    while (stack.length) {
      const node = stack.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      stack.push(...(next.get(node) ?? []));
    }
    return seen;
  };
  const found: string[] = [];
  for (const [a, targets] of next) for (const b of targets) if (reach(b).has(a)) found.push(`${a} → ${b}`);
  return found.sort();
}

const files = sourceFiles(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
const imports = relativeImports(SRC, files);

describe('the layers of src/ (docs/architecture.md)', () => {
  it('finds the imports it checks', () => {
    expect(imports.length).toBeGreaterThan(300);
    expect(imports).toContainEqual({ from: 'app', to: 'http/auth' });
  });

  it('lets each folder import only the layers below it', () => {
    expect(forbiddenImports(imports)).toEqual([]);
  });

  it('has no two top-level folders that import each other', () => {
    const edges = imports.map(({ from, to }) => [topOf(from), topOf(to)] as [string, string]);
    expect(cycles(edges)).toEqual([]);
  });

  it('has no cycle between the concept folders of src/domain/', () => {
    const inDomain = imports.filter(({ from, to }) => topOf(from) === 'domain' && topOf(to) === 'domain');
    const edges = inDomain.map(({ from, to }) => [conceptOf(from), conceptOf(to)] as [string, string]);
    expect(cycles(edges)).toEqual([]);
  });

  describe('the checks themselves', () => {
    const root = '/r';
    const file = (path: string, text: string) => ({ path: join(root, path), text });

    it('catches a forbidden import, static or dynamic', () => {
      const found = relativeImports(root, [
        file('store/store.ts', "import { x } from '../domain/deps.js';"),
        file('authz/a.ts', "const m = await import('../store/store.js');"),
        file('errors.ts', "export type { Y } from './clock.js';"),
      ]);
      expect(forbiddenImports(found)).toEqual([
        'store/store imports domain/deps: src/store may import only authz, errors, clock, failpoints, url-password, observability',
        'authz/a imports store/store: src/authz may import only errors',
        'errors imports clock: src/errors may import only nothing of ours',
      ]);
    });

    it('catches two folders that import each other, and a cycle through a third', () => {
      expect(cycles([['a', 'b'], ['b', 'a'], ['c', 'd'], ['d', 'e'], ['e', 'c'], ['f', 'a']])).toEqual(['a → b', 'b → a', 'c → d', 'd → e', 'e → c']);
    });
  });
});
