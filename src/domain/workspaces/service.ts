// Workspaces: created in an account (the creator becomes its workspace Owner), seen by those
// with access to them (and by account Owners and Admins, who act as workspace Owner everywhere).
import { fail, ok, type Result } from '../../errors.js';
import { WORKSPACE_ROLE_IDS } from '../../authz/workspace-roles.js';
import { inTransaction } from '../transaction.js';
import type { Deps } from '../deps.js';
import type { Executor } from '../../store/store.js';
import { newId, type Actor, type AnyOf, type OpContext, type Page } from '../context.js';
import { ownedObjectFields } from '../views.js';
import { changedColumns, deleteRecorded, recordEvent, updateRecorded } from '../audit/service.js';
import { findWorkspaceRole } from '../roles/service.js';
import type { WorkspacesTable } from '../../store/schema.js';
import type { WorkspaceCreate, WorkspaceUpdate } from './inputs.js';

export interface Workspace {
  id: string;
  created: string;
  updated: string;
  account_id: string;
  name: string;
  handle: string;
  description: string;
  default_workspace_role_id: string | null;
  is_public: boolean;
}

/** A workspace as the API shows it: each wire field named, so a new column stays off the wire. */
export const toWorkspace = (row: WorkspacesTable): Workspace => ({
  ...ownedObjectFields(row),
  name: row.name,
  handle: row.handle,
  description: row.description,
  default_workspace_role_id: row.default_workspace_role_id,
  is_public: row.is_public === 1,
});

export type WorkspaceInput = WorkspaceUpdate;

/** A workspace of the account (an id from another account finds nothing, as for one that does not exist). */
export async function findWorkspace(db: Executor, accountId: string, workspaceId: string): Promise<WorkspacesTable | undefined> {
  return db.selectFrom('workspaces').selectAll().where('id', '=', workspaceId).where('account_id', '=', accountId).executeTakeFirst();
}

