// IP allowlists (issue 19, item 5): an account's entries, each an IP address or CIDR network in
// canonical form, with Prefect's `description` and `enabled`. Whether the account enforces them is
// its `enforce_ip_allowlist` setting (accounts.settings), as in Prefect Cloud.
import type { Kysely } from 'kysely';
import { createAccountTable, required, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createAccountTable(db, 'ip_allowlist_entries')
    .addColumn('ip_network', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .$call(required('integer', 'enabled', 'position'))
    .$call(timestamps)
    .addUniqueConstraint('ip_allowlist_entries_network_key', ['account_id', 'ip_network'])
    .execute();
}
