// What the API view of every object an account owns begins with. Views name each wire field, so
// that a new column stays off the wire; these four are named here once.

export interface OwnedObject<AccountId extends string | null = string> {
  id: string;
  created: string;
  updated: string;
  account_id: AccountId;
}

/** The id, times and account of an account's object (or of a built-in one, with no account). */
export const ownedObjectFields = <AccountId extends string | null>(row: OwnedObject<AccountId>): OwnedObject<AccountId> => ({
  id: row.id,
  created: row.created,
  updated: row.updated,
  account_id: row.account_id,
});
