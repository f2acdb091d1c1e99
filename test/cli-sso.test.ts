// `gatehouse sso` and `gatehouse domain`, run as a user runs them (`node bin/gatehouse.js ...`)
// against a Gatehouse listening on 127.0.0.1, checked through the API: the client secret comes from
// a file and is never printed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouseAt } from './support/cli.js';
import type { CliRun } from './support/processes.js';
import { startHarness, type Harness } from './support/harness.js';
import { createWorkspace } from './support/members.js';

let h: Harness;
let url: string;
let owner: { accountId: string; key: string };
let home: string;

const gatehouse = (args: string[]) => gatehouseAt(join(home, 'gh'), args);
const lastJson = (run: CliRun) => JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!);

beforeAll(async () => {
  h = await startHarness();
  await h.app.server.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(h.app.server.server.address() as AddressInfo).port}`;
  owner = await h.bootstrap('acme');
  await createWorkspace(h, owner.accountId, owner.key, 'production');
  home = mkdtempSync(join(tmpdir(), 'gatehouse-sso-'));
  const login = await gatehouse(['login', '--key', owner.key, '--url', url, '--workspace', 'acme/production']);
  expect(login.code, login.stderr).toBe(0);
});

afterAll(async () => {
  await h?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('gatehouse domain', () => {
  it('adds, verifies, lists and removes domains', async () => {
    expect((await gatehouse(['domain', 'add', 'example.com'])).code).toBe(0);
    expect((await gatehouse(['domain', 'add', 'other.example'])).code).toBe(0);
    const verify = await gatehouse(['domain', 'verify', 'example.com']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).toContain('example.com is verified');
    const ls = await gatehouse(['domain', 'ls', '--json']);
    expect(lastJson(ls).map((d: { name: string; verified: boolean; verified_by: string | null }) => [d.name, d.verified, d.verified_by])).toEqual([
      ['example.com', true, 'owner'],
      ['other.example', false, null],
    ]);
    expect((await gatehouse(['domain', 'rm', 'other.example'])).code).toBe(0);
    const api = await h.request('GET', `/api/accounts/${owner.accountId}/domains`, { key: owner.key });
    expect(api.body.map((d: { name: string }) => d.name)).toEqual(['example.com']);
    const bad = await gatehouse(['domain', 'add', 'not a domain']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('is not a domain name');
  });
});

describe('gatehouse sso', () => {
  it('adds a provider with its secret from a file, never printing it; requires SSO; removes it', async () => {
    const secretFile = join(home, 'secret.txt');
    writeFileSync(secretFile, 'the-client-secret-0123456789\n');
    const add = await gatehouse(['sso', 'add', 'Acme SSO', '--issuer', 'https://idp.example.com', '--client-id', 'gatehouse', '--client-secret-file', secretFile]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('Added identity provider Acme SSO');
    const ls = await gatehouse(['sso', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout + ls.stderr).toContain('https://idp.example.com');
    for (const run of [add, ls]) expect(run.stdout + run.stderr).not.toContain('the-client-secret');
    const [provider] = (await h.request('GET', `/api/accounts/${owner.accountId}/sso/providers`, { key: owner.key })).body;
    expect(provider).toMatchObject({ display_name: 'Acme SSO', client_id: 'gatehouse', has_client_secret: true, enabled: true });

    const on = await gatehouse(['sso', 'require', 'yes']);
    expect(on.code, on.stderr).toBe(0);
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/sso/settings`, { key: owner.key })).body.passwords_disabled).toBe(true);
    expect((await gatehouse(['sso', 'require', 'no'])).code).toBe(0);

    const rm = await gatehouse(['sso', 'rm', 'Acme SSO', '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await h.request('GET', `/api/accounts/${owner.accountId}/sso/providers`, { key: owner.key })).body).toEqual([]);
  });
});
