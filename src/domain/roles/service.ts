// Account roles (built-in, read-only) and workspace roles (built-in plus an account's custom ones).
import { fail, ok, type Result } from '../../errors.js';
import { expandScopes, unknownScopes } from '../../authz/scopes.js';
import { BUILTIN_WORKSPACE_ROLES } from '../../authz/workspace-roles.js';
import { ACCOUNT_ROLE_IDS } from '../../authz/permissions.js';
import { inTransaction } from '../transaction.js';
import { parseJsonColumn } from '../../store/json-column.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type AnyOf, type OpContext, type Page } from '../context.js';
import { ownedObjectFields } from '../views.js';
import { changedColumns, deleteRecorded, insertRecorded, updateRecorded } from '../audit/service.js';
import type { AccountRolesTable, Database, WorkspaceRolesTable } from '../../store/schema.js';
import { confusableName, lookAlikeOf } from '../confusables.js';
import type { WorkspaceRoleCreate, WorkspaceRoleUpdate } from './inputs.js';

export interface AccountRole {
  id: string;
  created: string;
  updated: string;
  account_id: string | null;
  name: string;
  permissions: string[];
  is_system_role: boolean;
}

export interface WorkspaceRole {
  id: string;
  created: string;
  updated: string;
  account_id: string | null;
  name: string;
  description: string;
  scopes: string[];
  permissions: string[];
  inherited_role_id: string | null;
}

const BUILTIN_WORKSPACE_ROLE_IDS = new Set(BUILTIN_WORKSPACE_ROLES.map((r) => r.id));
const BUILTIN_WORKSPACE_ROLE_NAMES = new Set(BUILTIN_WORKSPACE_ROLES.map((r) => r.name.toLowerCase()));
export const isBuiltinWorkspaceRole = (id: string): boolean => BUILTIN_WORKSPACE_ROLE_IDS.has(id);
export const isOwnerOrAdminRole = (id: string): boolean => id === ACCOUNT_ROLE_IDS.Owner || id === ACCOUNT_ROLE_IDS.Admin;

export const toAccountRole = (row: AccountRolesTable): AccountRole => ({
  ...ownedObjectFields(row),
  name: row.name,
  permissions: parseJsonColumn<string[]>(row.permissions, []),
  is_system_role: row.is_system_role === 1,
});

export const toWorkspaceRole = (row: WorkspaceRolesTable): WorkspaceRole => ({
  ...ownedObjectFields(row),
  name: row.name,
  description: row.description,
  scopes: parseJsonColumn<string[]>(row.scopes, []),
  // Prefect's verb:object permissions are a UI concern; Gatehouse decides by scopes alone.
  permissions: [],
  inherited_role_id: row.inherited_role_id,
});

type RoleTable = 'account_roles' | 'workspace_roles';

/**
 * The roles `accountId` sees in `table`: the built-in ones (with no account) and its own. Account
 * and workspace roles share the columns these queries read, so each query is written once for both.
 */
const rolesSeenBy = (tx: Executor, table: RoleTable, accountId: string) =>
  tx
    .selectFrom(table as 'workspace_roles')
    .selectAll()
    .where((eb) => eb.or([eb('account_id', 'is', null), eb('account_id', '=', accountId)]));

async function findRole<T extends RoleTable>(tx: Executor, table: T, accountId: string, roleId: string): Promise<Database[T] | undefined> {
  return (await rolesSeenBy(tx, table, accountId).where('id', '=', roleId).executeTakeFirst()) as Database[T] | undefined;
}

/** An account role visible from an account: a built-in one, or one of the account's own. */
export const findAccountRole = (tx: Executor, accountId: string, roleId: string) => findRole(tx, 'account_roles', accountId, roleId);

/** A workspace role visible from an account: a built-in one, or one of the account's own. */
export const findWorkspaceRole = (tx: Executor, accountId: string, roleId: string) => findRole(tx, 'workspace_roles', accountId, roleId);

/** The scopes a role grants: its own plus its inherited role's, closed under `includes_scopes`. */
export async function effectiveScopes(tx: Executor, role: WorkspaceRolesTable): Promise<string[]> {
  const own = parseJsonColumn<string[]>(role.scopes, []);
  if (!role.inherited_role_id) return expandScopes(own);
  const inherited = await tx
    .selectFrom('workspace_roles')
    .select('scopes')
    .where('id', '=', role.inherited_role_id)
    .executeTakeFirst();
  return expandScopes([...own, ...parseJsonColumn<string[]>(inherited?.scopes ?? '[]', [])]);
}

