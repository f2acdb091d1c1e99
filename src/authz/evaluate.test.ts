import { describe, expect, it } from 'vitest';
import { account, AUTHENTICATED, evaluate, PUBLIC, SELF, workspace } from './requirements.js';

const perms = (...p: string[]) => new Set(p);

describe('evaluate', () => {
  it('lets anyone reach a public route', () => {
    expect(evaluate(PUBLIC, { authenticated: false })).toBe('allow');
  });

  it('refuses every other route without valid credentials', () => {
    for (const r of [AUTHENTICATED, SELF, account('read:bot'), workspace(null)]) {
      expect(evaluate(r, { authenticated: false })).toBe('unauthenticated');
    }
  });

  it('hides an account the caller is not a member of', () => {
    expect(evaluate(account('read:bot'), { authenticated: true, accountPermissions: null })).toBe('not_found');
  });

  it('forbids a member without the permission and allows one with it', () => {
    expect(evaluate(account('create:bot'), { authenticated: true, accountPermissions: perms('read:bot') })).toBe('forbidden');
    expect(evaluate(account('create:bot'), { authenticated: true, accountPermissions: perms('create:bot') })).toBe('allow');
  });

  it('hides a workspace the caller has no access to, even as a member of its account', () => {
    const grants = { authenticated: true, accountPermissions: perms('read:workspace'), workspaceScopes: null };
    expect(evaluate(workspace(null), grants)).toBe('not_found');
  });

  it('checks the scope inside a workspace the caller can reach', () => {
    const grants = { authenticated: true, accountPermissions: perms(), workspaceScopes: perms('see_flows') };
    expect(evaluate(workspace('see_flows'), grants)).toBe('allow');
    expect(evaluate(workspace('manage_flows'), grants)).toBe('forbidden');
    expect(evaluate(workspace(null), grants)).toBe('allow');
  });

  it('hides another user behind 404', () => {
    expect(evaluate(SELF, { authenticated: true, isSelf: false })).toBe('not_found');
    expect(evaluate(SELF, { authenticated: true, isSelf: true })).toBe('allow');
  });
});
