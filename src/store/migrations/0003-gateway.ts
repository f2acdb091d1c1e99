// The workspace gateway: the self-hosted Prefect server each workspace forwards to. The upstream
// credential (Prefect's auth string) must be sent, so it cannot be hashed: it is stored sealed
// with AES-256-GCM under the server's secret key (domain/gateways/sealed.ts), never in the clear.
import type { Kysely } from 'kysely';
import { onePer, timestamps } from './columns.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workspace_gateways')
    .addColumn('workspace_id', 'text', onePer('workspaces.id'))
    .addColumn('upstream_url', 'text', (c) => c.notNull())
    .addColumn('upstream_auth_sealed', 'text')
    .$call(timestamps)
    .execute();
}
