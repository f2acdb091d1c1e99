// Tracing on (tracing/tracing.ts), with spans kept in memory: the span tree of a gateway
// request (request → auth → store, request → upstream, traceparent continued and sent on), store
// queries named by kind and table on this store, and no credential in any span.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../src/tracing/tracing.js';
import { STORE_KIND } from './support/harness.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { addMember, botWithRole } from './support/members.js';
import { startWebsocketGateway, type WebsocketGateway } from './support/websocket-gateway.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let gateway: WebsocketGateway;
let base: string;

beforeAll(async () => {
  tracing = startTracing({ setting: 'on', exporter })!;
  gateway = await startWebsocketGateway({ tracing });
  base = `/api/accounts/${gateway.owner.accountId}/workspaces/${gateway.wsId}`;
});

afterAll(async () => {
  await gateway?.close();
  await tracing?.shutdown();
});

beforeEach(() => {
  exporter.reset();
  gateway.fake.reset();
});

const traceId = () => randomBytes(16).toString('hex');
const spanId = () => randomBytes(8).toString('hex');
const spans = () => exporter.getFinishedSpans();
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const childrenOf = (parent: ReadableSpan) => spans().filter((span) => parentOf(span) === parent.spanContext().spanId);
/** Every span's name, attributes and events, as one text to search for what must not be there. */
const everything = () => JSON.stringify(spans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })));

