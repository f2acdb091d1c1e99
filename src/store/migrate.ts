// Brings a store up to the current schema, then writes the built-in roles (their definitions live
// in code, in authz/, so a release that changes one updates every store on its next start).
import { Migrator, sql, type Migration } from 'kysely';
import * as initial from './migrations/0001-initial.js';
import * as people from './migrations/0002-people.js';
import * as gateway from './migrations/0003-gateway.js';
import * as cacheCoherence from './migrations/0004-cache-coherence.js';
import * as foreignKeyIndexes from './migrations/0005-foreign-key-indexes.js';
import * as cacheProcesses from './migrations/0006-cache-processes.js';
import * as emailChanges from './migrations/0007-email-changes.js';
import * as sealingKey from './migrations/0008-sealing-key.js';
import * as keyPolicies from './migrations/0010-key-policies.js';
import * as ipAllowlist from './migrations/0011-ip-allowlist.js';
import * as keyLastUse from './migrations/0012-key-last-use.js';
import * as notices from './migrations/0013-notices.js';
import * as leakReports from './migrations/0014-leak-reports.js';
import * as auditFeed from './migrations/0015-audit-feed.js';
import * as keyExpirationIndex from './migrations/0016-key-expiration-index.js';
import * as workloadIdentity from './migrations/0017-workload-identity.js';
import * as teams from './migrations/0018-teams.js';
import * as sso from './migrations/0019-sso.js';
import * as scim from './migrations/0020-scim.js';
import type { Store } from './store.js';
import { BUILTIN_ACCOUNT_ROLES } from '../authz/permissions.js';
import { BUILTIN_WORKSPACE_ROLES } from '../authz/workspace-roles.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-people': people,
  '0003-gateway': gateway,
  '0004-cache-coherence': cacheCoherence,
  '0005-foreign-key-indexes': foreignKeyIndexes,
  '0006-cache-processes': cacheProcesses,
  '0007-email-changes': emailChanges,
  '0008-sealing-key': sealingKey,
  '0010-key-policies': keyPolicies,
  '0011-ip-allowlist': ipAllowlist,
  '0012-key-last-use': keyLastUse,
  '0013-notices': notices,
  '0014-leak-reports': leakReports,
  '0015-audit-feed': auditFeed,
  '0016-key-expiration-index': keyExpirationIndex,
  '0017-workload-identity': workloadIdentity,
  '0018-teams': teams,
  '0019-sso': sso,
  '0020-scim': scim,
};

/** Built-in rows carry a fixed timestamp so that reads are stable across processes and restarts. */
const BUILTIN_TIMESTAMP = '2024-01-01T00:00:00.000Z';

export async function migrate(store: Store): Promise<void> {
  await store.prepare();
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => MIGRATIONS },
    // Without this Kysely looks for its bookkeeping tables in every schema of the database and
    // can mistake another Gatehouse's (or another test's) for this one's.
    ...(store.schema ? { migrationTableSchema: store.schema } : {}),
  });
  // Kysely's migrator introspects every table of the database; a schema or table dropped by someone
  // else at that moment (another Gatehouse or test on the same database) fails it with 3F000 or, when
  // the schema goes between listing its tables and reading their columns, 42P01. Try again.
  for (let attempt = 1; ; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (!error) break;
    const code = (error as { code?: string }).code;
    if ((code !== '3F000' && code !== '42P01') || attempt >= 3) throw error;
  }
  await syncBuiltinRoles(store);
}

/** Migrations this build knows that the store has not applied, and applied ones it does not know (a newer build's). */
export async function migrationStatus(store: Store): Promise<{ pending: string[]; unknown: string[] }> {
  const table = store.schema ? sql`${sql.id(store.schema)}.kysely_migration` : sql`kysely_migration`;
  const rows = await sql<{ name: string }>`select name from ${table}`.execute(store.db);
  const applied = new Set(rows.rows.map((row) => row.name));
  return {
    pending: Object.keys(MIGRATIONS).filter((name) => !applied.has(name)),
    unknown: [...applied].filter((name) => !Object.hasOwn(MIGRATIONS, name)).sort(),
  };
}

async function syncBuiltinRoles(store: Store): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    for (const role of BUILTIN_ACCOUNT_ROLES) {
      const row = {
        id: role.id,
        account_id: null,
        name: role.name,
        permissions: JSON.stringify(role.permissions),
        is_system_role: 1,
        created: BUILTIN_TIMESTAMP,
        updated: BUILTIN_TIMESTAMP,
      };
      await tx
        .insertInto('account_roles')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet({ name: row.name, permissions: row.permissions }))
        .execute();
    }
    for (const role of BUILTIN_WORKSPACE_ROLES) {
      const row = {
        id: role.id,
        account_id: null,
        name: role.name,
        description: role.description,
        scopes: JSON.stringify(role.scopes),
        inherited_role_id: null,
        created: BUILTIN_TIMESTAMP,
        updated: BUILTIN_TIMESTAMP,
      };
      await tx
        .insertInto('workspace_roles')
        .values(row)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({ name: row.name, description: row.description, scopes: row.scopes }),
        )
        .execute();
    }
  });
}

/** This build's migrations, in order: the schema versions it knows. */
export const knownMigrations = (): string[] => Object.keys(MIGRATIONS);
