// The secret key that seals workspaces' upstream credentials, across real processes on one store:
// a process with another key refuses to start (it would answer 502 to every proxied request), a
// rotation goes through GATEHOUSE_PREVIOUS_SECRET_KEYS and `gatehouse secret-key reseal`, and a
// lost key can be given up without losing the rest of the store.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePrefect, type FakePrefect } from './support/fake-prefect.js';
import { bootstrapOwner, call, freshSharedStore, runCli, startGatehouse, type GatehouseProcess, type SharedStore } from './support/processes.js';
import { secretKeyFrom } from '../src/secret-key.js';

const AUTH_STRING = 'admin:upstream-password';
const newKey = () => randomBytes(32).toString('base64');
const keyId = (text: string) => secretKeyFrom(Buffer.from(text, 'base64')).id;

let store: SharedStore;
let upstream: FakePrefect;
let first: GatehouseProcess;
let owner: { accountId: string; key: string };
let workspaceId: string;
const K1 = newKey();
const started: GatehouseProcess[] = [];

/** `gatehouse start` on the store with these key settings; resolves with the process or its refusal. */
async function startWith(env: NodeJS.ProcessEnv): Promise<GatehouseProcess | { refused: string }> {
  try {
    const child = await startGatehouse(['--port', '0', ...store.flags], env);
    started.push(child);
    return child;
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

/** A request through the gateway: 200 when the upstream accepted the unsealed credential. */
async function throughGateway(base: string) {
  upstream.reset();
  const answer = await call(base, 'POST', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/flows/filter`, { key: owner.key, body: {} });
  return { status: answer.status, code: answer.body?.code, sentAuth: upstream.requests.at(-1)?.headers.authorization };
}

beforeAll(async () => {
  store = freshSharedStore();
  upstream = await startFakePrefect({ authString: AUTH_STRING });
  const made = await bootstrapOwner(store, 'sealing');
  owner = { accountId: made.accountId, key: made.key };
  const process1 = await startWith({ GATEHOUSE_SECRET_KEY: K1 });
  if ('refused' in process1) throw new Error(process1.refused);
  first = process1;
  const workspace = await call(first.url, 'POST', `/api/accounts/${owner.accountId}/workspaces/`, { key: owner.key, body: { name: 'Sealed', handle: 'sealed' } });
  workspaceId = workspace.body.id;
  const set = await call(first.url, 'PUT', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/gateway`, {
    key: owner.key,
    body: { upstream_url: upstream.url, upstream_auth_string: AUTH_STRING },
  });
  expect(set.status, JSON.stringify(set.body)).toBe(200);
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((child) => child.stop()));
  await upstream?.close();
  await store?.dispose();
});

describe('one secret key per database', () => {
  it('the first process proxies with the credential it sealed', async () => {
    expect(await throughGateway(first.url)).toMatchObject({ status: 200, sentAuth: `Basic ${Buffer.from(AUTH_STRING).toString('base64')}` });
  });

  it('a process with another key refuses to start, naming both key ids and what to set', async () => {
    const K2 = newKey();
    const outcome = await startWith({ GATEHOUSE_SECRET_KEY: K2 });
    expect(outcome).toHaveProperty('refused');
    const message = (outcome as { refused: string }).refused;
    expect(message).toContain(`sealed with secret key ${keyId(K1)}`);
    expect(message).toContain(`is ${keyId(K2)}`);
    expect(message).toContain('GATEHOUSE_SECRET_KEY');
    expect(message).not.toContain(K1);
    expect(message).not.toContain(K2);
  });

  it('a process that would make its own key file (another directory) refuses too, instead of answering 502', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-other-dir-'));
    try {
      // On SQLite the data directory is the store, so another directory is another store: only
      // PostgreSQL can put two processes with their own key files on one database.
      if (store.kind !== 'postgres') return;
      const outcome = await startWith({ GATEHOUSE_DATA_DIR: dir });
      expect((outcome as { refused: string }).refused).toContain(join(dir, 'secret.key'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('GATEHOUSE_SECRET_KEY_FILE names the same key in a file and is accepted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-key-file-'));
    try {
      const file = join(dir, 'key');
      writeFileSync(file, `${K1}\n`, { mode: 0o600 });
      const outcome = await startWith({ GATEHOUSE_SECRET_KEY_FILE: file });
      expect(outcome).not.toHaveProperty('refused');
      expect(await throughGateway((outcome as GatehouseProcess).url)).toMatchObject({ status: 200 });
      await (outcome as GatehouseProcess).stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rotating the secret key', () => {
  const K2 = newKey();

  it('a process with the new key and the old one as previous starts and opens the old credential', async () => {
    const outcome = await startWith({ GATEHOUSE_SECRET_KEY: K2, GATEHOUSE_PREVIOUS_SECRET_KEYS: K1 });
    expect(outcome).not.toHaveProperty('refused');
    expect(await throughGateway((outcome as GatehouseProcess).url)).toMatchObject({ status: 200 });
  });

  it('reseal seals every credential under the new key; then the old key alone is refused and the new one alone works', async () => {
    const run = await runCli(['secret-key', 'reseal', ...store.flags], { ...store.env, GATEHOUSE_SECRET_KEY: K2, GATEHOUSE_PREVIOUS_SECRET_KEYS: K1 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Sealed 1 upstream credential under the current key');
    const old = await startWith({ GATEHOUSE_SECRET_KEY: K1 });
    expect((old as { refused: string }).refused).toContain(`sealed with secret key ${keyId(K2)}`);
    const fresh = await startWith({ GATEHOUSE_SECRET_KEY: K2 });
    expect(fresh).not.toHaveProperty('refused');
    expect(await throughGateway((fresh as GatehouseProcess).url)).toMatchObject({ status: 200, sentAuth: `Basic ${Buffer.from(AUTH_STRING).toString('base64')}` });
  });

  it('a lost key: reseal refuses until told to drop what it cannot open, and the store then serves with a new key', async () => {
    const K3 = newKey();
    const refused = await runCli(['secret-key', 'reseal', ...store.flags], { ...store.env, GATEHOUSE_SECRET_KEY: K3 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--drop-unreadable');
    expect(refused.stderr).toContain(workspaceId);
    const dropped = await runCli(['secret-key', 'reseal', '--drop-unreadable', ...store.flags], { ...store.env, GATEHOUSE_SECRET_KEY: K3 });
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(dropped.stdout).toContain('Removed 1');
    const outcome = await startWith({ GATEHOUSE_SECRET_KEY: K3 });
    expect(outcome).not.toHaveProperty('refused');
    // The workspace keeps its upstream URL; without its credential the upstream answers 401.
    const read = await call((outcome as GatehouseProcess).url, 'GET', `/api/accounts/${owner.accountId}/workspaces/${workspaceId}/gateway`, { key: owner.key });
    expect(read.body).toMatchObject({ upstream_url: upstream.url, has_upstream_auth_string: false });
  });
});
