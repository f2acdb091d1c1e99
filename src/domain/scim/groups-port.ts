// What SCIM needs of teams, in one place: until teams land (h/teams), a person leaving the account
// has no team memberships to drop.
import type { Executor } from '../../store/store.js';

/** Drops the actor's memberships in the account's teams (inside the caller's transaction). */
export async function removeFromAccountTeams(_tx: Executor, _accountId: string, _actorId: string): Promise<void> {}
