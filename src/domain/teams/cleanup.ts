// What other services do to teams when an actor leaves an account: a leaf module, so that the
// memberships service needs no import of the team service.
import type { Executor } from '../../store/store.js';

/**
 * Removes an actor from every team of an account, inside the caller's transaction: for the services
 * that remove a user from an account or delete a service account (their caller audits the removal).
 */
export async function removeFromAccountTeams(tx: Executor, accountId: string, actorId: string): Promise<void> {
  await tx
    .deleteFrom('team_members')
    .where('actor_id', '=', actorId)
    .where('team_id', 'in', (eb) => eb.selectFrom('teams').select('id').where('account_id', '=', accountId))
    .execute();
}
