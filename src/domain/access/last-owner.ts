// The workspace's last-Owner rule, for every change that can take an Owner grant away: changing or
// removing the grant itself (access/service.ts), removing a person from the account
// (memberships/service.ts) and deleting a service account (service-accounts/service.ts). The caller
// holds the account lock (memberships/service.ts `lockAccount`), so two such changes cannot pass
// at once. A leaf module: those services import it, it imports none of them.
import { fail, type Failure } from '../../errors.js';
import { WORKSPACE_ROLE_IDS } from '../../authz/workspace-roles.js';
import type { Executor } from '../../store/store.js';

/** Would taking away this grant leave its workspace without an Owner grant? */
export async function wouldRemoveLastOwner(tx: Executor, workspaceId: string, grant: { id: string; workspace_role_id: string }): Promise<boolean> {
  if (grant.workspace_role_id !== WORKSPACE_ROLE_IDS.Owner) return false;
  const other = await tx
    .selectFrom('workspace_access')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('workspace_role_id', '=', WORKSPACE_ROLE_IDS.Owner)
    .where('id', '!=', grant.id)
    .executeTakeFirst();
  return !other;
}

/**
 * The refusal when taking away all of an actor's grants in an account would leave one of its
 * workspaces without an Owner, naming the workspaces; null when none would be.
 */
export async function lastOwnerRefusal(tx: Executor, accountId: string, actorId: string, who: string): Promise<Failure | null> {
  const orphaned = await tx
    .selectFrom('workspace_access as a')
    .innerJoin('workspaces as w', 'w.id', 'a.workspace_id')
    .select(['w.handle'])
    .where('w.account_id', '=', accountId)
    .where('a.actor_id', '=', actorId)
    .where('a.workspace_role_id', '=', WORKSPACE_ROLE_IDS.Owner)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('workspace_access as o')
            .select('o.id')
            .whereRef('o.workspace_id', '=', 'a.workspace_id')
            .where('o.workspace_role_id', '=', WORKSPACE_ROLE_IDS.Owner)
            .where('o.actor_id', '!=', actorId),
        ),
      ),
    )
    .orderBy('w.handle')
    .execute();
  if (orphaned.length === 0) return null;
  const names = orphaned.map((w) => w.handle).join(', ');
  return fail(
    'LAST_WORKSPACE_OWNER',
    `${who} is the only Owner of the workspace${orphaned.length > 1 ? 's' : ''} ${names}: grant someone else the Owner role there first`,
  );
}
