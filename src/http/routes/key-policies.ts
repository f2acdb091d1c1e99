// `/api/accounts/{account_id}/key_policy` (Gatehouse's own extension, not in Prefect Cloud): the
// limits the account's service-account keys must keep, and the existing keys that break them.
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { KeyPolicyFields, KeyPolicyUpdate } from '../../domain/key-policies/inputs.js';
import { opContext, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { Nullable, Timestamp, Uuid } from '../schemas.js';

export const KeyPolicy = Type.Object({
  account_id: Uuid,
  ...KeyPolicyFields,
  updated: Nullable(Timestamp),
});

const Rule = Type.Union([Type.Literal('max_key_lifetime_days'), Type.Literal('allow_never_expire'), Type.Literal('disable_keys_unused_days')]);

const KeyPolicyBreach = Type.Object({
  service_account_id: Uuid,
  service_account_name: Type.String(),
  api_key_id: Uuid,
  masked_key: Type.String(),
  created: Timestamp,
  expiration: Nullable(Timestamp),
  is_active: Type.Boolean({ description: "false: an old key inside its rotation grace" }),
  last_activity: Timestamp,
  rules: Type.Array(Rule, { description: 'The policy fields this key breaks; disable_keys_unused_days: it will be disabled at the next dormancy check' }),
});

export function keyPolicyRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { on, readOne } = routeShapes(clock, ['Key policy']);
  const base = '/api/accounts/:account_id/key_policy';
  return [
    readOne(base, account('read:account'), "The account's key policy: limits on its service-account keys' expiry and rotation grace, and the dormancy rule", {
      response: KeyPolicy,
      read: (p) => services.keyPolicies.get(p.account_id),
    }),
    on('PUT', base, account('update:account'), "Set the account's key policy (absent fields keep their value, null lifts a limit); existing keys that break it are listed, not changed", {
      body: KeyPolicyUpdate,
      response: { 200: KeyPolicy },
      handler: async (req, reply) => respond(req, reply, await services.keyPolicies.set(opContext(req, clock), req.params.account_id, req.body)),
    }),
    readOne(`${base}/breaches`, account('read:bot'), "The account's service-account keys that break its key policy now (keys masked)", {
      response: Type.Array(KeyPolicyBreach),
      read: (p) => services.keyPolicies.breaches(p.account_id),
    }),
  ];
}
