// Property-based fuzzing of the workspace gateway in front of a fake Prefect server: the proxy
// (`/api/accounts/{a}/workspaces/{w}/<Prefect path>`, every method) and forward-auth
// (`GET /api/gateway/authorize` with fuzzed X-Original-* headers). Gatehouse's own answers must be
// documented gateway statuses in the error envelope; what it forwards must come back unchanged,
// carry the upstream credential and none of the caller's; never a 5xx, a stack trace or SQL text.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakePrefect } from '../support/fake-prefect.js';
import { startHarness } from '../support/harness.js';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { createBot, createWorkspace, grant } from '../support/members.js';
import { rawUpgrade } from '../support/raw-upgrade.js';
import { authorizeRequests, escapesItsPath, proxyRequests, runChoosingRequests, websocketUpgrades, type GatewayTargets, type WebsocketUpgrade } from './gateway-requests.js';
import { BAD_KEY, problems, type Answer } from './oracle.js';
import { presentsBadKey, type FuzzRequest } from './requests.js';
import { BATCH, BODY_LIMIT, describeRun, LONG, RUNS_PER_ENDPOINT, seedFor } from './settings.js';
import { buildWorld } from './world.js';

const AUTH_STRING = 'gate:upstream-s3cret';

// keyFailureLimit: undefined is the production default (the harness otherwise turns the throttle off).
const h = await startHarness({ bodyLimit: BODY_LIMIT, keyFailureLimit: undefined, upstreamConnectTimeoutMs: 5_000, upstreamResponseTimeoutMs: 10_000 });
const fake = await startFakePrefect({ authString: AUTH_STRING });
const world = await buildWorld(h);
const owner = world.callers.owner;
const setGateway = await h.request('PUT', `/api/accounts/${world.accountId}/workspaces/${world.workspaceId}/gateway`, {
  headers: owner,
  body: { upstream_url: fake.url, upstream_auth_string: AUTH_STRING },
});
if (setGateway.status !== 200) throw new Error(`fuzz setup: setting the upstream answered ${setGateway.status} ${setGateway.text}`);
const unconfigured = await createWorkspace(h, world.accountId, owner.authorization.slice('Bearer '.length), 'no-upstream');
const other = await h.bootstrap();
const otherWorkspace = await createWorkspace(h, other.accountId, other.key, 'elsewhere');
const ownerKey = owner.authorization.slice('Bearer '.length);
const workerBot = await createBot(h, world.accountId, ownerKey, 'fuzz-worker');
await grant(h, world.accountId, world.workspaceId, ownerKey, { botId: workerBot.id }, WORKSPACE_ROLE_IDS.Worker);
// A key that has worked from an address stays served there when the bad-key throttle closes it.
const firstUse = await h.request('GET', `/api/accounts/${world.accountId}/workspaces/${world.workspaceId}/work_pools/fuzz`, { key: workerBot.key });
if (firstUse.status !== 200) throw new Error(`fuzz setup: the Worker key's first request answered ${firstUse.status} ${firstUse.text}`);
const targets: GatewayTargets = { world, unconfiguredWorkspaceId: unconfigured.id, otherAccountId: other.accountId, otherWorkspaceId: otherWorkspace.id };
console.log(describeRun('Gateway fuzz'));

afterAll(async () => {
  await h.close();
  await fake.close();
});

/**
 * What Gatehouse itself may answer on a proxied path (src/errors.ts): 307 (Starlette's trailing-slash
 * redirect, answered by the gateway so that it points back at the gateway), 400 GATEWAY_BAD_PATH and
 * BAD_REQUEST, 401, 403 FORBIDDEN and GATEWAY_ROUTE_UNKNOWN, 404 NOT_FOUND and
 * GATEWAY_NOT_CONFIGURED, 405 for a method no route serves, 413 for a body the gateway must read
 * (a route whose scopes depend on its body: route table `fieldScopes`) that is over the limit, 415 for a Content-Type header that is not a media
 * type at all (Fastify refuses it before the proxy's catch-all parser); 429 (BAD_KEY) only to a caller
 * presenting a key that never worked. 502/504 are documented for a
 * dead or slow upstream, but this upstream is alive, so here they are failures like any 5xx.
 */
