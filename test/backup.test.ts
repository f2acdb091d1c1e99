// `gatehouse backup`, `restore` and `migrate status` (issue 20 item 4). On SQLite: a backup taken
// while a real server keeps creating and deleting service accounts, restored into an empty data
// directory and served by a new process: every key that worked before the backup began works, no
// key deleted before it began comes back, and a key made or deleted during it is in one state or the
// other (a snapshot). On PostgreSQL the commands send the operator to pg_dump/pg_restore, and
// `migrate status` reads the schema.
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KIND } from './support/harness.js';
import { bootstrapOwner, call, freshSharedStore, runCli, startGatehouse, type GatehouseProcess, type SharedStore } from './support/processes.js';

let store: SharedStore;
let owner: { accountId: string; key: string };
const dirs: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-backup-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  store = freshSharedStore();
  owner = await bootstrapOwner(store, 'acme');
}, 60_000);

afterAll(async () => {
  await store?.dispose();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function createKey(url: string): Promise<{ id: string; key: string }> {
  const made = await call(url, 'POST', `/api/accounts/${owner.accountId}/bots/`, { key: owner.key, body: { name: `bot-${Math.random().toString(36).slice(2, 10)}` } });
  if (made.status !== 201) throw new Error(`create: ${made.status} ${JSON.stringify(made.body)}`);
  return { id: made.body.id, key: made.body.api_key.key };
}

const works = async (url: string, key: string) => (await call(url, 'GET', '/api/me/', { key })).status;

describe.runIf(STORE_KIND === 'sqlite')('a SQLite backup taken under write load', () => {
  it('restores every key that worked before it began and none deleted before it began', async () => {
    const server: GatehouseProcess = await startGatehouse(['--port', '0', ...store.flags], store.env);
    const before: { id: string; key: string }[] = [];
    const deletedBefore: string[] = [];
    try {
      for (let i = 0; i < 20; i++) before.push(await createKey(server.url));
      for (const gone of before.splice(0, 5)) {
        expect((await call(server.url, 'DELETE', `/api/accounts/${owner.accountId}/bots/${gone.id}`, { key: owner.key })).status).toBe(204);
        deletedBefore.push(gone.key);
      }
      for (const { key } of before) expect(await works(server.url, key)).toBe(200);

      // Writes keep going while the backup runs.
      let writing = true;
      const during: { id: string; key: string }[] = [];
      const load = (async () => {
        while (writing) {
          const made = await createKey(server.url);
          during.push(made);
          if (during.length % 3 === 0) await call(server.url, 'DELETE', `/api/accounts/${owner.accountId}/bots/${made.id}`, { key: owner.key });
        }
      })();
      const file = join(tmp(), 'gatehouse.backup.db');
      const backup = await runCli(['backup', '--to', file, ...store.flags], store.env);
      writing = false;
      await load;
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toContain(`to ${file}`);
      expect(backup.stdout).toContain('schema 0');
      expect(during.length).toBeGreaterThan(0);

      // A second backup to the same file needs --force.
      const again = await runCli(['backup', '--to', file, ...store.flags], store.env);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('exists; choose another file or add --force');

      const restoredDir = tmp();
      const restore = await runCli(['restore', '--from', file, '--data-dir', restoredDir], store.env);
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.stdout).toContain(`into SQLite ${join(restoredDir, 'gatehouse.db')}`);
      // Into a directory that holds a store already: refused.
      const twice = await runCli(['restore', '--from', file, '--data-dir', restoredDir], store.env);
      expect(twice.code).toBe(2);
      expect(twice.stderr).toContain('already holds a store');

      const status = await runCli(['migrate', 'status', '--json', '--data-dir', restoredDir], store.env);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ state: 'current', pending: [], unknown: [] });

      // Each refused key counts against the address's failed-key limit, and the keys deleted during
      // the backup are as many as the load made: lift the limit, which is not what is tested here.
      const restored = await startGatehouse(['--port', '0', '--data-dir', restoredDir], { ...store.env, GATEHOUSE_KEY_FAILURE_LIMIT: '100000' });
      try {
        for (const { key } of before) expect(await works(restored.url, key)).toBe(200);
        for (const key of deletedBefore) expect(await works(restored.url, key)).toBe(401);
        for (const { key } of during) expect([200, 401]).toContain(await works(restored.url, key));
      } finally {
        await restored.stop();
      }
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('refuses what is not a Gatehouse backup, and says where the secret key must go', async () => {
    const notDb = join(tmp(), 'notes.txt');
    writeFileSync(notDb, 'hello');
    const bad = await runCli(['restore', '--from', notDb, '--data-dir', tmp()], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a SQLite database');

    // A backup of a store whose key lives in its data directory: restore says to bring secret.key along.
    const dataDir = tmp();
    expect((await runCli(['bootstrap', '--account-name', 'B', '--account-handle', 'b', '--email', 'b@example.com', '--init', '--data-dir', dataDir], {})).code).toBe(0);
    const file = join(tmp(), 'b.db');
    const backup = await runCli(['backup', '--to', file, '--data-dir', dataDir], {});
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toContain(`Keep ${join(dataDir, 'secret.key')} with it`);
    const target = tmp();
    const restore = await runCli(['restore', '--from', file, '--data-dir', target], {});
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`Put the secret key the backup was made with in ${join(target, 'secret.key')}`);
    expect(existsSync(join(target, 'secret.key'))).toBe(false);
  }, 60_000);
});

describe.runIf(STORE_KIND === 'postgres')('backup and restore on PostgreSQL', () => {
  it("send the operator to pg_dump and pg_restore, and migrate status reads the schema", async () => {
    const backup = await runCli(['backup', '--to', join(tmp(), 'x.db'), ...store.flags], store.env);
    expect(backup.code).toBe(2);
    expect(backup.stderr).toContain('pg_dump --format=custom');
    const restore = await runCli(['restore', '--from', '/nonexistent', ...store.flags], store.env);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain('pg_restore');
    const status = await runCli(['migrate', 'status', '--json', ...store.flags], store.env);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'current', pending: [], unknown: [] });
  }, 60_000);
});
