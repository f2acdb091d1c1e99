// `gatehouse sso ls | add | rm | require` and `gatehouse domain ls | add | verify | rm`: the
// profile's account's identity providers, SSO settings and email domains (docs/single-sign-on.md),
// through the same routes as the Single sign-on page. A client secret is read from a file, never
// from the command line (shell history, the process list), and never printed.
import { readFileSync } from 'node:fs';
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { confirm, interactive } from './prompt.js';
import type { ConnectionFlags } from './flags.js';
import { printJson, printTable, say } from './output.js';
import { openSession, type Session } from './session.js';

const PROVIDERS = '/api/accounts/{account_id}/sso/providers';
const PROVIDER = '/api/accounts/{account_id}/sso/providers/{provider_id}';
const SETTINGS = '/api/accounts/{account_id}/sso/settings';
const DOMAINS = '/api/accounts/{account_id}/domains';

interface Flags extends ConnectionFlags {
  issuer?: string;
  'client-id'?: string;
  'client-secret-file'?: string;
  yes?: boolean;
}

const account = (session: Session) => ({ account_id: session.profile.account_id });

async function findProvider(session: Session, ref: string) {
  const list = await session.api.get(PROVIDERS, account(session));
  const found = list.filter((p) => p.id === ref || p.display_name === ref);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw new Error(`several providers of account ${session.profile.account_handle} are named ${ref}; name one by its id (\`gatehouse sso ls\`)`);
  throw new Error(`no identity provider "${ref}" in account ${session.profile.account_handle}; \`gatehouse sso ls\` lists them`);
}

export async function ssoList({ flags }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const [providers, settings] = await Promise.all([session.api.get(PROVIDERS, account(session)), session.api.get(SETTINGS, account(session))]);
  if (flags.json) {
    printJson({ account: session.profile.account_handle, providers, settings });
    return 0;
  }
  if (!providers.length) say(`Account ${session.profile.account_handle} has no identity provider.`);
  else printTable(['ID', 'NAME', 'ISSUER', 'CLIENT ID', 'SECRET', 'ENABLED'], providers.map((p) => [p.id, p.display_name, p.issuer, p.client_id, p.has_client_secret ? 'set' : 'none', p.enabled ? 'yes' : 'no']));
  say(`Passwords are ${settings.passwords_disabled ? 'TURNED OFF (Owners may still use one)' : 'allowed'}; people who join by SSO get account role ${settings.default_account_role_id}.`);
  return 0;
}

export async function ssoAdd({ flags, args }: CommandInput): Promise<number> {
  const f = flags as Flags;
  if (!f.issuer || !f['client-id']) throw new UsageError('sso add needs --issuer URL and --client-id ID');
  let secret: string | undefined;
  if (f['client-secret-file'] !== undefined) {
    secret = readFileSync(f['client-secret-file'], 'utf8').trim();
    if (!secret) throw new UsageError(`${f['client-secret-file']} is empty: put the client secret in it`);
  }
  const session = openSession(f);
  const created = await session.api.post(PROVIDERS, account(session), { display_name: args[0]!, issuer: f.issuer, client_id: f['client-id'], ...(secret ? { client_secret: secret } : {}) });
  if (f.json) printJson(created);
  else console.log(`Added identity provider ${created.display_name} (${created.id}). Register ${session.api.url}/api/auth/sso/callback (your public URL) as its redirect URI at the provider.`);
  return 0;
}

export async function ssoRemove({ flags, args }: CommandInput): Promise<number> {
  const f = flags as Flags;
  if (!f.yes && !interactive()) throw new UsageError(`removing identity provider "${args[0]}" forgets the identities linked through it; pass --yes to confirm`);
  const session = openSession(f);
  const provider = await findProvider(session, args[0]!);
  if (!f.yes && !(await confirm(`Remove identity provider ${provider.display_name}?`))) {
    say('Nothing removed.');
    return 1;
  }
  await session.api.delete(PROVIDER, { ...account(session), provider_id: provider.id });
  if (f.json) printJson({ removed: true, id: provider.id });
  else console.log(`Removed identity provider ${provider.display_name} (${provider.id}).`);
  return 0;
}

export async function ssoRequire({ flags, args }: CommandInput): Promise<number> {
  const given = args[0];
  if (given !== 'yes' && given !== 'no') throw new UsageError(`sso require takes yes or no, not "${given}"`);
  const session = openSession(flags);
  const settings = await session.api.put(SETTINGS, account(session), { passwords_disabled: given === 'yes' });
  if (flags.json) printJson(settings);
  else console.log(settings.passwords_disabled ? `Passwords are turned off for account ${session.profile.account_handle}: members sign in through its identity providers (Owners may still use a password).` : `Passwords are allowed again for account ${session.profile.account_handle}.`);
  return 0;
}

async function showDomains(session: Session, json: unknown): Promise<void> {
  const list = await session.api.get(DOMAINS, account(session));
  if (json) return printJson(list);
  if (!list.length) say(`Account ${session.profile.account_handle} has no domains.`);
  else printTable(['DOMAIN', 'VERIFIED', 'BY'], list.map((d) => [d.name, d.verified ? 'yes' : 'no', d.verified_by ?? '']));
}

export async function domainList({ flags }: CommandInput): Promise<number> {
  await showDomains(openSession(flags), flags.json);
  return 0;
}

export async function domainAdd({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const names = (await session.api.get(DOMAINS, account(session))).map((d) => d.name);
  await session.api.patch(DOMAINS, account(session), { domain_names: [...names, args[0]!] });
  if (!flags.json) say(`Added ${args[0]} (unverified: it lets no one join until \`gatehouse domain verify ${args[0]}\` or a sign-in proves it).`);
  await showDomains(session, flags.json);
  return 0;
}

export async function domainRemove({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const name = args[0]!.toLowerCase();
  const names = (await session.api.get(DOMAINS, account(session))).map((d) => d.name);
  if (!names.includes(name)) throw new Error(`${name} is not a domain of account ${session.profile.account_handle}; \`gatehouse domain ls\` lists them`);
  await session.api.patch(DOMAINS, account(session), { domain_names: names.filter((n) => n !== name) });
  if (!flags.json) say(`Removed ${name}.`);
  await showDomains(session, flags.json);
  return 0;
}

export async function domainVerify({ flags, args }: CommandInput): Promise<number> {
  const session = openSession(flags);
  const name = args[0]!.toLowerCase();
  const domain = (await session.api.get(DOMAINS, account(session))).find((d) => d.name === name);
  if (!domain) throw new Error(`${name} is not a domain of account ${session.profile.account_handle}; add it with \`gatehouse domain add ${name}\``);
  await session.api.post('/api/accounts/{account_id}/domains/{domain_id}/verify', { ...account(session), domain_id: domain.id }, undefined as never);
  if (!flags.json) say(`${name} is verified: people whose provider-verified email is there may join by SSO.`);
  await showDomains(session, flags.json);
  return 0;
}
