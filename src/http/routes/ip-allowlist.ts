// `/api/accounts/{account_id}/ip_allowlist`: the account's IP allowlist as Prefect Cloud's client
// reads and replaces it (`prefect cloud ip-allowlist …`), and `my_access`, which says whether the
// caller's own address would get in. Enforcement itself is in the auth core (auth/core.ts).
import { Type } from '@sinclair/typebox';
import { account } from '../../authz/requirements.js';
import { opContext, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { Nullable } from '../schemas.js';

const Entry = Type.Object({
  ip_network: Type.String({ description: 'An IP address or CIDR network, IPv4 or IPv6; stored in canonical form (`10.0.0.1` becomes `10.0.0.1/32`)' }),
  enabled: Type.Boolean(),
  description: Nullable(Type.String()),
  last_seen: Nullable(Type.String({ description: 'Not tracked by Gatehouse: always null' })),
});

const EntryInput = Type.Object({
  ip_network: Type.String({ maxLength: 64 }),
  enabled: Type.Boolean(),
  description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  last_seen: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
});

const IpAllowlist = Type.Object({ entries: Type.Array(Entry) });
const IpAllowlistInput = Type.Object({ entries: Type.Array(EntryInput, { maxItems: 1000 }) });
const MyAccess = Type.Object({ allowed: Type.Boolean(), detail: Type.String() });

export function ipAllowlistRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { on } = routeShapes(clock, ['IP allowlist']);
  return [
    on('GET', '/api/accounts/:account_id/ip_allowlist', account('read:ip_allowlist'), "Read the account's IP allowlist", {
      response: { 200: IpAllowlist },
      handler: async (req, reply) => respond(req, reply, await services.ipAllowlist.read(req.params.account_id)),
    }),
    on('PUT', '/api/accounts/:account_id/ip_allowlist', account('update:ip_allowlist'), "Replace the account's IP allowlist (refused with 422 IP_ALLOWLIST_LOCKOUT when it is enforced and would not admit the caller)", {
      body: IpAllowlistInput,
      response: { 200: IpAllowlist },
      handler: async (req, reply) => respond(req, reply, await services.ipAllowlist.replace(opContext(req, clock), req.params.account_id, req.body, req.ip)),
    }),
    on('GET', '/api/accounts/:account_id/ip_allowlist/my_access', account('read:ip_allowlist'), "Whether the caller's address would get in were the allowlist enforced as it stands", {
      response: { 200: MyAccess },
      handler: async (req, reply) => respond(req, reply, await services.ipAllowlist.myAccess(req.params.account_id, req.ip)),
    }),
  ];
}
