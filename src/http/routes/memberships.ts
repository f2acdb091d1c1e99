// `/api/accounts/{account_id}/account_memberships`: users and service accounts in the account.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { anyOf, page, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { anyOfFilter, filterBody, Nullable, Timestamp, Uuid } from '../schemas.js';

const Membership = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Uuid,
  actor_id: Uuid,
  user_id: Nullable(Uuid),
  bot_id: Nullable(Uuid),
  handle: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  email: Nullable(Type.String()),
  account_role_id: Uuid,
  account_role_name: Type.String(),
  last_login: Nullable(Timestamp),
  active: Type.Boolean(),
});

const FilterBody = filterBody({
  ...anyOfFilter('account_memberships', 'email'),
  only_users: Type.Optional(Type.Boolean()),
  only_bots: Type.Optional(Type.Boolean()),
});

export function membershipRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { filterMany, readOne, updateOne, removeOne } = routeShapes(clock, ['Account memberships']);
  const base = '/api/accounts/:account_id/account_memberships';
  return [
    filterMany(`${base}/filter`, account('read:account_membership'), 'List members (users and service accounts) with their account roles', {
      body: FilterBody,
      item: Membership,
      list: (p, body) =>
        services.memberships.filter(p.account_id, {
          ...page(body),
          emails: anyOf(body, 'account_memberships', 'email'),
          onlyUsers: body?.only_users,
          onlyBots: body?.only_bots,
        }),
    }),
    readOne(`${base}/:account_membership_id`, account('read:account_membership'), 'Read a membership', {
      response: Membership,
      read: (p) => services.memberships.get(p.account_id, p.account_membership_id),
    }),
    updateOne(`${base}/:account_membership_id`, account('update:account_membership'), "Change a user's account role (a service account's is always Member)", {
      body: Type.Object({ account_role_id: Uuid }, { additionalProperties: false }),
      update: (ctx, p, body) => services.memberships.changeRole(ctx, p.account_id, p.account_membership_id, body.account_role_id),
    }),
    removeOne(`${base}/:account_membership_id`, account('delete:account_membership'), 'Remove a user from the account, with their access to its workspaces', (ctx, p) =>
      services.memberships.remove(ctx, p.account_id, p.account_membership_id),
    ),
  ];
}
