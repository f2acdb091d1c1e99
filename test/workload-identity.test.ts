// Keyless workload identity: a service account's trust rules, and RFC 8693 token exchange of a
// workload's OIDC token (from a local issuer) for a short-lived pnb_ key. Each refusal the issue
// names has its own case; none of them issues a key or leaves a trace of the token.
import { createHmac, createPublicKey } from 'node:crypto';
import { generateKeyPair, type KeyObject } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';
import { createBot, createWorkspace, grant, type Bot } from './support/members.js';
import { startLocalIssuer, type LocalIssuer } from './support/oidc-issuer.js';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const SUBJECT = 'repo:acme/flows:ref:refs/heads/main';

let h: Harness;
let issuer: LocalIssuer;
let owner: { accountId: string; userId: string; key: string };
let bot: Bot;
let other: Bot;
let workspaceId: string;
let ruleId: string;

const rules = (b: Bot) => `/api/accounts/${owner.accountId}/bots/${b.id}/trust_rules`;
const now = () => h.clock.now();

/** Posts a token exchange as an HTML form, as OAuth clients do. */
async function exchange(token: string, audience: string = bot.id, extra: Record<string, string> = {}) {
  const form = new URLSearchParams({ grant_type: GRANT, subject_token: token, subject_token_type: JWT_TYPE, audience, ...extra });
  return h.request('POST', '/api/oauth/token', { rawBody: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

const claims = (more: Record<string, unknown> = {}) => ({ sub: SUBJECT, aud: 'gatehouse', repository_owner: 'acme', ...more });

async function expectRefused(token: string, reason: string | RegExp, audience?: string) {
  const res = await exchange(token, audience);
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error: 'invalid_grant', code: 'TOKEN_EXCHANGE_REFUSED', request_id: expect.any(String) });
  expect(res.body.detail).toMatch(typeof reason === 'string' ? new RegExp(reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : reason);
  expect(res.body.error_description).toBe(res.body.detail);
  expect(JSON.stringify(res.body)).not.toContain(token);
  expect(res.headers['cache-control']).toBe('no-store');
}

beforeAll(async () => {
  h = await startHarness();
  owner = await h.bootstrap();
  issuer = await startLocalIssuer();
  bot = await createBot(h, owner.accountId, owner.key, 'ci-deployer');
  other = await createBot(h, owner.accountId, owner.key, 'another');
  workspaceId = (await createWorkspace(h, owner.accountId, owner.key)).id;
  await grant(h, owner.accountId, workspaceId, owner.key, { botId: bot.id }, WORKSPACE_ROLE_IDS.Worker);
  const created = await h.request('POST', `${rules(bot)}/`, {
    key: owner.key,
    body: { issuer: issuer.issuer, audience: 'gatehouse', subject_pattern: 'repo:acme/flows:ref:refs/heads/*', required_claims: { repository_owner: 'acme' }, description: 'GitHub Actions, main branch' },
  });
  expect(created.status).toBe(201);
  ruleId = created.body.id;
});

afterAll(async () => {
  await issuer?.close();
  await h?.close();
});

describe('trust rules', () => {
  it('are created, listed and read back with their defaults', async () => {
    const list = await h.request('GET', `${rules(bot)}/`, { key: owner.key });
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      {
        id: ruleId,
        created: expect.any(String),
        updated: expect.any(String),
        account_id: owner.accountId,
        bot_id: bot.id,
        issuer: issuer.issuer,
        audience: 'gatehouse',
        subject_pattern: 'repo:acme/flows:ref:refs/heads/*',
        required_claims: { repository_owner: 'acme' },
        key_lifetime_seconds: 900,
        description: 'GitHub Actions, main branch',
      },
    ]);
  });

  it('refuse an issuer that is not https (but for the loopback interface), and a rule that admits every subject', async () => {
    const plain = await h.request('POST', `${rules(bot)}/`, { key: owner.key, body: { issuer: 'http://issuer.example.com', audience: 'a', subject_pattern: 'x' } });
    expect(plain.status).toBe(422);
    expect(plain.body.detail).toContain('issuer must be an https URL');
    const everyone = await h.request('POST', `${rules(bot)}/`, { key: owner.key, body: { issuer: 'https://issuer.example.com', audience: 'a', subject_pattern: '*' } });
    expect(everyone.status).toBe(422);
    expect(everyone.body.detail).toContain('admits every token of the issuer');
    const long = await h.request('POST', `${rules(bot)}/`, { key: owner.key, body: { issuer: 'https://issuer.example.com', audience: 'a', subject_pattern: 'x', key_lifetime_seconds: 7200 } });
    expect(long.status).toBe(422);
  });

  it('need update:bot to change and read:bot to see (a Member without them gets 403)', async () => {
    const res = await h.request('POST', `${rules(bot)}/`, { key: bot.key, body: { issuer: 'https://issuer.example.com', audience: 'a', subject_pattern: 'x' } });
    expect(res.status).toBe(403);
  });
});

