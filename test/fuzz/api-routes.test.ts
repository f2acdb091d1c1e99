// Property-based fuzzing of every route in app.routes: RUNS_PER_ENDPOINT generated requests each
// (wrong types, missing and extra fields, huge and unicode strings, deep nesting, bad UUIDs and
// dates, duplicate JSON keys, invalid UTF-8, wrong content types, oversized bodies, bad callers).
// No answer may be a 5xx, a status the route does not document, a stack trace or SQL text, or an
// error outside the envelope; and the server must still answer at the end.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { RouteSpec } from '../../src/http/route.js';
import { startHarness } from '../support/harness.js';
import { allowedStatuses, problems, ROUTE_EXTRAS, routeKey, WRONG_METHOD, type Answer } from './oracle.js';
import { presentsBadKey, routeRequests, type FuzzRequest } from './requests.js';
import { BATCH, BODY_LIMIT, describeRun, LONG, RUNS_PER_ENDPOINT, seedFor } from './settings.js';
import { buildWorld } from './world.js';

// keyFailureLimit: undefined is the production default (the harness otherwise turns the throttle off).
const h = await startHarness({ bodyLimit: BODY_LIMIT, keyFailureLimit: undefined });
const world = await buildWorld(h);
const routes: RouteSpec[] = h.app.routes;
console.log(describeRun('API routes fuzz'));

afterAll(async () => {
  await h.close();
});

async function send(request: FuzzRequest): Promise<Answer> {
  const res = await h.app.server.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, payload: request.payload });
  return { status: res.statusCode, headers: res.headers, body: res.body };
}

/** A request sent with another method than the route's may reach any route of that method. */
function allowedFor(route: RouteSpec, request: FuzzRequest): Set<number> {
  const traits = { hasBody: request.payload !== undefined, badKey: presentsBadKey(request) };
  if (request.method === route.method) return allowedStatuses(route, traits);
  const allowed = new Set<number>([WRONG_METHOD]);
  for (const other of routes) {
    if (other.method === request.method || (request.method === 'HEAD' && other.method === 'GET')) {
      for (const status of allowedStatuses(other, traits)) allowed.add(status);
    }
  }
  for (const status of allowedStatuses(route, traits)) if (status >= 400) allowed.add(status);
  return allowed;
}

const histograms = new Map<string, Map<number, number>>();

describe('every API route, fed generated malformed requests', () => {
  it('covers every route, and documents extra statuses only for routes that exist', () => {
    expect(routes.length).toBeGreaterThanOrEqual(60);
    const keys = new Set(routes.map(routeKey));
    expect(Object.keys(ROUTE_EXTRAS).filter((k) => !keys.has(k))).toEqual([]);
  });

  for (const route of routes) {
    const key = routeKey(route);
    it(`${key} answers only documented statuses, without a 5xx or a leak`, { timeout: LONG ? 3_600_000 : 120_000 }, async () => {
      const histogram = new Map<number, number>();
      histograms.set(key, histogram);
      let sent = 0;
      const batch = fc.array(routeRequests(route, world), { minLength: BATCH, maxLength: BATCH });
      await fc.assert(
        fc.asyncProperty(batch, async (requests) => {
          const answers = await Promise.all(requests.map(send));
          sent += requests.length;
          answers.forEach((answer, i) => {
            const request = requests[i];
            histogram.set(answer.status, (histogram.get(answer.status) ?? 0) + 1);
            const found = problems(answer, allowedFor(route, request), request.method);
            if (found.length) {
              throw new Error(`${found.join('; ')}\n  request: ${String((request as any)[fc.toStringMethod]())}\n  answer: ${answer.status} ${answer.body.slice(0, 500)}`);
            }
          });
        }),
        { seed: seedFor(key), numRuns: Math.ceil(RUNS_PER_ENDPOINT / BATCH), endOnFailure: !LONG },
      );
      expect(sent).toBeGreaterThanOrEqual(RUNS_PER_ENDPOINT);
      // The fuzz must get past authentication, or it tests nothing but the 401. (Signing out once
      // ends the session the route is sent with; after that it can only answer 401, by design.)
      const unauthenticated = histogram.get(401) ?? 0;
      const atMost = key === 'POST /api/auth/logout' ? 1 : 0.6;
      expect(unauthenticated, `${key}: ${JSON.stringify(Object.fromEntries(histogram))}`).toBeLessThanOrEqual(sent * atMost);
    });
  }
});

describe('after the fuzz', () => {
  it('still serves, and the Owner key still works', async () => {
    const health = await h.request('GET', '/api/health');
    expect(health.status).toBe(200);
    expect(health.body).toBe(true);
    const me = await h.request('GET', '/api/me/', { headers: world.callers.owner });
    expect(me.status).toBe(200);
    if (LONG) for (const [key, histogram] of histograms) console.log(key, JSON.stringify(Object.fromEntries([...histogram].sort((x, y) => x[0] - y[0]))));
  });
});
