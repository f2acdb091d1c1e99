// Signing in through an account's OpenID Connect provider: authorization code with PKCE, a state
// bound to a one-use server-side row (and to the browser by a cookie the route sets), a nonce.
// openid-client checks the answer (iss, aud, nonce, signature, expiry, the authorization response's
// `iss`); Gatehouse then decides who the person is and whether they may join:
// - a provider subject already linked to a user is that user;
// - else the provider-verified email names the user, created when new. An existing user who also
//   has access outside this provider's account must link first (signed in, "Link"): another
//   account's provider must not be able to sign in as them by asserting their email;
// - a non-member joins the account with its default SSO role only when the email's domain is one
//   of the account's verified domains.
import * as client from 'openid-client';
import { fail, ok, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type OpContext } from '../context.js';
import { recordEvent } from '../audit/service.js';
import { digest, newSecret } from '../secrets.js';
import { createSession, type ClientInfo, type NewSession } from '../sessions/service.js';
import { findOrCreateUser, normalizeEmail } from '../users/create.js';
import { lockAccount } from '../locks.js';
import { addMembership } from '../memberships/service.js';
import type { SecretKeyring } from '../../secret-key.js';
import type { Discovery } from './discovery.js';
import { emailDomain, loadSettings } from './service.js';
import { parseJsonColumn } from '../../store/json-column.js';

/** How long a started sign-in may take at the provider. */
export const SIGN_IN_WINDOW_SECONDS = 600;

export interface StartedSignIn {
  /** Where the browser goes: the provider's authorization endpoint with state, nonce and the PKCE challenge. */
  url: string;
  /** Set as a cookie by the route: the callback must come back to the browser that started. */
  state: string;
}

export interface SignInProvider {
  provider_id: string;
  display_name: string;
  account_handle: string;
  account_name: string;
}

