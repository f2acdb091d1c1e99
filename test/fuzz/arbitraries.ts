// fast-check arbitraries for malformed requests: values that satisfy a route's TypeBox schema, the
// ways to break one field of them, hostile strings, bad UUIDs and dates, deep nesting, and the ways
// to break the JSON text itself (duplicate keys, invalid UTF-8, truncation, wrong content types).
import fc from 'fast-check';
import { BODY_LIMIT } from './settings.js';

export type Schema = Record<string, any>;
type Path = (string | number)[];

// ---------------------------------------------------------------------------------------------
// Raw JSON tokens: text that JSON.stringify cannot produce (1e400, 30,000 nested brackets) is
// carried through a value as a marker string and spliced into the text afterwards.

const RAW_MARK = '\u0001RAW\u0001';
const RAW_IN_TEXT = /"\\u0001RAW\\u0001((?:[^"\\]|\\.)*)"/g;

/** A value that serializes as `text` verbatim (see `toJsonText`). */
const raw = (text: string): string => `${RAW_MARK}${text}`;

/** JSON text of a value, with raw tokens spliced in. */
function toJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? '';
  return text.includes('\\u0001RAW\\u0001') ? text.replace(RAW_IN_TEXT, (_m, inner: string) => JSON.parse(`"${inner}"`) as string) : text;
}

// ---------------------------------------------------------------------------------------------
// Strings

/** Any UTF-16 code unit, so lone surrogates and NUL come up as often as letters. */
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

const HOSTILE_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '\ud83d\ude80', '\u202e\u0644\u0627\u202c', '\u200b\u200d',
  '\ufeff', '\ufffe\uffff', 'e\u0301\u0301\u0301\u0301', '👩‍👩‍👧‍👦', '\r\n', '\t', '\u001b[31m', '\u007f', '\u0085\u2028\u2029',
  '%00', '%s%s%n', '{{7*7}}', '${7*7}', '../../etc/passwd', '..\\..\\boot.ini', "' OR '1'='1", "1'; DROP TABLE users; --",
  '" OR ""="', '<script>alert(1)</script>', 'null', 'undefined', 'NaN', '__proto__', 'constructor', 'true', '0', '-1', '1e400',
  '\\', '"', "'", '`', 'Ω≈ç√∫˜µ≤', '𝓤𝓷𝓲𝓬𝓸𝓭𝓮', 'ﷺ', '\u0000'.repeat(8),
];

/** Long strings, from just past a typical maxLength to past the body limit. */
const hugeString = fc.oneof(
  fc.integer({ min: 256, max: 6_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'é🚀'.repeat(n)),
  fc.constant('y'.repeat(BODY_LIMIT + 1)),
);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: utf16Unit, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: hugeString },
);

/** Printable Latin-1 (what an HTTP header value may carry), short. */
export const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 });

// ---------------------------------------------------------------------------------------------
// Malformed identifiers, dates and numbers

const BAD_UUIDS = [
  'not-a-uuid', '', '0', '-1', 'null', 'undefined', '00000000-0000-0000-0000-00000000000g', '00000000000000000000000000000000',
  '{00000000-0000-4000-8000-000000000000}', 'urn:uuid:00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-0000000000000',
  '0000000-00000-4000-8000-000000000000', "' OR '1'='1", '00000000-0000-4000-8000-00000000000\u0000', '\ud800', '..x', '*', '%',
];

/** Strings that are not UUIDs, many of them almost: one too long, no dashes, braces, a URN. */
export function badUuid(near: fc.Arbitrary<string> = fc.uuid()): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...BAD_UUIDS) },
    { weight: 1, arbitrary: near.map((u) => `${u}0`) },
    { weight: 1, arbitrary: near.map((u) => u.slice(1)) },
    { weight: 1, arbitrary: near.map((u) => u.replace(/-/g, '')) },
    { weight: 1, arbitrary: near.map((u) => ` ${u}`) },
    { weight: 1, arbitrary: near.map((u) => `urn:uuid:${u}`) },
    { weight: 1, arbitrary: near.map((u) => `${u.slice(0, 35)}\u0430`) },
    { weight: 2, arbitrary: hostileString },
  );
}

