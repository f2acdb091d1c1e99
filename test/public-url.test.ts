// What leaves a request (invitation links, gateway redirects, the cookie's Secure flag) is built from
// GATEHOUSE_PUBLIC_URL, else the address Gatehouse listens on: never from the Host or
// X-Forwarded-Host a caller sends, even through a trusted proxy.
import { describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { useHarness, type Harness } from './support/harness.js';
import { createWorkspace } from './support/members.js';
import { personWithPassword } from './support/people.js';

const SPOOFED = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };

async function inviteLink(h: Harness, headers: Record<string, string> = SPOOFED): Promise<string> {
  const owner = await h.bootstrap();
  const res = await h.request('POST', `/api/accounts/${owner.accountId}/invitations/`, {
    key: owner.key,
    headers,
    body: { email: `invitee-${Math.random().toString(36).slice(2)}@example.com`, account_role_id: ACCOUNT_ROLE_IDS.Member },
  });
  expect(res.status).toBe(201);
  return res.body.accept_url;
}

async function cookieAttributes(h: Harness, headers: Record<string, string>): Promise<string> {
  const p = await personWithPassword(h);
  const res = await h.request('POST', '/api/auth/login', { headers, body: { email: p.email, password: p.password } });
  expect(res.status).toBe(200);
  return String(res.headers['set-cookie']).toLowerCase();
}

describe('with GATEHOUSE_PUBLIC_URL set', () => {
  const h = useHarness({ publicUrl: 'https://gatehouse.example.com/', trustProxy: 1 });

  it('builds invitation links on it, whatever Host or X-Forwarded-Host the caller sent', async () => {
    expect(await inviteLink(h)).toMatch(/^https:\/\/gatehouse\.example\.com\/invitations\/[0-9a-f-]{36}\/accept#invite_code=/);
  });

  it('redirects gateway requests onto it', async () => {
    const owner = await h.bootstrap();
    const ws = await createWorkspace(h, owner.accountId, owner.key);
    const base = `/api/accounts/${owner.accountId}/workspaces/${ws.id}`;
    const res = await h.request('POST', `${base}/flows`, { key: owner.key, headers: SPOOFED, body: { name: 'f' } });
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(`https://gatehouse.example.com${base}/flows/`);
  });

  it('marks the session cookie Secure from its https scheme, even on a plain-http hop', async () => {
    expect(await cookieAttributes(h, {})).toContain('; secure');
  });
});

describe('with an http:// GATEHOUSE_PUBLIC_URL', () => {
  const h = useHarness({ publicUrl: 'http://gatehouse.internal:4280', trustProxy: 1 });

  it('does not mark the cookie Secure, even when a trusted proxy says https', async () => {
    expect(await cookieAttributes(h, { 'x-forwarded-proto': 'https' })).not.toContain('secure');
  });
});

describe('without GATEHOUSE_PUBLIC_URL', () => {
  const h = useHarness({ trustProxy: 1 });

  it('builds invitation links on the address Gatehouse listens on, not on the Host sent', async () => {
    await h.app.server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.server.address() as { port: number };
    expect(await inviteLink(h)).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/invitations/[0-9a-f-]{36}/accept#invite_code=`));
  });
});
