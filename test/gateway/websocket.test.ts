// Gateway websockets beyond the worker replay: refusals at the handshake, and an open socket that
// loses its access being closed by the gateway (1008) instead of living on.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import type { Harness } from '../support/harness.js';
import { botWithRole, createBot, grant } from '../support/members.js';
import type { FakePrefect } from '../support/fake-prefect.js';
import { startWebsocketGateway, type WebsocketGateway } from '../support/websocket-gateway.js';
import { rawUpgrade } from '../support/raw-upgrade.js';

let h: Harness;
let fake: FakePrefect;
let owner: { accountId: string; key: string };
let wsId: string;
let url: (path: string) => string;
let gateway: WebsocketGateway;
let port: number;

beforeAll(async () => {
  gateway = await startWebsocketGateway({ websocketRecheckMs: 100 });
  ({ h, fake, owner, wsId, url, port } = gateway);
});

afterAll(() => gateway.close());

/** Opens a socket with the key in the header and resolves once open, or with the refusal status. */
function open(path: string, key: string): Promise<{ socket: WebSocket } | { status: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url(path), { headers: { authorization: `Bearer ${key}` } });
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    socket.once('error', () => resolve({ status: 0 }));
  });
}

const closed = (socket: WebSocket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

describe('gateway websockets', () => {
  it('refuses the handshake with 401 for a bad key, 404 without access and 403 without the scope', async () => {
    expect(await open('/events/out', 'pnb_nope')).toEqual({ status: 401 });
    const stranger = await h.bootstrap();
    expect(await open('/events/out', stranger.key)).toEqual({ status: 404 });
    const viewer = await botWithRole(h, owner, wsId, WORKSPACE_ROLE_IDS.Viewer);
    // Emitting events needs manage_events, which a Viewer lacks.
    expect(await open('/events/in', viewer.key)).toEqual({ status: 403 });
    expect(await open('/no/such/socket', owner.key)).toEqual({ status: 403 });
    expect(fake.sockets).toHaveLength(0);
  });

  it("notes the key's use when a socket opens: address, client and workspace", async () => {
    const bot = await botWithRole(h, owner, wsId, WORKSPACE_ROLE_IDS.Worker);
    const socket = new WebSocket(url('/events/out'), { headers: { authorization: `Bearer ${bot.key}`, 'user-agent': 'prefect/3.9.1 (worker)' } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.close();
    await h.app.keyUse.flush();
    const read = await h.request('GET', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key });
    expect(read.body.api_key).toMatchObject({ last_used_from: '127.0.0.1', last_used_client: 'prefect/3.9.1 (worker)', last_used_workspace_id: wsId });
  });

  it('closes an open socket with 1008 once the key loses its workspace access', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    const access = await grant(h, owner.accountId, wsId, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
    const opened = await open('/events/out', bot.key);
    if (!('socket' in opened)) throw new Error(`refused with ${opened.status}`);
    const code = closed(opened.socket);
    const removed = await h.request('DELETE', `/api/accounts/${owner.accountId}/workspaces/${wsId}/bot_access/${access.id}`, { key: owner.key });
    expect(removed.status).toBe(204);
    expect(await code).toBe(1008);
  });

  it('closes an open socket with 1008 once its key is deleted', async () => {
    const bot = await botWithRole(h, owner, wsId, WORKSPACE_ROLE_IDS.Worker);
    const opened = await open('/events/in', bot.key);
    if (!('socket' in opened)) throw new Error(`refused with ${opened.status}`);
    const code = closed(opened.socket);
    expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${bot.id}`, { key: owner.key })).status).toBe(204);
    expect(await code).toBe(1008);
  });
});

describe('gateway websocket paths (issue 14, finding 5)', () => {
  const BACKSLASH = "the path contains a backslash ('\\' or %5C), which URL parsers read as '/'; address the object by its id";
  const DOTS = "the path has a '.' or '..' segment";
  const refused: Array<[what: string, path: string, detail: string]> = [
    // The pentest's path: a URL parser makes it /api2/work_pools/x/workers/connect on the upstream host.
    ['backslashes and dot segments', '/work_pools/..\\..\\..\\api2\\work_pools\\x/workers/connect', BACKSLASH],
    ['encoded backslashes', '/work_pools/..%5C..%5C..%5Capi2%5Cwork_pools%5Cx/workers/connect', BACKSLASH],
    ['one backslash', '/work_pools/a\\b/workers/connect', BACKSLASH],
    ['an encoded dot segment', '/work_pools/%2e%2E/workers/connect', DOTS],
    ['a dot segment', '/events/in/../../../api2/events/in', DOTS],
    ['an encoded slash', '/work_pools/..%2F..%2Fapi2/workers/connect', "the path contains an encoded slash (%2F); Prefect names cannot contain '/'"],
    ['a query a URL parser would re-encode', "/events/out?x='", 'The path or query has characters a URL parser would change (percent-encode them), so it cannot be sent on as it is'],
  ];

  it.each(refused)('refuses %s with 400 before any upstream connection', async (_what, path, detail) => {
    fake.reset();
    const answer = await rawUpgrade(port, `/api/accounts/${owner.accountId}/workspaces/${wsId}${path}`, { authorization: `Bearer ${owner.key}`, 'x-request-id': 'bad-path' });
    expect(answer.status).toBe(400);
    // The catalog's envelope, as any HTTP refusal: detail, code and request id.
    expect(JSON.parse(answer.body)).toEqual({ detail, code: 'GATEWAY_BAD_PATH', request_id: 'bad-path' });
    // Nothing reached the upstream, under any path.
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.upgrades).toEqual([]);
  });

  it('refuses the same paths on the prefect subprotocol, before any auth message', async () => {
    fake.reset();
    const answer = await rawUpgrade(port, `/api/accounts/${owner.accountId}/workspaces/${wsId}/work_pools/..\\..\\api2/workers/connect`, { 'sec-websocket-protocol': 'prefect' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).detail).toBe(BACKSLASH);
    expect(fake.upgrades).toEqual([]);
  });

  it("sends an accepted path to the upstream exactly as the caller wrote it, after the upstream's base path", async () => {
    fake.reset();
    const path = "/work_pools/a~b!$&'()*+,;=:@%20c/workers/connect";
    const answer = await rawUpgrade(port, `/api/accounts/${owner.accountId}/workspaces/${wsId}${path}`, { authorization: `Bearer ${owner.key}`, 'x-request-id': 'good-path' });
    expect(answer.status).toBe(101);
    const seen = await fake.until(() => fake.upgrades.find((u) => u.headers['x-request-id'] === 'good-path'), 'the upgrade upstream');
    expect(seen.url).toBe(`/api${path}`);
  });
});
