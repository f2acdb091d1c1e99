// SCIM 2.0 (RFC 7643/7644) at `/api/accounts/{account_id}/scim/v2`: the discovery documents, Users
// and Groups, for an identity provider holding one of the account's SCIM tokens (docs/scim.md).
import { Type } from '@sinclair/typebox';
import { SCIM } from '../../authz/requirements.js';
import { USER_ATTRIBUTES } from '../../domain/scim/filter.js';
import { applyPatch } from '../../domain/scim/patch.js';
import { isInvalid, readUser, userResource } from '../../domain/scim/resources.js';
import { ok } from '../../errors.js';
import { noContent, route, type RouteDeps, type RouteSpec } from '../route.js';
import { discoveryRoutes } from './scim-discovery.js';
import { scimGroupRoutes } from './scim-groups.js';
import {
  accountOnly, filterOf, invalid, ListQuery, ListResponse, listResponse, operationsOf, paging, resourceParams, SCIM_BASE, SCIM_ERRORS, ScimBody, scimContext,
  ScimResource, sendScim, sendScimFailure, TAGS,
} from './scim-wire.js';

function userRoutes({ services, publicUrl, clock }: RouteDeps): RouteSpec[] {
  const users = services.scimUsers;
  const baseUrl = (accountId: string) => `${publicUrl.base()}/api/accounts/${accountId}/scim/v2`;
  const show = (accountId: string) => (record: Parameters<typeof userResource>[0]) => userResource(record, baseUrl(accountId));
  const one = `${SCIM_BASE}/Users/:user_id`;
  return [
    route({
      method: 'GET',
      url: `${SCIM_BASE}/Users`,
      requirement: SCIM,
      summary: 'SCIM: list or filter the people of the account (userName, externalId, emails, displayName, active, …)',
      tags: TAGS,
      params: accountOnly,
      querystring: ListQuery,
      response: { 200: ListResponse, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const page = paging(req.query);
        if (!page.ok) return sendScimFailure(req, reply, page);
        const filter = filterOf(req.query, USER_ATTRIBUTES);
        if (!filter.ok) return sendScimFailure(req, reply, filter);
        const toResource = show(req.params.account_id);
        const found = await users.list(req.params.account_id, { filter: filter.value, ...page.value, resource: toResource });
        return sendScim(reply, 200, listResponse(found.total, page.value.startIndex, found.items.map(toResource)));
      },
    }),
    route({
      method: 'GET',
      url: one,
      requirement: SCIM,
      summary: 'SCIM: one person of the account',
      tags: TAGS,
      params: resourceParams('user_id'),
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const found = await users.get(req.params.account_id, req.params.user_id);
        return found.ok ? sendScim(reply, 200, show(req.params.account_id)(found.value)) : sendScimFailure(req, reply, found);
      },
    }),
    route({
      method: 'POST',
      url: `${SCIM_BASE}/Users`,
      requirement: SCIM,
      summary: 'SCIM: provision a person (userName is their email); they join the account as a Member and sign in with SSO',
      tags: TAGS,
      params: accountOnly,
      body: ScimBody,
      response: { 201: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const input = readUser(req.body);
        if (isInvalid(input)) return sendScimFailure(req, reply, invalid(input));
        const created = await users.create(scimContext(req, clock), req.params.account_id, input);
        if (!created.ok) return sendScimFailure(req, reply, created);
        const resource = show(req.params.account_id)(created.value);
        reply.header('location', resource.meta.location);
        return sendScim(reply, 201, resource);
      },
    }),
    route({
      method: 'PUT',
      url: one,
      requirement: SCIM,
      summary: 'SCIM: replace a person (active false deprovisions them: out of the account, keys and sessions revoked at once)',
      tags: TAGS,
      params: resourceParams('user_id'),
      body: ScimBody,
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const input = readUser(req.body);
        if (isInvalid(input)) return sendScimFailure(req, reply, invalid(input));
        const replaced = await users.replace(scimContext(req, clock), req.params.account_id, req.params.user_id, input);
        return replaced.ok ? sendScim(reply, 200, show(req.params.account_id)(replaced.value)) : sendScimFailure(req, reply, replaced);
      },
    }),
    route({
      method: 'PATCH',
      url: one,
      requirement: SCIM,
      summary: 'SCIM: change a person with PatchOp operations (add, replace, remove); active false deprovisions them at once',
      tags: TAGS,
      params: resourceParams('user_id'),
      body: ScimBody,
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const operations = operationsOf(req.body);
        if (!operations.ok) return sendScimFailure(req, reply, operations);
        const toResource = show(req.params.account_id);
        const patched = await users.replace(scimContext(req, clock), req.params.account_id, req.params.user_id, (current) => {
          const applied = applyPatch(toResource(current), operations.value, USER_ATTRIBUTES);
          if (!applied.ok) return applied;
          const input = readUser(applied.value);
          return isInvalid(input) ? invalid(input) : ok(input);
        });
        return patched.ok ? sendScim(reply, 200, toResource(patched.value)) : sendScimFailure(req, reply, patched);
      },
    }),
    route({
      method: 'DELETE',
      url: one,
      requirement: SCIM,
      summary: 'SCIM: delete a person from the account (deprovisioned at once, then no longer listed)',
      tags: TAGS,
      params: resourceParams('user_id'),
      response: { 204: Type.Null(), ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const removed = await users.remove(scimContext(req, clock), req.params.account_id, req.params.user_id);
        return removed.ok ? noContent(reply) : sendScimFailure(req, reply, removed);
      },
    }),
  ];
}

export function scimRoutes(deps: RouteDeps): RouteSpec[] {
  return [...discoveryRoutes(deps), ...userRoutes(deps), ...scimGroupRoutes(deps)];
}

