// Writes the generated route table of docs/gateway-routes.md from src/gateway/route-table.ts.
// Hand-written text outside the markers is kept. `npx tsx scripts/gen-gateway-doc.ts` writes;
// `--check` only reports staleness (src/gateway/route-table.test.ts runs the same comparison).
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { regenerateDoc } from './regenerate-doc.js';
import { ROUTE_TABLE, type FieldScope, type FieldUse, type GatewayRoute } from '../src/gateway/route-table.js';

export const GATEWAY_DOC_PATH = fileURLToPath(new URL('../docs/gateway-routes.md', import.meta.url));

const MARKERS = ['<!-- gateway-routes:start -->', '<!-- gateway-routes:end -->'] as const;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const USES: Readonly<Record<FieldUse, (fields: string) => string>> = {
  true: (fields) => `${fields} is true`,
  given: (fields) => `${fields} is sent, not null`,
  set: (fields) => `${fields} is sent (null too)`,
  scheduled: (fields) => `${fields} is SCHEDULED`,
  hydrated: (fields) => `${fields} holds a \`__prefect_kind\` placeholder`,
  remote_ref: (fields) => `${fields} has a \`$ref\` outside itself`,
};

/** What a route needs, in words: `member`, or its scopes, plus what fields of the request add. */
export function describeScopes(route: GatewayRoute): string {
  const scopes = route.scopes.length === 0 ? 'member' : route.scopes.map((s) => `\`${s}\``).join(' + ');
  // Fields adding the same scopes the same way are named together.
  const groups = new Map<string, { rule: FieldScope; fields: string[] }>();
  for (const rule of route.fieldScopes ?? []) {
    const key = `${rule.in} ${rule.when} ${rule.scopes.join()}`;
    const group = groups.get(key) ?? groups.set(key, { rule, fields: [] }).get(key)!;
    group.fields.push(`\`${rule.field}\``);
  }
  const named = (rule: FieldScope, fields: string[]) =>
    rule.field === '*' ? 'the body' : `${fields.length > 1 ? 'any of ' : ''}${rule.in} ${fields.join(', ')}`;
  const extras = [...groups.values()].map(({ rule, fields }) => `+ ${rule.scopes.map((s) => `\`${s}\``).join(' + ')} if ${USES[rule.when](named(rule, fields))}`);
  return [scopes, ...extras].join('; ');
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