/** A path on this Gatehouse to return to: never another origin (`//host`, `/\host`, a scheme). */
export const safeReturnTo = (value: string | undefined): string => (value && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/');

/** openid-client's reason, with the claim or the provider's error code it names (never a token). */
function describe(error: unknown): string {
  if (error instanceof client.ResponseBodyError) return `the provider answered ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`;
  if (!(error instanceof Error)) return String(error);
  // openid-client wraps the check that failed (e.g. 'unexpected JWT "aud" (audience) claim value').
  const inner = error.cause instanceof Error ? error.cause.message : null;
  return inner && inner !== error.message ? `${error.message}: ${inner}` : error.message;
}

const refusedToken = (why: string) => fail('SSO_TOKEN_REFUSED', `The identity provider's answer was refused: ${why}`);

/** A permission the member's account role holds in the account. */
async function memberHolds(db: Executor, accountId: string, actorId: string, permission: string): Promise<boolean> {
  const row = await db
    .selectFrom('account_memberships as m')
    .innerJoin('account_roles as r', 'r.id', 'm.account_role_id')
    .select('r.permissions')
    .where('m.account_id', '=', accountId)
    .where('m.actor_id', '=', actorId)
    .executeTakeFirst();
  return row ? parseJsonColumn<string[]>(row.permissions, []).includes(permission) : false;
}

export function ssoSignIn(deps: Deps, ring: SecretKeyring, discovery: Discovery, options: { sessionTtlSeconds: number }) {
  const { store, clock } = deps;

  const enabledProvider = (db: Executor, id: string) =>
    db.selectFrom('sso_providers').selectAll().where('id', '=', id).where('enabled', '=', 1).executeTakeFirst();

  return {
    /** The enabled providers offered for an email (by its verified domain) or an account handle. */
    async discover(query: { email?: string; account?: string }): Promise<SignInProvider[]> {
      let q = store.db
        .selectFrom('sso_providers as p')
        .innerJoin('accounts as a', 'a.id', 'p.account_id')
        .select(['p.id as provider_id', 'p.display_name', 'a.handle as account_handle', 'a.name as account_name'])
        .where('p.enabled', '=', 1);
      if (query.account) q = q.where('a.handle', '=', query.account);
      else if (query.email && query.email.includes('@')) {
        const domain = emailDomain(query.email);
        q = q.where('p.account_id', 'in', store.db.selectFrom('account_domains').select('account_id').where('verified_name', '=', domain));
      } else return [];
      return q.orderBy('a.handle').orderBy('p.display_name').execute();
    },

    async start(providerId: string, input: { returnTo?: string; linkUserId: string | null; redirectUri: string }): Promise<Result<StartedSignIn>> {
      const provider = await enabledProvider(store.db, providerId);
      if (!provider) return fail('NOT_FOUND', 'No such identity provider, or it is turned off');
      const config = await discovery.configuration(provider, ring);
      if (!config.ok) return config;
      const state = newSecret();
      const nonce = client.randomNonce();
      const verifier = client.randomPKCECodeVerifier();
      const now = clock.now();
      // Sign-ins that were never finished are swept as new ones start.
      await store.db.deleteFrom('sso_logins').where('expires_at', '<', now.toISOString()).execute();
      await store.db
        .insertInto('sso_logins')
        .values({
          state_hash: digest(state),
          provider_id: provider.id,
          code_verifier: verifier,
          nonce,
          return_to: safeReturnTo(input.returnTo),
          link_user_id: input.linkUserId,
          expires_at: new Date(now.getTime() + SIGN_IN_WINDOW_SECONDS * 1000).toISOString(),
        })
        .execute();
      const url = client.buildAuthorizationUrl(config.value, {
        redirect_uri: input.redirectUri,
        scope: 'openid email profile',
        response_type: 'code',
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      return ok({ url: url.href, state });
    },

    /**
     * Finishes a sign-in: `query` is the callback's query string, `browserState` the state cookie.
     * The state row is taken (deleted) first, so a replayed callback finds nothing.
     */
    async callback(query: string, browserState: string | undefined, input: { redirectUri: string; client: ClientInfo }): Promise<Result<NewSession & { return_to: string }>> {
      const params = new URLSearchParams(query);
      const state = params.get('state');
      if (!state || state.length > 200) return fail('SSO_STATE_INVALID');
      const now = clock.now();
      const login = await store.db.deleteFrom('sso_logins').where('state_hash', '=', digest(state)).returningAll().executeTakeFirst();
      if (!login || login.expires_at <= now.toISOString()) return fail('SSO_STATE_INVALID');
      if (browserState !== state) return fail('SSO_STATE_INVALID', 'This sign-in was started in another browser (or its cookie was lost): start the sign-in again from the sign-in page');
      const provider = await enabledProvider(store.db, login.provider_id);
      if (!provider) return fail('NOT_FOUND', 'No such identity provider, or it is turned off');
      const config = await discovery.configuration(provider, ring);
      if (!config.ok) return config;

      const current = new URL(input.redirectUri);
      current.search = params.toString();
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config.value, current, {
          pkceCodeVerifier: login.code_verifier,
          expectedState: state,
          expectedNonce: login.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        if (error instanceof client.AuthorizationResponseError) {
          return fail('SSO_PROVIDER_REFUSED', `The identity provider refused the sign-in: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`);
        }
        return refusedToken(describe(error));
      }
      const claims = tokens.claims();
      if (!claims) return refusedToken('it carries no id token');
      let email = typeof claims.email === 'string' ? claims.email : undefined;
      let verified = claims.email_verified;
      if (email === undefined || verified === undefined) {
        try {
          const info = await client.fetchUserInfo(config.value, tokens.access_token, claims.sub);
          email ??= typeof info.email === 'string' ? info.email : undefined;
          verified ??= info.email_verified;
        } catch (error) {
          return refusedToken(`its userinfo could not be read: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (!email) return fail('SSO_EMAIL_UNVERIFIED', 'The identity provider gave no email for you (ask for the "email" scope to be allowed)');
      if (verified !== true) return fail('SSO_EMAIL_UNVERIFIED');
      return admit({ provider, subject: claims.sub, email: normalizeEmail(email), linkUserId: login.link_user_id, returnTo: login.return_to, now, client: input.client });
    },
  };

  async function admit(input: {
    provider: { id: string; account_id: string; display_name: string };
    subject: string;
    email: string;
    linkUserId: string | null;
    returnTo: string;
    now: Date;
    client: ClientInfo;
  }): Promise<Result<NewSession & { return_to: string }>> {
    const { provider, email, now } = input;
    const accountId = provider.account_id;
    const domain = emailDomain(email);
    return inTransaction(
      deps,
      async (tx) => {
        await lockAccount(tx, accountId);
        const linked = await tx.selectFrom('sso_identities').select(['id', 'user_id']).where('provider_id', '=', provider.id).where('subject', '=', input.subject).executeTakeFirst();
        let userId = input.linkUserId ?? linked?.user_id ?? null;
        if (!userId) {
          const existing = await tx.selectFrom('users').select(['id', 'actor_id']).where('email', '=', email).executeTakeFirst();
          if (existing) {
            const elsewhere = await tx.selectFrom('account_memberships').select('id').where('user_id', '=', existing.id).where('account_id', '!=', accountId).executeTakeFirst();
            if (elsewhere) return fail('SSO_LINK_REQUIRED');
          }
          userId = existing?.id ?? null;
        }
        const verifiedDomain = await tx.selectFrom('account_domains').select('id').where('account_id', '=', accountId).where('verified_name', '=', domain).executeTakeFirst();
        const member = userId
          ? await tx.selectFrom('account_memberships').select('id').where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst()
          : undefined;
        if (!member && !verifiedDomain) {
          return fail('SSO_DOMAIN_NOT_ALLOWED', `${domain} is not a verified domain of this account: ask an account Owner or Admin to invite you or to verify ${domain}`);
        }
        let created = false;
        if (!userId) {
          const user = await findOrCreateUser(tx, { email, now });
          userId = user.id;
          created = user.created;
        }
        const user = await tx.selectFrom('users').select(['id', 'actor_id', 'handle']).where('id', '=', userId).executeTakeFirstOrThrow();
        const ctx: OpContext = { actor: { type: 'user', id: user.id, actorId: user.actor_id, name: user.handle, accountId: null, apiKeyId: null }, requestId: null, now };
        if (linked && linked.user_id === user.id) {
          await tx.updateTable('sso_identities').set({ email, last_sign_in: now.toISOString() }).where('id', '=', linked.id).execute();
        } else {
          // One identity per user and provider, one user per identity: a new link replaces both.
          await tx
            .deleteFrom('sso_identities')
            .where('provider_id', '=', provider.id)
            .where((eb) => eb.or([eb('user_id', '=', user.id), eb('subject', '=', input.subject)]))
            .execute();
          await tx
            .insertInto('sso_identities')
            .values({ id: newId(), provider_id: provider.id, subject: input.subject, user_id: user.id, email, created: now.toISOString(), last_sign_in: now.toISOString() })
            .execute();
          await recordEvent(tx, ctx, { action: 'sso.identity_linked', accountId, targetType: 'user', targetId: user.id, details: { provider_id: provider.id, email, user_created: created } });
        }
        if (!member) {
          const settings = await loadSettings(tx, accountId);
          const membershipId = await addMembership(tx, accountId, { actorId: user.actor_id, userId: user.id }, settings.default_account_role_id, now);
          await recordEvent(tx, ctx, {
            action: 'sso.member_joined',
            accountId,
            targetType: 'account_membership',
            targetId: membershipId,
            details: { provider_id: provider.id, email, account_role_id: settings.default_account_role_id },
          });
        } else if (!verifiedDomain && (await memberHolds(tx, accountId, user.actor_id, 'administrate:sso'))) {
          // An Owner or Admin signing in through the account's own provider with a verified email
          // at a listed domain proves the domain: the provider vouches for mailboxes there.
          const pending = await tx.selectFrom('account_domains').select('id').where('account_id', '=', accountId).where('name', '=', domain).where('verified_name', 'is', null).executeTakeFirst();
          const taken = await tx.selectFrom('account_domains').select('id').where('verified_name', '=', domain).executeTakeFirst();
          if (pending && !taken) {
            await tx.updateTable('account_domains').set({ verified_name: domain, verified_at: now.toISOString(), verified_by: 'sign_in', updated: now.toISOString() }).where('id', '=', pending.id).execute();
            await recordEvent(tx, ctx, { action: 'account.domain_verified', accountId, targetType: 'account_domain', targetId: pending.id, details: { name: domain, by: 'sign_in', provider_id: provider.id } });
          }
        }
        const session = await createSession(tx, user.id, input.client, now, options.sessionTtlSeconds);
        await recordEvent(tx, ctx, {
          action: 'user.signed_in',
          accountId: null,
          targetType: 'session',
          targetId: session.session_id,
          details: { ip_address: input.client.ip, method: 'sso', provider_id: provider.id, account_id: accountId },
        });
        return ok({ ...session, return_to: input.returnTo });
      },
      { onUniqueViolation: fail('CONCURRENT_CHANGE') },
    );
  }
}

export type SsoSignIn = ReturnType<typeof ssoSignIn>;
