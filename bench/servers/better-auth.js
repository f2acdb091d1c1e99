// Peer for issue 22 target 4a: better-auth with its API-key plugin (@better-auth/api-key) on SQLite
// (better-sqlite3), mounted as its docs show for Fastify (the handler on /api/auth/*), plus the
// route under test: GET /api/me/workspaces/:id/scopes verifies the caller's key through the
// plugin's server API (auth.api.verifyApiKey; the key from `x-api-key`, the plugin's default
// header, or `Authorization: Bearer`) and answers the same bytes as Gatehouse's route
// (BENCH_BODY). The plugin's own configuration is its default but for one line:
// `rateLimit: { enabled: false }`, because its default (10 requests per key per day) would refuse a
// benchmark after ten requests. Storage is its default, `database`: every verification reads the
// key's row and writes it back (updatedAt), with no cache, so a key disabled or deleted in the
// database is refused from the next verification.
//
// Two routes exist for the bench's setup only (this server listens on 127.0.0.1): POST /bench/key
// makes a user and a key, POST /bench/revoke disables a key through the plugin
// (auth.api.updateApiKey { enabled: false }, server-side). Env: BENCH_BODY (base64),
// BENCH_DB (the SQLite file), BENCH_SECRET.
import Database from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { apiKey } from '@better-auth/api-key';
import Fastify from 'fastify';
import { announce, bodyFromEnv } from './common.js';

const body = bodyFromEnv().toString('utf8');
const database = new Database(process.env.BENCH_DB ?? ':memory:');
database.pragma('journal_mode = WAL');
const auth = betterAuth({
  database,
  secret: process.env.BENCH_SECRET ?? 'bench-secret-bench-secret-bench-secret',
  baseURL: 'http://127.0.0.1',
  emailAndPassword: { enabled: true },
  plugins: [apiKey({ rateLimit: { enabled: false } })],
  logger: { disabled: true },
  telemetry: { enabled: false },
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const app = Fastify({ logger: false });

// As better-auth's Fastify integration page shows: every /api/auth/* request to auth.handler.
app.route({
  method: ['GET', 'POST'],
  url: '/api/auth/*',
  async handler(request, reply) {
    const url = new URL(request.url, `http://${request.headers.host}`);
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) if (value) headers.append(name, String(value));
    const answer = await auth.handler(new Request(url.toString(), { method: request.method, headers, ...(request.body ? { body: JSON.stringify(request.body) } : {}) }));
    reply.status(answer.status);
    answer.headers.forEach((value, name) => reply.header(name, value));
    return reply.send(answer.body ? await answer.text() : null);
  },
});

const keyOf = (headers) => headers['x-api-key'] ?? (/^Bearer (.+)$/i.exec(headers.authorization ?? '')?.[1] ?? null);

app.get('/api/me/workspaces/:id/scopes', async (request, reply) => {
  const key = keyOf(request.headers);
  if (!key) return reply.code(401).send({ detail: 'No API key' });
  const result = await auth.api.verifyApiKey({ body: { key } });
  if (!result.valid) return reply.code(401).send({ detail: result.error?.message ?? 'Invalid API key' });
  reply.type('application/json; charset=utf-8');
  return body;
});

let users = 0;
app.post('/bench/key', async () => {
  users += 1;
  const { user } = await auth.api.signUpEmail({ body: { email: `bench-${users}-${process.pid}@bench.invalid`, password: 'bench-password-123', name: `bench ${users}` } });
  const created = await auth.api.createApiKey({ body: { userId: user.id, name: 'bench' } });
  return { userId: user.id, keyId: created.id, key: created.key };
});

app.post('/bench/revoke', async (request) => {
  const { userId, keyId } = request.body;
  await auth.api.updateApiKey({ body: { userId, keyId, enabled: false } });
  return { revoked: keyId };
});

await app.listen({ host: '127.0.0.1', port: 0 });
announce(app.server);
