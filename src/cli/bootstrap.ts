// `gatehouse bootstrap`: create an account, its Owner and one API key for that Owner, through the
// same domain service the API uses. The key is printed once.
import { systemClock } from '../clock.js';
import { withServices } from './services.js';
import { SYSTEM_ACTOR } from '../domain/context.js';
import { ERRORS } from '../errors.js';
import { UsageError, type Flags as Given } from './args.js';

interface Flags {
  'account-name'?: string;
  'account-handle'?: string;
  email?: string;
  json?: boolean;
  'data-dir'?: string;
  'database-url'?: string;
  'database-schema'?: string;
  init?: boolean;
}

const HANDLE = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

export async function bootstrapCommand(given: Given): Promise<number> {
  const flags = given as Flags;
  const missing = (['account-name', 'account-handle', 'email'] as const).filter((f) => !flags[f]);
  if (missing.length) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  if (!HANDLE.test(flags['account-handle']!)) {
    throw new UsageError('--account-handle must be 1-64 letters, digits, "-" or "_", starting with a letter or digit');
  }
  if (!EMAIL.test(flags.email!)) throw new UsageError(`--email "${flags.email}" is not an email address`);
  let storeName = '';
  const result = await withServices(
    flags,
    (services, store) => {
      storeName = store.description;
      return services.accounts.bootstrap(
        { actor: SYSTEM_ACTOR, requestId: null, now: systemClock.now() },
        { accountName: flags['account-name']!, accountHandle: flags['account-handle']!, email: flags.email! },
      );
    },
    { command: 'bootstrap' },
  );
  if (!result.ok) {
    const message = result.code === 'ACCOUNT_HANDLE_TAKEN'
      ? `An account with handle "${flags['account-handle']}" already exists; choose another --account-handle`
      : (result.detail ?? ERRORS[result.code].message);
    console.error(`gatehouse bootstrap: ${message} (store: ${storeName})`);
    return 1;
  }
  const { account_id, user_id, api_key } = result.value;
  if (flags.json) {
    const field = (name: string, value: string) => `${JSON.stringify(name)}: ${JSON.stringify(value)}`;
    console.log(`{${[field('account_id', account_id), field('user_id', user_id), field('api_key', api_key)].join(', ')}}`);
    console.error(`gatehouse bootstrap: wrote to ${storeName}`);
  } else {
    console.log(`Created account "${flags['account-name']}" (${flags['account-handle']}) with Owner ${flags.email}.`);
    console.log(`  account_id: ${account_id}`);
    console.log(`  user_id:    ${user_id}`);
    console.log(`  store:      ${storeName}`);
    console.log(`  API key:    ${api_key}`);
    console.log('This key is shown once and cannot be shown again: store it somewhere safe now.');
    console.log('Try it:  curl -H "Authorization: Bearer <key>" http://127.0.0.1:4280/api/me/workspaces');
  }
  return 0;
}