const GATEHOUSE_PROXY_STATUSES = new Set([307, 400, 401, 403, 404, 405, 413, 415]);

/**
 * Forward-auth answers only what nginx auth_request understands, 2xx, 401 and 403 (docs/forward-auth.md):
 * nginx turns any other answer, a 429 included, into a 500 for the client.
 */
const AUTHORIZE_STATUSES = new Set([204, 401, 403]);
/** …unless the operator configured its query wrongly: 400 (NUL or bad encoding) or 422 (schema). */
const AUTHORIZE_BAD_QUERY_STATUSES = new Set([204, 400, 401, 403, 422]);

let counter = 0;

async function send(request: FuzzRequest): Promise<Answer & { id: string }> {
  // A request id of our own follows the request to the upstream, to find what the fake received.
  const id = `fuzz-${(counter += 1)}-${randomBytes(3).toString('hex')}`;
  const res = await h.app.server.inject({ method: request.method as 'GET', url: request.url, headers: { ...request.headers, 'x-request-id': id }, payload: request.payload });
  return { id, status: res.statusCode, headers: res.headers, body: res.body };
}

function fail(found: string[], request: FuzzRequest, answer: Answer): never {
  throw new Error(`${found.join('; ')}\n  request: ${String((request as any)[fc.toStringMethod]())}\n  answer: ${answer.status} ${answer.body.slice(0, 500)}`);
}

const BASIC = `Basic ${Buffer.from(AUTH_STRING).toString('base64')}`;

describe('the gateway proxy, fed generated malformed requests', () => {
  it('answers with a documented gateway status or the upstream answer unchanged, never leaking a credential', { timeout: LONG ? 3_600_000 : 180_000 }, async () => {
    const counts = { sent: 0, forwarded: 0 };
    const histogram = new Map<number, number>();
    const runs = RUNS_PER_ENDPOINT * 3;
    await fc.assert(
      fc.asyncProperty(fc.array(proxyRequests(targets), { minLength: BATCH, maxLength: BATCH }), async (requests) => {
        fake.reset();
        const answers = await Promise.all(requests.map(send));
        counts.sent += requests.length;
        answers.forEach((answer, i) => {
          const request = requests[i];
          const received = fake.requests.find((r) => r.headers['x-request-id'] === answer.id);
          histogram.set(answer.status, (histogram.get(answer.status) ?? 0) + 1);
          if (!received) {
            const allowed = presentsBadKey(request) ? new Set([...GATEHOUSE_PROXY_STATUSES, BAD_KEY]) : GATEHOUSE_PROXY_STATUSES;
            const found = problems(answer, allowed, request.method);
            if (found.length) fail(found, request, answer);
            return;
          }
          counts.forwarded += 1;
          const found: string[] = [];
          if (answer.status !== received.status) found.push(`the upstream answered ${received.status}, the caller got ${answer.status}`);
          if (received.headers.authorization !== BASIC) found.push(`the upstream got authorization ${JSON.stringify(received.headers.authorization)}`);
          if (received.headers.cookie !== undefined || received.headers['x-csrf-token'] !== undefined) found.push("the upstream got the caller's cookie or CSRF token");
          if (answer.status >= 500) found.push(`a ${answer.status}`);
          if (found.length) fail(found, request, answer);
        });
      }),
      { seed: seedFor('gateway proxy'), numRuns: Math.ceil(runs / BATCH), endOnFailure: !LONG },
    );
    if (LONG) console.log('gateway proxy:', JSON.stringify(counts), 'statuses', JSON.stringify(Object.fromEntries(histogram)));
    expect(counts.sent).toBeGreaterThanOrEqual(runs);
    // Enough got through to the upstream for the forwarding checks to mean something.
    expect(counts.forwarded).toBeGreaterThan(counts.sent * 0.1);
  });
});

