// Contract 2: a plaintext API key exists only in the one response that issues it. After a realistic
// session, no issued key may be found in the database files, any table, a pg_dump, the audit rows,
// any read response, the server log at trace level, or an error body. The same holds for a
// workspace gateway's upstream auth string, which goes in once and only ever out to the upstream.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { PG_URL, STORE_KIND, startHarness, type Harness } from './support/harness.js';
import { startFakePrefect, type FakePrefect } from './support/fake-prefect.js';
import { sha256 } from './support/shapes.js';

const KEY_SHAPE = /^pn[bu]_[0-9A-Za-z]{36}$/;

let h: Harness;
/** Every plaintext key issued during the session, including rotated-out and deleted ones. */
const issued: string[] = [];
/** Every response body to a read, as text. */
const reads: string[] = [];
let owner: { accountId: string; userId: string; key: string };
let liveBotKey: string;
/** The gateway's credential for the upstream Prefect server (Prefect's "user:password"). */
const UPSTREAM_AUTH = `gateway-admin:${randomBytes(16).toString('hex')}`;
/** What a proxy sends upstream: the same credential, only encoded. */
const UPSTREAM_AUTH_BASE64 = Buffer.from(UPSTREAM_AUTH).toString('base64');
let fake: FakePrefect;
let gatewayUrl: string;
/** The sealed form the store keeps, to show that a scan read the gateway's row. */
let sealedUpstreamAuth: string;

function keep(key: unknown): string {
  expect(typeof key).toBe('string');
  expect(key as string).toMatch(KEY_SHAPE);
  issued.push(key as string);
  return key as string;
}

async function read(method: 'GET' | 'POST', url: string, key = owner.key, body?: unknown) {
  const res = await h.request(method, url, { key, body: method === 'POST' ? (body ?? {}) : undefined });
  expect(res.status, `${method} ${url}: ${res.text}`).toBe(200);
  reads.push(res.text);
  return res;
}

/** Every secret of the session found in `text`: issued keys and the upstream auth string (also base64-encoded). */
function leaksIn(text: string): string[] {
  return [...issued, UPSTREAM_AUTH, UPSTREAM_AUTH_BASE64].filter((secret) => text.includes(secret));
}

const proxiedThrough = (seen: FakePrefect['requests'][number] | undefined) => seen?.headers.authorization === `Basic ${UPSTREAM_AUTH_BASE64}`;

