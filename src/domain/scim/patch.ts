// SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: add, replace and remove, with or
// without a path, as identity providers send them — Entra ID's capitalised "Replace" and string
// booleans, Okta's path-less replace of a partial resource, `emails[type eq "work"].value`, and
// Groups' `members[value eq "…"]`. The service then reads what it keeps from the result.
import { type Filter } from 'scim2-parse-filter';
import { fail, ok, type Result } from '../../errors.js';
import { matches, parseFilter, type Attributes } from './filter.js';

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

type Json = Record<string, unknown>;

interface Target {
  /** The schema URN of an extension attribute (its object's key in the resource), if any. */
  urn: string | null;
  attribute: string;
  filter: Filter | null;
  sub: string | null;
}

const PATH = /^(?:(urn:[^[\]]+):)?([A-Za-z$][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z$][\w$-]*))?$/;
const CORE_URN = /^urn:ietf:params:scim:schemas:core:2\.0:(user|group)$/i;
export const MAX_OPERATIONS = 1_000;

function parsePath(path: string, attributes: Attributes): Result<Target> {
  const match = PATH.exec(path.trim());
  if (!match) return fail('SCIM_INVALID_PATH', `The PATCH path ${JSON.stringify(path.slice(0, 200))} cannot be read: write it as attribute, attribute.subAttribute or attribute[filter].subAttribute`);
  const [, urn, attribute, filterText, sub] = match;
  let filter: Filter | null = null;
  if (filterText !== undefined) {
    // The filter of a value path names sub-attributes: check them under the attribute.
    const scoped = Object.fromEntries(
      Object.entries(attributes)
        .filter(([name]) => name.startsWith(`${attribute!.toLowerCase()}.`))
        .map(([name, exact]) => [name.slice(attribute!.length + 1), exact]),
    );
    const parsed = parseFilter(filterText, { ...scoped, value: scoped.value ?? false, type: scoped.type ?? false, primary: false, display: false });
    if (!parsed.ok) return fail('SCIM_INVALID_PATH', `The filter in the PATCH path ${JSON.stringify(path.slice(0, 200))} cannot be read`);
    filter = parsed.value;
  }
  return ok({ urn: urn && !CORE_URN.test(urn) ? urn : null, attribute: attribute!, filter, sub: sub ?? null });
}

