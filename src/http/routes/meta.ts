// Routes that need no credentials: health, the OpenAPI document, the workspace scope catalogue.
import { Type } from '@sinclair/typebox';
import { PUBLIC } from '../../authz/requirements.js';
import { WORKSPACE_SCOPES } from '../../authz/scopes.js';
import { route, type RouteSpec } from '../route.js';
import { sendError } from '../error-envelope.js';
import { ErrorBody, Nullable } from '../schemas.js';

export const WorkspaceScopeSchema = Type.Object({
  name: Type.String(),
  title: Type.String(),
  feature_group: Type.String(),
  includes_scopes: Type.Array(Type.String()),
  see_scope: Nullable(Type.String()),
});

export function metaRoutes(openapi: () => object, readiness: () => Promise<string[]>): RouteSpec[] {
  return [
    route({
      method: 'GET',
      url: '/api/health',
      requirement: PUBLIC,
      summary: 'Health check: true once the server is ready',
      tags: ['Meta'],
      response: { 200: Type.Boolean() },
      handler: async () => true,
    }),
    route({
      method: 'GET',
      url: '/api/ready',
      requirement: PUBLIC,
      summary: "Readiness: 200 when the database answers, its migrations are this version's and the cache hears other processes' writes; else 503 NOT_READY saying what is wrong",
      tags: ['Meta'],
      response: { 200: Type.Object({ ready: Type.Literal(true) }), 503: ErrorBody },
      handler: async (req, reply) => {
        const problems = await readiness();
        if (problems.length) return sendError(req, reply, 'NOT_READY', `Not ready: ${problems.join('; ')}`);
        return { ready: true as const };
      },
    }),
    route({
      method: 'GET',
      url: '/api/openapi.json',
      requirement: PUBLIC,
      summary: 'This API, as OpenAPI 3',
      tags: ['Meta'],
      response: { 200: Type.Object({}, { additionalProperties: true }) },
      handler: async () => openapi(),
    }),
    route({
      method: 'GET',
      url: '/api/workspace_scopes',
      requirement: PUBLIC,
      summary: 'Every workspace scope, with its title, feature group and the scopes it includes',
      tags: ['Workspace roles'],
      response: { 200: Type.Array(WorkspaceScopeSchema) },
      handler: async () => WORKSPACE_SCOPES,
    }),
  ];
}
