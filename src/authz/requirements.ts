// What a route needs before its handler runs. Every route names one (deny by default: a route
// without a requirement refuses to register), and evaluate() decides it from the caller's grants.
import type { AccountPermission } from './permissions.js';

export type Requirement =
  /** No credentials at all: health, the OpenAPI document, the scope catalogue. */
  | { kind: 'public' }
  /** Any valid key; the handler itself only ever shows the caller's own objects. */
  | { kind: 'authenticated' }
  /** A user acting on their own `/api/users/{user_id}`: anyone else sees 404. */
  | { kind: 'self' }
  /** A member of `{account_id}` whose account role holds this permission. */
  | { kind: 'account'; permission: AccountPermission }
  /** Access to `{workspace_id}` in `{account_id}`, with this scope (null: any workspace role). */
  | { kind: 'workspace'; scope: string | null }
  /** A SCIM bearer token of `{account_id}` (http/routes/scim.ts checks it): no API key or session ever passes. */
  | { kind: 'scim' };

export const PUBLIC: Requirement = { kind: 'public' };
export const AUTHENTICATED: Requirement = { kind: 'authenticated' };
export const SELF: Requirement = { kind: 'self' };
export const account = (permission: AccountPermission): Requirement => ({ kind: 'account', permission });
export const workspace = (scope: string | null): Requirement => ({ kind: 'workspace', scope });
export const SCIM: Requirement = { kind: 'scim' };

/** What the caller holds where the route points. null: not a member / no access. */
export interface Grants {
  authenticated: boolean;
  isSelf?: boolean;
  accountPermissions?: ReadonlySet<string> | null;
  workspaceScopes?: ReadonlySet<string> | null;
}

export type Decision = 'allow' | 'unauthenticated' | 'not_found' | 'forbidden';

/**
 * Pure: the same grants always give the same answer. Objects the caller cannot see are
 * `not_found`, never `forbidden`, so that a response is no oracle for what exists elsewhere.
 */
export function evaluate(requirement: Requirement, grants: Grants): Decision {
  if (requirement.kind === 'public') return 'allow';
  if (!grants.authenticated) return 'unauthenticated';
  switch (requirement.kind) {
    case 'authenticated':
      return 'allow';
    case 'self':
      return grants.isSelf ? 'allow' : 'not_found';
    case 'account':
      if (!grants.accountPermissions) return 'not_found';
      return grants.accountPermissions.has(requirement.permission) ? 'allow' : 'forbidden';
    case 'workspace':
      if (!grants.accountPermissions || !grants.workspaceScopes) return 'not_found';
      if (requirement.scope === null) return 'allow';
      return grants.workspaceScopes.has(requirement.scope) ? 'allow' : 'forbidden';
    case 'scim':
      // Grants come from keys and sessions, and those never open a SCIM endpoint.
      return 'unauthenticated';
  }
}

export function describeRequirement(requirement: Requirement): string {
  switch (requirement.kind) {
    case 'public':
      return 'No authentication.';
    case 'authenticated':
      return 'Any valid API key or signed-in session.';
    case 'self':
      return 'The user themself.';
    case 'account':
      return `Required account permissions: \`${requirement.permission}\``;
    case 'workspace':
      return requirement.scope === null
        ? 'Required: any workspace role in the workspace.'
        : `Required workspace scopes: \`${requirement.scope}\``;
    case 'scim':
      return "The account's SCIM bearer token (`scim_…`, see docs/scim.md); API keys and sessions are refused.";
  }
}
