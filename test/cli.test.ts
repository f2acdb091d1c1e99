// The compiled `gatehouse` command, run as a user runs it: `node bin/gatehouse.js bootstrap ...`.
// Its key output is a contract (scripts parse the --json line), and so are its exit codes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { systemClock } from '../src/clock.js';
import { openStore } from '../src/store/store.js';
import { openCache } from '../src/cache/open.js';
import { migrate } from '../src/store/migrate.js';
import { PG_URL, STORE_KIND } from './support/harness.js';
import { ROOT } from './support/build.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const JSON_LINE = new RegExp(`^\\{"account_id": "(${UUID})", "user_id": "(${UUID})", "api_key": "(pnu_[0-9A-Za-z]{36})"\\}$`);


interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function gatehouse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile('node', ['bin/gatehouse.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

let storeFlags: string[];
let dataDir: string | undefined;
let schema: string | undefined;

beforeAll(async () => {
  if (STORE_KIND === 'postgres') {
    schema = `gh_cli_${randomBytes(6).toString('hex')}`;
    storeFlags = ['--database-url', PG_URL, '--database-schema', schema];
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    storeFlags = ['--data-dir', dataDir];
  }
  // The store exists, as it does once `gatehouse start` has run on it.
  const store = await openStore({ dataDir: dataDir ?? '', databaseUrl: schema ? PG_URL : undefined, databaseSchema: schema });
  await migrate(store);
  await store.close();
}, 120_000);

afterAll(async () => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (schema) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
});

const bootstrap = (handle: string, extra: string[] = ['--json'], email = `owner-${handle}@example.com`) =>
  gatehouse(['bootstrap', '--account-name', `Org ${handle}`, '--account-handle', handle, '--email', email, ...extra, ...storeFlags]);

/** What the server answers to a key, on the store the CLI wrote to. */
async function myAccounts(key: string) {
  const store = await openStore({ dataDir: dataDir ?? '', databaseUrl: schema ? PG_URL : undefined, databaseSchema: schema });
  const cache = openCache(store, { databaseUrl: PG_URL });
  const app = await createApp({ store, cache, clock: systemClock });
  try {
    const res = await app.server.inject({ method: 'GET', url: '/api/me/accounts', headers: { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: res.json() };
  } finally {
    await app.server.close();
    await cache.close();
    await store.close();
  }
}

describe('gatehouse bootstrap --json', () => {
  it('exits 0 and ends stdout with exactly the JSON line of ids and a pnu_ key that works', async () => {
    const run = await bootstrap('acme');
    expect(run.code, run.stderr).toBe(0);
    const match = JSON_LINE.exec(lastLine(run.stdout));
    expect(match, run.stdout).not.toBeNull();
    const parsed = JSON.parse(lastLine(run.stdout));
    expect(Object.keys(parsed)).toEqual(['account_id', 'user_id', 'api_key']);
    expect(run.stderr).not.toContain(parsed.api_key);
    const me = await myAccounts(parsed.api_key);
    expect(me.status).toBe(200);
    expect(me.body).toEqual([expect.objectContaining({ account_id: parsed.account_id, account_handle: 'acme', account_role_name: 'Owner' })]);
  });

  it('creates a second account when run again with another handle', async () => {
    const first = await bootstrap('second-a');
    const second = await bootstrap('second-b');
    expect([first.code, second.code]).toEqual([0, 0]);
    const a = JSON.parse(lastLine(first.stdout));
    const b = JSON.parse(lastLine(second.stdout));
    expect(a.account_id).not.toBe(b.account_id);
    expect(a.api_key).not.toBe(b.api_key);
    expect((await myAccounts(b.api_key)).body.map((x: { account_handle: string }) => x.account_handle)).toEqual(['second-b']);
  });

  it('refuses a handle that is taken with a non-zero exit, a message naming it, and no key', async () => {
    expect((await bootstrap('taken')).code).toBe(0);
    const again = await bootstrap('taken', ['--json'], 'someone-else@example.com');
    expect(again.code).not.toBe(0);
    expect(again.code).not.toBeNull();
    expect(again.stderr).toContain('"taken"');
    expect(again.stderr).toMatch(/already exists/);
    expect(again.stdout + again.stderr).not.toMatch(/pn[ub]_[0-9A-Za-z]{36}/);
  });
});

describe('gatehouse bootstrap without --json', () => {
  it('prints the key exactly once with a warning that it is not shown again', async () => {
    const run = await bootstrap('humans', []);
    expect(run.code, run.stderr).toBe(0);
    const keys = run.stdout.match(/pnu_[0-9A-Za-z]{36}/g) ?? [];
    expect(keys).toHaveLength(1);
    expect(run.stdout).toMatch(/shown once|not (be )?shown again|cannot be shown again/i);
    expect((await myAccounts(keys[0]!)).status).toBe(200);
  });
});

describe('gatehouse bootstrap usage errors', () => {
  it('exits 2 with the usage when flags are missing, naming them', async () => {
    const run = await gatehouse(['bootstrap', '--account-name', 'Org', ...storeFlags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--account-handle');
    expect(run.stderr).toContain('--email');
    expect(run.stderr).toContain('Usage: gatehouse');
    expect(run.stdout).not.toMatch(/pnu_/);
  });

  it('exits 2 for an invalid handle or email, saying which flag is wrong', async () => {
    const handles = ['bad handle!', '-leading-dash', 'x'.repeat(65), 'emoji🚀'];
    const runs = await Promise.all(handles.map((handle) => bootstrap(handle, ['--json'], 'ok@example.com')));
    for (const [i, run] of runs.entries()) {
      expect(run.code, handles[i]).toBe(2);
      expect(run.stderr).toContain('--account-handle');
    }
    const run = await bootstrap('fine', ['--json'], 'not-an-email');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--email');
  });

  it('exits 2 for an unknown flag or command', async () => {
    expect((await bootstrap('flagged', ['--jsn'])).code).toBe(2);
    const unknown = await gatehouse(['bootstap']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "bootstap"');
  });

  it('prints the usage with exit 0 for --help', async () => {
    const run = await gatehouse(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('bootstrap');
    expect(run.stdout).toContain('start');
  });
});

describe('gatehouse set-password', () => {
  /** Runs the command with the password on standard input, as an operator would pipe it. */
  const setPassword = (email: string, password: string) =>
    new Promise<Run>((resolve) => {
      const child = execFile('node', ['bin/gatehouse.js', 'set-password', '--email', email, ...storeFlags], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
      child.stdin?.end(`${password}\n`);
    });

  async function signIn(email: string, password: string) {
    const store = await openStore({ dataDir: dataDir ?? '', databaseUrl: schema ? PG_URL : undefined, databaseSchema: schema });
    const cache = openCache(store, { databaseUrl: PG_URL });
    const app = await createApp({ store, cache, clock: systemClock });
    try {
      const res = await app.server.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
      return res.statusCode;
    } finally {
      await app.server.close();
      await cache.close();
      await store.close();
    }
  }

  it("gives a bootstrapped Owner a first password read from standard input, never echoed", async () => {
    const email = 'owner-setpw@example.com';
    expect((await bootstrap('setpw', ['--json'], email)).code).toBe(0);
    const run = await setPassword(email, 'a passphrase from stdin');
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('a passphrase from stdin');
    expect(await signIn(email, 'a passphrase from stdin')).toBe(200);
  });

  it('exits 1 naming the problem for an unknown email or a short password', async () => {
    const unknown = await setPassword('nobody-here@example.com', 'long enough passphrase');
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('nobody-here@example.com')]);
    const short = await setPassword('owner-setpw@example.com', 'short');
    expect([short.code, short.stderr]).toEqual([1, expect.stringContaining('at least 10 characters')]);
  });
});

describe('commands that write to a store that does not exist', () => {
  const elsewhere = () => {
    if (STORE_KIND === 'postgres') {
      const other = `gh_cli_none_${randomBytes(6).toString('hex')}`;
      return { flags: ['--database-url', PG_URL, '--database-schema', other], schema: other, dir: undefined };
    }
    const dir = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-none-')), 'store');
    return { flags: ['--data-dir', dir], schema: undefined, dir };
  };
  const dropSchema = async (name: string | undefined) => {
    if (!name) return;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists "${name}" cascade`);
    await client.end();
  };
  const tablesIn = async (name: string) => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const { rows } = await client.query('select count(*)::int as n from information_schema.tables where table_schema = $1', [name]);
    await client.end();
    return rows[0].n as number;
  };
  const args = (flags: string[]) => ['bootstrap', '--account-name', 'Lost', '--account-handle', 'lost', '--email', 'lost@example.com', ...flags];

  it('bootstrap refuses with exit 2, names the store and --init, prints no key and creates nothing', async () => {
    const where = elsewhere();
    try {
      const run = await gatehouse(args(where.flags));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('there is no Gatehouse store');
      expect(run.stderr).toContain('--init');
      expect(run.stderr).toContain(where.dir ?? where.schema!);
      expect(run.stdout + run.stderr).not.toMatch(/pnu_/);
      if (where.dir) expect(existsSync(join(where.dir, 'gatehouse.db'))).toBe(false);
      else expect(await tablesIn(where.schema!)).toBe(0);
    } finally {
      await dropSchema(where.schema);
    }
  });

  it('set-password refuses the same way before asking for a password', async () => {
    const where = elsewhere();
    try {
      const run = await gatehouse(['set-password', '--email', 'lost@example.com', ...where.flags]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('there is no Gatehouse store');
      expect(run.stdout).not.toContain('New password');
    } finally {
      await dropSchema(where.schema);
    }
  });

  it('bootstrap --init creates the store and says which store it wrote to', async () => {
    const where = elsewhere();
    try {
      const run = await gatehouse([...args(where.flags), '--init']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(where.dir ? new RegExp(`store: +SQLite ${where.dir}/gatehouse\\.db`) : new RegExp(`store: +PostgreSQL .*\\(schema ${where.schema}\\)`));
      const again = await gatehouse([...args(where.flags), '--json']);
      expect(again.code).toBe(1); // the store exists now: the handle is taken, not "no store"
      expect(again.stderr).toContain('already exists');
    } finally {
      await dropSchema(where.schema);
    }
  });
});