beforeAll(async () => {
  h = await startHarness();
  fake = await startFakePrefect({ authString: UPSTREAM_AUTH });
  owner = await h.bootstrap();
  keep(owner.key);
  const a = `/api/accounts/${owner.accountId}`;
  const future = new Date(h.clock.now().getTime() + 30 * 86_400_000).toISOString();

  const ws = await h.request('POST', `${a}/workspaces/`, { key: owner.key, body: { name: 'Production', handle: 'prod' } });
  expect(ws.status).toBe(201);
  const workspaceId = ws.body.id as string;

  const expiring = await h.request('POST', `${a}/bots/`, { key: owner.key, body: { name: 'ci-expiring', api_key_expiration: future } });
  const forever = await h.request('POST', `${a}/bots/`, { key: owner.key, body: { name: 'worker-forever', api_key_expiration: null } });
  expect([expiring.status, forever.status]).toEqual([201, 201]);
  keep(expiring.body.api_key.key);
  keep(forever.body.api_key.key);

  const graceRotation = await h.request('POST', `${a}/bots/${expiring.body.id}/rotate_api_key`, {
    key: owner.key,
    body: { api_key_expiration: future, old_key_expires_in_seconds: 3600 },
  });
  expect(graceRotation.status).toBe(201);
  liveBotKey = keep(graceRotation.body.api_key.key);
  const hardRotation = await h.request('POST', `${a}/bots/${forever.body.id}/rotate_api_key`, { key: owner.key, body: {} });
  expect(hardRotation.status).toBe(201);
  keep(hardRotation.body.api_key.key);

  const userKeys = [];
  for (const body of [{ name: 'laptop' }, { name: 'ci-token', expiration: future }]) {
    const res = await h.request('POST', `/api/users/${owner.userId}/api_keys`, { key: owner.key, body });
    expect(res.status).toBe(201);
    keep(res.body.key);
    userKeys.push(res.body.id as string);
  }

  const role = await h.request('POST', `${a}/workspace_roles/`, { key: owner.key, body: { name: 'Deployer', scopes: ['see_flows'] } });
  expect(role.status).toBe(201);
  const botGrant = await h.request('POST', `${a}/workspaces/${workspaceId}/bot_access/`, {
    key: owner.key,
    body: [
      { bot_id: expiring.body.id, workspace_role_id: WORKSPACE_ROLE_IDS.Runner },
      { bot_id: forever.body.id, workspace_role_id: role.body.id },
    ],
  });
  expect(botGrant.status).toBe(200);
  const userGrant = await h.request('POST', `${a}/workspaces/${workspaceId}/user_access/`, {
    key: owner.key,
    body: { user_id: owner.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Owner },
  });
  expect(userGrant.status).toBe(200);

  gatewayUrl = `${a}/workspaces/${workspaceId}/gateway`;
  const gateway = await h.request('PUT', gatewayUrl, { key: owner.key, body: { upstream_url: fake.url, upstream_auth_string: UPSTREAM_AUTH } });
  expect(gateway.status).toBe(200);
  expect(gateway.body.has_upstream_auth_string).toBe(true);
  reads.push(gateway.text);
  const proxied = await h.request('POST', `${a}/workspaces/${workspaceId}/flows/filter`, { key: owner.key, body: {} });
  expect(proxied.status).toBe(200);
  expect(proxiedThrough(fake.requests.at(-1))).toBe(true);
  reads.push(proxied.text);
  const stored = await h.handle.store.db.selectFrom('workspace_gateways').select('upstream_auth_sealed').where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow();
  sealedUpstreamAuth = stored.upstream_auth_sealed!;
  expect(sealedUpstreamAuth).toMatch(/^v1\./);

  // Read everything back, as the owner and as the service account itself.
  const w = `${a}/workspaces/${workspaceId}`;
  for (const url of ['/api/me/', '/api/me/workspaces', '/api/me/accounts', '/api/me/api_keys', `/api/users/${owner.userId}`,
    `/api/users/${owner.userId}/api_keys`, `/api/users/${owner.userId}/api_keys/${userKeys[0]}`, a,
    `${a}/bots/${expiring.body.id}`, `${a}/bots/${expiring.body.id}/read_bot_api_keys`, `${a}/bots/${forever.body.id}/read_bot_api_keys`,
    w, `${w}/bot_access/${botGrant.body[0].id}`, `${w}/user_access/${userGrant.body[0].id}`, `${a}/workspace_roles/${role.body.id}`,
    `/api/me/workspaces/${workspaceId}/scopes`, `/api/me/accounts/${owner.accountId}/permissions`, gatewayUrl]) {
    await read('GET', url);
  }
  for (const url of [`${a}/bots/filter`, `${a}/workspaces/filter`, `${w}/bot_access/filter`, `${w}/user_access/filter`,
    `${a}/account_memberships/filter`, `${a}/workspace_roles/filter`, `${a}/account_roles/filter`, `${a}/audit_events/filter`]) {
    await read('POST', url);
  }
  for (const url of ['/api/me/', '/api/me/workspaces', `/api/me/workspaces/${workspaceId}/scopes`]) await read('GET', url, liveBotKey);

  // Delete some: an old key still in its grace, a user key, a whole service account.
  const keys = await read('GET', `${a}/bots/${expiring.body.id}/read_bot_api_keys`);
  expect(keys.body.rotating_keys).toHaveLength(1);
  const deletions = [
    `${a}/bots/${expiring.body.id}/delete_bot_api_key/${keys.body.rotating_keys[0].id}`,
    `/api/users/${owner.userId}/api_keys/${userKeys[1]}`,
    `${a}/bots/${forever.body.id}`,
  ];
  for (const url of deletions) expect((await h.request('DELETE', url, { key: owner.key })).status).toBe(204);
  await read('POST', `${a}/audit_events/filter`);
  await read('POST', `${a}/bots/filter`);

  expect(new Set(issued).size).toBe(7);
});