const BAD_DATES = [
  '2026-13-45T00:00:00Z', 'yesterday', 'now', '2030-01-01T00:00:00', '2030-01-01', '2030-02-30T10:00:00Z', '9999999-01-01T00:00:00Z',
  '0000-00-00T00:00:00Z', '2030-01-01T25:61:61Z', '2030-01-01T00:00:00+25:00', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00.001Z',
  '2030-01-01T00:00:00.123456789123456789Z', '2030-01-01t00:00:00z', '2030-01-01 00:00:00Z', 'Infinity', '1e20', '9999-12-31T23:59:60Z',
  '2016-12-31T23:59:60Z', '2030-12-31T23:59:60+00:00', '1969-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z',
  '2030-01-01T00:00:00\u0000Z', '2030-01-01T00:00:00Z ', '２０３０-01-01T00:00:00Z',
];

const badDate: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...BAD_DATES) },
  // Well-formed but anywhere in time, including years JavaScript prints as +275760 or -000001.
  { weight: 2, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: hostileString },
);

const EDGE_NUMBERS = [-1, 0, 1.5, 0.1, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e-300, 172_800, 172_801, 200, 201, 1e9, 1e9 + 1];
/** Number spellings JSON.stringify never writes. */
const RAW_NUMBERS = ['1e400', '-1e400', '1E2', '1.0', '-0', '1e-400', '100000000000000000000000000000', '0.00000000000000000000001', '12345678901234567890123'];

const edgeNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...EDGE_NUMBERS),
  fc.constantFrom(...RAW_NUMBERS).map(raw),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

// ---------------------------------------------------------------------------------------------
// Nesting