describe('a gateway request', () => {
  it('is a server span named by its route, continuing the caller trace, with auth and upstream children', async () => {
    const trace = traceId();
    const callerSpan = spanId();
    const res = await gateway.h.request('POST', `${base}/flows/filter`, { key: gateway.owner.key, body: {}, headers: { traceparent: `00-${trace}-${callerSpan}-01` } });
    expect(res.status).toBe(200);

    const server = spans().find((span) => span.kind === SpanKind.SERVER)!;
    expect(server.name).toBe('POST /api/accounts/:account_id/workspaces/:workspace_id/*');
    expect(server.spanContext().traceId).toBe(trace);
    expect(parentOf(server)).toBe(callerSpan);
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/api/accounts/:account_id/workspaces/:workspace_id/*', 'http.response.status_code': 200 });
    expect(server.attributes['gatehouse.request_id']).toBe(res.headers['x-request-id']);

    const auth = childrenOf(server).find((span) => span.name === 'auth')!;
    expect(auth.attributes).toMatchObject({ 'gatehouse.auth.credential': 'user_key', 'gatehouse.auth.result': 'allow', 'gatehouse.auth.requirement': 'workspace' });
    expect(['hit', 'miss']).toContain(auth.attributes['gatehouse.auth.cache']);

    const upstream = childrenOf(server).find((span) => span.kind === SpanKind.CLIENT && span.attributes['http.request.method'] === 'POST')!;
    expect(upstream.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'http.response.status_code': 200 });
    // The Prefect server hears the same trace, with Gatehouse's upstream span as the parent.
    const sent = gateway.fake.requests.at(-1)!;
    expect(sent.headers.traceparent).toBe(`00-${trace}-${upstream.spanContext().spanId}-01`);
    expect(spans().every((span) => span.spanContext().traceId === trace)).toBe(true);
  });

  it('says whether the cache decided: a miss asks the store under the auth span, then a hit does not', async () => {
    // A key never seen before: the cache cannot know it.
    const member = await addMember(gateway.h, gateway.owner.accountId, 'Member');
    exporter.reset();
    expect((await gateway.h.request('GET', '/api/me/workspaces', { key: member.key })).status).toBe(200);
    const first = spans().find((span) => span.name === 'auth')!;
    expect(first.attributes['gatehouse.auth.cache']).toBe('miss');
    const lookups = childrenOf(first);
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.every((span) => span.kind === SpanKind.CLIENT && span.attributes['db.operation.name'] === 'select')).toBe(true);

    exporter.reset();
    expect((await gateway.h.request('GET', '/api/me/workspaces', { key: member.key })).status).toBe(200);
    const second = spans().find((span) => span.name === 'auth')!;
    expect(second.attributes['gatehouse.auth.cache']).toBe('hit');
    expect(childrenOf(second)).toEqual([]);
  });

  it('records a refusal as the auth result and the credential by kind only, never a key', async () => {
    const bad = `pnb_${'A'.repeat(36)}`;
    const res = await gateway.h.request('POST', `${base}/flows/filter`, { key: bad, body: {} });
    expect(res.status).toBe(401);
    const auth = spans().find((span) => span.name === 'auth')!;
    expect(auth.attributes).toMatchObject({ 'gatehouse.auth.credential': 'service_account_key', 'gatehouse.auth.result': 'UNAUTHENTICATED' });
    const server = spans().find((span) => span.kind === SpanKind.SERVER)!;
    expect(server.attributes['http.response.status_code']).toBe(401);
    expect(gateway.fake.requests).toEqual([]);
    expect(everything()).not.toContain(bad);
    expect(everything()).not.toContain('A'.repeat(36));
  });

  it('puts no key, or any part of one, in any span', async () => {
    const bot = await botWithRole(gateway.h, gateway.owner, gateway.wsId, WORKSPACE_ROLE_IDS.Developer);
    exporter.reset();
    expect((await gateway.h.request('POST', `${base}/flows/filter`, { key: gateway.owner.key, body: {} })).status).toBe(200);
    expect((await gateway.h.request('POST', `${base}/flows/filter`, { key: bot.key, body: {} })).status).toBe(200);
    expect((await gateway.h.request('GET', '/api/me/workspaces', { key: gateway.owner.key })).status).toBe(200);
    expect(spans().length).toBeGreaterThan(6);
    const text = everything();
    for (const key of [gateway.owner.key, bot.key]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.slice(4, 16));
    }
    expect(text).not.toMatch(/pn[bu]_/);
    expect(text).not.toMatch(/authorization|bearer/i);
  });

  it('sends its own traceparent upstream when the caller sent none', async () => {
    await gateway.h.request('POST', `${base}/flows/filter`, { key: gateway.owner.key, body: {} });
    const server = spans().find((span) => span.kind === SpanKind.SERVER)!;
    expect(parentOf(server)).toBeUndefined();
    expect(gateway.fake.requests.at(-1)!.headers.traceparent).toMatch(new RegExp(`^00-${server.spanContext().traceId}-[0-9a-f]{16}-01$`));
  });
});

describe(`store queries (${STORE_KIND})`, () => {
  it('are client spans named by statement kind and table, with no parameter, inside the request', async () => {
    const name = `traced-${randomBytes(4).toString('hex')}`;
    const res = await gateway.h.request('POST', `/api/accounts/${gateway.owner.accountId}/bots/`, { key: gateway.owner.key, body: { name } });
    expect(res.status).toBe(201);
    const server = spans().find((span) => span.kind === SpanKind.SERVER)!;
    expect(server.name).toBe('POST /api/accounts/:account_id/bots/');
    const queries = spans().filter((span) => span.attributes['db.system.name'] !== undefined);
    expect(new Set(queries.map((span) => span.attributes['db.system.name']))).toEqual(new Set([STORE_KIND === 'postgres' ? 'postgresql' : 'sqlite']));
    const names = queries.map((span) => span.name);
    expect(names).toContain('begin');
    expect(names).toContain('commit');
    expect(names).toContain('insert bots');
    const insert = queries.find((span) => span.name === 'insert bots')!;
    expect(insert.kind).toBe(SpanKind.CLIENT);
    expect(insert.attributes).toMatchObject({ 'db.operation.name': 'insert', 'db.collection.name': 'bots', 'db.query.summary': 'insert bots' });
    expect(insert.attributes['db.query.text']).toBeUndefined();
    // Every query belongs to this request's trace.
    expect(queries.every((span) => span.spanContext().traceId === server.spanContext().traceId)).toBe(true);
    expect(everything()).not.toContain(name);
  });

  it('are not traced outside a request (background work)', async () => {
    // The request notes its key's use; writing it later is background work.
    await gateway.h.request('GET', '/api/me/workspaces', { key: gateway.owner.key });
    exporter.reset();
    await gateway.h.app.keyUse.flush();
    expect(spans()).toEqual([]);
  });
});

describe('a gateway websocket', () => {
  it("is a span for its open, continued from the caller's traceparent and sent on to the Prefect server", async () => {
    const trace = traceId();
    const socket = new WebSocket(gateway.url('/events/in'), { headers: { authorization: `Bearer ${gateway.owner.key}`, traceparent: `00-${trace}-${spanId()}-01` } });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const opening = await gateway.fake.until(() => spans().find((span) => span.name === 'WS open'), 'the open span');
    expect(opening.spanContext().traceId).toBe(trace);
    expect(opening.attributes['http.response.status_code']).toBe(101);
    const upgrade = gateway.fake.upgrades.at(-1)!;
    expect(upgrade.headers.traceparent).toBe(`00-${trace}-${opening.spanContext().spanId}-01`);
    socket.close();
  });

  it('ends the span with the refusal when the key is refused', async () => {
    const socket = new WebSocket(gateway.url('/events/in'), { headers: { authorization: `Bearer pnb_${'B'.repeat(36)}` } });
    await new Promise<void>((resolve) => socket.once('error', () => resolve()));
    const opening = await gateway.fake.until(() => spans().find((span) => span.name === 'WS open'), 'the open span');
    expect(opening.attributes).toMatchObject({ 'http.response.status_code': 401, 'gatehouse.refusal': 'UNAUTHENTICATED' });
    expect(everything()).not.toContain('B'.repeat(36));
  });
});
