// Invariants of the permission, scope and built-in role data that the rest of authz relies on.

import { describe, it, expect } from 'vitest';
import {
  ACCOUNT_PERMISSIONS,
  ACCOUNT_ROLE_IDS,
  BUILTIN_ACCOUNT_ROLES,
  isAccountPermission,
  type BuiltinAccountRole,
} from './permissions.js';
import { WORKSPACE_SCOPES, WORKSPACE_SCOPE_NAMES, expandScopes, unknownScopes } from './scopes.js';
import { BUILTIN_WORKSPACE_ROLES, WORKSPACE_ROLE_IDS, type BuiltinWorkspaceRole } from './workspace-roles.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function sorted(xs: readonly string[]): string[] {
  return [...xs].sort();
}

function accountRole(name: BuiltinAccountRole['name']): BuiltinAccountRole {
  const r = BUILTIN_ACCOUNT_ROLES.find((x) => x.name === name);
  if (!r) throw new Error(`missing account role ${name}`);
  return r;
}

function workspaceRole(name: keyof typeof WORKSPACE_ROLE_IDS): BuiltinWorkspaceRole {
  const r = BUILTIN_WORKSPACE_ROLES.find((x) => x.name === name);
  if (!r) throw new Error(`missing workspace role ${name}`);
  return r;
}

function isSuperset(big: readonly string[], small: readonly string[]): boolean {
  const b = new Set(big);
  return small.every((s) => b.has(s));
}

describe('account permissions', () => {
  it('has the 47 Prefect Cloud permissions, sorted, without duplicates', () => {
    expect(ACCOUNT_PERMISSIONS).toHaveLength(47);
    expect(new Set(ACCOUNT_PERMISSIONS).size).toBe(47);
    expect([...ACCOUNT_PERMISSIONS]).toEqual(sorted(ACCOUNT_PERMISSIONS));
  });

  it('recognises only known names', () => {
    expect(isAccountPermission('read:bot')).toBe(true);
    expect(isAccountPermission('read:bots')).toBe(false);
    expect(isAccountPermission('')).toBe(false);
  });
});

describe('built-in account roles', () => {
  it('are Owner, Admin and Member with fixed distinct UUIDv4 ids', () => {
    expect(BUILTIN_ACCOUNT_ROLES.map((r) => r.name).sort()).toEqual(['Admin', 'Member', 'Owner']);
    for (const r of BUILTIN_ACCOUNT_ROLES) {
      expect(r.id).toBe(ACCOUNT_ROLE_IDS[r.name]);
      expect(r.id).toMatch(UUID_V4);
    }
    expect(new Set(BUILTIN_ACCOUNT_ROLES.map((r) => r.id)).size).toBe(3);
  });

  it('hold only known permissions, sorted and without duplicates', () => {
    for (const r of BUILTIN_ACCOUNT_ROLES) {
      expect(r.permissions.every((p) => isAccountPermission(p))).toBe(true);
      expect(new Set(r.permissions).size).toBe(r.permissions.length);
      expect([...r.permissions]).toEqual(sorted(r.permissions));
    }
  });

  it('gives Owner every permission', () => {
    expect([...accountRole('Owner').permissions]).toEqual([...ACCOUNT_PERMISSIONS]);
  });

  it('makes Admin exactly Owner minus bypass:sso and delete:account', () => {
    const expected = ACCOUNT_PERMISSIONS.filter((p) => p !== 'bypass:sso' && p !== 'delete:account');
    expect([...accountRole('Admin').permissions]).toEqual(expected);
    expect(accountRole('Admin').permissions).toHaveLength(45);
  });

  it('gives Member read:bot and only read:* permissions, none of the sensitive ones', () => {
    const member = accountRole('Member').permissions;
    expect(member).toContain('read:bot');
    expect(member.every((p) => p.startsWith('read:'))).toBe(true);
    for (const p of ['read:audit_event', 'read:billing', 'read:sso', 'read:ip_allowlist', 'read:integrations', 'read:mex-storage']) {
      expect(member).not.toContain(p);
    }
  });

  it('meets the Terraform provider acceptance floors (Owner, Admin >= 30; Member >= 8)', () => {
    expect(accountRole('Owner').permissions.length).toBeGreaterThanOrEqual(30);
    expect(accountRole('Admin').permissions.length).toBeGreaterThanOrEqual(30);
    expect(accountRole('Member').permissions.length).toBeGreaterThanOrEqual(8);
  });
});