const deepNesting: fc.Arbitrary<string> = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1_000, max: 40_000 })),
    kind: fc.constantFrom('array', 'object'),
    leaf: fc.constantFrom('null', '1', '"x"', '"\\u0000"', '"\\ud800"', '{}', '[]'),
  })
  .map(({ depth, kind, leaf }) => (kind === 'array' ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`));

// ---------------------------------------------------------------------------------------------
// Values of the wrong kind

export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(12345, 1.5, -1, 0, true, false, null, {}, [], [null], { a: 1 }, 'text', '', [[[]]], { any_: null }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: edgeNumber },
  { weight: 1, arbitrary: deepNesting.map(raw) },
);

const FIELD_NAMES = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'id', 'account_id', 'actor_id', 'user_id',
  'created', 'updated', 'api_key', 'key', 'key_hash', 'password_hash', 'account_role_id', 'role', 'is_admin', '$where', 'a.b', 'any_',
  'limit', 'offset', 'zz_unknown', 'NAME', 'name ', '\u0000', '\ud800',
];
const fieldName: fc.Arbitrary<string> = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FIELD_NAMES) }, { weight: 1, arbitrary: hostileString.filter((s) => s.length < 1000) });

// ---------------------------------------------------------------------------------------------
// Schema walking

/** The non-null branch of a nullable schema. */
function core(schema: Schema): Schema {
  const branches = (schema.anyOf ?? []) as Schema[];
  return branches.length === 2 && branches.some((b) => b.type === 'null') ? branches.find((b) => b.type !== 'null')! : schema;
}

/** The object branch of a body schema (bodies may be `object | null` or `object | object[]`). */
function objectBranch(schema: Schema | undefined): Schema | null {
  if (!schema) return null;
  if (schema.type === 'object') return schema;
  for (const branch of (schema.anyOf ?? []) as Schema[]) if (branch.type === 'object') return branch;
  return null;
}

interface Leaf {
  path: Path;
  schema: Schema;
  required: boolean;
}

/** Every field of an object schema with its path, walking nested objects and array items. */
export function leaves(schema: Schema | null, prefix: Path = []): Leaf[] {
  if (!schema) return [];
  const out: Leaf[] = [];
  const required = new Set((schema.required ?? []) as string[]);
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    const path = [...prefix, name];
    out.push({ path, schema: child, required: required.has(name) });
    const inner = core(child);
    if (inner.type === 'object') out.push(...leaves(inner, path));
    if (inner.type === 'array' && inner.items) {
      out.push({ path: [...path, 0], schema: inner.items, required: false });
      if (core(inner.items).type === 'object') out.push(...leaves(core(inner.items), [...path, 0]));
    }
  }
  return out;
}

/** Where a valid value comes from for fields the schema alone cannot fill well. */
interface ValueSources {
  /** UUIDs that name real things (plus random ones): a valid body often points at something. */
  uuid: fc.Arbitrary<string>;
}

/** Values that satisfy a schema (best effort: enough to get past validation most of the time). */
export function validValue(schema: Schema, sources: ValueSources): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...(schema.anyOf as Schema[]).map((b) => validValue(b, sources)));
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      const record = Object.fromEntries(
        Object.entries(props).map(([name, child]) => {
          const value = validValue(child, sources);
          // A URL field's schema says only "string"; a URL gets further.
          return [name, name.endsWith('_url') && core(child).type === 'string' ? fc.oneof(fc.webUrl({ validSchemes: ['http', 'https'] }), value) : value];
        }),
      );
      return fc.record(record, { requiredKeys: required });
    }
    case 'array':
      return fc.array(schema.items ? validValue(schema.items, sources) : fc.jsonValue({ maxDepth: 1 }), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: Math.min(schema.maximum ?? 1000, 2 ** 31 - 1) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'string':
      return validString(schema, sources);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validString(schema: Schema, sources: ValueSources): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return sources.uuid;
  if (schema.format === 'date-time') {
    // Mostly in the future (expirations), sometimes past or now.
    const day = 86_400_000;
    return fc.integer({ min: -30, max: 3_650 }).map((days) => new Date(Date.now() + days * day + 3_600_000).toISOString());
  }
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, 40);
  const fits = (s: string) => s.length >= min && s.length <= (schema.maxLength ?? Infinity);
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  return fc.oneof(fc.string({ minLength: min, maxLength: Math.max(min, max) }), fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.max(min, max) })).filter(fits);
}

/** A value that breaks the kind of field this is: bad UUIDs for UUIDs, bad dates for dates, … */
function breakingValue(schema: Schema): fc.Arbitrary<unknown> {
  const s = core(schema);
  const arbs: fc.Arbitrary<unknown>[] = [wrongValue];
  if (s.type === 'string') {
    if (s.format === 'uuid') arbs.push(badUuid(), badUuid());
    if (s.format === 'date-time') arbs.push(badDate, badDate);
    arbs.push(hostileString, hugeString);
  }
  if (s.type === 'integer' || s.type === 'number') arbs.push(edgeNumber, edgeNumber);
  if (s.type === 'array') arbs.push(fc.array(wrongValue, { maxLength: 5 }), fc.integer({ min: 1_001, max: 5_000 }).map((n) => Array.from({ length: n }, () => 'x')));
  return fc.oneof(...arbs);
}

// ---------------------------------------------------------------------------------------------
// Body mutation

/** Sets `path` in a copy of `value` (own properties, so `__proto__` is a field like any other). */
function withField(value: unknown, path: Path, field: unknown): unknown {
  const copy = structuredClone(value !== null && typeof value === 'object' ? value : {}) as Record<string | number, unknown>;
  let node = copy;
  path.forEach((key, i) => {
    const last = i === path.length - 1;
    const next = last ? field : node[key] !== null && typeof node[key] === 'object' ? node[key] : typeof path[i + 1] === 'number' ? [] : {};
    Object.defineProperty(node, key, { value: next, enumerable: true, writable: true, configurable: true });
    node = next as Record<string | number, unknown>;
  });
  return copy;
}

function withoutField(value: unknown, path: Path): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node: any = copy;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return copy;
    node = node[key];
  }
  if (node !== null && typeof node === 'object') delete node[path[path.length - 1]];
  return copy;
}

type BodyChange =
  | { kind: 'valid' }
  | { kind: 'drop'; path: Path }
  | { kind: 'extra'; path: Path; value: unknown }
  | { kind: 'break'; path: Path; value: unknown }
  | { kind: 'replace'; value: unknown };

/** One way to make a valid body (of this schema) malformed, or none. */
export function bodyChange(schema: Schema | undefined): fc.Arbitrary<BodyChange> {
  const object = objectBranch(schema);
  const fields = leaves(object);
  const options: fc.WeightedArbitrary<BodyChange>[] = [
    { weight: 2, arbitrary: fc.constant({ kind: 'valid' as const }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('replace' as const),
        value: fc.oneof(
          fc.constantFrom<unknown>(42, 'a string', true, null, [], [{}], [1, 2], {}, ''),
          fc.jsonValue({ maxDepth: 4 }),
          deepNesting.map(raw),
          fc.array(fc.constant({}), { minLength: 100, maxLength: 3_000 }),
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('extra' as const),
        path: fc.oneof(
          fieldName.map((n) => [n] as Path),
          ...(fields.length ? [fc.tuple(fc.constantFrom(...fields), fieldName).map(([leaf, n]) => [...leaf.path, n])] : []),
        ),
        value: wrongValue,
      }),
    },
  ];
  const required = fields.filter((f) => f.required || f.path.length > 1);
  if (required.length) options.push({ weight: 2, arbitrary: fc.constantFrom(...required).map((f) => ({ kind: 'drop' as const, path: f.path })) });
  if (fields.length) {
    options.push({
      weight: 8,
      arbitrary: fc.constantFrom(...fields).chain((f) => breakingValue(f.schema).map((value) => ({ kind: 'break' as const, path: f.path, value }))),
    });
  }
  return fc.oneof(...options);
}

export function applyChange(valid: unknown, change: BodyChange): unknown {
  switch (change.kind) {
    case 'valid':
      return valid;
    case 'drop':
      return withoutField(valid, change.path);
    case 'extra':
    case 'break':
      return withField(valid, change.path, change.value);
    case 'replace':
      return change.value;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding a body as bytes

type Encoding =
  | { kind: 'json' }
  | { kind: 'duplicate-key'; key: string; junk: unknown; junkLast: boolean }
  | { kind: 'escaped' }
  | { kind: 'bom' | 'padded' }
  | { kind: 'truncated'; at: number }
  | { kind: 'garbage'; text: string; where: 'before' | 'after' }
  | { kind: 'invalid-utf8'; bytes: number[] }
  | { kind: 'not-json'; text: string }
  | { kind: 'empty' };

const NOT_JSON = ['{"a": ', '{name: 1}', "{'a': 1}", '{"a": 1,}', 'nul', '{"a": NaN}', '[1, 2', '{"a": Infinity}', '/* c */ {}', '{"a":1}{"b":2}', '\u0000', '{"\\u12": 1}', '{"a": "\\x41"}', '{"a": 01}', '--', 'a=1&b=2', '<xml/>'];
const BAD_UTF8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xfe, 0xff], [0xf0, 0x9f, 0x98]];

export const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ kind: 'json' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('duplicate-key' as const), key: fieldName, junk: wrongValue, junkLast: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'escaped' as const }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'bom' as const }, { kind: 'padded' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncated' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), text: fc.constantFrom('x', ']', '}', ',', '\u0000', ' \n'), where: fc.constantFrom('before' as const, 'after' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('invalid-utf8' as const), bytes: fc.constantFrom(...BAD_UTF8) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('not-json' as const), text: fc.constantFrom(...NOT_JSON) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
);

/** `{"key": first, …rest, "key": last}` by hand, since no JSON library writes a key twice. */
function duplicateKey(value: unknown, key: string, junk: unknown, junkLast: boolean): string {
  const text = toJsonText(value);
  if (!text.startsWith('{')) return text;
  const current = value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : junk;
  const [first, last] = junkLast ? [current, junk] : [junk, current];
  const inner = text.slice(1, -1);
  const name = JSON.stringify(key);
  return `{${name}:${toJsonText(first)}${inner ? `,${inner}` : ''},${name}:${toJsonText(last)}}`;
}

export function encode(value: unknown, how: Encoding): string | Buffer {
  switch (how.kind) {
    case 'json':
      return toJsonText(value);
    case 'duplicate-key':
      return duplicateKey(value, how.key, how.junk, how.junkLast);
    case 'escaped':
      // Outside strings JSON text is ASCII, so this only rewrites characters inside strings.
      return toJsonText(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    case 'bom':
      return `\ufeff${toJsonText(value)}`;
    case 'padded':
      return `\n\t  ${toJsonText(value)}  \r\n`;
    case 'truncated': {
      const text = toJsonText(value);
      return text.slice(0, text.length ? how.at % text.length : 0);
    }
    case 'garbage':
      return how.where === 'before' ? `${how.text}${toJsonText(value)}` : `${toJsonText(value)}${how.text}`;
    case 'invalid-utf8': {
      // The bad bytes go inside the first string of the text, or replace the whole body.
      const text = toJsonText(value);
      const at = text.indexOf('"');
      const bytes = Buffer.from(how.bytes);
      if (at === -1) return bytes;
      return Buffer.concat([Buffer.from(text.slice(0, at + 1)), bytes, Buffer.from(text.slice(at + 1))]);
    }
    case 'not-json':
      return how.text;
    case 'empty':
      return '';
  }
}

const CONTENT_TYPES = [
  'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/json; charset=utf-16',
  'application/vnd.api+json', 'application/merge-patch+json', 'application/problem+json', 'text/json', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', '', ';', '*/*', 'application/json, text/plain', 'application/json; x="\\"',
  'application/json; boundary=' + 'b'.repeat(2_000), 'application/jsonx', 'application/json\u00ff', 'json',
];

/** Content-Type: mostly JSON; otherwise a wrong, odd or missing one (null: no header). */
export const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: headerText },
);

// ---------------------------------------------------------------------------------------------
// URLs

/** A path segment or query value as it goes on the wire: encoded, or deliberately not. */
export function urlText(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // A lone surrogate cannot be encoded as UTF-8: send the bytes a careless client would.
    return value.replace(/[\ud800-\udfff]/g, '%ED%A0%80').replace(/[^A-Za-z0-9%_.~-]/g, (c) => encodeURIComponent(c));
  }
}

// No "." or ".." segments and no bare spaces: app.inject() resolves or trims them away (WHATWG URL)
// before the server sees them, which would aim the request at another route.
const BAD_SEGMENTS = ['%ZZ', '%', '%0', '%C0%AF', '%ED%A0%80', '%FF', '%00', '%0A', '%2F', '%252F', '%u0041', '\u00e9', '%2e%2e%2F', '.%2e.'];

/** A path parameter that is not an id: encoded hostile text, or raw bytes a router must survive. */
export const badPathParam: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: badUuid().map(urlText).filter((s) => s !== '' && s.length < 1_000 && !/^\.{1,2}$/.test(s)) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_SEGMENTS) },
  { weight: 1, arbitrary: fc.integer({ min: 150, max: 400 }).map((n) => 'a'.repeat(n)) },
);

/** Extra query parameters: repeated, huge, NUL, bad percent-encoding, prototype names. */
export const extraQuery: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.tuple(fieldName.filter((s) => s.length < 100), hostileString.filter((s) => s.length < 10_000)).map(([k, v]) => `${urlText(k)}=${urlText(v)}`),
      fc.constantFrom('name=a&name=b', 'name=%ZZ', 'name=a%00b', 'name', '=x', '&&&', 'name[]=x', 'constructor[prototype][x]=1', '__proto__[x]=1', 'name=%ED%A0%80', 'a=' + 'b'.repeat(5_000)),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.join('&'));
