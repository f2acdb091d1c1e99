// A Prefect server served at the root of its host (upstream_url http://host:4200, no /api): the
// gateway puts nothing before the Prefect path, so the server sees /flows/filter, not //flows/filter.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { createWorkspace } from '../support/members.js';

let h: Harness;
let upstream: Server;
let origin: string;
const seen: string[] = [];
let prefix: string;
let owner: { accountId: string; key: string };

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(307, { location: `${origin}/flows/filter/`, 'content-length': '0' }).end();
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  h = await startHarness();
  owner = await h.bootstrap();
  const wsId = (await createWorkspace(h, owner.accountId, owner.key)).id;
  const set = await h.request('PUT', `/api/accounts/${owner.accountId}/workspaces/${wsId}/gateway`, { key: owner.key, body: { upstream_url: `${origin}/` } });
  expect(set.body.upstream_url).toBe(origin);
  prefix = `/api/accounts/${owner.accountId}/workspaces/${wsId}`;
});

afterAll(async () => {
  await h.close();
  await new Promise((resolve) => upstream.close(resolve));
});

describe('an upstream at the root of its host', () => {
  it('receives the Prefect path with one leading slash, and its redirects are rewritten behind the gateway', async () => {
    const res = await h.request('POST', `${prefix}/flows/filter`, { key: owner.key, body: {} });
    expect(seen.at(-1)).toBe('/flows/filter');
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(`${prefix}/flows/filter/`);
  });
});