describe('the gateway proxy, fed bodies from a Worker key that choose what a worker runs (issue 14)', () => {
  it('never forwards a body Prefect would read as carrying a deployment, pool, queue, job variables, parameters or a SCHEDULED state: 403 instead', { timeout: LONG ? 3_600_000 : 120_000 }, async () => {
    const counts = { carrying: 0, other: 0, otherForwarded: 0 };
    const prefix = `/api/accounts/${world.accountId}/workspaces/${world.workspaceId}`;
    await fc.assert(
      fc.asyncProperty(fc.array(runChoosingRequests(prefix, { authorization: `Bearer ${workerBot.key}` }), { minLength: BATCH, maxLength: BATCH }), async (requests) => {
        fake.reset();
        const answers = await Promise.all(requests.map(send));
        answers.forEach((answer, i) => {
          const request = requests[i];
          const received = fake.requests.some((r) => r.headers['x-request-id'] === answer.id);
          if (request.carries) {
            counts.carrying += 1;
            const found = problems(answer, new Set([403]), request.method);
            if (received) found.push('the upstream received it');
            if (!answer.body.includes('FORBIDDEN')) found.push('not refused with FORBIDDEN');
            if (found.length) fail(found, request, answer);
          } else {
            counts.other += 1;
            if (received) counts.otherForwarded += 1;
          }
        });
      }),
      { seed: seedFor('gateway run-choosing bodies'), numRuns: Math.ceil(RUNS_PER_ENDPOINT / BATCH), endOnFailure: !LONG },
    );
    if (LONG) console.log('run-choosing bodies:', JSON.stringify(counts));
    expect(counts.carrying).toBeGreaterThan(RUNS_PER_ENDPOINT / 3);
    // The refusals come from the fields: bodies without them (on routes a Worker may use) went through.
    expect(counts.otherForwarded).toBeGreaterThan(0);
  });
});

describe('forward-auth, fed generated X-Original-* headers', () => {
  it('answers only 204, 401 or 403 (400 or 422 only for a misconfigured authorize query)', { timeout: LONG ? 3_600_000 : 120_000 }, async () => {
    const histogram = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(authorizeRequests(targets), { minLength: BATCH, maxLength: BATCH }), async (requests) => {
        const answers = await Promise.all(requests.map(send));
        sent += requests.length;
        answers.forEach((answer, i) => {
          const request = requests[i];
          histogram.set(answer.status, (histogram.get(answer.status) ?? 0) + 1);
          const found = problems(answer, request.queryIsSane ? AUTHORIZE_STATUSES : AUTHORIZE_BAD_QUERY_STATUSES);
          if (found.length) fail(found, request, answer);
        });
      }),
      { seed: seedFor('gateway authorize'), numRuns: Math.ceil(RUNS_PER_ENDPOINT / BATCH), endOnFailure: !LONG },
    );
    if (LONG) console.log('forward-auth statuses', JSON.stringify(Object.fromEntries(histogram)));
    expect(sent).toBeGreaterThanOrEqual(RUNS_PER_ENDPOINT);
    // Some requests were allowed, so the fuzz reached the scope decision, not only the refusals.
    expect(histogram.get(204) ?? 0, JSON.stringify(Object.fromEntries(histogram))).toBeGreaterThan(0);
  });
});

/**
 * What the gateway may answer a websocket upgrade: 101, or a refusal before the handshake (400 bad
 * path, 401, 403, 404, 429 for a bad key from one address). Never a 5xx.
 */
const UPGRADE_STATUSES = new Set([101, 400, 401, 403, 404, 429]);

