// The route table covers exactly the routes of the Prefect server, in Prefect's order, and its
// documentation is current. The inventory (test/gateway/prefect-routes.txt) is read from Prefect's
// source by scripts/prefect-routes.py, not derived from the table, so a route Prefect adds without
// a declared scope fails here, and so does an entry for a route Prefect no longer has.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_DOC_PATH, describeScopes, generateGatewayDoc } from '../../scripts/gen-gateway-doc.js';
import { ROUTE_TABLE } from './route-table.js';

const INVENTORY_PATH = new URL('../../test/gateway/prefect-routes.txt', import.meta.url);

function inventoryText(): string {
  return readFileSync(INVENTORY_PATH, 'utf8');
}

/** `METHOD /path` per route, in the file's order; comments and blank lines dropped. */
function inventory(): string[] {
  return inventoryText()
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
}

const tableKeys = () => ROUTE_TABLE.map((r) => `${r.method} ${r.path}`);

describe('the Prefect route inventory', () => {
  it('says which Prefect commit it was read from, and has one well-formed route a line', () => {
    expect(inventoryText()).toMatch(/PrefectHQ\/prefect commit [0-9a-f]{40}/);
    const routes = inventory();
    expect(routes.length).toBeGreaterThan(150);
    expect(routes.filter((line) => !/^(GET|POST|PUT|PATCH|DELETE|WS) \/\S*$/.test(line))).toEqual([]);
  });
});

describe('the route table against the inventory', () => {
  it('has exactly one entry for every Prefect route', () => {
    const keys = tableKeys();
    const count = (route: string) => keys.filter((k) => k === route).length;
    const missing = inventory().filter((route) => count(route) === 0);
    const repeated = inventory().filter((route) => count(route) > 1);
    expect(missing, 'Prefect routes with no declared scope: add them to src/gateway/route-table.ts').toEqual([]);
    expect(repeated).toEqual([]);
  });

  it('has no entry for a route Prefect does not have', () => {
    const known = new Set(inventory());
    expect(tableKeys().filter((k) => !known.has(k)), 'stale entries: remove them from src/gateway/route-table.ts').toEqual([]);
  });

  it("keeps Prefect's order, which decides the first match", () => {
    expect(tableKeys()).toEqual(inventory());
  });
});

describe('docs/gateway-routes.md', () => {
  it('matches the route table', () => {
    const current = readFileSync(GATEWAY_DOC_PATH, 'utf8');
    if (generateGatewayDoc(current) !== current) expect.fail('docs/gateway-routes.md is stale: run npm run docs:gateway');
  });

  it('has a row for every entry with its method, path and scopes', () => {
    const doc = readFileSync(GATEWAY_DOC_PATH, 'utf8');
    const rows = ROUTE_TABLE.map((r) => `| ${r.method} | \`${r.path}\` | ${describeScopes(r).replace(/\|/g, '\\|')} |`);
    expect(rows.filter((row) => !doc.includes(row))).toEqual([]);
  });
});
