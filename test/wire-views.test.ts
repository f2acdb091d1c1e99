// Row → wire mappers name each field they show: a column added to a table (a secret digest, an
// internal flag) does not reach the API until someone adds it to the mapper and the schema.
// Fastify's serializer drops unknown top-level fields too, but not inside objects whose schema
// allows additional properties, nor on answers sent as cached JSON: the mapper is the guard.
import type { TObject } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { toAccount } from '../src/domain/accounts/service.js';
import { toEvent } from '../src/domain/audit/service.js';
import { invitationView } from '../src/domain/invitations/service.js';
import { toServiceAccount } from '../src/domain/service-accounts/service.js';
import { toUser } from '../src/domain/users/service.js';
import { toWorkspace } from '../src/domain/workspaces/service.js';
import { Account } from '../src/http/routes/accounts.js';
import { AuditEvent } from '../src/http/routes/audit.js';
import { ServiceAccount, ServiceAccountWithKey } from '../src/http/routes/service-accounts.js';
import { Invitation } from '../src/http/routes/invitations.js';
import { UserSchema } from '../src/http/routes/users.js';
import { WorkspaceSchema } from '../src/http/routes/workspaces.js';

const T = '2026-01-02T03:04:05.000Z';
const ID = '00000000-0000-4000-8000-000000000001';
/** A column a later migration might add; it must not appear on the wire. */
const NEW_COLUMN = { internal_secret_digest: 'must-not-leak' };

const fieldsOf = (schema: TObject) => Object.keys(schema.properties).sort();
const keysOf = (value: object) => Object.keys(value).sort();

describe('row → wire mappers name every field they show', () => {
  it('a user row with a new column (and its password hash) maps to exactly the user schema', () => {
    const row = {
      id: ID, actor_id: ID, handle: 'ada', email: 'ada@example.com', first_name: 'Ada', last_name: 'L', location: null, title: null,
      image_location: null, settings: '{}', last_login: null, password_hash: '$argon2id$secret', created: T, updated: T, ...NEW_COLUMN,
    };
    const user = toUser(row);
    expect(keysOf(user)).toEqual(fieldsOf(UserSchema));
    expect(JSON.stringify(user)).not.toMatch(/must-not-leak|argon2id/);
  });

  it('a workspace row with a new column maps to exactly the workspace schema', () => {
    const row = { id: ID, account_id: ID, name: 'W', handle: 'w', description: '', default_workspace_role_id: null, is_public: 0, created: T, updated: T, ...NEW_COLUMN };
    expect(keysOf(toWorkspace(row))).toEqual(fieldsOf(WorkspaceSchema));
  });

  it('an account row with a new column maps to exactly the account schema', () => {
    const row = {
      id: ID, name: 'A', handle: 'a', location: null, link: null, image_location: null, billing_email: null, auth_expiration_seconds: null,
      settings: '{}', created: T, updated: T, ...NEW_COLUMN,
    };
    expect(keysOf(toAccount(row))).toEqual(fieldsOf(Account));
  });

  it('an audit row with a new column maps to exactly the audit event schema', () => {
    const row = {
      id: ID, account_id: ID, workspace_id: null, actor_id: ID, actor_type: 'user', actor_name: 'Ada', action: 'workspace.created',
      target_type: 'workspace', target_id: ID, request_id: 'r', details: '{}', occurred: T, ...NEW_COLUMN,
    };
    expect(keysOf(toEvent(row))).toEqual(fieldsOf(AuditEvent));
  });

  it("an invitation row keeps its code's digest, its inviter and a new column off the wire", () => {
    const row = {
      id: ID, account_id: ID, email: 'bo@example.com', account_role_id: ID, account_role_name: 'Member', code_hash: 'digest',
      status: 'PENDING' as const, invited_by_actor_id: ID, expiration: T, created: T, updated: T, ...NEW_COLUMN,
    };
    const invitation = invitationView(row, 'PENDING');
    expect(keysOf(invitation)).toEqual(fieldsOf(Invitation));
    expect(JSON.stringify(invitation)).not.toMatch(/must-not-leak|digest/);
  });

  it('a service account row with a new column maps to exactly the service account schemas, masked or with its key', () => {
    const bot = { id: ID, actor_id: ID, account_id: ID, name: 'ci', created: T, updated: T, ...NEW_COLUMN };
    const masked = toServiceAccount(bot, { id: ID, created: T, name: 'ci', expiration: null, masked_key: 'pnb_abc****', last_used_at: null, last_used_from: null, last_used_client: null, last_used_workspace_id: null, leak_reported_at: null, leak_url: null, leak_source: null });
    expect(keysOf(masked)).toEqual(fieldsOf(ServiceAccount));
    expect(keysOf(toServiceAccount(bot, null))).toEqual(fieldsOf(ServiceAccount));
    const issued = toServiceAccount(bot, { id: ID, created: T, name: 'ci', expiration: null, key: 'pnb_secret' });
    expect(keysOf(issued)).toEqual(fieldsOf(ServiceAccountWithKey));
    expect(JSON.stringify(masked)).not.toContain('must-not-leak');
  });
});