export function workspaceService(deps: Deps) {
  const { store } = deps;

  async function clashes(tx: Executor, accountId: string, input: WorkspaceInput, exceptId?: string) {
    for (const field of ['handle', 'name'] as const) {
      const value = input[field];
      if (value === undefined) continue;
      let query = tx.selectFrom('workspaces').select('id').where('account_id', '=', accountId).where(field, '=', value);
      if (exceptId) query = query.where('id', '!=', exceptId);
      if (await query.executeTakeFirst()) return fail(field === 'handle' ? 'WORKSPACE_HANDLE_TAKEN' : 'WORKSPACE_NAME_TAKEN');
    }
    return null;
  }

  return {
    async create(ctx: OpContext, accountId: string, input: WorkspaceCreate): Promise<Result<Workspace>> {
      const now = ctx.now.toISOString();
      const row: WorkspacesTable = {
        id: newId(),
        account_id: accountId,
        name: input.name,
        handle: input.handle,
        description: input.description ?? '',
        default_workspace_role_id: null,
        is_public: 0,
        created: now,
        updated: now,
      };
      return inTransaction(
        deps,
        async (tx) => {
          const clash = await clashes(tx, accountId, input);
          if (clash) return clash;
          await tx.insertInto('workspaces').values(row).execute();
          if (ctx.actor.actorId && (ctx.actor.type === 'user' || ctx.actor.type === 'bot')) {
            await tx
              .insertInto('workspace_access')
              .values({
                id: newId(),
                workspace_id: row.id,
                actor_id: ctx.actor.actorId,
                user_id: ctx.actor.type === 'user' ? ctx.actor.id : null,
                bot_id: ctx.actor.type === 'bot' ? ctx.actor.id : null,
                workspace_role_id: WORKSPACE_ROLE_IDS.Owner,
                created: now,
                updated: now,
              })
              .execute();
          }
          await recordEvent(tx, ctx, {
            action: 'workspace.created',
            accountId,
            workspaceId: row.id,
            targetType: 'workspace',
            targetId: row.id,
            details: { name: row.name, handle: row.handle },
          });
          return ok(toWorkspace(row));
        },
        { onUniqueViolation: fail('WORKSPACE_HANDLE_TAKEN', 'A workspace with this handle or name already exists in this account') },
      );
    },

    /** The workspaces of `accountId` the actor can see; all of them when it acts as workspace Owner. */
    async filter(accountId: string, actor: Actor, seesAll: boolean, handles: AnyOf, page: Page): Promise<Workspace[]> {
      let query = store.db.selectFrom('workspaces as w').selectAll('w').where('w.account_id', '=', accountId);
      if (!seesAll) {
        // Reached by its own grant or through a team it is a member of.
        const actorId = actor.actorId ?? '';
        query = query.where((eb) =>
          eb.or([
            eb('w.id', 'in', eb.selectFrom('workspace_access').select('workspace_id').where('actor_id', '=', actorId)),
            eb('w.id', 'in', eb.selectFrom('team_access as ta').innerJoin('team_members as tm', 'tm.team_id', 'ta.team_id').select('ta.workspace_id').where('tm.actor_id', '=', actorId)),
          ]),
        );
      }
      if (handles) query = query.where('w.handle', 'in', handles.length ? handles : ['']);
      const rows = await query.orderBy('w.name').orderBy('w.id').limit(page.limit).offset(page.offset).execute();
      return rows.map(toWorkspace);
    },

    async get(accountId: string, workspaceId: string): Promise<Result<Workspace>> {
      const row = await findWorkspace(store.db, accountId, workspaceId);
      return row ? ok(toWorkspace(row)) : fail('NOT_FOUND', 'Workspace not found');
    },

    async update(ctx: OpContext, accountId: string, workspaceId: string, input: WorkspaceInput): Promise<Result<null>> {
      return inTransaction(
        deps,
        async (tx) => {
          const existing = await findWorkspace(tx, accountId, workspaceId);
          if (!existing) return fail('NOT_FOUND', 'Workspace not found');
          const clash = await clashes(tx, accountId, input, workspaceId);
          if (clash) return clash;
          if (input.default_workspace_role_id && !(await findWorkspaceRole(tx, accountId, input.default_workspace_role_id))) {
            return fail('UNKNOWN_WORKSPACE_ROLE');
          }
          const changes: Partial<WorkspacesTable> = { updated: ctx.now.toISOString() };
          if (input.name !== undefined) changes.name = input.name;
          if (input.handle !== undefined) changes.handle = input.handle;
          if (input.description !== undefined) changes.description = input.description ?? '';
          if (input.default_workspace_role_id !== undefined) changes.default_workspace_role_id = input.default_workspace_role_id;
          await updateRecorded(tx, ctx, 'workspaces', existing, changes, {
            action: 'workspace.updated',
            workspaceId,
            targetType: 'workspace',
            details: { changed: changedColumns(changes), handle: changes.handle ?? existing.handle },
          });
          return ok(null);
        },
        {
          onUniqueViolation: fail('WORKSPACE_HANDLE_TAKEN', 'A workspace with this handle or name already exists in this account'),
          onForeignKeyViolation: fail('UNKNOWN_WORKSPACE_ROLE'),
        },
      );
    },

    /** Deletes the workspace, every access row to it and its gateway setting, in one transaction. */
    async remove(ctx: OpContext, accountId: string, workspaceId: string): Promise<Result<null>> {
      return inTransaction(deps, async (tx) => {
        const existing = await findWorkspace(tx, accountId, workspaceId);
        if (!existing) return fail('NOT_FOUND', 'Workspace not found');
        await tx.deleteFrom('workspace_access').where('workspace_id', '=', workspaceId).execute();
        await tx.deleteFrom('team_access').where('workspace_id', '=', workspaceId).execute();
        await tx.deleteFrom('workspace_gateways').where('workspace_id', '=', workspaceId).execute();
        await deleteRecorded(tx, ctx, 'workspaces', existing, {
          action: 'workspace.deleted',
          workspaceId,
          targetType: 'workspace',
          details: { name: existing.name, handle: existing.handle },
        });
        return ok(null);
      });
    },
  };
}

export type WorkspaceService = ReturnType<typeof workspaceService>;