export type WorkspaceRoleInput = WorkspaceRoleUpdate;

function checkRoleInput(input: WorkspaceRoleInput): Result<null> {
  if (input.name !== undefined && BUILTIN_WORKSPACE_ROLE_NAMES.has(input.name.trim().toLowerCase())) {
    return fail('WORKSPACE_ROLE_NAME_TAKEN', `"${input.name}" is the name of a built-in workspace role; choose another name`);
  }
  if (input.name !== undefined) {
    // A look-alike of a built-in role ("Оwner" with a Cyrillic О) would pass for it in every list.
    const builtin = lookAlikeOf(input.name, BUILTIN_WORKSPACE_ROLES.map((r) => r.name));
    if (builtin) return fail('WORKSPACE_ROLE_NAME_TAKEN', `"${input.name}" looks like the built-in workspace role "${builtin}"; choose a name that cannot be taken for it`);
    const confusable = confusableName('role', input.name);
    if (confusable) return confusable;
  }
  const unknown = unknownScopes(input.scopes ?? []);
  if (unknown.length) return fail('UNKNOWN_SCOPE', `Unknown workspace scopes: ${unknown.join(', ')}; GET /api/workspace_scopes lists them`);
  if (input.inherited_role_id && !isBuiltinWorkspaceRole(input.inherited_role_id)) return fail('INHERITED_ROLE_NOT_BUILTIN');
  return ok(null);
}

/** The answer when `name` looks like another of the account's own workspace roles (a handful of names). */
async function lookAlikeRole(tx: Executor, accountId: string, name: string, exceptId: string | null) {
  const others = await tx.selectFrom('workspace_roles').select(['id', 'name']).where('account_id', '=', accountId).execute();
  const other = lookAlikeOf(name, others.filter((r) => r.id !== exceptId).map((r) => r.name));
  return other === null ? null : fail('WORKSPACE_ROLE_NAME_TAKEN', `"${name}" looks like the existing workspace role "${other}"; choose a name that cannot be taken for it`);
}

/** The roles `accountId` sees in `table`, those named `names` when given, one page by creation. */
async function filterRoles<T extends RoleTable>(tx: Executor, table: T, accountId: string, names: AnyOf, page: Page): Promise<Database[T][]> {
  let query = rolesSeenBy(tx, table, accountId);
  if (names) query = query.where('name', 'in', names.length ? names : ['']);
  return (await query.orderBy('created').orderBy('name').limit(page.limit).offset(page.offset).execute()) as Database[T][];
}

/** Why `name` cannot be given to a workspace role of the account (another has it, or looks like it); null when it can. */
async function refuseName(tx: Executor, accountId: string, name: string, exceptId: string | null) {
  const clash = await tx.selectFrom('workspace_roles').select('id').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  if (clash) return fail('WORKSPACE_ROLE_NAME_TAKEN');
  return lookAlikeRole(tx, accountId, name, exceptId);
}