describe('websocket upgrades, fed generated paths (backslashes, dot segments, encodings)', () => {
  it('refuses a path a URL parser would read otherwise before any upstream connection, and sends every other one exactly as written', { timeout: LONG ? 3_600_000 : 180_000 }, async () => {
    const port = Number(new URL(await h.app.server.listen({ host: '127.0.0.1', port: 0 })).port);
    const prefix = `/api/accounts/${world.accountId}/workspaces/${world.workspaceId}`;
    // Every upgrade sent, by request id: an upstream upgrade may arrive after its batch was checked.
    const sent = new Map<string, WebsocketUpgrade>();
    const counts = { sent: 0, refusedPaths: 0, upgraded: 0, exactUpstream: 0 };
    const histogram = new Map<number, number>();
    const checkUpstream = () => {
      for (const upgrade of fake.upgrades.splice(0)) {
        const id = upgrade.headers['x-request-id'];
        const request = typeof id === 'string' ? sent.get(id) : undefined;
        if (!request) throw new Error(`an upgrade reached the upstream that no request sent with its id: ${upgrade.url}`);
        if (escapesItsPath(request.path)) throw new Error(`a path a URL parser reads otherwise reached the upstream as ${upgrade.url} [${request.what.join('; ')}]`);
        if (upgrade.url !== `/api${request.apiPathAndQuery.replace(/\?$/, '')}`) throw new Error(`the upstream got ${upgrade.url} for ${request.apiPathAndQuery} [${request.what.join('; ')}]`);
        counts.exactUpstream += 1;
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(websocketUpgrades(targets), { minLength: BATCH, maxLength: BATCH }), async (upgrades) => {
        const answers = await Promise.all(
          upgrades.map((upgrade) => {
            const id = `wsfuzz-${(counter += 1)}-${randomBytes(3).toString('hex')}`;
            sent.set(id, upgrade);
            // An address of its own: the bad keys sent here must not throttle the other suites.
            return rawUpgrade(port, `${prefix}${upgrade.apiPathAndQuery}`, { ...upgrade.headers, 'x-request-id': id }, '127.0.0.3');
          }),
        );
        counts.sent += upgrades.length;
        answers.forEach((answer, i) => {
          const upgrade = upgrades[i];
          histogram.set(answer.status, (histogram.get(answer.status) ?? 0) + 1);
          const problem = !UPGRADE_STATUSES.has(answer.status)
            ? `answered ${answer.status}`
            : escapesItsPath(upgrade.path) && answer.status !== 400
              ? `a path a URL parser reads otherwise was answered ${answer.status}, not 400`
              : answer.status !== 101 && !/^\{"detail":/.test(answer.body)
                ? 'a refusal outside the error envelope'
                : null;
          if (problem) throw new Error(`${problem}\n  upgrade: ${prefix}${upgrade.apiPathAndQuery} ${JSON.stringify(upgrade.headers)} [${upgrade.what.join('; ')}]\n  answer: ${answer.status} ${answer.body.slice(0, 300)}`);
          if (escapesItsPath(upgrade.path)) counts.refusedPaths += 1;
          if (answer.status === 101) counts.upgraded += 1;
        });
        // Whatever reached the upstream for these (a refused one never opens a connection).
        await new Promise((r) => setTimeout(r, 50));
        checkUpstream();
      }),
      { seed: seedFor('gateway websocket upgrades'), numRuns: Math.ceil(RUNS_PER_ENDPOINT / 2 / BATCH), endOnFailure: !LONG },
    );
    await new Promise((r) => setTimeout(r, 200));
    checkUpstream();
    if (LONG) console.log('websocket upgrades:', JSON.stringify(counts), 'statuses', JSON.stringify(Object.fromEntries(histogram)));
    // The fuzz reached both sides: refused escapes, and paths that went through to the upstream.
    expect(counts.refusedPaths, JSON.stringify(counts)).toBeGreaterThan(counts.sent * 0.2);
    expect(counts.exactUpstream, JSON.stringify(counts)).toBeGreaterThan(counts.sent * 0.05);
  });
});

describe('after the gateway fuzz', () => {
  it('still serves, and still forwards', async () => {
    const health = await h.request('GET', '/api/health');
    expect(health.status).toBe(200);
    const flows = await h.request('POST', `/api/accounts/${world.accountId}/workspaces/${world.workspaceId}/flows/filter`, { headers: owner, body: {} });
    expect(flows.status).toBe(200);
    expect(flows.body).toEqual([]);
  });
});
