// SCIM Groups at `/api/accounts/{account_id}/scim/v2/Groups`: the account's teams, their members
// the people of the account, as Okta's group push and Entra ID's group provisioning manage them.
import { Type } from '@sinclair/typebox';
import { SCIM } from '../../authz/requirements.js';
import { GROUP_ATTRIBUTES } from '../../domain/scim/filter.js';
import type { ScimGroupRecord } from '../../domain/scim/groups.js';
import { applyPatch } from '../../domain/scim/patch.js';
import { groupResource, isInvalid, readGroup } from '../../domain/scim/resources.js';
import { ok } from '../../errors.js';
import { noContent, route, type RouteDeps, type RouteSpec } from '../route.js';
import {
  accountOnly, excludes, filterOf, invalid, ListQuery, ListResponse, listResponse, operationsOf, paging, ReadQuery, resourceParams, SCIM_BASE, SCIM_ERRORS, ScimBody,
  scimContext, ScimResource, sendScim, sendScimFailure, TAGS,
} from './scim-wire.js';

export function scimGroupRoutes({ services, publicUrl, clock }: RouteDeps): RouteSpec[] {
  const groups = services.scimGroups;
  const show = (accountId: string, members = true) => (record: ScimGroupRecord) => groupResource(record, `${publicUrl.base()}/api/accounts/${accountId}/scim/v2`, members);
  const one = `${SCIM_BASE}/Groups/:group_id`;
  return [
    route({
      method: 'GET',
      url: `${SCIM_BASE}/Groups`,
      requirement: SCIM,
      summary: 'SCIM: list or filter the teams of the account as Groups (displayName, externalId, id, members)',
      tags: TAGS,
      params: accountOnly,
      querystring: ListQuery,
      response: { 200: ListResponse, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const page = paging(req.query);
        if (!page.ok) return sendScimFailure(req, reply, page);
        const filter = filterOf(req.query, GROUP_ATTRIBUTES);
        if (!filter.ok) return sendScimFailure(req, reply, filter);
        const found = await groups.list(req.params.account_id, { filter: filter.value, ...page.value, resource: show(req.params.account_id) });
        const answer = show(req.params.account_id, !excludes(req.query, 'members'));
        return sendScim(reply, 200, listResponse(found.total, page.value.startIndex, found.items.map(answer)));
      },
    }),
    route({
      method: 'GET',
      url: one,
      requirement: SCIM,
      summary: 'SCIM: one team of the account as a Group',
      tags: TAGS,
      params: resourceParams('group_id'),
      querystring: ReadQuery,
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const found = await groups.get(req.params.account_id, req.params.group_id);
        return found.ok ? sendScim(reply, 200, show(req.params.account_id, !excludes(req.query, 'members'))(found.value)) : sendScimFailure(req, reply, found);
      },
    }),
    route({
      method: 'POST',
      url: `${SCIM_BASE}/Groups`,
      requirement: SCIM,
      summary: 'SCIM: create a team from a Group (displayName, externalId, members by user id)',
      tags: TAGS,
      params: accountOnly,
      body: ScimBody,
      response: { 201: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const input = readGroup(req.body);
        if (isInvalid(input)) return sendScimFailure(req, reply, invalid(input));
        const created = await groups.create(scimContext(req, clock), req.params.account_id, input);
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
      summary: "SCIM: replace a Group: its team's name, externalId and user members (people leaving lose the team's workspace access at once)",
      tags: TAGS,
      params: resourceParams('group_id'),
      body: ScimBody,
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const input = readGroup(req.body);
        if (isInvalid(input)) return sendScimFailure(req, reply, invalid(input));
        const replaced = await groups.replace(scimContext(req, clock), req.params.account_id, req.params.group_id, { ...input, memberIds: input.memberIds ?? [] });
        return replaced.ok ? sendScim(reply, 200, show(req.params.account_id)(replaced.value)) : sendScimFailure(req, reply, replaced);
      },
    }),
    route({
      method: 'PATCH',
      url: one,
      requirement: SCIM,
      summary: 'SCIM: change a Group with PatchOp operations: rename, add members, remove members[value eq "…"]',
      tags: TAGS,
      params: resourceParams('group_id'),
      body: ScimBody,
      response: { 200: ScimResource, ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const operations = operationsOf(req.body);
        if (!operations.ok) return sendScimFailure(req, reply, operations);
        const toResource = show(req.params.account_id);
        const patched = await groups.replace(scimContext(req, clock), req.params.account_id, req.params.group_id, (current) => {
          const resource = toResource(current);
          const applied = applyPatch(resource, operations.value, GROUP_ATTRIBUTES);
          if (!applied.ok) return applied;
          const input = readGroup(applied.value);
          if (isInvalid(input)) return invalid(input);
          return ok({ ...input, memberIds: input.memberIds ?? [] });
        });
        return patched.ok ? sendScim(reply, 200, toResource(patched.value)) : sendScimFailure(req, reply, patched);
      },
    }),
    route({
      method: 'DELETE',
      url: one,
      requirement: SCIM,
      summary: "SCIM: delete a Group: the team goes, and with it its members' access through it, at once",
      tags: TAGS,
      params: resourceParams('group_id'),
      response: { 204: Type.Null(), ...SCIM_ERRORS },
      handler: async (req, reply) => {
        const removed = await groups.remove(scimContext(req, clock), req.params.account_id, req.params.group_id);
        return removed.ok ? noContent(reply) : sendScimFailure(req, reply, removed);
      },
    }),
  ];
}