describe('exchanging a token', () => {
  it('answers a short-lived pnb_ key that works as any key of the service account, listed with its subject and audited', async () => {
    const token = await issuer.token(claims(), { now: now() });
    const res = await exchange(token);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^pnb_[A-Za-z0-9]{36}$/),
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 900,
      expiration: expect.any(String),
      api_key_id: expect.any(String),
      account_id: owner.accountId,
      bot_id: bot.id,
    });
    const lifetime = Date.parse(res.body.expiration) - now().getTime();
    expect(lifetime).toBeGreaterThan(895_000);
    expect(lifetime).toBeLessThanOrEqual(900_000);
    const key = res.body.access_token as string;
    const scopes = await h.request('GET', `/api/me/workspaces/${workspaceId}/scopes`, { key });
    expect(scopes.status).toBe(200);
    expect(scopes.body).toContain('see_flows');

    const listed = await h.request('GET', `/api/accounts/${owner.accountId}/bots/${bot.id}/exchanged_keys`, { key: owner.key });
    expect(listed.body).toEqual([expect.objectContaining({ id: res.body.api_key_id, subject: SUBJECT, issuer: issuer.issuer, trust_rule_id: ruleId, name: `exchanged: ${SUBJECT}` })]);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    // The service account's own current key is unchanged; the exchanged one is not its rotation.
    const keys = await h.request('GET', `/api/accounts/${owner.accountId}/bots/${bot.id}/read_bot_api_keys`, { key: owner.key });
    expect(keys.body.rotating_keys).toEqual([]);

    const audit = await h.request('POST', `/api/accounts/${owner.accountId}/audit_events/filter`, { key: owner.key, body: { audit_events: { action: { any_: ['service_account.key_exchanged'] } } } });
    const text = JSON.stringify(audit.body);
    expect(text).toContain(SUBJECT);
    expect(text).not.toContain(key);
    expect(text).not.toContain(token);

    // It stops working when its lifetime is over.
    h.clock.advance(900_000);
    expect((await h.request('GET', `/api/me/workspaces/${workspaceId}/scopes`, { key })).status).toBe(401);
  });

  it('takes the request as JSON too', async () => {
    const token = await issuer.token(claims(), { now: now() });
    const res = await h.request('POST', '/api/oauth/token', { body: { grant_type: GRANT, subject_token: token, subject_token_type: JWT_TYPE, audience: bot.id } });
    expect(res.status).toBe(200);
  });

  it('refuses each token once: a replayed jti', async () => {
    const token = await issuer.token(claims(), { now: now() });
    expect((await exchange(token)).status).toBe(200);
    await expectRefused(token, 'this token was already exchanged');
  });

  it('refuses a token of an issuer the service account has no rule for, and a token for another service account', async () => {
    await expectRefused(await issuer.token(claims(), { now: now() }), `the service account ${other.id} has no trust rule for the issuer ${issuer.issuer}`, other.id);
    const stranger = await startLocalIssuer();
    try {
      await expectRefused(await stranger.token(claims(), { now: now() }), `has no trust rule for the issuer ${stranger.issuer}`);
      expect(stranger.jwksFetches()).toBe(0);
    } finally {
      await stranger.close();
    }
  });

  it('refuses a wrong audience, a subject outside the pattern and a required claim that differs', async () => {
    await expectRefused(await issuer.token(claims({ aud: 'someone-else' }), { now: now() }), 'its audience (aud) "someone-else" does not hold "gatehouse"');
    await expectRefused(await issuer.token(claims({ sub: 'repo:acme/flows:pull_request' }), { now: now() }), 'its subject "repo:acme/flows:pull_request" does not match');
    await expectRefused(await issuer.token(claims({ sub: 'repo:evil/flows:ref:refs/heads/main' }), { now: now() }), 'does not match');
    await expectRefused(await issuer.token(claims({ repository_owner: 'evil' }), { now: now() }), 'its claim repository_owner is "evil", not "acme"');
  });

  it('refuses an expired token and one not valid yet', async () => {
    const past = new Date(now().getTime() - 3600_000);
    await expectRefused(await issuer.token(claims(), { now: past, lifetimeSeconds: 600 }), 'the token has expired');
    await expectRefused(await issuer.token(claims({ nbf: Math.floor(now().getTime() / 1000) + 600 }), { now: now() }), 'not valid yet');
  });

  it("refuses alg none, an HMAC signed with the issuer's public key (algorithm confusion), and a key the issuer never published", async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const payload = { iss: issuer.issuer, ...claims(), iat: Math.floor(now().getTime() / 1000), exp: Math.floor(now().getTime() / 1000) + 300, jti: 'none-1' };
    await expectRefused(`${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`, /signing algorithm is not accepted|not a valid signed JWT/);

    // The issuer's public key as an HMAC secret: what a verifier that trusts `alg` would accept.
    const jwks = await (await fetch(`${issuer.issuer}/jwks`)).json();
    const publicPem = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const head = `${encode({ alg: 'HS256', typ: 'JWT', kid: jwks.keys[0].kid })}.${encode({ ...payload, jti: 'hs-1' })}`;
    const forged = `${head}.${createHmac('sha256', publicPem).update(head).digest('base64url')}`;
    await expectRefused(forged, 'signing algorithm is not accepted');

    const { privateKey } = await generateKeyPair('RS256');
    await expectRefused(await issuer.token(claims(), { now: now(), key: privateKey as KeyObject }), "does not verify with the issuer's keys");
    await expectRefused(await issuer.token(claims(), { now: now(), key: privateKey as KeyObject, kid: 'unknown-kid' }), /no key of the issuer's JWKS matches|does not verify/);
  });

  it('refuses a request that is not a token exchange', async () => {
    const token = await issuer.token(claims(), { now: now() });
    const wrongGrant = await exchange(token, bot.id, { grant_type: 'client_credentials' });
    expect(wrongGrant.status).toBe(400);
    expect(wrongGrant.body).toMatchObject({ error: 'invalid_request', code: 'TOKEN_EXCHANGE_INVALID_REQUEST' });
    expect((await exchange('not-a-jwt')).body.detail).toContain('it is not a JWT with an iss claim');
    const missing = await h.request('POST', '/api/oauth/token', { rawBody: 'grant_type=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(missing.status).toBe(422);
    const twice = await h.request('POST', '/api/oauth/token', { rawBody: `audience=${bot.id}&audience=${other.id}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(twice.status).toBe(422);
  });

  it('is the only route that takes a form: a form post elsewhere is refused 415', async () => {
    const res = await h.request('POST', `/api/accounts/${owner.accountId}/bots/`, { key: owner.key, rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('revocation', () => {
  it("deleting the rule, or narrowing what it admits, stops its exchanged keys at once; the rule's description alone does not", async () => {
    const exchanged = async () => (await exchange(await issuer.token(claims(), { now: now() }))).body.access_token as string;
    const works = async (key: string) => (await h.request('GET', `/api/me/workspaces/${workspaceId}/scopes`, { key })).status;

    const first = await exchanged();
    expect((await h.request('PATCH', `${rules(bot)}/${ruleId}`, { key: owner.key, body: { description: 'renamed' } })).status).toBe(204);
    expect(await works(first)).toBe(200);
    expect((await h.request('PATCH', `${rules(bot)}/${ruleId}`, { key: owner.key, body: { subject_pattern: 'repo:acme/flows:ref:refs/heads/*' , required_claims: { repository_owner: 'acme', ref_protected: true } } })).status).toBe(204);
    expect(await works(first)).toBe(401);
    // The narrowed rule now wants ref_protected.
    await expectRefused(await issuer.token(claims(), { now: now() }), 'its claim ref_protected is null, not true');
    const second = (await exchange(await issuer.token(claims({ ref_protected: true }), { now: now() }))).body.access_token as string;
    expect(await works(second)).toBe(200);

    expect((await h.request('DELETE', `${rules(bot)}/${ruleId}`, { key: owner.key })).status).toBe(204);
    expect(await works(second)).toBe(401);
    await expectRefused(await issuer.token(claims({ ref_protected: true }), { now: now() }), 'has no trust rule for the issuer');
  });

  it("deleting the service account deletes its rules and exchanged keys", async () => {
    const doomed = await createBot(h, owner.accountId, owner.key, 'doomed');
    const rule = await h.request('POST', `${rules(doomed)}/`, { key: owner.key, body: { issuer: issuer.issuer, audience: 'gatehouse', subject_pattern: SUBJECT } });
    expect(rule.status).toBe(201);
    const key = (await exchange(await issuer.token(claims(), { now: now() }), doomed.id)).body.access_token as string;
    expect((await h.request('GET', '/api/me', { key })).status).toBe(200);
    expect((await h.request('DELETE', `/api/accounts/${owner.accountId}/bots/${doomed.id}`, { key: owner.key })).status).toBe(204);
    expect((await h.request('GET', '/api/me', { key })).status).toBe(401);
    expect(await h.handle.store.db.selectFrom('trust_rules').select('id').where('bot_id', '=', doomed.id).execute()).toEqual([]);
  });
});
