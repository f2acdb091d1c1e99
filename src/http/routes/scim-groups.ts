// SCIM Groups at `/api/accounts/{account_id}/scim/v2/Groups`: the account's teams, their members
// the people of the account, as Okta's group push and Entra ID's group provisioning manage them.
import { GROUP_ATTRIBUTES } from '../../domain/scim/filter.js';
import { groupResource, isInvalid, readGroup } from '../../domain/scim/resources.js';
import type { RouteDeps, RouteSpec } from '../route.js';
import { scimResourceRoutes } from './scim-resources.js';

export function scimGroupRoutes(deps: RouteDeps): RouteSpec[] {
  return scimResourceRoutes(deps, {
    endpoint: 'Groups',
    param: 'group_id',
    attributes: GROUP_ATTRIBUTES,
    service: deps.services.scimGroups,
    show: (record, base, full) => groupResource(record, base, full),
    // A Group given without members has none (PUT replaces the whole resource; a PATCH is applied
    // to the Group as served, members included).
    read: (body) => {
      const input = readGroup(body);
      return isInvalid(input) ? input : { ...input, memberIds: input.memberIds ?? [] };
    },
    excludable: 'members',
    summaries: {
      list: 'SCIM: list or filter the teams of the account as Groups (displayName, externalId, id, members)',
      get: 'SCIM: one team of the account as a Group',
      create: 'SCIM: create a team from a Group (displayName, externalId, members by user id)',
      replace: "SCIM: replace a Group: its team's name, externalId and user members (people leaving lose the team's workspace access at once)",
      patch: 'SCIM: change a Group with PatchOp operations: rename, add members, remove members[value eq "…"]',
      remove: "SCIM: delete a Group: the team goes, and with it its members' access through it, at once",
    },
  });
}
