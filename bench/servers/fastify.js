// Baseline server: plain Fastify (no plugins, no logger) answering the same bytes as the Gatehouse
// route under test, to separate the framework's cost from Gatehouse's authentication and authorization.
import Fastify from 'fastify';
import { announce, bodyFromEnv } from './common.js';

const body = bodyFromEnv().toString('utf8');
const app = Fastify({ logger: false });
app.all('/*', async (_request, reply) => {
  reply.type('application/json; charset=utf-8');
  return body;
});
await app.listen({ host: '127.0.0.1', port: 0 });
announce(app.server);
