// inTransaction (src/domain/transaction.ts): the one way a domain service writes, and the one way
// it gives up: a returned Failure rolls back everything the work wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fail, ok } from '../src/errors.js';
import { systemClock } from '../src/clock.js';
import { inTransaction } from '../src/domain/transaction.js';
import type { Deps } from '../src/domain/deps.js';
import { freshStore, type StoreHandle } from './support/harness.js';

let handle: StoreHandle;
let deps: Deps;

beforeAll(async () => {
  handle = await freshStore();
  deps = { store: handle.store, cache: handle.cache, clock: systemClock };
});
afterAll(() => handle.dispose());

const token = (hash: string) => ({ token_hash: hash, created: new Date().toISOString(), expires_at: new Date().toISOString() });
const tokensNamed = async (hash: string) => handle.store.db.selectFrom('setup_tokens').select('token_hash').where('token_hash', '=', hash).execute();

describe('inTransaction', () => {
  it('rolls back what the work wrote when it returns a failure, and answers with that failure', async () => {
    const result = await inTransaction(deps, async (tx) => {
      await tx.insertInto('setup_tokens').values(token('written-then-failed')).execute();
      return fail('NOT_FOUND', 'nothing here');
    });
    expect(result).toEqual({ ok: false, code: 'NOT_FOUND', detail: 'nothing here' });
    expect(await tokensNamed('written-then-failed')).toEqual([]);
  });

  it('commits what the work wrote when it returns a success', async () => {
    const result = await inTransaction(deps, async (tx) => {
      await tx.insertInto('setup_tokens').values(token('written-and-kept')).execute();
      return ok('done');
    });
    expect(result).toEqual({ ok: true, value: 'done' });
    expect(await tokensNamed('written-and-kept')).toEqual([{ token_hash: 'written-and-kept' }]);
  });
});
