// Writes the generated route table of docs/gateway-routes.md from src/gateway/route-table.ts.
// Hand-written text outside the markers is kept. `npx tsx scripts/gen-gateway-doc.ts` writes;
// `--check` only reports staleness (src/gateway/route-table.test.ts runs the same comparison).
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { regenerateDoc } from './regenerate-doc.js';
import { ROUTE_TABLE, type GatewayRoute } from '../src/gateway/route-table.js';

export const GATEWAY_DOC_PATH = fileURLToPath(new URL('../docs/gateway-routes.md', import.meta.url));

const MARKERS = ['<!-- gateway-routes:start -->', '<!-- gateway-routes:end -->'] as const;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** What a route needs, in words: `member`, or its scopes, plus the include_secrets rule. */
export function describeScopes(route: GatewayRoute): string {
  const scopes = route.scopes.length === 0 ? 'member' : route.scopes.map((s) => `\`${s}\``).join(' + ');
  return route.secrets === undefined ? scopes : `${scopes}; + \`see_secret_blocks\` if include_secrets (${route.secrets})`;
}

/** One table per Prefect module, in table (and so Starlette) order. */
export function renderGatewayRoutes(table: readonly GatewayRoute[] = ROUTE_TABLE): string {
  const groups: Array<{ module: string; routes: GatewayRoute[] }> = [];
  for (const route of table) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last.module === route.module) last.routes.push(route);
    else groups.push({ module: route.module, routes: [route] });
  }
  const sections = groups.map(({ module, routes }) => {
    const rows = routes.map((r) => `| ${r.method} | \`${r.path}\` | ${cell(describeScopes(r))} | ${cell(r.note ?? '')} |`);
    return [`### ${module} (${routes.length})`, '', '| Method | Path | Scopes | Why |', '|---|---|---|---|', ...rows].join('\n');
  });
  return [`${table.length} routes.`, ...sections].join('\n\n');
}

/** docs/gateway-routes.md as it should read: `current` with the generated section replaced. */
export function generateGatewayDoc(current: string = readFileSync(GATEWAY_DOC_PATH, 'utf8')): string {
  const [start, end] = MARKERS;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  if (from === -1 || to === -1 || to < from) throw new Error(`docs/gateway-routes.md lacks the markers ${start} … ${end}`);
  return `${current.slice(0, from + start.length)}\n${renderGatewayRoutes()}\n${current.slice(to)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await regenerateDoc(GATEWAY_DOC_PATH, generateGatewayDoc, 'npm run docs:gateway');
}
