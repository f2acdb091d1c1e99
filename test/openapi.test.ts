// /api/openapi.json is generated from the route table, so it must describe exactly the routes the
// server has, each with a summary and, where one is needed, the permission or scope it requires.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TYPES_PATH, generateApiTypes } from '../scripts/gen-api-types.js';
import type { RouteSpec } from '../src/http/route.js';
import { startHarness, type Harness } from './support/harness.js';

type Operation = {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean }[];
  responses?: Record<string, unknown>;
};

let h: Harness;
let doc: { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, Operation>> };
let routes: RouteSpec[];

const openapiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

/** The operation for a route; a trailing-slash route may be described under either form. */
function operationOf(route: RouteSpec): Operation | undefined {
  const path = openapiPath(route.url);
  const forms = [path, path.endsWith('/') ? path.slice(0, -1) : `${path}/`];
  for (const form of forms) {
    const op = doc.paths[form]?.[route.method.toLowerCase()];
    if (op) return op;
  }
  return undefined;
}

beforeAll(async () => {
  h = await startHarness();
  const res = await h.request('GET', '/api/openapi.json');
  expect(res.status).toBe(200);
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  doc = res.body;
  routes = h.app.routes;
});

afterAll(async () => {
  await h?.close();
});

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3 document that needs no credentials', async () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toBe('Gatehouse');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    const again = await h.request('GET', '/api/openapi.json/');
    expect(again.status).toBe(200);
  });

  it('describes every route of the server, and no route it does not have', () => {
    expect(routes.length).toBeGreaterThan(40);
    const missing = routes.filter((r) => !operationOf(r)).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    const served = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openapiPath(r.url).replace(/\/$/, '')}`));
    const extra = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .filter((method) => !served.has(`${method} ${path.replace(/\/$/, '')}`))
        .map((method) => `${method} ${path}`),
    );
    expect(extra).toEqual([]);
  });

  it('gives every operation a summary and declares every path parameter', () => {
    for (const route of routes) {
      const op = operationOf(route)!;
      expect(op.summary?.trim().length, `${route.method} ${route.url}`).toBeGreaterThan(5);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
      const inUrl = [...route.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]).sort();
      expect(declared, `${route.method} ${route.url}`).toEqual(inUrl);
    }
  });

  it('names the account permission or workspace scope each operation requires', () => {
    let checked = 0;
    for (const route of routes) {
      const req = route.requirement;
      const needed = req.kind === 'account' ? req.permission : req.kind === 'workspace' ? req.scope : null;
      if (!needed) continue;
      checked += 1;
      expect(operationOf(route)!.description ?? '', `${route.method} ${route.url}`).toContain(needed);
    }
    expect(checked).toBeGreaterThan(25);
    const createBot = routes.find((r) => r.method === 'POST' && r.url === '/api/accounts/:account_id/bots/')!;
    expect(operationOf(createBot)!.description).toContain('create:bot');
  });

  it('marks credentialed operations with bearer security and public ones without', () => {
    expect(JSON.stringify((doc as { components?: unknown }).components)).toContain('bearer');
    for (const route of routes) {
      const op = operationOf(route)!;
      if (route.requirement.kind === 'public') expect(op.security ?? [], `${route.method} ${route.url}`).toEqual([]);
      else expect(JSON.stringify(op.security ?? []), `${route.method} ${route.url}`).toContain('bearerAuth');
    }
  });

  it('documents the success status and the error envelope of each operation', () => {
    for (const route of routes) {
      const op = operationOf(route)!;
      const statuses = Object.keys(op.responses ?? {});
      const success = Object.keys(route.response).filter((s) => Number(s) < 300);
      expect(statuses, `${route.method} ${route.url}`).toEqual(expect.arrayContaining(success));
      if (route.requirement.kind !== 'public') expect(statuses, `${route.method} ${route.url}`).toContain('401');
    }
  });
});

describe('api/types.d.ts', () => {
  it('is generated from the document the server serves', async () => {
    const expected = await generateApiTypes(doc as never);
    if (expected !== readFileSync(API_TYPES_PATH, 'utf8')) expect.fail('api/types.d.ts is stale: run npm run gen:api-types');
  });
});
