// The workspace gateway: the self-hosted Prefect server each workspace forwards to. The upstream
// credential (Prefect's auth string) must be sent, so it cannot be hashed: it is stored sealed
// with AES-256-GCM under the server's secret key (domain/gateways/sealed.ts), never in the clear.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workspace_gateways')
    .addColumn('workspace_id', 'text', (c) => c.primaryKey().references('workspaces.id').onDelete('cascade'))
    .addColumn('upstream_url', 'text', (c) => c.notNull())
    .addColumn('upstream_auth_sealed', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .execute();
}
