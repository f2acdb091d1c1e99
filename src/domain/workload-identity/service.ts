// Keyless workload identity: a service account's trust rules, and the exchange of a workload's OIDC
// token (a GitHub Actions job's, a Kubernetes service account's, any OIDC issuer's) for a short-lived
// key of that service account (RFC 8693 token exchange). The key is an ordinary `pnb_` key: Prefect's
// client uses it unchanged as PREFECT_API_KEY, and every door authenticates it as any other.
import { createHash } from 'node:crypto';
import { fail, ok, type Failure, type Result } from '../../errors.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type Actor, type OpContext } from '../context.js';
import { ownedObjectFields } from '../views.js';
import { recordEvent } from '../audit/service.js';
import { issueKey, KEY_VIEW_COLUMNS, toKeyView, type ApiKeyView } from '../api-keys/service.js';
import { loadAddressPolicy, notAllowed } from '../ip-allowlist/service.js';
import { findServiceAccount } from '../service-accounts/service.js';
import { parseJsonColumn } from '../../store/json-column.js';
import type { TrustRulesTable } from '../../store/schema.js';
import { issuerKeys, issuerUrlProblem, unverifiedIssuer, type IssuerKeys, type VerifiedClaims } from './tokens.js';
import {
  ACCESS_TOKEN_TYPE,
  DEFAULT_KEY_LIFETIME_SECONDS,
  SUBJECT_TOKEN_TYPES,
  TOKEN_EXCHANGE_GRANT,
  type TokenExchange,
  type TrustRuleCreate,
  type TrustRuleUpdate,
} from './inputs.js';

type ClaimValue = string | number | boolean;

export interface TrustRule {
  id: string;
  created: string;
  updated: string;
  account_id: string;
  bot_id: string;
  issuer: string;
  audience: string;
  subject_pattern: string;
  required_claims: Record<string, ClaimValue>;
  key_lifetime_seconds: number;
  description: string | null;
}

export interface ExchangedKey extends ApiKeyView {
  subject: string;
  issuer: string;
  trust_rule_id: string | null;
}

export interface ExchangeAnswer {
  access_token: string;
  issued_token_type: string;
  token_type: 'Bearer';
  expires_in: number;
  expiration: string;
  api_key_id: string;
  account_id: string;
  bot_id: string;
}

const toRule = (row: TrustRulesTable): TrustRule => ({
  ...ownedObjectFields(row),
  bot_id: row.bot_id,
  issuer: row.issuer,
  audience: row.audience,
  subject_pattern: row.subject_pattern,
  required_claims: parseJsonColumn<Record<string, ClaimValue>>(row.required_claims, {}),
  key_lifetime_seconds: row.key_lifetime_seconds,
  description: row.description,
});

/** `*` stands for any run of characters; everything else is literal. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's').test(subject);
}

/** Why a rule would admit far more than one workload, or null. */
function breadthProblem(pattern: string, claims: Record<string, ClaimValue>): string | null {
  if (/^\**$/.test(pattern) && Object.keys(claims).length === 0) {
    return 'subject_pattern "*" admits every token of the issuer: name the subject, or add required_claims that narrow it';
  }
  return null;
}

function ruleProblem(rule: { issuer: string; subject_pattern: string; required_claims: Record<string, ClaimValue> }): Failure | null {
  const problem = issuerUrlProblem(rule.issuer) ?? breadthProblem(rule.subject_pattern, rule.required_claims);
  return problem ? fail('VALIDATION_FAILED', problem) : null;
}

/** Why a verified token does not satisfy a rule, or null when it does. */
function mismatch(rule: TrustRule, claims: VerifiedClaims): string | null {
  const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
  if (!audiences.includes(rule.audience)) return `its audience (aud) ${JSON.stringify(claims.aud ?? null)} does not hold ${JSON.stringify(rule.audience)}`;
  if (!subjectMatches(rule.subject_pattern, claims.sub)) return `its subject ${JSON.stringify(claims.sub)} does not match ${JSON.stringify(rule.subject_pattern)}`;
  for (const [name, wanted] of Object.entries(rule.required_claims)) {
    if (claims[name] !== wanted) return `its claim ${name} is ${JSON.stringify(claims[name] ?? null)}, not ${JSON.stringify(wanted)}`;
  }
  return null;
}

