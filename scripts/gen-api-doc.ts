// Writes the generated parts of docs/api.md from the code: the route table (from the app's own
// RouteSpecs) and the error-code table (from src/errors.ts). Hand-written text outside the
// markers is kept. `npx tsx scripts/gen-api-doc.ts` writes; `--check` only reports staleness.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { regenerateDoc } from './regenerate-doc.js';
import { createApp, type App } from '../src/app.js';
import type { Requirement } from '../src/authz/requirements.js';
import { systemClock } from '../src/clock.js';
import { ERRORS } from '../src/errors.js';
import type { RouteSpec } from '../src/http/route.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/store.js';
import { openCache } from '../src/cache/open.js';

export const API_DOC_PATH = fileURLToPath(new URL('../docs/api.md', import.meta.url));

const MARKERS = {
  routes: ['<!-- routes:start -->', '<!-- routes:end -->'],
  errors: ['<!-- errors:start -->', '<!-- errors:end -->'],
} as const;

/** `/api/users/:user_id` → `/api/users/{user_id}`, as Prefect's documentation writes paths. */
export function prefectPath(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, '{$1}');
}

export function describeNeed(requirement: Requirement): string {
  switch (requirement.kind) {
    case 'public':
      return 'public';
    case 'authenticated':
      return 'any valid key or session';
    case 'self':
      return 'the user themself';
    case 'account':
      return `account permission \`${requirement.permission}\``;
    case 'workspace':
      return requirement.scope === null ? 'any workspace role' : `workspace scope \`${requirement.scope}\``;
    case 'scim':
      return "the account's SCIM token";
  }
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function successStatus(route: RouteSpec): string {
  return Object.keys(route.response)
    .filter((status) => /^2\d\d$/.test(status))
    .join(', ');
}

// A reader's order: the caller first, then the account and what lives in it. A tag not listed
// here still gets its table, after these, in the order the app registers it.
const TAG_ORDER = [
  'Me',
  'Users',
  'Accounts',
  'Account roles',
  'Account memberships',
  'Service accounts',
  'Workspaces',
  'Workspace access',
  'Workspace roles',
  'Audit',
  'Meta',
];

/** One table per tag; routes keep the order the app registers them in. */
export function renderRoutes(routes: RouteSpec[]): string {
  const byTag = new Map<string, RouteSpec[]>(TAG_ORDER.map((tag) => [tag, []]));
  for (const route of routes) {
    const tag = route.tags[0] ?? 'Other';
    byTag.set(tag, [...(byTag.get(tag) ?? []), route]);
  }
  const sections = [...byTag].filter(([, list]) => list.length > 0).map(([tag, list]) => {
    const rows = list.map(
      (r) => `| ${r.method} | \`${prefectPath(r.url)}\` | ${cell(describeNeed(r.requirement))} | ${successStatus(r)} | ${cell(r.summary)} |`,
    );
    return [`### ${tag}`, '', '| Method | Path | Needs | Success | Summary |', '|---|---|---|---|---|', ...rows].join('\n');
  });
  return sections.join('\n\n');
}

export function renderErrors(): string {
  const rows = Object.entries(ERRORS).map(([code, { status, message }]) => `| \`${code}\` | ${status} | ${cell(message)} |`);
  return ['| Code | Status | Message |', '|---|---|---|', ...rows].join('\n');
}

function replaceBetween(text: string, [start, end]: readonly [string, string], body: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to === -1 || to < from) throw new Error(`docs/api.md lacks the markers ${start} … ${end}`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/** Runs `use` on the real app, built the way production builds it, on a throwaway SQLite store. */
export async function withApp<T>(use: (app: App) => T | Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-apidoc-'));
  const store = await openStore({ dataDir });
  const cache = openCache(store);
  try {
    await migrate(store);
    const app = await createApp({ store, cache, clock: systemClock });
    try {
      await app.server.ready();
      return await use(app);
    } finally {
      await app.server.close();
    }
  } finally {
    await cache.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The routes of the real app. */
export function appRoutes(): Promise<RouteSpec[]> {
  return withApp((app) => app.routes);
}

/** docs/api.md as it should read: `current` with both generated sections replaced. */
export async function generateApiDoc(
  current: string = readFileSync(API_DOC_PATH, 'utf8'),
  routes?: RouteSpec[],
): Promise<string> {
  routes ??= await appRoutes();
  return replaceBetween(replaceBetween(current, MARKERS.routes, renderRoutes(routes)), MARKERS.errors, renderErrors());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await regenerateDoc(API_DOC_PATH, generateApiDoc, 'npm run docs:api');
}
