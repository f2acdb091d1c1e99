// The six routes of one SCIM resource type (RFC 7644 §3): list with a filter, read one, create,
// replace (PUT), change (PATCH, applied to the resource as served, then read back as a PUT body)
// and delete. Users and Groups differ only in what `ResourceType` says about them.
import { Type } from '@sinclair/typebox';
import { SCIM } from '../../authz/requirements.js';
import type { OpContext } from '../../domain/context.js';
import type { Filter } from 'scim2-parse-filter';
import type { Attributes } from '../../domain/scim/filter.js';
import { applyPatch } from '../../domain/scim/patch.js';
import { isInvalid, type Invalid } from '../../domain/scim/resources.js';
import { ok, type Result } from '../../errors.js';
import { noContent, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import {
  accountOnly, excludes, filterOf, invalid, ListQuery, ListResponse, listResponse, operationsOf, paging, ReadQuery, resourceParams, SCIM_BASE, SCIM_ERRORS, ScimBody,
  scimContext, ScimResource, sendScim, sendScimFailure, TAGS,
} from './scim-wire.js';

/** What a domain service offers for one SCIM resource type. */
export interface ScimResourceService<R, I> {
  list(accountId: string, query: { filter: Filter | null; startIndex: number; count: number; resource: (record: R) => unknown }): Promise<{ total: number; items: R[] }>;
  get(accountId: string, id: string): Promise<Result<R>>;
  create(ctx: OpContext, accountId: string, input: I): Promise<Result<R>>;
  replace(ctx: OpContext, accountId: string, id: string, input: I | ((current: R) => Result<I>)): Promise<Result<R>>;
  remove(ctx: OpContext, accountId: string, id: string): Promise<Result<null>>;
}

export interface ResourceType<R, I> {
  /** The URL segment: `Users`, `Groups`. */
  endpoint: string;
  /** The path parameter that names one: `user_id`. */
  param: string;
  /** The attributes a filter or a PATCH path may name. */
  attributes: Attributes;
  service: ScimResourceService<R, I>;
  /** The resource as served from `base` (`…/scim/v2`); `full` false leaves out what `excludedAttributes` may drop. */
  show(record: R, base: string, full: boolean): { meta: { location: string } };
  /** A request body (POST, PUT, or a PATCHed resource) read as the service's input, or what is wrong with it. */
  read(body: unknown): I | Invalid;
  /** The attribute `excludedAttributes` may leave out (Groups: `members`), if any. */
  excludable?: string;
  summaries: Record<'list' | 'get' | 'create' | 'replace' | 'patch' | 'remove', string>;
}

export function scimResourceRoutes<R, I>({ publicUrl, clock }: RouteDeps, type: ResourceType<R, I>): RouteSpec[] {
  const { service, summaries, attributes } = type;
  const { on } = routeShapes(clock, TAGS);
  const show = (accountId: string, full = true) => (record: R) => type.show(record, `${publicUrl.base()}/api/accounts/${accountId}/scim/v2`, full);
  const full = (query: { excludedAttributes?: string }) => !type.excludable || !excludes(query, type.excludable);
  const one = `${SCIM_BASE}/${type.endpoint}/:${type.param}`;
  const idOf = (params: Record<string, string>) => params[type.param]!;
  return [
    on('GET', `${SCIM_BASE}/${type.endpoint}`, SCIM, summaries.list, {
      params: accountOnly,
      querystring: ListQuery,
      response: { 200: ListResponse, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const page = paging(req.query);
        if (!page.ok) return sendScimFailure(req, reply, page);
        const filter = filterOf(req.query, attributes);
        if (!filter.ok) return sendScimFailure(req, reply, filter);
        // A filter sees the whole resource, whatever the answer leaves out.
        const found = await service.list(req.params.account_id, { filter: filter.value, ...page.value, resource: show(req.params.account_id) });
        return sendScim(reply, 200, listResponse(found.total, page.value.startIndex, found.items.map(show(req.params.account_id, full(req.query)))));
      },
    }),
    on('GET', one, SCIM, summaries.get, {
      params: resourceParams(type.param),
      querystring: ReadQuery,
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const found = await service.get(req.params.account_id, idOf(req.params));
        return found.ok ? sendScim(reply, 200, show(req.params.account_id, full(req.query))(found.value)) : sendScimFailure(req, reply, found);
      },
    }),
    on('POST', `${SCIM_BASE}/${type.endpoint}`, SCIM, summaries.create, {
      params: accountOnly,
      body: ScimBody,
      response: { 201: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const input = type.read(req.body);
        if (isInvalid(input)) return sendScimFailure(req, reply, invalid(input));
        const created = await service.create(scimContext(req, clock), req.params.account_id, input);
        if (!created.ok) return sendScimFailure(req, reply, created);
        const resource = show(req.params.account_id)(created.value);
        reply.header('location', resource.meta.location);
        return sendScim(reply, 201, resource);
      },
    }),
    on('PUT', one, SCIM, summaries.replace, {
      params: resourceParams(type.param),
      body: ScimBody,
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const input = type.read(req.body);
        if (isInvalid(input)) return sendScimFailure(req, reply, invalid(input));
        const replaced = await service.replace(scimContext(req, clock), req.params.account_id, idOf(req.params), input);
        return replaced.ok ? sendScim(reply, 200, show(req.params.account_id)(replaced.value)) : sendScimFailure(req, reply, replaced);
      },
    }),
    on('PATCH', one, SCIM, summaries.patch, {
      params: resourceParams(type.param),
      body: ScimBody,
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const operations = operationsOf(req.body);
        if (!operations.ok) return sendScimFailure(req, reply, operations);
        const toResource = show(req.params.account_id);
        const patched = await service.replace(scimContext(req, clock), req.params.account_id, idOf(req.params), (current) => {
          const applied = applyPatch(toResource(current), operations.value, attributes);
          if (!applied.ok) return applied;
          const input = type.read(applied.value);
          return isInvalid(input) ? invalid(input) : ok(input);
        });
        return patched.ok ? sendScim(reply, 200, toResource(patched.value)) : sendScimFailure(req, reply, patched);
      },
    }),
    on('DELETE', one, SCIM, summaries.remove, {
      params: resourceParams(type.param),
      response: { 204: Type.Null(), ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const removed = await service.remove(scimContext(req, clock), req.params.account_id, idOf(req.params));
        return removed.ok ? noContent(reply) : sendScimFailure(req, reply, removed);
      },
    }),
  ];
}
