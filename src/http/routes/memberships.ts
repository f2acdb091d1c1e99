// `/api/accounts/{account_id}/account_memberships`: users and service accounts in the account.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { anyOf, opContext, page, respond, type RouteDeps, route, type RouteSpec } from '../route.js';
import { AnyOfStrings, filterBody, idParams, Nullable, Timestamp, Uuid } from '../schemas.js';

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
  account_memberships: Type.Optional(Nullable(Type.Object({ email: Type.Optional(Nullable(AnyOfStrings())) }, { additionalProperties: true }))),
  only_users: Type.Optional(Type.Boolean()),
  only_bots: Type.Optional(Type.Boolean()),
});

export function membershipRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const tags = ['Account memberships'];
  const base = '/api/accounts/:account_id/account_memberships';
  return [
    route({
      method: 'POST',
      url: `${base}/filter`,
      requirement: account('read:account_membership'),
      summary: 'List members (users and service accounts) with their account roles',
      tags,
      params: idParams('account_id'),
      body: FilterBody,
      response: { 200: Type.Array(Membership) },
      handler: async (req) => {
                return services.memberships.filter(req.params.account_id, {
          ...page(req.body),
          emails: anyOf(req.body, 'account_memberships', 'email'),
          onlyUsers: req.body?.only_users,
          onlyBots: req.body?.only_bots,
        });
      },
    }),
    route({
      method: 'GET',
      url: `${base}/:account_membership_id`,
      requirement: account('read:account_membership'),
      summary: 'Read a membership',
      tags,
      params: idParams('account_id', 'account_membership_id'),
      response: { 200: Membership },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.memberships.get(p.account_id, p.account_membership_id));
      },
    }),
    route({
      method: 'PATCH',
      url: `${base}/:account_membership_id`,
      requirement: account('update:account_membership'),
      summary: "Change a user's account role (a service account's is always Member)",
      tags,
      params: idParams('account_id', 'account_membership_id'),
      body: Type.Object({ account_role_id: Uuid }, { additionalProperties: false }),
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        const { account_role_id } = req.body;
        return respond(req, reply, await services.memberships.changeRole(opContext(req, clock), p.account_id, p.account_membership_id, account_role_id), 204);
      },
    }),
    route({
      method: 'DELETE',
      url: `${base}/:account_membership_id`,
      requirement: account('delete:account_membership'),
      summary: 'Remove a user from the account, with their access to its workspaces',
      tags,
      params: idParams('account_id', 'account_membership_id'),
      response: { 204: Type.Null() },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.memberships.remove(opContext(req, clock), p.account_id, p.account_membership_id), 204);
      },
    }),
  ];
}
