// Malformed requests for one of Gatehouse's own routes, generated from its TypeBox schemas: a caller
// (mostly the Owner, sometimes anyone or no one), path parameters (mostly real ids, sometimes not
// ids at all), a query, and a body derived from a valid one with one thing broken, encoded with or
// without a defect, under some Content-Type.
import fc from 'fast-check';
import type { RouteSpec } from '../../src/http/route.js';
import {
  applyChange, badPathParam, bodyChange, contentType, encode, encoding, extraQuery, headerText, hostileString, leaves, urlText, validValue,
  wrongValue, type Schema,
} from './arbitraries.js';
import { hasMarkers } from './oracle.js';
import { uuidSource, type World } from './world.js';

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** Which caller, and what was broken: for the failure report. */
  what: string[];
}

/** The caller presented a key that is not one of the world's. */
export const presentsBadKey = (request: FuzzRequest) => request.what.includes(`caller ${BAD_AUTHORIZATION}`);

/** How a request prints in fast-check's counterexample: short, whatever the size of its body. */
export function printable(request: FuzzRequest): FuzzRequest {
  const shorten = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text);
  const show = () => {
    const body = request.payload === undefined ? 'no body' : Buffer.isBuffer(request.payload) ? `bytes ${request.payload.toString('hex').slice(0, 200)}` : JSON.stringify(shorten(request.payload));
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, shorten(v)]));
    return `${request.method} ${shorten(request.url)} ${JSON.stringify(headers)} ${body} [${request.what.join('; ')}]`;
  };
  Object.defineProperty(request, fc.toStringMethod, { value: show, enumerable: false });
  return request;
}

type Caller = [name: string, headers: Record<string, string>];

const BAD_AUTHORIZATION = 'bad Authorization';

/** Who sends most of a route's requests: the Owner's key, except where only a browser session will do. */
const MAIN_CALLER: Record<string, keyof World['callers']> = {
  'GET /api/auth/session': 'browser',
  'POST /api/auth/logout': 'signingOut',
  'GET /api/me/sessions': 'browser',
  'POST /api/me/sessions/filter': 'browser',
  'POST /api/me/sessions/:session_id/terminate': 'browser',
  'POST /api/me/password': 'browser',
};

export function callers(world: World, main: keyof World['callers'] = 'owner'): fc.Arbitrary<Caller> {
  // Signing out with the shared browser session would end it for every route fuzzed after.
  const browser = main === 'signingOut' ? world.callers.signingOut : world.callers.browser;
  const { cookie } = browser;
  const key = world.callers.owner.authorization.slice('Bearer '.length);
  const badAuthorization = fc.oneof(
    fc.constantFrom('Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', `Bearer pnu_${'A'.repeat(36)}`, `Bearer pnb_${'0'.repeat(36)}`, `Bearer ${key}x`, `Bearer ${key} extra`, `Bearer ${key.slice(0, -1)}`, `bearer\t${key}`, `Bearer ${key.toLowerCase()}`, 'Bearer pnb_'),
    headerText.map((t) => `Bearer ${t}`),
    headerText,
  );
  const badCookie = fc.oneof(
    headerText.map((t) => `gatehouse_session=${t}`),
    fc.constantFrom('gatehouse_session=%ZZ', 'gatehouse_session=', 'gatehouse_session=a; gatehouse_session=b', ';;;==', `gatehouse_session=${'a'.repeat(5000)}`),
  );
  const c = world.callers;
  return fc.oneof(
    { weight: 24, arbitrary: fc.constant<Caller>([main, c[main]]) },
    { weight: 1, arbitrary: fc.constant<Caller>(['member', c.member]) },
    { weight: 1, arbitrary: fc.constant<Caller>(['service account', c.bot]) },
    { weight: 1, arbitrary: fc.constant<Caller>(['browser session', browser]) },
    { weight: 1, arbitrary: fc.constant<Caller>(['browser session without CSRF token', { cookie }]) },
    { weight: 1, arbitrary: fc.constant<Caller>(['nobody', {}]) },
    { weight: 1, arbitrary: badAuthorization.map<Caller>((v) => [BAD_AUTHORIZATION, { authorization: v }]) },
    { weight: 1, arbitrary: badCookie.map<Caller>((v) => ['bad cookie', { cookie: v }]) },
  );
}

const OTHER_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'TRACE', 'SEARCH'];

function pathParam(real: string): fc.Arbitrary<[string, string]> {
  return fc.oneof(
    { weight: 24, arbitrary: fc.constant<[string, string]>([real, 'real']) },
    { weight: 1, arbitrary: fc.uuid().map<[string, string]>((u) => [u, 'random uuid']) },
    { weight: 1, arbitrary: fc.constant<[string, string]>([real.toUpperCase(), 'upper case']) },
    { weight: 3, arbitrary: badPathParam.map<[string, string]>((p) => [p, 'bad']) },
  );
}

/** `/api/x/` ↔ `/api/x`, doubled slashes: forms the router must treat alike. */
const urlForm = fc.oneof({ weight: 12, arbitrary: fc.constant('as declared') }, { weight: 1, arbitrary: fc.constantFrom('slash toggled', 'slashes doubled') });

