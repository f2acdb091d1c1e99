// `gatehouse set-password`: the server operator sets a user's password (the first one for an
// Owner made by `bootstrap`, or a reset). The password is read from standard input, never a flag,
// so it stays out of shell history and process listings. Every session of the user ends.
import { createInterface } from 'node:readline';
import { systemClock } from '../clock.js';
import { SYSTEM_ACTOR } from '../domain/context.js';
import { ERRORS } from '../errors.js';
import { UsageError, type Flags } from './args.js';
import { withServices, type StoreFlags } from './services.js';

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.split(/\r?\n/)[0] ?? '';
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  // The prompt is written first; from then on nothing of what is typed is echoed.
  const answer = await new Promise<string>((resolve) => {
    rl.question('New password: ', resolve);
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  });
  rl.close();
  process.stdout.write('\n');
  return answer;
}

export async function setPasswordCommand(given: Flags): Promise<number> {
  const flags = given as StoreFlags & { email?: string };
  if (!flags.email) throw new UsageError('missing --email EMAIL');
  let storeName = '';
  const result = await withServices(
    flags,
    // The store is found first: nobody types a password only to hear there is no such store.
    async (services, store) => {
      storeName = store.description;
      const password = await readPassword();
      return services.sessions.setPassword({ actor: SYSTEM_ACTOR, requestId: null, now: systemClock.now() }, flags.email!, password);
    },
    { command: 'set-password' },
  );
  if (!result.ok) {
    console.error(`gatehouse set-password: ${result.detail ?? ERRORS[result.code].message} (store: ${storeName})`);
    return 1;
  }
  console.log(`Password set for ${flags.email.trim().toLowerCase()} in ${storeName}; they can sign in on the web page now.`);
  return 0;
}
