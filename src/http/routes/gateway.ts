// Where a workspace's gateway forwards (`.../gateway`): read it, set it, clear it, check that its
// Prefect server answers. The gateway itself (the proxy, forward-auth, websockets) is in src/gateway/.
import { Type } from '@sinclair/typebox';
import { workspace } from '../../authz/requirements.js';
import { opContext, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { Nullable, Timestamp } from '../schemas.js';

const GatewaySchema = Type.Object({
  upstream_url: Nullable(Type.String()),
  has_upstream_auth_string: Type.Boolean(),
  updated: Nullable(Timestamp),
});

const SavedGatewaySchema = Type.Object({
  upstream_url: Nullable(Type.String()),
  has_upstream_auth_string: Type.Boolean(),
  updated: Nullable(Timestamp),
  warnings: Type.Array(Type.String(), { description: 'What looks like a slip in the URL (a path that does not end with /api); empty when nothing does' }),
});

const UpstreamCheckSchema = Type.Object({
  reachable: Type.Boolean({ description: "Prefect's API answered at the upstream URL and took the stored credential (or needed none)" }),
  status_code: Nullable(Type.Integer({ description: 'The HTTP status of the answer the detail is about; null when none came' })),
  elapsed_ms: Type.Number(),
  upstream_url: Type.String(),
  detail: Type.String({ description: 'What happened, and what to do about it' }),
});

/** How long the connection check waits for the upstream, both requests together. */
export const UPSTREAM_CHECK_TIMEOUT_MS = 5_000;

const GatewayBody = Type.Object(
  {
    upstream_url: Type.String({ minLength: 1, maxLength: 2048 }),
    upstream_auth_string: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
  },
  { additionalProperties: false },
);

export function gatewayRoutes(deps: RouteDeps, options: { checkTimeoutMs?: number } = {}): RouteSpec[] {
  const { services, clock } = deps;
  const { on, removeOne } = routeShapes(clock, ['Gateway']);
  const base = '/api/accounts/:account_id/workspaces/:workspace_id/gateway';
  return [
    on('GET', base, workspace('see_workspace_settings'), "Where the workspace's gateway forwards (its Prefect server); the credential is never returned", {
      response: { 200: GatewaySchema },
      handler: async (req) => services.gateways.read(req.params.workspace_id),
    }),
    on('PUT', base, workspace('manage_workspace_settings'), 'Point the workspace at its self-hosted Prefect server (upstream_auth_string: omit to keep, null to remove)', {
      body: GatewayBody,
      response: { 200: SavedGatewaySchema },
      handler: async (req, reply) => {
        const { account_id, workspace_id } = req.params;
        return respond(req, reply, await services.gateways.set(opContext(req, clock), account_id, workspace_id, req.body));
      },
    }),
    removeOne(base, workspace('manage_workspace_settings'), 'Stop forwarding: the workspace has no Prefect server behind it', (ctx, p) =>
      services.gateways.clear(ctx, p.account_id, p.workspace_id),
    ),
    // Read-only, and tells no more than GET .../gateway does: the same requirement, no audit event.
    on('POST', `${base}/check`, workspace('see_workspace_settings'), "Ask the workspace's Prefect server whether it answers: GET {upstream_url}/health, then {upstream_url}/version with the stored credential (5 s in all); 200 with reachable and a detail saying what to do", {
      response: { 200: UpstreamCheckSchema },
      handler: async (req, reply) => {
        const { workspace_id } = req.params;
        return respond(req, reply, await services.gateways.check(workspace_id, { timeoutMs: options.checkTimeoutMs ?? UPSTREAM_CHECK_TIMEOUT_MS }));
      },
    }),
  ];
}

