// SCIM 2.0 (RFC 7643/7644) at `/api/accounts/{account_id}/scim/v2`: the discovery documents, Users
// and Groups, for an identity provider holding one of the account's SCIM tokens (docs/scim.md).
import { USER_ATTRIBUTES } from '../../domain/scim/filter.js';
import { readUser, userResource } from '../../domain/scim/resources.js';
import type { RouteDeps, RouteSpec } from '../route.js';
import { discoveryRoutes } from './scim-discovery.js';
import { scimGroupRoutes } from './scim-groups.js';
import { scimResourceRoutes } from './scim-resources.js';

/** SCIM Users: the people of the account (userName is their email). */
function userRoutes(deps: RouteDeps): RouteSpec[] {
  return scimResourceRoutes(deps, {
    endpoint: 'Users',
    param: 'user_id',
    attributes: USER_ATTRIBUTES,
    service: deps.services.scimUsers,
    show: (record, base) => userResource(record, base),
    read: readUser,
    summaries: {
      list: 'SCIM: list or filter the people of the account (userName, externalId, emails, displayName, active, …)',
      get: 'SCIM: one person of the account',
      create: 'SCIM: provision a person (userName is their email); they join the account as a Member and sign in with SSO',
      replace: 'SCIM: replace a person (active false deprovisions them: out of the account, keys and sessions revoked at once)',
      patch: 'SCIM: change a person with PatchOp operations (add, replace, remove); active false deprovisions them at once',
      remove: 'SCIM: delete a person from the account (deprovisioned at once, then no longer listed)',
    },
  });
}

export function scimRoutes(deps: RouteDeps): RouteSpec[] {
  return [...discoveryRoutes(deps), ...userRoutes(deps), ...scimGroupRoutes(deps)];
}
