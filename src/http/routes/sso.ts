// Single sign-on: an account's OpenID Connect providers (`…/sso/providers`), its email domains
// (`…/domains`, as Prefect's Terraform `prefect_account` reads and sets them), its SSO settings,
// and the browser's sign-in through a provider (`/api/auth/sso/…`: discover, start, callback).
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseCookie, stringifySetCookie } from 'cookie';
import { account, PUBLIC } from '../../authz/requirements.js';
import { ERRORS, type Failure } from '../../errors.js';
import { DomainNamesUpdate, SsoProviderCreate, SsoProviderUpdate, SsoSettingsUpdate } from '../../domain/sso/inputs.js';
import { SIGN_IN_WINDOW_SECONDS } from '../../domain/sso/login.js';
import { identifyCaller } from '../auth.js';
import { opContext, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { Nullable, Timestamp, Uuid } from '../schemas.js';
import { clientInfo, setSessionCookie } from '../session-cookie.js';

export const SsoProvider = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Uuid,
  display_name: Type.String(),
  issuer: Type.String(),
  client_id: Type.String(),
  has_client_secret: Type.Boolean({ description: 'Whether a client secret is set; the secret itself is never read back' }),
  enabled: Type.Boolean(),
});

export const AccountDomain = Type.Object({
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  account_id: Uuid,
  name: Type.String(),
  verified: Type.Boolean({ description: 'Only a verified domain lets people join the account by SSO' }),
  verified_at: Nullable(Timestamp),
  verified_by: Nullable(Type.String({ description: '`owner` (marked by an Owner or Admin) or `sign_in` (an Owner or Admin signed in through the provider with an email there)' })),
});

const SsoSettings = Type.Object({
  account_id: Uuid,
  default_account_role_id: Uuid,
  passwords_disabled: Type.Boolean(),
});

const ProviderCheck = Type.Object({ ok: Type.Boolean(), detail: Type.String(), authorization_endpoint: Nullable(Type.String()) });

const SignInProvider = Type.Object({ provider_id: Uuid, display_name: Type.String(), account_handle: Type.String(), account_name: Type.String() });

const STATE_COOKIE = 'gatehouse_sso_state';
const CALLBACK_PATH = '/api/auth/sso/callback';