describe('workspace scopes', () => {
  it('has the 61 Prefect Cloud scopes without duplicates', () => {
    expect(WORKSPACE_SCOPES).toHaveLength(61);
    expect(WORKSPACE_SCOPE_NAMES.size).toBe(61);
  });

  it('gives every scope a title and a feature group', () => {
    for (const s of WORKSPACE_SCOPES) {
      expect(s.title.length).toBeGreaterThan(0);
      expect(s.feature_group.length).toBeGreaterThan(0);
    }
  });

  it('refers only to scopes that exist', () => {
    for (const s of WORKSPACE_SCOPES) {
      expect(unknownScopes(s.includes_scopes)).toEqual([]);
      if (s.see_scope !== null) expect(WORKSPACE_SCOPE_NAMES.has(s.see_scope)).toBe(true);
    }
  });

  it('follows the see_scope convention: each family base see_* names itself, the rest name one they include', () => {
    const seeOf = new Map(WORKSPACE_SCOPES.map((s) => [s.name, s.see_scope]));
    for (const s of WORKSPACE_SCOPES) {
      expect(s.includes_scopes).not.toContain(s.name);
      if (s.name.startsWith('see_')) expect(s.see_scope).not.toBeNull();
      if (s.see_scope === null) continue;
      expect(s.see_scope.startsWith('see_')).toBe(true);
      expect(seeOf.get(s.see_scope)).toBe(s.see_scope);
      expect(expandScopes([s.name])).toContain(s.see_scope);
    }
    expect(seeOf.get('see_secret_blocks')).toBe('see_blocks');
  });

  it('has no cycles in includes_scopes', () => {
    const includes = new Map(WORKSPACE_SCOPES.map((s) => [s.name, s.includes_scopes]));
    const done = new Set<string>();
    const onPath = new Set<string>();
    const visit = (name: string): void => {
      if (done.has(name)) return;
      if (onPath.has(name)) throw new Error(`cycle through ${name}`);
      onPath.add(name);
      for (const inc of includes.get(name) ?? []) visit(inc);
      onPath.delete(name);
      done.add(name);
    };
    for (const s of WORKSPACE_SCOPES) expect(() => visit(s.name)).not.toThrow();
  });

  it('expands manage_* to the scopes below it', () => {
    expect(expandScopes(['manage_blocks'])).toEqual(['manage_blocks', 'see_blocks', 'see_secret_blocks']);
    expect(expandScopes(['manage_deployments'])).toEqual([
      'manage_deployments',
      'run_deployments',
      'see_deployments',
      'write_deployments',
    ]);
    expect(expandScopes(['run_flows'])).toContain('see_flows');
    expect(expandScopes(['manage_workspace_settings'])).toEqual([
      'manage_workspace_settings',
      'see_workspace_settings',
      'write_workspace_settings',
    ]);
  });

  it('leaves leaf see_* scopes as they are (Terraform reads back exactly what it set)', () => {
    expect(expandScopes(['see_blocks', 'see_artifacts'])).toEqual(['see_artifacts', 'see_blocks']);
  });

  it('dedupes, sorts and ignores unknown names in expandScopes; unknownScopes reports them', () => {
    expect(expandScopes(['see_flows', 'bogus', 'see_flows', 'run_flows'])).toEqual(['run_flows', 'run_tasks', 'see_flows']);
    expect(expandScopes([])).toEqual([]);
    expect(unknownScopes(['see_flows', 'zz', 'bogus', 'zz'])).toEqual(['bogus', 'zz']);
  });
});