/** The key of `name` in an object, matched case-insensitively (attribute names are, RFC 7643 §2.1). */
function keyOf(node: Json, name: string): string {
  return Object.keys(node).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
}

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The same item of a multi-valued attribute: the same `value`, or equal as JSON. */
function sameItem(a: unknown, b: unknown): boolean {
  if (isObject(a) && isObject(b) && 'value' in a && 'value' in b) return String(a.value) === String(b.value);
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Applies one operation to `resource` (changed in place). */
function applyOne(resource: Json, op: 'add' | 'replace' | 'remove', target: Target, value: unknown, attributes: Attributes): Result<null> {
  let container: Json = resource;
  if (target.urn) {
    const urnKey = keyOf(resource, target.urn);
    if (!isObject(resource[urnKey])) {
      if (op === 'remove') return ok(null);
      resource[urnKey] = {};
    }
    container = resource[urnKey] as Json;
  }
  const key = keyOf(container, target.attribute);
  const current = container[key];

  if (!target.filter && !target.sub) {
    if (op === 'remove') {
      // Entra ID removes group members as `path: "members"` with the members to remove as the value.
      if (Array.isArray(current) && Array.isArray(value)) container[key] = current.filter((item) => !value.some((v) => sameItem(item, v)));
      else delete container[key];
      return ok(null);
    }
    if (op === 'add' && Array.isArray(current)) {
      const added = Array.isArray(value) ? value : [value];
      container[key] = [...current, ...added.filter((v) => !current.some((item) => sameItem(item, v)))];
      return ok(null);
    }
    if (op === 'add' && isObject(current) && isObject(value)) {
      container[key] = { ...current, ...value };
      return ok(null);
    }
    container[key] = value;
    return ok(null);
  }

  if (!target.filter) {
    // attribute.subAttribute
    const sub = target.sub!;
    if (Array.isArray(current)) {
      for (const item of current) if (isObject(item)) op === 'remove' ? delete item[keyOf(item, sub)] : (item[keyOf(item, sub)] = value);
      return ok(null);
    }
    if (!isObject(current)) {
      if (op === 'remove') return ok(null);
      container[key] = {};
    }
    const node = container[key] as Json;
    if (op === 'remove') delete node[keyOf(node, sub)];
    else node[keyOf(node, sub)] = value;
    return ok(null);
  }

  // attribute[filter] or attribute[filter].subAttribute
  const items = Array.isArray(current) ? current : [];
  const scoped = scopedAttributes(attributes, target.attribute);
  const hit = (item: unknown) => matches(target.filter!, item, scoped);
  if (op === 'remove') {
    if (target.sub) {
      for (const item of items.filter(hit)) if (isObject(item)) delete item[keyOf(item, target.sub)];
    } else {
      container[key] = items.filter((item) => !hit(item));
    }
    return ok(null);
  }
  const matched = items.filter(hit);
  if (matched.length === 0) {
    // `emails[type eq "work"].value` on a resource without a work email: the item the filter describes.
    const described = describedItem(target.filter);
    if (!described) return fail('SCIM_NO_TARGET', `No value of ${target.attribute} matches the filter of the PATCH path`);
    const item: Json = { ...described, ...(target.sub ? { [target.sub]: value } : isObject(value) ? value : { value }) };
    container[key] = [...items, item];
    return ok(null);
  }
  for (const item of matched) {
    if (!isObject(item)) continue;
    if (target.sub) item[keyOf(item, target.sub)] = value;
    else if (isObject(value)) Object.assign(item, value);
  }
  return ok(null);
}

function scopedAttributes(attributes: Attributes, attribute: string): Attributes {
  const prefix = `${attribute.toLowerCase()}.`;
  return Object.fromEntries(Object.entries(attributes).filter(([n]) => n.startsWith(prefix)).map(([n, e]) => [n.slice(prefix.length), e]));
}

/** The item an equality filter (or an `and` of them) describes, e.g. `{type: "work"}`; null for any other filter. */
function describedItem(filter: Filter): Json | null {
  if (filter.op === 'eq') return { [filter.attrPath]: filter.compValue };
  if (filter.op === 'and') {
    const parts = filter.filters.map(describedItem);
    return parts.every(Boolean) ? Object.assign({}, ...parts) : null;
  }
  return null;
}

/**
 * The resource after the operations, or the SCIM error of the first that cannot be applied. The
 * resource passed in is not changed.
 */
export function applyPatch(resource: Json, operations: unknown, attributes: Attributes): Result<Json> {
  if (!Array.isArray(operations) || operations.length === 0) return fail('SCIM_INVALID_SYNTAX', 'A PATCH request needs a non-empty "Operations" array');
  if (operations.length > MAX_OPERATIONS) return fail('SCIM_INVALID_SYNTAX', `A PATCH request may hold at most ${MAX_OPERATIONS} operations`);
  const result = structuredClone(resource);
  for (const [index, raw] of operations.entries()) {
    if (!isObject(raw)) return fail('SCIM_INVALID_SYNTAX', `Operations[${index}] is not an object`);
    const opKey = keyOf(raw, 'op');
    const op = typeof raw[opKey] === 'string' ? (raw[opKey] as string).toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') return fail('SCIM_INVALID_SYNTAX', `Operations[${index}].op must be "add", "replace" or "remove"`);
    const path = raw[keyOf(raw, 'path')];
    const value = raw[keyOf(raw, 'value')];
    if (path !== undefined && path !== null && typeof path !== 'string') return fail('SCIM_INVALID_PATH', `Operations[${index}].path must be a string`);
    if (path === undefined || path === null || path === '') {
      if (op === 'remove') return fail('SCIM_NO_TARGET', `Operations[${index}] removes without a path: name what to remove`);
      if (!isObject(value)) return fail('SCIM_INVALID_VALUE', `Operations[${index}] has no path, so its value must be an object of attributes`);
      for (const [name, v] of Object.entries(value)) {
        // A schema URN as a key holds that extension's attributes.
        if (name.startsWith('urn:') && isObject(v) && !name.includes('.')) {
          for (const [inner, iv] of Object.entries(v)) {
            const applied = applyAt(result, op, `${name}:${inner}`, iv, attributes);
            if (!applied.ok) return applied;
          }
          continue;
        }
        const applied = applyAt(result, op, name, v, attributes);
        if (!applied.ok) return applied;
      }
      continue;
    }
    if (op !== 'remove' && value === undefined) return fail('SCIM_INVALID_VALUE', `Operations[${index}] needs a value`);
    const applied = applyAt(result, op, path, value, attributes);
    if (!applied.ok) return applied;
  }
  return ok(result);
}

function applyAt(resource: Json, op: 'add' | 'replace' | 'remove', path: string, value: unknown, attributes: Attributes): Result<null> {
  const target = parsePath(path, attributes);
  if (!target.ok) return target;
  return applyOne(resource, op, target.value, value, attributes);
}