export function ssoRoutes({ services, clock, auth, publicUrl }: RouteDeps): RouteSpec[] {
  const { on, createOne, readOne, updateOne, removeOne } = routeShapes(clock, ['Single sign-on']);
  const sso = services.sso;
  const base = '/api/accounts/:account_id';
  const redirectUri = () => `${publicUrl.base()}${CALLBACK_PATH}`;

  const stateCookie = (req: FastifyRequest, value: string, maxAge: number) =>
    stringifySetCookie({ name: STATE_COOKIE, value, httpOnly: true, sameSite: 'lax', secure: publicUrl.secure(req), path: CALLBACK_PATH, maxAge });

  /** Start and callback are browser navigations: a refusal goes back to the sign-in page, which shows it. */
  const toSignIn = (reply: FastifyReply, failure: Failure) => {
    const detail = failure.detail ?? ERRORS[failure.code].message;
    const query = new URLSearchParams({ sso_error: failure.code, sso_detail: detail });
    return reply.code(303).header('cache-control', 'no-store').header('location', `/sign-in?${query}`).send();
  };

  return [
    readOne(`${base}/sso/providers`, account('read:sso'), "The account's OpenID Connect providers (client secrets are never read back)", {
      response: Type.Array(SsoProvider),
      read: (p) => sso.listProviders(p.account_id),
    }),
    createOne(`${base}/sso/providers`, account('administrate:sso'), 'Add an OpenID Connect provider (issuer, client id, client secret)', {
      body: SsoProviderCreate,
      response: SsoProvider,
      create: (ctx, p, body) => sso.createProvider(ctx, p.account_id, body),
    }),
    updateOne(`${base}/sso/providers/:provider_id`, account('administrate:sso'), 'Change a provider: name, issuer, client id, a new client secret (or null), enabled', {
      body: SsoProviderUpdate,
      update: (ctx, p, body) => sso.updateProvider(ctx, p.account_id, p.provider_id, body),
    }),
    removeOne(`${base}/sso/providers/:provider_id`, account('administrate:sso'), 'Delete a provider; identities linked through it are forgotten', (ctx, p) =>
      sso.removeProvider(ctx, p.account_id, p.provider_id),
    ),
    on('POST', `${base}/sso/providers/:provider_id/check`, account('read:sso'), "Read the provider's discovery document: whether Gatehouse can use the issuer as configured", {
      response: { 200: ProviderCheck },
      handler: async (req, reply) => respond(req, reply, await sso.checkProvider(req.params.account_id, req.params.provider_id)),
    }),
    readOne(`${base}/sso/settings`, account('read:sso'), 'The default account role of people who join by SSO, and whether passwords are turned off', {
      response: SsoSettings,
      read: (p) => sso.settings(p.account_id),
    }),
    on('PUT', `${base}/sso/settings`, account('administrate:sso'), 'Set the default account role of SSO arrivals, and turn passwords off or on for the account', {
      body: SsoSettingsUpdate,
      response: { 200: SsoSettings },
      handler: async (req, reply) => respond(req, reply, await sso.updateSettings(opContext(req, clock), req.params.account_id, req.body)),
    }),
    readOne(`${base}/domains`, account('read:account'), "The account's email domains (Prefect Terraform's `prefect_account.domain_names`)", {
      response: Type.Array(AccountDomain),
      read: (p) => sso.listDomains(p.account_id),
    }),
    updateOne(`${base}/domains`, account('update:account'), "Set the account's email domains to exactly `domain_names`; new ones start unverified", {
      body: DomainNamesUpdate,
      update: (ctx, p, body) => sso.setDomains(ctx, p.account_id, body),
    }),
    on('POST', `${base}/domains/:domain_id/verify`, account('administrate:sso'), 'Vouch for a domain (audited): people whose provider-verified email is there may join by SSO', {
      response: { 200: AccountDomain },
      handler: async (req, reply) => respond(req, reply, await sso.verifyDomain(opContext(req, clock), req.params.account_id, req.params.domain_id)),
    }),

    on('GET', '/api/auth/sso/discover', PUBLIC, "The identity providers offered for an email (its domain verified by an account) or an account's handle", {
      querystring: Type.Object(
        { email: Type.Optional(Type.String({ maxLength: 320 })), account: Type.Optional(Type.String({ maxLength: 64 })) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Array(SignInProvider) },
      handler: async (req) => services.ssoSignIn.discover(req.query),
    }),
    on('GET', '/api/auth/sso/:provider_id/start', PUBLIC, 'Begin signing in through a provider: redirects (303) to it with state, nonce and a PKCE challenge. `link=1` while signed in links the identity to you', {
      querystring: Type.Object(
        { return_to: Type.Optional(Type.String({ maxLength: 2000 })), link: Type.Optional(Type.Literal('1')) },
        { additionalProperties: false },
      ),
      response: { 303: Type.Null() },
      handler: async (req, reply) => {
        let linkUserId: string | null = null;
        if (req.query.link === '1') {
          await identifyCaller(req, auth);
          const actor = req.auth.actor;
          if (!req.auth.sessionId || actor?.type !== 'user' || !actor.id) return toSignIn(reply, { ok: false, code: 'SESSION_REQUIRED', detail: 'Sign in first, then link the provider' });
          linkUserId = actor.id;
        }
        const started = await services.ssoSignIn.start(req.params.provider_id, { returnTo: req.query.return_to, linkUserId, redirectUri: redirectUri() });
        if (!started.ok) return toSignIn(reply, started);
        return (reply as FastifyReply)
          .code(303)
          .header('cache-control', 'no-store')
          .header('set-cookie', stateCookie(req, started.value.state, SIGN_IN_WINDOW_SECONDS))
          .header('location', started.value.url)
          .send();
      },
    }),
    // What RFC 6749 and RFC 9207 put there; a provider may add more (checked by openid-client from the raw URL).
    on('GET', CALLBACK_PATH, PUBLIC, "Where the provider sends the browser back: checks the answer, signs in (setting the session cookie) and redirects (303) to the page", {
      querystring: Type.Object(
        Object.fromEntries(['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state'].map((name) => [name, Type.Optional(Type.String({ maxLength: 4000 }))])),
        { additionalProperties: Type.String({ maxLength: 2000 }) },
      ),
      response: { 303: Type.Null() },
      handler: async (req, reply) => {
        const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
        const cookies = req.headers.cookie ? parseCookie(req.headers.cookie) : {};
        const result = await services.ssoSignIn.callback(query, cookies[STATE_COOKIE], { redirectUri: redirectUri(), client: clientInfo(req) });
        reply.header('set-cookie', stateCookie(req, '', 0));
        if (!result.ok) return toSignIn(reply, result);
        setSessionCookie(req, reply, result.value, publicUrl);
        return (reply as FastifyReply).code(303).header('location', result.value.return_to).send();
      },
    }),
  ];
}