describe('built-in workspace roles', () => {
  const owner = workspaceRole('Owner');
  const developer = workspaceRole('Developer');
  const runner = workspaceRole('Runner');
  const viewer = workspaceRole('Viewer');
  const worker = workspaceRole('Worker');

  it('are the five built-ins with fixed distinct UUIDv4 ids', () => {
    expect(BUILTIN_WORKSPACE_ROLES.map((r) => r.name).sort()).toEqual(['Developer', 'Owner', 'Runner', 'Viewer', 'Worker']);
    for (const r of BUILTIN_WORKSPACE_ROLES) {
      expect(r.id).toBe(WORKSPACE_ROLE_IDS[r.name as keyof typeof WORKSPACE_ROLE_IDS]);
      expect(r.id).toMatch(UUID_V4);
      expect(r.description.length).toBeGreaterThan(0);
    }
    expect(new Set(BUILTIN_WORKSPACE_ROLES.map((r) => r.id)).size).toBe(5);
  });

  it('hold known scopes, sorted, deduplicated and already closed under expandScopes', () => {
    for (const r of BUILTIN_WORKSPACE_ROLES) {
      expect(unknownScopes(r.scopes)).toEqual([]);
      expect([...r.scopes]).toEqual(sorted(r.scopes));
      expect(new Set(r.scopes).size).toBe(r.scopes.length);
      expect(expandScopes(r.scopes)).toEqual([...r.scopes]);
    }
  });

  it('gives Owner all 61 scopes', () => {
    expect([...owner.scopes]).toEqual(sorted([...WORKSPACE_SCOPE_NAMES]));
  });

  it('nests Owner ⊇ Developer ⊇ Runner ⊇ Viewer, each strictly', () => {
    expect(isSuperset(owner.scopes, developer.scopes)).toBe(true);
    expect(isSuperset(developer.scopes, runner.scopes)).toBe(true);
    expect(isSuperset(runner.scopes, viewer.scopes)).toBe(true);
    expect(owner.scopes.length).toBeGreaterThan(developer.scopes.length);
    expect(developer.scopes.length).toBeGreaterThan(runner.scopes.length);
    expect(runner.scopes.length).toBeGreaterThan(viewer.scopes.length);
  });

  it('makes Runner exactly Viewer + run_deployments', () => {
    expect([...runner.scopes]).toEqual(sorted([...viewer.scopes, 'run_deployments']));
  });

  it('keeps secret block values and workspace governance away from Viewer and Runner', () => {
    for (const r of [viewer, runner]) {
      expect(r.scopes).not.toContain('see_secret_blocks');
      expect(r.scopes).not.toContain('see_workspace_settings');
    }
    expect(viewer.scopes.every((s) => s.startsWith('see_'))).toBe(true);
  });

  it('gives Developer what the docs list and withholds workspace governance', () => {
    for (const s of ['run_flows', 'manage_flows', 'manage_deployments', 'manage_work_pools', 'manage_blocks', 'see_secret_blocks', 'manage_automations', 'see_workspace_settings']) {
      expect(developer.scopes).toContain(s);
    }
    for (const s of ['write_workspace_settings', 'manage_workspace_settings', 'manage_workspace_users', 'manage_workspace_service_accounts', 'manage_workspace_teams', 'manage_acls']) {
      expect(developer.scopes).not.toContain(s);
    }
  });

  it('gives Worker what a polling worker sends and nothing the replay refuses', () => {
    for (const s of ['see_work_pools', 'see_work_queues', 'write_workers', 'see_deployments', 'see_flows', 'run_flows', 'run_tasks', 'manage_events', 'see_events', 'see_blocks']) {
      expect(worker.scopes).toContain(s);
    }
    for (const s of [
      'see_secret_blocks',
      'write_deployments',
      'manage_deployments',
      'run_deployments',
      'manage_flows',
      'manage_blocks',
      'write_variables',
      'manage_variables',
      'write_work_pools',
      'manage_work_pools',
      'manage_automations',
      'write_workspace_settings',
      'manage_workspace_settings',
    ]) {
      expect(worker.scopes).not.toContain(s);
    }
  });

  it('keeps Worker within Developer, so a Developer key can stand in for a worker', () => {
    expect(isSuperset(developer.scopes, worker.scopes)).toBe(true);
  });
});
