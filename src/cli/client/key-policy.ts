// `gatehouse key-policy show | set`: the limits of the profile's account on its service-account
// keys (GET/PUT /api/accounts/{account_id}/key_policy), and the existing keys that break them.
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { integerFlag, type ConnectionFlags } from './flags.js';
import { printJson, printTable, say } from './output.js';
import { openSession, type Session } from './session.js';
import type { Answer } from './http.js';

type KeyPolicy = Answer<'get', '/api/accounts/{account_id}/key_policy'>;
type Breach = Answer<'get', '/api/accounts/{account_id}/key_policy/breaches'>[number];

function printPolicy(policy: KeyPolicy): void {
  const limit = (value: number | null, unit: string) => (value === null ? 'no limit' : `${value} ${unit}`);
  printTable(
    ['RULE', 'VALUE'],
    [
      ['max_key_lifetime_days', limit(policy.max_key_lifetime_days, 'days')],
      ['allow_never_expire', policy.allow_never_expire ? 'yes' : 'no'],
      ['max_rotation_grace_seconds', policy.max_rotation_grace_seconds === null ? 'no limit (48 hours)' : `${policy.max_rotation_grace_seconds} seconds`],
      ['disable_keys_unused_days', policy.disable_keys_unused_days === null ? 'never' : `${policy.disable_keys_unused_days} days`],
      ['leaked_key_action', policy.leaked_key_action === 'flag' ? 'flag (a key reported leaked keeps working)' : 'disable (a key reported leaked stops at once)'],
    ],
  );
}

function printBreaches(breaches: Breach[]): void {
  if (!breaches.length) {
    say('No existing key breaks this policy.');
    return;
  }
  say(`${breaches.length} existing key${breaches.length === 1 ? '' : 's'} break${breaches.length === 1 ? 's' : ''} this policy (left as they are; rotate them to comply; disable_keys_unused_days: disabled at the next check):`);
  printTable(
    ['SERVICE ACCOUNT', 'KEY', 'EXPIRATION', 'LAST ACTIVITY', 'BREAKS'],
    breaches.map((b) => [b.service_account_name, b.masked_key, b.expiration ?? 'never', b.last_activity, b.rules.join(', ')]),
  );
}

async function read(session: Session): Promise<{ policy: KeyPolicy; breaches: Breach[] }> {
  const { api, profile } = session;
  const policy = await api.get('/api/accounts/{account_id}/key_policy', profile);
  const breaches = await api.get('/api/accounts/{account_id}/key_policy/breaches', profile);
  return { policy, breaches };
}

export async function keyPolicyShow({ flags }: CommandInput): Promise<number> {
  const session = openSession(flags as ConnectionFlags);
  const found = await read(session);
  if ((flags as ConnectionFlags).json) printJson(found);
  else {
    say(`Key policy of account ${session.profile.account_handle}:`);
    printPolicy(found.policy);
    printBreaches(found.breaches);
  }
  return 0;
}

interface SetFlags {
  'max-key-lifetime-days'?: string;
  'allow-never-expire'?: string;
  'max-rotation-grace-seconds'?: string;
  'disable-keys-unused-days'?: string;
  'leaked-key-action'?: string;
}

/** A limit's flag: a whole number in range, or "none" to lift it. */
const limitFlag = (value: string, flag: string, max: number, min = 1): number | null => (value === 'none' ? null : integerFlag(value, flag, min, max));

export async function keyPolicySet({ flags }: CommandInput): Promise<number> {
  const f = flags as SetFlags & ConnectionFlags;
  const body: Record<string, number | boolean | string | null> = {};
  if (f['max-key-lifetime-days'] !== undefined) body.max_key_lifetime_days = limitFlag(f['max-key-lifetime-days'], '--max-key-lifetime-days', 36_500);
  if (f['allow-never-expire'] !== undefined) {
    if (f['allow-never-expire'] !== 'yes' && f['allow-never-expire'] !== 'no') throw new UsageError('--allow-never-expire must be yes or no');
    body.allow_never_expire = f['allow-never-expire'] === 'yes';
  }
  if (f['max-rotation-grace-seconds'] !== undefined) body.max_rotation_grace_seconds = limitFlag(f['max-rotation-grace-seconds'], '--max-rotation-grace-seconds', 172_800, 0);
  if (f['disable-keys-unused-days'] !== undefined) body.disable_keys_unused_days = limitFlag(f['disable-keys-unused-days'], '--disable-keys-unused-days', 36_500);
  if (f['leaked-key-action'] !== undefined) {
    if (f['leaked-key-action'] !== 'disable' && f['leaked-key-action'] !== 'flag') throw new UsageError('--leaked-key-action must be disable or flag');
    body.leaked_key_action = f['leaked-key-action'];
  }
  if (!Object.keys(body).length) throw new UsageError('nothing to set: give at least one of --max-key-lifetime-days, --allow-never-expire, --max-rotation-grace-seconds, --disable-keys-unused-days, --leaked-key-action');
  const session = openSession(f);
  const { api, profile } = session;
  const policy = await api.put('/api/accounts/{account_id}/key_policy', profile, body);
  const breaches = await api.get('/api/accounts/{account_id}/key_policy/breaches', profile);
  if (f.json) printJson({ policy, breaches });
  else {
    say(`Saved the key policy of account ${profile.account_handle}; new and rotated keys must keep it.`);
    printPolicy(policy);
    printBreaches(breaches);
  }
  return 0;
}