const refused = (why: string): Failure => fail('TOKEN_EXCHANGE_REFUSED', `The token cannot be exchanged: ${why}`);

/** The actor an exchange acts as in the audit trail: the service account itself. */
function serviceAccountActor(bot: { id: string; actor_id: string; name: string; account_id: string }): Actor {
  return { type: 'bot', id: bot.id, actorId: bot.actor_id, name: bot.name, accountId: bot.account_id, apiKeyId: null };
}

export function workloadIdentityService(deps: Deps, options: { keys?: IssuerKeys } = {}) {
  const { store } = deps;
  const keys = options.keys ?? issuerKeys();

  async function ruleIn(db: Executor, accountId: string, botId: string, ruleId: string) {
    return db.selectFrom('trust_rules').selectAll().where('id', '=', ruleId).where('bot_id', '=', botId).where('account_id', '=', accountId).executeTakeFirst();
  }

  return {
    async list(accountId: string, botId: string): Promise<Result<TrustRule[]>> {
      if (!(await findServiceAccount(store.db, accountId, botId))) return fail('NOT_FOUND', 'Service account not found');
      const rows = await store.db.selectFrom('trust_rules').selectAll().where('bot_id', '=', botId).orderBy('created').orderBy('id').execute();
      return ok(rows.map(toRule));
    },

    async create(ctx: OpContext, accountId: string, botId: string, input: TrustRuleCreate): Promise<Result<TrustRule>> {
      const claims = input.required_claims ?? {};
      const problem = ruleProblem({ ...input, required_claims: claims });
      if (problem) return problem;
      // Adding a rule lets new tokens in; nothing cached is about it.
      return inTransaction(
        deps,
        async (tx) => {
          const bot = await findServiceAccount(tx, accountId, botId);
          if (!bot) return fail('NOT_FOUND', 'Service account not found');
          const now = ctx.now.toISOString();
          const row: TrustRulesTable = {
            id: newId(),
            account_id: accountId,
            bot_id: botId,
            issuer: input.issuer,
            audience: input.audience,
            subject_pattern: input.subject_pattern,
            required_claims: JSON.stringify(claims),
            key_lifetime_seconds: input.key_lifetime_seconds ?? DEFAULT_KEY_LIFETIME_SECONDS,
            description: input.description ?? null,
            created: now,
            updated: now,
          };
          await tx.insertInto('trust_rules').values(row).execute();
          await recordEvent(tx, ctx, {
            action: 'service_account.trust_rule_created',
            accountId,
            targetType: 'service_account',
            targetId: botId,
            details: { name: bot.name, trust_rule_id: row.id, issuer: row.issuer, audience: row.audience, subject_pattern: row.subject_pattern },
          });
          return ok(toRule(row));
        },
        { invalidates: false, onForeignKeyViolation: fail('NOT_FOUND', 'Service account not found') },
      );
    },

    /**
     * Changes a rule. When what it admits changes (issuer, audience, subject or claims), the keys
     * exchanged under it stop working at once: they were let in by what the rule no longer says.
     */
    async update(ctx: OpContext, accountId: string, botId: string, ruleId: string, input: TrustRuleUpdate): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const row = await ruleIn(tx, accountId, botId, ruleId);
        if (!row) return fail('NOT_FOUND', 'Trust rule not found');
        const before = toRule(row);
        const after = { ...before, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as TrustRule;
        const problem = ruleProblem(after);
        if (problem) return problem;
        const narrowed =
          after.issuer !== before.issuer ||
          after.audience !== before.audience ||
          after.subject_pattern !== before.subject_pattern ||
          JSON.stringify(after.required_claims) !== JSON.stringify(before.required_claims);
        await tx
          .updateTable('trust_rules')
          .set({
            issuer: after.issuer,
            audience: after.audience,
            subject_pattern: after.subject_pattern,
            required_claims: JSON.stringify(after.required_claims),
            key_lifetime_seconds: after.key_lifetime_seconds,
            description: after.description,
            updated: ctx.now.toISOString(),
          })
          .where('id', '=', ruleId)
          .execute();
        const revoked = narrowed ? await tx.deleteFrom('api_keys').where('exchanged_rule_id', '=', ruleId).executeTakeFirst() : null;
        await recordEvent(tx, ctx, {
          action: 'service_account.trust_rule_updated',
          accountId,
          targetType: 'service_account',
          targetId: botId,
          details: { trust_rule_id: ruleId, changed: Object.keys(input).filter((k) => input[k as keyof TrustRuleUpdate] !== undefined), exchanged_keys_deleted: Number(revoked?.numDeletedRows ?? 0) },
        });
        return ok(null);
      });
    },

    /** Deletes a rule and every key exchanged under it (they stop working once this returns). */
    async remove(ctx: OpContext, accountId: string, botId: string, ruleId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const row = await ruleIn(tx, accountId, botId, ruleId);
        if (!row) return fail('NOT_FOUND', 'Trust rule not found');
        const revoked = await tx.deleteFrom('api_keys').where('exchanged_rule_id', '=', ruleId).executeTakeFirst();
        await tx.deleteFrom('trust_rules').where('id', '=', ruleId).execute();
        await recordEvent(tx, ctx, {
          action: 'service_account.trust_rule_deleted',
          accountId,
          targetType: 'service_account',
          targetId: botId,
          details: { trust_rule_id: ruleId, issuer: row.issuer, subject_pattern: row.subject_pattern, exchanged_keys_deleted: Number(revoked.numDeletedRows) },
        });
        return ok(null);
      });
    },

    /** The service account's exchanged keys that still work (masked), newest first. */
    async exchangedKeys(accountId: string, botId: string, now: Date): Promise<Result<ExchangedKey[]>> {
      if (!(await findServiceAccount(store.db, accountId, botId))) return fail('NOT_FOUND', 'Service account not found');
      const rows = await store.db
        .selectFrom('api_keys')
        .select([...KEY_VIEW_COLUMNS, 'exchanged_subject', 'exchanged_issuer', 'exchanged_rule_id'])
        .where('bot_id', '=', botId)
        .where('is_active', '=', 2)
        .where('expiration', '>', now.toISOString())
        .orderBy('created', 'desc')
        .orderBy('id')
        .execute();
      return ok(rows.map((r) => ({ ...toKeyView(r), subject: r.exchanged_subject ?? '', issuer: r.exchanged_issuer ?? '', trust_rule_id: r.exchanged_rule_id })));
    },

    /**
     * RFC 8693: a workload's OIDC token for a short-lived key of the service account `audience`
     * names. The token must verify against its issuer's published keys and satisfy one of that
     * service account's rules for its issuer; each token is exchanged once.
     */
    async exchange(request: TokenExchange, caller: { address: string; requestId: string | null; now: Date }): Promise<Result<ExchangeAnswer>> {
      if (request.grant_type !== TOKEN_EXCHANGE_GRANT) return fail('TOKEN_EXCHANGE_INVALID_REQUEST', `grant_type must be ${TOKEN_EXCHANGE_GRANT}`);
      if (!SUBJECT_TOKEN_TYPES.includes(request.subject_token_type)) return fail('TOKEN_EXCHANGE_INVALID_REQUEST', `subject_token_type must be one of ${SUBJECT_TOKEN_TYPES.join(', ')}`);
      if (request.requested_token_type !== undefined && request.requested_token_type !== ACCESS_TOKEN_TYPE) {
        return fail('TOKEN_EXCHANGE_INVALID_REQUEST', `requested_token_type can only be ${ACCESS_TOKEN_TYPE}`);
      }
      const botId = request.audience.toLowerCase();
      const issuer = unverifiedIssuer(request.subject_token);
      if (!issuer) return refused('it is not a JWT with an iss claim');
      // Only the rules of the service account named, for the issuer the token names: no rule, no fetch.
      const rules = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(botId)
        ? (await store.db.selectFrom('trust_rules').selectAll().where('bot_id', '=', botId).where('issuer', '=', issuer).orderBy('created').orderBy('id').execute()).map(toRule)
        : [];
      if (rules.length === 0) return refused(`the service account ${request.audience} has no trust rule for the issuer ${issuer}`);
      const verified = await keys.verify(request.subject_token, issuer, caller.now);
      if (!verified.ok) return refused(verified.reason);
      const { claims } = verified;
      let rule: TrustRule | undefined;
      let firstMismatch = '';
      for (const candidate of rules) {
        const why = mismatch(candidate, claims);
        if (why === null) {
          rule = candidate;
          break;
        }
        firstMismatch ||= why;
      }
      if (!rule) return refused(`${firstMismatch} (no trust rule of the service account admits it)`);
      const admitted = rule;

      const policy = await loadAddressPolicy(store.db, admitted.account_id);
      if (policy?.enforced && !policy.allows(caller.address)) return notAllowed(caller.address);

      const tokenId = typeof claims.jti === 'string' && claims.jti ? claims.jti : createHash('sha256').update(request.subject_token).digest('hex');
      const now = caller.now;
      const expiration = new Date(now.getTime() + admitted.key_lifetime_seconds * 1000).toISOString();
      // New rows only: nothing any process has cached is about them.
      return inTransaction(
        deps,
        async (tx) => {
          // The rule, locked: a concurrent change or removal of it either sees this key or refuses it.
          const held = await tx.updateTable('trust_rules').set((eb) => ({ updated: eb.ref('updated') })).where('id', '=', admitted.id).executeTakeFirst();
          if (Number(held.numUpdatedRows) === 0) return refused('its trust rule was removed meanwhile');
          const bot = await findServiceAccount(tx, admitted.account_id, admitted.bot_id);
          if (!bot) return refused('the service account was removed meanwhile');
          await tx.deleteFrom('exchanged_tokens').where('expires_at', '<', now.toISOString()).execute();
          await tx.insertInto('exchanged_tokens').values({ issuer, token_id: tokenId, expires_at: new Date(claims.exp * 1000).toISOString() }).execute();
          // Exchanged keys that have expired are of no use to anyone: they go as new ones come.
          await tx.deleteFrom('api_keys').where('bot_id', '=', bot.id).where('is_active', '=', 2).where('expiration', '<=', now.toISOString()).execute();
          const issued = await issueKey(
            tx,
            { kind: 'bot', actorId: bot.actor_id, serviceAccountId: bot.id },
            { name: `exchanged: ${claims.sub}`.slice(0, 255), expiration, now },
            { exchanged_subject: claims.sub.slice(0, 500), exchanged_issuer: issuer, exchanged_rule_id: admitted.id },
          );
          const ctx: OpContext = { actor: serviceAccountActor(bot), requestId: caller.requestId, now };
          await recordEvent(tx, ctx, {
            action: 'service_account.key_exchanged',
            accountId: bot.account_id,
            targetType: 'service_account',
            targetId: bot.id,
            details: { name: bot.name, api_key_id: issued.id, subject: claims.sub.slice(0, 500), issuer, trust_rule_id: admitted.id, expiration, address: caller.address },
          });
          return ok({
            access_token: issued.key,
            issued_token_type: ACCESS_TOKEN_TYPE,
            token_type: 'Bearer' as const,
            expires_in: admitted.key_lifetime_seconds,
            expiration,
            api_key_id: issued.id,
            account_id: bot.account_id,
            bot_id: bot.id,
          });
        },
        { invalidates: false, onUniqueViolation: refused('this token was already exchanged (each token is exchanged once): get a new one from its issuer') },
      );
    },
  };
}

export type WorkloadIdentityService = ReturnType<typeof workloadIdentityService>;
