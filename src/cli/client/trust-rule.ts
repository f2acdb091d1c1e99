// `gatehouse trust-rule ls | add | rm`: which OIDC tokens may be exchanged for a short-lived key of a
// service account (docs/workload-identity.md), through /api/accounts/{account_id}/bots/{bot_id}/trust_rules.
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import type { ConnectionFlags } from './flags.js';
import { findServiceAccount } from './lookups.js';
import { printJson, printTable, say } from './output.js';
import { openSession } from './session.js';

const RULES = '/api/accounts/{account_id}/bots/{bot_id}/trust_rules/';

interface Flags extends ConnectionFlags {
  issuer?: string;
  audience?: string;
  subject?: string;
  claims?: string;
  lifetime?: string;
  description?: string;
}

/** `{"name": value}` from --claims; a usage error when it is anything else. */
function parseClaims(text: string | undefined): Record<string, string | number | boolean> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--claims must be a JSON object, such as \'{"repository_owner": "acme"}\'');
  }
  const ok = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => ['string', 'number', 'boolean'].includes(typeof v));
  if (!ok) throw new UsageError('--claims must be a JSON object of claim names and their exact string, number or boolean values');
  return parsed as Record<string, string | number | boolean>;
}

export async function trustRuleList({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const bot = await findServiceAccount(session.api, session.profile.account_id, args[0]!);
  const rules = await session.api.get(RULES, { account_id: session.profile.account_id, bot_id: bot.id });
  if (flags.json) printJson(rules);
  else if (!rules.length) say(`Service account ${bot.name} has no trust rules: no token can be exchanged for its keys.`);
  else {
    printTable(
      ['ID', 'ISSUER', 'AUDIENCE', 'SUBJECT', 'CLAIMS', 'KEY LIFETIME'],
      rules.map((r) => [r.id, r.issuer, r.audience, r.subject_pattern, Object.keys(r.required_claims).length ? JSON.stringify(r.required_claims) : '', `${r.key_lifetime_seconds} s`]),
    );
  }
  return 0;
}

export async function trustRuleAdd({ flags, args }: CommandInput): Promise<number> {
  const f = flags as Flags;
  for (const name of ['issuer', 'audience', 'subject'] as const) if (!f[name]) throw new UsageError(`--${name} is required`);
  const lifetime = f.lifetime === undefined ? undefined : Number(f.lifetime);
  if (lifetime !== undefined && !Number.isInteger(lifetime)) throw new UsageError('--lifetime must be a whole number of seconds (60 to 3600)');
  const claims = parseClaims(f.claims);
  const session = openSession(f);
  const bot = await findServiceAccount(session.api, session.profile.account_id, args[0]!);
  const rule = await session.api.post(RULES, { account_id: session.profile.account_id, bot_id: bot.id }, {
    issuer: f.issuer!,
    audience: f.audience!,
    subject_pattern: f.subject!,
    ...(claims ? { required_claims: claims } : {}),
    ...(lifetime !== undefined ? { key_lifetime_seconds: lifetime } : {}),
    ...(f.description !== undefined ? { description: f.description } : {}),
  });
  if (f.json) printJson(rule);
  else {
    say(`Added trust rule ${rule.id} to service account ${bot.name}: tokens of ${rule.issuer} for audience ${rule.audience} with subject ${rule.subject_pattern} are exchanged for keys that work ${rule.key_lifetime_seconds} seconds.`);
    say(`A workload exchanges its token with: gatehouse exchange --url ${session.profile.url} --service-account ${bot.id} --token-file FILE`);
  }
  return 0;
}

export async function trustRuleRemove({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const bot = await findServiceAccount(session.api, session.profile.account_id, args[0]!);
  await session.api.delete('/api/accounts/{account_id}/bots/{bot_id}/trust_rules/{rule_id}', { account_id: session.profile.account_id, bot_id: bot.id, rule_id: args[1]! });
  if (!flags.json) say(`Deleted trust rule ${args[1]} of service account ${bot.name}; the keys exchanged under it no longer work.`);
  else printJson({ deleted: args[1] });
  return 0;
}