export function roleService(deps: Deps) {
  const { store } = deps;
  const nameTaken = fail('WORKSPACE_ROLE_NAME_TAKEN');

  return {
    async filterAccountRoles(accountId: string, names: AnyOf, page: Page): Promise<AccountRole[]> {
      return (await filterRoles(store.db, 'account_roles', accountId, names, page)).map(toAccountRole);
    },

    async getAccountRole(accountId: string, roleId: string): Promise<Result<AccountRole>> {
      const row = await findAccountRole(store.db, accountId, roleId);
      return row ? ok(toAccountRole(row)) : fail('NOT_FOUND', 'Account role not found');
    },

    async filterWorkspaceRoles(accountId: string, names: AnyOf, page: Page): Promise<WorkspaceRole[]> {
      return (await filterRoles(store.db, 'workspace_roles', accountId, names, page)).map(toWorkspaceRole);
    },

    async getWorkspaceRole(accountId: string, roleId: string): Promise<Result<WorkspaceRole>> {
      const row = await findWorkspaceRole(store.db, accountId, roleId);
      return row ? ok(toWorkspaceRole(row)) : fail('NOT_FOUND', 'Workspace role not found');
    },

    async createWorkspaceRole(ctx: OpContext, accountId: string, input: WorkspaceRoleCreate): Promise<Result<WorkspaceRole>> {
      const checked = checkRoleInput(input);
      if (!checked.ok) return checked;
      const now = ctx.now.toISOString();
      const row: WorkspaceRolesTable = {
        id: newId(),
        account_id: accountId,
        name: input.name,
        description: input.description ?? '',
        scopes: JSON.stringify(expandScopes(input.scopes ?? [])),
        inherited_role_id: input.inherited_role_id ?? null,
        created: now,
        updated: now,
      };
      return inTransaction(
        deps,
        async (tx) => {
          const refused = await refuseName(tx, accountId, input.name, null);
          if (refused) return refused;
          await insertRecorded(tx, ctx, 'workspace_roles', row, {
            action: 'workspace_role.created',
            targetType: 'workspace_role',
            details: { name: row.name, scopes: JSON.parse(row.scopes), inherited_role_id: row.inherited_role_id },
          });
          return ok(toWorkspaceRole(row));
        },
        { onUniqueViolation: nameTaken },
      );
    },

    async updateWorkspaceRole(ctx: OpContext, accountId: string, roleId: string, input: WorkspaceRoleInput): Promise<Result<null>> {
      if (isBuiltinWorkspaceRole(roleId)) return fail('BUILTIN_ROLE_READ_ONLY');
      const checked = checkRoleInput(input);
      if (!checked.ok) return checked;
      return inTransaction(
        deps,
        async (tx) => {
          const existing = await tx
            .selectFrom('workspace_roles')
            .selectAll()
            .where('id', '=', roleId)
            .where('account_id', '=', accountId)
            .executeTakeFirst();
          if (!existing) return fail('NOT_FOUND', 'Workspace role not found');
          const changes: Partial<WorkspaceRolesTable> = { updated: ctx.now.toISOString() };
          if (input.name !== undefined) changes.name = input.name;
          if (input.description !== undefined) changes.description = input.description ?? '';
          if (input.scopes !== undefined) changes.scopes = JSON.stringify(expandScopes(input.scopes ?? []));
          if (input.inherited_role_id !== undefined) changes.inherited_role_id = input.inherited_role_id;
          if (changes.name && changes.name !== existing.name) {
            const refused = await refuseName(tx, accountId, changes.name, roleId);
            if (refused) return refused;
          }
          await updateRecorded(tx, ctx, 'workspace_roles', existing, changes, {
            action: 'workspace_role.updated',
            targetType: 'workspace_role',
            details: { name: changes.name ?? existing.name, changed: changedColumns(changes) },
          });
          return ok(null);
        },
        { onUniqueViolation: nameTaken },
      );
    },

    async deleteWorkspaceRole(ctx: OpContext, accountId: string, roleId: string): Promise<Result<null>> {
      if (isBuiltinWorkspaceRole(roleId)) return fail('BUILTIN_ROLE_READ_ONLY');
      return inTransaction(
        deps,
        async (tx) => {
          const existing = await tx
            .selectFrom('workspace_roles')
            .select(['id', 'account_id', 'name'])
            .where('id', '=', roleId)
            .where('account_id', '=', accountId)
            .executeTakeFirst();
          if (!existing) return fail('NOT_FOUND', 'Workspace role not found');
          const inUse =
            (await tx.selectFrom('workspace_access').select('id').where('workspace_role_id', '=', roleId).executeTakeFirst()) ??
            (await tx.selectFrom('team_access').select('id').where('workspace_role_id', '=', roleId).executeTakeFirst());
          const isDefault = await tx.selectFrom('workspaces').select('id').where('default_workspace_role_id', '=', roleId).executeTakeFirst();
          if (inUse || isDefault) return fail('WORKSPACE_ROLE_IN_USE');
          await deleteRecorded(tx, ctx, 'workspace_roles', existing, {
            action: 'workspace_role.deleted',
            targetType: 'workspace_role',
            details: { name: existing.name },
          });
          return ok(null);
        },
        { onForeignKeyViolation: fail('WORKSPACE_ROLE_IN_USE') },
      );
    },
  };
}

export type RoleService = ReturnType<typeof roleService>;