function applyUrlForm(path: string, form: string): string {
  if (form === 'slash toggled') return path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
  if (form === 'slashes doubled') return path.replace(/\//g, '//');
  return path;
}

function queryArb(route: RouteSpec, world: World): fc.Arbitrary<[string, string]> {
  const given = world.query(route.url);
  const schema = route.querystring as Schema | undefined;
  const encodeQuery = (q: Record<string, unknown>) =>
    Object.entries(q)
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((item) => `${urlText(k)}=${urlText(typeof item === 'string' ? item : JSON.stringify(item) ?? '')}`))
      .join('&');
  const fields = leaves(schema ?? null);
  const options: fc.WeightedArbitrary<[string, string]>[] = [
    { weight: 8, arbitrary: fc.constant<[string, string]>([encodeQuery(given), 'no query change']) },
    { weight: 1, arbitrary: extraQuery.map<[string, string]>((extra) => [[encodeQuery(given), extra].filter(Boolean).join('&'), 'extra query']) },
  ];
  if (schema) {
    options.push({ weight: 2, arbitrary: validValue(schema, { uuid: fc.uuid() }).map<[string, string]>((q) => [encodeQuery({ ...given, ...(q as object) }), 'query from schema']) });
  }
  if (fields.length) {
    const broken = fc.tuple(fc.constantFrom(...fields), fc.oneof(hostileString, wrongValue));
    options.push({ weight: 3, arbitrary: broken.map<[string, string]>(([leaf, value]) => [encodeQuery({ ...given, [leaf.path[0]]: value }), `query ${String(leaf.path[0])} broken`]) });
    options.push({ weight: 1, arbitrary: fc.constant<[string, string]>(['', 'query dropped']) });
  }
  return fc.oneof(...options);
}

interface BodyPart {
  payload?: string | Buffer;
  contentType: string | null;
  what: string;
}

function bodyArb(route: RouteSpec, world: World): fc.Arbitrary<BodyPart> {
  const schema = route.body as Schema | undefined;
  const sources = { uuid: uuidSource(world) };
  const json = schema
    ? fc.tuple(validValue(schema, sources), bodyChange(schema), encoding, contentType).map<BodyPart>(([valid, change, how, type]) => ({
        payload: encode(applyChange(valid, change), how),
        contentType: type,
        what: `body ${change.kind}${'path' in change ? ` ${change.path.join('.')}` : ''}, ${how.kind}`,
      }))
    : fc.tuple(fc.jsonValue({ maxDepth: 2 }), encoding, contentType).map<BodyPart>(([value, how, type]) => ({ payload: encode(value, how), contentType: type, what: `unexpected body, ${how.kind}` }));
  return fc.oneof(
    { weight: schema ? 12 : 1, arbitrary: json },
    { weight: schema ? 1 : 12, arbitrary: fc.constant<BodyPart>({ contentType: null, what: 'no body' }) },
  );
}

/** Requests for `route`, nearly all of them malformed in at least one way. */
export function routeRequests(route: RouteSpec, world: World): fc.Arbitrary<FuzzRequest> {
  const names = [...route.url.matchAll(/:([a-z_]+)/g)].map((m) => m[1]);
  const real = world.params(route.method, route.url);
  const params = fc.tuple(...names.map((n) => pathParam(real[n])));
  const method = fc.oneof({ weight: 30, arbitrary: fc.constant(route.method as string) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS.filter((m) => m !== route.method)) });
  const requestId = fc.option(headerText, { freq: 20 });
  return fc
    .record({ caller: callers(world, MAIN_CALLER[`${route.method} ${route.url}`] ?? (route.requirement.kind === 'scim' ? 'scim' : undefined)), params, query: queryArb(route, world), body: bodyArb(route, world), method, form: urlForm, requestId })
    .map(({ caller, params: values, query, body, method: m, form, requestId: rid }) => {
      let i = 0;
      // Another method on the same path may be a DELETE of the real object: it gets ids of nothing,
      // so that the objects the other routes are fuzzed with stay.
      const param = () => (m === route.method ? values[i++][0] : '00000000-0000-4000-8000-000000000000');
      const path = applyUrlForm(route.url.replace(/:([a-z_]+)/g, param), form);
      const headers: Record<string, string> = { ...caller[1] };
      if (body.contentType !== null && body.payload !== undefined) headers['content-type'] = body.contentType;
      if (rid !== null) headers['x-request-id'] = rid;
      const url = query[0] ? `${path}?${query[0]}` : path;
      const what = [
        `caller ${caller[0]}`,
        ...(m === route.method ? names.map((n, k) => `:${n} ${values[k][1]}`).filter((w) => !w.endsWith(' real')) : []),
        query[1],
        body.what,
        ...(m !== route.method ? [`method ${m}`] : []),
        ...(form !== 'as declared' ? [form] : []),
      ].filter((w) => w !== 'no query change' && w !== 'no body');
      return printable({ method: m, url, headers, payload: body.payload, what });
    })
    .filter((r) => !hasMarkers(`${r.url} ${JSON.stringify(r.headers)} ${typeof r.payload === 'string' ? r.payload : ''}`));
}
