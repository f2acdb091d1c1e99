// The account object and the built-in account roles, as the Terraform provider reads and writes them.
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from './support/harness.js';
import { addMember, type Member } from './support/members.js';
import { ACCOUNT_PERMISSIONS, ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { UUID, RFC3339 } from './support/shapes.js';

const h = useHarness();
let owner: { accountId: string; userId: string; key: string };
let member: Member;
let admin: Member;
let other: { accountId: string; userId: string; key: string };

beforeAll(async () => {
  owner = await h.bootstrap();
  member = await addMember(h, owner.accountId, 'Member');
  admin = await addMember(h, owner.accountId, 'Admin');
  other = await h.bootstrap();
});

const accountUrl = (id: string) => `/api/accounts/${id}`;

describe('GET /api/accounts/{id}', () => {
  it('returns the fields Terraform reads, with a settings object and plan_type', async () => {
    const res = await h.request('GET', accountUrl(owner.accountId), { key: owner.key });
    expect(res.status).toBe(200);
    const a = res.body;
    expect(a.id).toBe(owner.accountId);
    expect(a.created).toMatch(RFC3339);
    expect(a.updated).toMatch(RFC3339);
    expect(typeof a.name).toBe('string');
    expect(typeof a.handle).toBe('string');
    for (const nullable of ['location', 'link', 'image_location', 'auth_expiration_seconds']) {
      expect(a).toHaveProperty(nullable);
      expect(a[nullable]).toBeNull();
    }
    expect(a.settings).toEqual(
      expect.objectContaining({
        allow_public_workspaces: false,
        ai_log_summaries: false,
        managed_execution: false,
        enforce_webhook_authentication: false,
      }),
    );
    expect(Array.isArray(a.settings.enabled_feature_flags)).toBe(true);
    expect(typeof a.plan_type).toBe('string');
    expect(a.plan_type.length).toBeGreaterThan(0);
    expect(typeof a.sso_state).toBe('string');
    expect(Array.isArray(a.features)).toBe(true);
    for (const field of ['run_retention_days', 'audit_log_retention_days', 'automations_limit']) expect(a).toHaveProperty(field);
  });

  it('accepts the trailing slash Terraform sends', async () => {
    const res = await h.request('GET', `${accountUrl(owner.accountId)}/`, { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(owner.accountId);
  });

  it('lets a Member read the account', async () => {
    const res = await h.request('GET', accountUrl(owner.accountId), { key: member.key });
    expect(res.status).toBe(200);
  });

  it("answers 404 to an Owner of another account, as for an account that does not exist", async () => {
    const res = await h.request('GET', accountUrl(owner.accountId), { key: other.key });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
    const missing = await h.request('GET', accountUrl('00000000-0000-4000-8000-000000000000'), { key: other.key });
    expect(missing.status).toBe(404);
  });

  it('answers 401 without a key', async () => {
    const res = await h.request('GET', accountUrl(owner.accountId));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });
});

describe('PATCH /api/accounts/{id}', () => {
  it('takes the Terraform body (every field, nulls included), answers 204, and the change reads back', async () => {
    const body = {
      name: 'Renamed Account',
      handle: `renamed-${Date.now()}`,
      location: null,
      link: 'https://example.com/team',
      auth_expiration_seconds: null,
    };
    const res = await h.request('PATCH', `${accountUrl(owner.accountId)}/`, { key: owner.key, body });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const read = await h.request('GET', `${accountUrl(owner.accountId)}/`, { key: owner.key });
    expect(read.body).toMatchObject(body);

    const cleared = await h.request('PATCH', accountUrl(owner.accountId), {
      key: owner.key,
      body: { ...body, link: null, auth_expiration_seconds: null },
    });
    expect(cleared.status).toBe(204);
    const again = await h.request('GET', accountUrl(owner.accountId), { key: owner.key });
    expect(again.body.link).toBeNull();
    expect(again.body.auth_expiration_seconds).toBeNull();
    expect(again.body.name).toBe('Renamed Account');
  });

  it('keeps name and handle when they are sent as null', async () => {
    const before = (await h.request('GET', accountUrl(owner.accountId), { key: owner.key })).body;
    const res = await h.request('PATCH', accountUrl(owner.accountId), {
      key: owner.key,
      body: { name: null, handle: null, location: 'Berlin', link: null, auth_expiration_seconds: null },
    });
    expect(res.status).toBe(204);
    const after = (await h.request('GET', accountUrl(owner.accountId), { key: owner.key })).body;
    expect(after.name).toBe(before.name);
    expect(after.handle).toBe(before.handle);
    expect(after.location).toBe('Berlin');
  });

  it("refuses a handle another account holds with 409", async () => {
    const taken = (await h.request('GET', accountUrl(other.accountId), { key: other.key })).body.handle;
    const res = await h.request('PATCH', accountUrl(owner.accountId), { key: owner.key, body: { handle: taken } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ACCOUNT_HANDLE_TAKEN');
    expect(typeof res.body.request_id).toBe('string');
  });

  it('lets an Admin update the account', async () => {
    const res = await h.request('PATCH', accountUrl(owner.accountId), { key: admin.key, body: { location: 'Lisbon' } });
    expect(res.status).toBe(204);
  });

  it('refuses a Member with 403 and changes nothing', async () => {
    const before = (await h.request('GET', accountUrl(owner.accountId), { key: owner.key })).body;
    const res = await h.request('PATCH', accountUrl(owner.accountId), { key: member.key, body: { name: 'Hijacked' } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    const after = (await h.request('GET', accountUrl(owner.accountId), { key: owner.key })).body;
    expect(after.name).toBe(before.name);
  });

  it("answers 404 to an Owner of another account", async () => {
    const res = await h.request('PATCH', accountUrl(owner.accountId), { key: other.key, body: { name: 'Hijacked' } });
    expect(res.status).toBe(404);
  });

  it('rejects an unknown field with 422', async () => {
    const res = await h.request('PATCH', accountUrl(owner.accountId), { key: owner.key, body: { plan_type: 'ENTERPRISE' } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(Array.isArray(res.body.detail)).toBe(true);
  });
});

describe('account roles', () => {
  const rolesUrl = () => `/api/accounts/${owner.accountId}/account_roles`;

  it('lists Owner, Admin and Member as built-in roles with account_id null', async () => {
    const res = await h.request('POST', `${rolesUrl()}/filter`, { key: owner.key, body: {} });
    expect(res.status).toBe(200);
    expect(res.body.map((r: { name: string }) => r.name).sort()).toEqual(['Admin', 'Member', 'Owner']);
    for (const role of res.body) {
      expect(role.id).toMatch(UUID);
      expect(role.account_id).toBeNull();
      expect(role.is_system_role).toBe(true);
      expect(role.created).toMatch(RFC3339);
      expect(role.updated).toMatch(RFC3339);
      expect(role.id).toBe(ACCOUNT_ROLE_IDS[role.name as keyof typeof ACCOUNT_ROLE_IDS]);
    }
  });

  it('gives Owner all 47 permissions and Admin 45, without bypass:sso and delete:account', async () => {
    const res = await h.request('POST', `${rolesUrl()}/filter`, { key: owner.key, body: {} });
    const byName = Object.fromEntries(res.body.map((r: { name: string; permissions: string[] }) => [r.name, r.permissions]));
    expect(byName.Owner).toHaveLength(47);
    expect([...byName.Owner].sort()).toEqual([...ACCOUNT_PERMISSIONS].sort());
    expect(byName.Admin).toHaveLength(45);
    expect(byName.Admin).not.toContain('bypass:sso');
    expect(byName.Admin).not.toContain('delete:account');
    expect(byName.Admin).toContain('create:workspace');
    expect(byName.Admin).toContain('delete:bot');
  });

  it('gives Member read:bot and only read:* permissions', async () => {
    const res = await h.request('POST', `${rolesUrl()}/filter`, { key: owner.key, body: {} });
    const memberRole = res.body.find((r: { name: string }) => r.name === 'Member');
    expect(memberRole.permissions).toContain('read:bot');
    expect(memberRole.permissions.length).toBeGreaterThan(0);
    for (const p of memberRole.permissions) expect(p).toMatch(/^read:/);
  });

  it('filters by name with any_, and treats any_ null and an empty body as no filter', async () => {
    const one = await h.request('POST', `${rolesUrl()}/filter`, { key: owner.key, body: { account_roles: { name: { any_: ['Admin'] } } } });
    expect(one.status).toBe(200);
    expect(one.body.map((r: { name: string }) => r.name)).toEqual(['Admin']);
    const none = await h.request('POST', `${rolesUrl()}/filter`, { key: owner.key, body: { account_roles: { name: { any_: [] } } } });
    expect(none.body).toEqual([]);
    const all = await h.request('POST', `${rolesUrl()}/filter`, { key: owner.key, body: { account_roles: { name: { any_: null } } } });
    expect(all.body).toHaveLength(3);
    const empty = await h.request('POST', `${rolesUrl()}/filter`, { key: owner.key, headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(200);
    expect(empty.body).toHaveLength(3);
  });

  it('reads one role by id, also for a Member', async () => {
    const res = await h.request('GET', `${rolesUrl()}/${ACCOUNT_ROLE_IDS.Member}`, { key: member.key });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ACCOUNT_ROLE_IDS.Member, name: 'Member', account_id: null, is_system_role: true });
  });

  it('answers 404 for an unknown role id and for an outsider', async () => {
    const unknown = await h.request('GET', `${rolesUrl()}/00000000-0000-4000-8000-000000000000`, { key: owner.key });
    expect(unknown.status).toBe(404);
    const outsider = await h.request('GET', `${rolesUrl()}/${ACCOUNT_ROLE_IDS.Owner}`, { key: other.key });
    expect(outsider.status).toBe(404);
  });
});