afterAll(async () => {
  await h?.close();
  await fake?.close();
});

describe('no plaintext key is stored', () => {
  it.runIf(STORE_KIND === 'sqlite')('finds no issued key in the SQLite database, WAL or shared-memory file', () => {
    const dir = h.handle.dataDir!;
    const files = readdirSync(dir);
    expect(files).toContain('gatehouse.db');
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    const text = bytes.toString('latin1');
    expect(leaksIn(text)).toEqual([]);
    // The scan reads the right bytes: the digest of the live service-account key is there, and the sealed credential.
    expect(text).toContain(sha256(liveBotKey));
    expect(text).toContain(sealedUpstreamAuth);
  });

  it.runIf(STORE_KIND === 'postgres')('finds no issued key in any row of any table in the schema', async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const tables = await client.query(
        "select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE'",
        [h.handle.schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['api_keys', 'audit_events', 'bots']));
      let all = '';
      for (const { table_name } of tables.rows) {
        const rows = await client.query(`select * from "${h.handle.schema}"."${table_name}"`);
        all += JSON.stringify(rows.rows);
      }
      expect(leaksIn(all)).toEqual([]);
      expect(all).toContain(sha256(liveBotKey));
      expect(all).toContain(sealedUpstreamAuth);
    } finally {
      await client.end();
    }
  });

  it.runIf(STORE_KIND === 'postgres')('finds no issued key in a pg_dump of the schema', () => {
    let dump: string;
    try {
      dump = execFileSync('pg_dump', ['--dbname', PG_URL, `--schema=${h.handle.schema}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return; // pg_dump is not installed here
      throw error;
    }
    expect(dump).toContain(sha256(liveBotKey));
    expect(dump).toContain(sealedUpstreamAuth);
    expect(leaksIn(dump)).toEqual([]);
  });

  it('finds no issued key in the audit rows', async () => {
    const rows = await h.handle.store.db.selectFrom('audit_events').selectAll().execute();
    expect(rows.map((r) => r.action)).toEqual(
      expect.arrayContaining(['service_account.created', 'service_account.api_key_rotated', 'service_account.deleted', 'workspace.gateway.updated']),
    );
    expect(leaksIn(JSON.stringify(rows))).toEqual([]);
  });

  it('stores only the SHA-256 digest and a mask of at most 8 key characters', async () => {
    const rows = await h.handle.store.db.selectFrom('api_keys').select(['key_hash', 'masked_key']).execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.masked_key.replace(/\*/g, '').length).toBeLessThanOrEqual(8);
    }
  });
});

describe('no plaintext key is read back', () => {
  it('shows no issued key nor the upstream auth string in any read response', () => {
    expect(reads.length).toBeGreaterThan(25);
    for (const text of reads) expect(leaksIn(text)).toEqual([]);
  });
});

describe('no plaintext key reaches the log or an error', () => {
  let logged = '';
  let logApp: App;
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged += String(chunk);
      done();
    },
  });

  beforeAll(async () => {
    logApp = await createApp({ store: h.handle.store, cache: h.handle.cache, clock: h.clock, logger: pino({ level: 'trace' }, sink) });
  });
  afterAll(async () => {
    await logApp?.server.close();
  });

  const send = (method: string, url: string, headers: Record<string, string>, payload?: string) =>
    logApp.server.inject({ method: method as never, url, headers, payload });

  it('logs requests at trace level without any key sent in an Authorization header', async () => {
    const a = `/api/accounts/${owner.accountId}`;
    for (const key of issued) {
      for (const url of ['/api/me/', `${a}/bots/filter`, `${a}/workspaces/filter`]) {
        const res = await send(url.endsWith('filter') ? 'POST' : 'GET', url, { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, '{}');
        expect([200, 401]).toContain(res.statusCode);
      }
    }
    const created = await send('POST', `${a}/bots/`, { authorization: `Bearer ${owner.key}`, 'content-type': 'application/json' }, '{"name":"logged"}');
    expect(created.statusCode).toBe(201);
    keep(created.json().api_key.key);
    // The sink really receives request logs, so an empty leak list means something.
    expect(logged).toContain('incoming request');
    expect(leaksIn(logged)).toEqual([]);
  });

  it('logs setting the gateway and a proxied request at trace level without the upstream auth string', async () => {
    const headers = { authorization: `Bearer ${owner.key}`, 'content-type': 'application/json' };
    const set = await send('PUT', gatewayUrl, headers, JSON.stringify({ upstream_url: fake.url, upstream_auth_string: UPSTREAM_AUTH }));
    expect(set.statusCode).toBe(200);
    const read = await send('GET', gatewayUrl, headers);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ upstream_url: fake.url, has_upstream_auth_string: true, updated: expect.any(String) });
    fake.reset();
    const proxied = await send('POST', gatewayUrl.replace(/\/gateway$/, '/flows/filter'), headers, '{}');
    expect(proxied.statusCode).toBe(200);
    expect(proxiedThrough(fake.requests.at(-1))).toBe(true);
    for (const res of [set, read, proxied]) expect(leaksIn(res.body)).toEqual([]);
    // The proxied request is in the log, so an empty leak list means something.
    expect(logged).toContain('/flows/filter');
    expect(leaksIn(logged)).toEqual([]);
  });

  it('neither logs nor echoes the upstream auth string in a refused gateway setting', async () => {
    const headers = { authorization: `Bearer ${owner.key}`, 'content-type': 'application/json' };
    const bodies = [
      `{"upstream_url": "ftp://prefect/api", "upstream_auth_string": "${UPSTREAM_AUTH}"}`,
      `{"upstream_url": "http://prefect:4200/api", "upstream_auth_string": "${UPSTREAM_AUTH}", "extra": 1}`,
      `{"upstream_url": 4200, "upstream_auth_string": "${UPSTREAM_AUTH}"}`,
      `{"upstream_url": "http://prefect:4200/api", "upstream_auth_string": ["${UPSTREAM_AUTH}"]}`,
      `{"upstream_url": "http://prefect:4200/api", "upstream_auth_string": "${UPSTREAM_AUTH}\\n"}`,
      `{"upstream_url": "http://prefect:4200/api", "upstream_auth_string": "${UPSTREAM_AUTH}`,
    ];
    for (const payload of bodies) {
      const res = await send('PUT', gatewayUrl, headers, payload);
      expect([400, 422], payload).toContain(res.statusCode);
      expect(res.json()).toMatchObject({ code: expect.any(String), request_id: expect.any(String) });
      expect(leaksIn(res.body), payload).toEqual([]);
    }
    const read = await send('GET', gatewayUrl, headers);
    expect(read.json()).toMatchObject({ upstream_url: fake.url, has_upstream_auth_string: true });
    expect(leaksIn(logged)).toEqual([]);
  });

  it('neither logs nor echoes a key inside a malformed or invalid JSON body', async () => {
    const a = `/api/accounts/${owner.accountId}`;
    const headers = { authorization: `Bearer ${owner.key}`, 'content-type': 'application/json' };
    for (const key of issued) {
      const bodies = [`{"name": "${key}`, `{"name": ${key}}`, key, `["${key}",`, `{"name": "x", "api_key": "${key}"}`,
        `{"name": "${key}\\u0000"}`, `{"name": 1, "key": "${key}"}`];
      for (const payload of bodies) {
        const res = await send('POST', `${a}/bots/`, headers, payload);
        expect([400, 422], payload).toContain(res.statusCode);
        expect(res.json()).toMatchObject({ code: expect.any(String), request_id: expect.any(String) });
        expect(leaksIn(res.body), payload).toEqual([]);
      }
      const plain = await send('POST', `${a}/bots/`, { ...headers, 'content-type': 'text/plain' }, key);
      expect(plain.statusCode).toBe(415);
      expect(leaksIn(plain.body)).toEqual([]);
    }
    expect(leaksIn(logged)).toEqual([]);
  });
});
