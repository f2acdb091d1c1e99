// SCIM filters (RFC 7644 §3.4.2.2): parsed by scim2-parse-filter, checked against the attributes a
// resource type may be filtered on, then evaluated on SCIM resources. The store is asked only for
// the candidates of an equality an identity provider sends (`userName eq "…"`), see `narrowing`.
import { parse, type Filter } from 'scim2-parse-filter';
import { fail, ok, type Result } from '../../errors.js';

/** Filterable attributes of a resource type, lowercase, without the schema URN; `true`: compared case-exactly. */
export type Attributes = Readonly<Record<string, boolean>>;

export const USER_ATTRIBUTES: Attributes = {
  id: true,
  externalid: true,
  username: false,
  displayname: false,
  'name.givenname': false,
  'name.familyname': false,
  'name.formatted': false,
  emails: false,
  'emails.value': false,
  'emails.type': false,
  'emails.primary': false,
  active: false,
  'meta.created': false,
  'meta.lastmodified': false,
};

export const GROUP_ATTRIBUTES: Attributes = {
  id: true,
  externalid: true,
  displayname: false,
  members: true,
  'members.value': true,
  'members.display': false,
  'meta.created': false,
  'meta.lastmodified': false,
};

const MAX_FILTER_LENGTH = 2_000;
const URN_PREFIX = /^urn:ietf:params:scim:schemas:core:2\.0:(user|group):/i;

/** An attribute path as the evaluator reads it: lowercase, no schema URN. */
export const attributeName = (path: string): string => path.replace(URN_PREFIX, '').toLowerCase();

/** A filter parsed and checked, or SCIM_INVALID_FILTER saying what is wrong. */
export function parseFilter(text: string, attributes: Attributes): Result<Filter> {
  if (text.length > MAX_FILTER_LENGTH) return fail('SCIM_INVALID_FILTER', `The filter is longer than ${MAX_FILTER_LENGTH} characters`);
  let filter: Filter;
  try {
    filter = parse(text);
  } catch {
    return fail('SCIM_INVALID_FILTER', `The filter ${JSON.stringify(text.slice(0, 200))} cannot be read: write it as RFC 7644 §3.4.2.2 does, e.g. userName eq "ada@example.com"`);
  }
  const unknown = unknownAttribute(filter, attributes, '');
  if (unknown) return fail('SCIM_INVALID_FILTER', `The filter names ${JSON.stringify(unknown)}, which cannot be filtered on here; use one of ${Object.keys(attributes).join(', ')}`);
  return ok(filter);
}

function unknownAttribute(filter: Filter, attributes: Attributes, parent: string): string | null {
  switch (filter.op) {
    case 'and':
    case 'or':
      for (const f of filter.filters) {
        const found = unknownAttribute(f, attributes, parent);
        if (found) return found;
      }
      return null;
    case 'not':
      return unknownAttribute(filter.filter, attributes, parent);
    case '[]': {
      const name = attributeName(filter.attrPath);
      if (!(name in attributes)) return filter.attrPath;
      return unknownAttribute(filter.valFilter, attributes, `${name}.`);
    }
    default: {
      const name = parent + attributeName(filter.attrPath);
      if (!(name in attributes)) return filter.attrPath;
      if (filter.op !== 'pr' && typeof filter.compValue === 'object' && filter.compValue !== null) return filter.attrPath;
      return null;
    }
  }
}

/** The values at a path of a resource: multi-valued attributes are flattened. */
function valuesAt(resource: unknown, path: string[]): unknown[] {
  let current: unknown[] = [resource];
  for (const part of path) {
    const next: unknown[] = [];
    for (const node of current) {
      if (node === null || typeof node !== 'object') continue;
      const key = Object.keys(node).find((k) => k.toLowerCase() === part);
      const value = key === undefined ? undefined : (node as Record<string, unknown>)[key];
      if (Array.isArray(value)) next.push(...value);
      else if (value !== undefined && value !== null) next.push(value);
    }
    current = next;
  }
  return current;
}

function compare(op: string, actual: unknown, expected: unknown, caseExact: boolean): boolean {
  // A multi-valued complex attribute compared directly compares its `value` sub-attribute.
  if (actual !== null && typeof actual === 'object' && 'value' in actual) actual = (actual as { value: unknown }).value;
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = caseExact ? actual : actual.toLowerCase();
    const e = caseExact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq': return a === e;
      case 'ne': return a !== e;
      case 'co': return a.includes(e);
      case 'sw': return a.startsWith(e);
      case 'ew': return a.endsWith(e);
      case 'gt': return a > e;
      case 'ge': return a >= e;
      case 'lt': return a < e;
      case 'le': return a <= e;
    }
    return false;
  }
  // Booleans and numbers; Entra ID may send a boolean as a string ("True").
  const norm = (v: unknown) => (typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : v);
  const a = norm(actual);
  const e = norm(expected);
  if (op === 'eq') return a === e;
  if (op === 'ne') return a !== e;
  if (typeof a === 'number' && typeof e === 'number') return op === 'gt' ? a > e : op === 'ge' ? a >= e : op === 'lt' ? a < e : op === 'le' ? a <= e : false;
  return false;
}

/** Whether a resource matches a checked filter. */
export function matches(filter: Filter, resource: unknown, attributes: Attributes, parent = ''): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matches(f, resource, attributes, parent));
    case 'or':
      return filter.filters.some((f) => matches(f, resource, attributes, parent));
    case 'not':
      return !matches(filter.filter, resource, attributes, parent);
    case '[]': {
      const name = attributeName(filter.attrPath);
      return valuesAt(resource, name.split('.')).some((item) => matches(filter.valFilter, item, attributes, `${parent}${name}.`));
    }
    default: {
      const name = attributeName(filter.attrPath);
      const values = valuesAt(resource, name.split('.'));
      if (filter.op === 'pr') return values.some((v) => v !== '' && !(Array.isArray(v) && v.length === 0));
      const caseExact = attributes[parent + name] ?? false;
      if (filter.op === 'ne') return values.length === 0 || values.every((v) => compare('ne', v, filter.compValue, caseExact));
      return values.some((v) => compare(filter.op, v, filter.compValue, caseExact));
    }
  }
}

/**
 * An equality every match must satisfy, for the store to find the candidates by: the attribute
 * (`username`, `externalid`, `id`, `displayname`) and the value; null when the filter has none.
 */
export function narrowing(filter: Filter): { attribute: string; value: string } | null {
  if (filter.op === 'eq' && typeof filter.compValue === 'string') {
    const name = attributeName(filter.attrPath);
    const attribute = name === 'emails.value' ? 'username' : name;
    if (['username', 'externalid', 'id', 'displayname'].includes(attribute)) return { attribute, value: filter.compValue };
  }
  if (filter.op === 'and') {
    for (const f of filter.filters) {
      const found = narrowing(f);
      if (found) return found;
    }
  }
  return null;
}
