// First run in a browser: the one-time setup link printed by `gatehouse start` on an empty store.
import { Type } from '@sinclair/typebox';
import { PUBLIC } from '../../authz/requirements.js';
import { SetupInput } from '../../domain/setup/inputs.js';
import { respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { Timestamp, Uuid } from '../schemas.js';
import { clientInfo, sessionBody, setSessionCookie } from '../session-cookie.js';

export function setupRoutes({ services, clock, publicUrl }: RouteDeps): RouteSpec[] {
  const { on } = routeShapes(clock, ['Setup']);
  return [
    on('GET', '/api/setup', PUBLIC, 'Whether first-run setup is still open (true until the first account exists)', {
      response: { 200: Type.Object({ needed: Type.Boolean() }) },
      handler: async () => ({ needed: await services.setup.needed() }),
    }),
    on('POST', '/api/setup', PUBLIC, 'Create the first account and its Owner with the one-time setup token; signs the Owner in', {
      body: SetupInput,
      response: { 201: Type.Object({ account_id: Uuid, user_id: Uuid, csrf_token: Type.String(), expires_at: Timestamp }) },
      handler: async (req, reply) => {
        const result = await services.setup.complete(req.body, clientInfo(req));
        if (!result.ok) return respond(req, reply, result);
        setSessionCookie(req, reply, result.value, publicUrl);
        return reply.code(201).send({ account_id: result.value.account_id, ...sessionBody(result.value) });
      },
    }),
  ];
}
