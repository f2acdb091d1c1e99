// A failing upstream is reported to the caller by workspace, never by address: `GET .../gateway`
// withholds the upstream URL from a Viewer, so a 502/504 or a websocket close any role can provoke
// must not tell it either (issue 14, informational). The operator finds the address in the log,
// under the request id the caller was given.
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { startHarness, type Harness } from '../support/harness.js';
import { botWithRole, workspaceWithUpstream } from '../support/members.js';
import { closedPort, listenLocal } from '../support/ports.js';

let h: Harness;
let owner: { accountId: string; key: string };
let viewerKey: string;
let closedUrl: string;
let silent: Server;
let silentUrl: string;
let address: string;
const lines: Record<string, unknown>[] = [];

const sink = new Writable({
  write(chunk, _encoding, next) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    next();
  },
});

/** A workspace pointed at `url`, in which a Viewer key can read flows and events. */
async function workspaceAt(url: string): Promise<{ id: string; handle: string; base: string }> {
  const w = await workspaceWithUpstream(h, owner, url);
  viewerKey = (await botWithRole(h, owner, w.id, WORKSPACE_ROLE_IDS.Viewer)).key;
  return w;
}

beforeAll(async () => {
  h = await startHarness({ logger: pino({ level: 'warn' }, sink), upstreamConnectTimeoutMs: 300, upstreamResponseTimeoutMs: 300 });
  owner = await h.bootstrap();
  closedUrl = `http://127.0.0.1:${await closedPort()}/api`;
  // Accepts connections and never answers: HTTP requests time out, upgrades too.
  silent = createServer(() => {});
  silent.on('upgrade', () => {});
  silentUrl = `http://127.0.0.1:${await listenLocal(silent)}/api`;
  address = await h.app.server.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await h.close();
  silent.closeAllConnections();
  await new Promise<void>((r) => silent.close(() => r()));
});

/** The warning the gateway logged for this request id. */
const logged = (requestId: string) => lines.find((line) => line.reqId === requestId && typeof line.upstream === 'string');

describe('a failing upstream, as a Viewer sees it', () => {
  it('answers 502 naming the workspace, not the address; the log has the address under the request id', async () => {
    const w = await workspaceAt(closedUrl);
    const res = await h.request('POST', `${w.base}/flows/filter`, { key: viewerKey, body: {}, headers: { 'x-request-id': 'upstream-502' } });
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ code: 'UPSTREAM_UNREACHABLE', detail: expect.any(String), request_id: 'upstream-502' });
    expect(res.body.detail).toMatch(
      new RegExp(`^Could not reach the Prefect server of workspace [a-z0-9-]+/${w.handle}: connection refused \\(is the Prefect server running\\?\\); Gatehouse's log has its address under this request_id$`),
    );
    expect(res.text).not.toContain('127.0.0.1');
    expect(logged('upstream-502')).toMatchObject({ level: 40, upstream: closedUrl, failure: 'unreachable' });
  });

  it('answers 504 naming the workspace, not the address', async () => {
    const w = await workspaceAt(silentUrl);
    const res = await h.request('POST', `${w.base}/flows/filter`, { key: viewerKey, body: {}, headers: { 'x-request-id': 'upstream-504' } });
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('UPSTREAM_TIMEOUT');
    expect(res.body.detail).toContain(w.handle);
    expect(res.text).not.toContain('127.0.0.1');
    expect(logged('upstream-504')).toMatchObject({ upstream: silentUrl, failure: 'timeout' });
  });

  it('closes a websocket with 1011 and the request id, not the address; the log has the address', async () => {
    const w = await workspaceAt(closedUrl);
    const socket = new WebSocket(`${address.replace(/^http/, 'ws')}${w.base}/events/out`, {
      headers: { authorization: `Bearer ${viewerKey}`, 'x-request-id': 'upstream-ws' },
    });
    const [code, reason] = await new Promise<[number, string]>((resolve) => socket.once('close', (c, r) => resolve([c, r.toString()])));
    expect(code).toBe(1011);
    expect(reason).toBe("The workspace's Prefect server could not be reached (request id upstream-ws)");
    expect(logged('upstream-ws')).toMatchObject({ upstream: closedUrl, workspaceId: w.id, cause: 'ECONNREFUSED' });
  });
});
