// Email changes wait for verification (pentest issue 14, finding 6): a user's new email is kept
// here, with the digest of the one-time code mailed to it, until the code comes back. One pending
// change per user; `users.email` only ever holds an address its user has shown they receive.
import type { Kysely } from 'kysely';
import { indexColumn, onePer, required } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('email_changes')
    .addColumn('user_id', 'text', onePer('users.id'))
    .$call(required('text', 'email', 'code_hash', 'expires_at', 'created'))
    .execute();
  await indexColumn(db, 'email_changes', 'email');
}
