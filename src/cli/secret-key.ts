// `gatehouse secret-key reseal`: after GATEHOUSE_SECRET_KEY was changed (the old key given in
// GATEHOUSE_PREVIOUS_SECRET_KEYS), seal every workspace's upstream credential under the new key so
// the old one can be retired. Goes through the gateway service like the API does.
import { systemClock } from '../clock.js';
import { SYSTEM_ACTOR } from '../domain/context.js';
import { ERRORS } from '../errors.js';
import type { Flags } from './args.js';
import { withServices, type StoreFlags } from './services.js';

export async function secretKeyCommand(given: Flags): Promise<number> {
  const flags = given as StoreFlags & { 'drop-unreadable'?: boolean };
  let storeName = '';
  const result = await withServices(
    flags,
    (services, store) => {
      storeName = store.description;
      return services.gateways.reseal({ actor: SYSTEM_ACTOR, requestId: null, now: systemClock.now() }, { dropUnreadable: flags['drop-unreadable'] });
    },
    { command: 'secret-key', secretKeys: true },
  );
  if (!result.ok) {
    console.error(`gatehouse secret-key reseal: ${result.detail ?? ERRORS[result.code].message} (store: ${storeName})`);
    return 1;
  }
  const { resealed, alreadyCurrent, dropped } = result.value;
  console.log(`Sealed ${resealed} upstream credential${resealed === 1 ? '' : 's'} under the current key (${alreadyCurrent} already were) in ${storeName}.`);
  if (dropped > 0) console.log(`Removed ${dropped} that no key opened: set them again with \`gatehouse workspace set … --upstream-auth-string-stdin\`.`);
  console.log('Every process can now run without GATEHOUSE_PREVIOUS_SECRET_KEYS; one that has only the old key is refused at start.');
  return 0;
}
