// The access record (http/access-log.ts): one JSON line per request with who asked and what came
// of it, never a credential; written in batches, the last ones at a graceful stop; a destination
// that fails (full disk, reader gone) costs lines, never the process or a request.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROLE_IDS } from '../src/authz/workspace-roles.js';
import { AccessLog, accessLine } from '../src/http/access-log.js';
import { loadConfig, parseAccessLog } from '../src/config.js';
import { startHarness, type Harness } from './support/harness.js';
import { botWithRole, workspaceWithUpstream, type Bot } from './support/members.js';
import { browser, personWithPassword, signIn } from './support/people.js';
import { startFakePrefect, type FakePrefect } from './support/fake-prefect.js';
import { ROOT } from './support/build.js';
import { freshSharedStore, runCli, startGatehouse } from './support/processes.js';

type Line = Record<string, unknown>;
const linesOf = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line);

describe('the access line', () => {
  let dir: string;
  let file: string;
  let log: AccessLog;
  let h: Harness;
  let fake: FakePrefect;
  let owner: { accountId: string; key: string };
  let ws: { id: string; base: string };
  let worker: Bot;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-access-'));
    file = join(dir, 'access.log');
    // Flushed by the tests (drain), not by the clock.
    log = new AccessLog({ file }, { flushIntervalMs: 3_600_000 });
    h = await startHarness({ accessLog: log });
    fake = await startFakePrefect();
    owner = await h.bootstrap();
    ws = await workspaceWithUpstream(h, owner, fake.url);
    worker = await botWithRole(h, owner, ws.id, WORKSPACE_ROLE_IDS.Worker, 'access-worker');
  });
  afterAll(async () => {
    await h.close();
    await log.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const written = async (reqId: string): Promise<Line[]> => {
    await log.drain();
    return linesOf(file).filter((line) => line.reqId === reqId);
  };

  it('says who asked, for what, and what came of it: one line per request', async () => {
    const res = await h.request('GET', `/api/me/workspaces/${ws.id}/scopes`, { key: worker.key, headers: { 'x-request-id': 'req-access-1' } });
    expect(res.status).toBe(200);
    const lines = await written('req-access-1');
    expect(lines).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        msg: 'access',
        reqId: 'req-access-1',
        remoteAddress: '127.0.0.1',
        method: 'GET',
        url: `/api/me/workspaces/${ws.id}/scopes`,
        route: '/api/me/workspaces/:workspace_id/scopes',
        statusCode: 200,
        responseTime: expect.any(Number),
        bytes: Buffer.byteLength(res.text),
        credential: 'api_key',
        actorType: 'bot',
        actorId: worker.id,
        actorName: 'access-worker',
        workspaceId: ws.id,
      },
    ]);
    expect(Math.abs((lines[0]!.time as number) - Date.now())).toBeLessThan(60_000);
  });

  it("records a gateway request's workspace and the upstream's status", async () => {
    const res = await h.request('POST', `${ws.base}/flows/filter`, { key: worker.key, body: {}, headers: { 'x-request-id': 'req-access-gw' } });
    expect(res.status).toBe(200);
    const [line] = await written('req-access-gw');
    expect(line).toMatchObject({ method: 'POST', statusCode: 200, upstreamStatus: 200, workspaceId: ws.id, credential: 'api_key', actorId: worker.id });
    expect(line!.route).toBe('/api/accounts/:account_id/workspaces/:workspace_id/*');
  });

  it('records a refused request with no actor, and a signed-in person as a session', async () => {
    const refused = await h.request('GET', '/api/me/', { headers: { 'x-request-id': 'req-access-401' } });
    expect(refused.status).toBe(401);
    const [line] = await written('req-access-401');
    expect(line).toMatchObject({ statusCode: 401, url: '/api/me/' });
    expect(line).not.toHaveProperty('actorId');
    expect(line).not.toHaveProperty('credential');

    const person = await personWithPassword(h);
    const session = await signIn(h, person.email, person.password);
    const me = await h.request('GET', '/api/me/', { headers: { ...browser(session), 'x-request-id': 'req-access-session' } });
    expect(me.status).toBe(200);
    const [signedIn] = await written('req-access-session');
    expect(signedIn).toMatchObject({ statusCode: 200, credential: 'session', actorType: 'user', actorId: person.userId });
  });

  it('never holds a credential: a key in Authorization, a key in the query string or the path, a session cookie', async () => {
    const person = await personWithPassword(h);
    const session = await signIn(h, person.email, person.password);
    const sent = [
      h.request('GET', `/api/me/workspaces/${ws.id}/scopes`, { key: worker.key }),
      h.request('GET', `/api/me/workspaces?api_key=${worker.key}&x=1`),
      h.request('GET', `/api/health?token=${session.token}`),
      h.request('GET', `/api/${worker.key}/nothing`),
      h.request('POST', `${ws.base}/flows/filter?key=${worker.key}`, { key: worker.key, body: {} }),
      h.request('GET', '/api/me/', { headers: browser(session) }),
      h.request('POST', '/api/auth/login', { body: { email: person.email, password: person.password } }),
    ];
    for (const res of await Promise.all(sent)) expect(res.status).toBeLessThan(500);
    await log.drain();
    const text = readFileSync(file, 'utf8');
    // The file really holds those requests, so the absence of the secrets means something.
    expect(text).toContain('api_key=[redacted]&x=1');
    expect(text).toContain('/api/health?token=[redacted]');
    expect(text).toContain('"url":"/api/[redacted]/nothing"');
    for (const secret of [worker.key, session.token, person.password, owner.key]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/pn[bu]_[A-Za-z0-9]{36}/);
  });
});

describe('accessLine', () => {
  it('stays one line of valid JSON whatever the caller put in the URL, the names or the ids', () => {
    const url = '/api/x?q="\\\u0001\n\u2028é\ud800&token=s3cret';
    const request = { id: 'req"1', ip: '::1', method: 'GET', url, routeOptions: {}, params: { workspace_id: 'w"\n' }, auth: null };
    const reply = { statusCode: 404, elapsedTime: 1.234, getHeader: () => undefined };
    const line = accessLine(request as never, reply as never, 1_000);
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      level: 30,
      time: 1_000,
      msg: 'access',
      reqId: 'req"1',
      remoteAddress: '::1',
      method: 'GET',
      url: '/api/x?q="\\\u0001\n\u2028é\ud800&token=[redacted]',
      statusCode: 404,
      responseTime: 1.23,
      workspaceId: 'w"\n',
    });
  });

  it("names the route without Fastify's request.routeOptions, which builds an object on every read", async () => {
    const app = Fastify();
    let captured: { request: FastifyRequest; reply: FastifyReply } | null = null;
    app.addHook('onResponse', (request, reply, done) => {
      captured = { request, reply };
      done();
    });
    app.get('/api/things/:thing_id', async () => 'ok');
    await app.inject({ method: 'GET', url: '/api/things/1' });
    await app.close();
    const { request, reply } = captured!;
    Object.defineProperty(request, 'routeOptions', { get: () => expect.fail('request.routeOptions was read') });
    expect(JSON.parse(accessLine(request, reply, 1_000))).toMatchObject({ url: '/api/things/1', route: '/api/things/:thing_id', statusCode: 200, bytes: 2 });
  });
});

describe('sampling (GATEHOUSE_ACCESS_LOG_SAMPLE)', () => {
  it('writes one in N successful requests, each saying so, and every refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-access-sample-'));
    const file = join(dir, 'access.log');
    const log = new AccessLog({ file }, { flushIntervalMs: 3_600_000 });
    const h = await startHarness({ accessLog: log, accessLogSample: 10 });
    try {
      for (let i = 0; i < 50; i++) expect((await h.request('GET', '/api/health')).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await h.request('GET', '/api/me/')).status).toBe(401);
      await log.drain();
      const lines = linesOf(file);
      expect(lines.filter((line) => line.statusCode === 200).map((line) => line.sampled)).toEqual([10, 10, 10, 10, 10]);
      expect(lines.filter((line) => line.statusCode === 401).map((line) => line.sampled)).toEqual([undefined, undefined, undefined]);
    } finally {
      await h.close();
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is read from GATEHOUSE_ACCESS_LOG_SAMPLE: 1 by default, a whole number from 1', () => {
    const sample = (value?: string) => {
      const loaded = loadConfig({}, value === undefined ? {} : { GATEHOUSE_ACCESS_LOG_SAMPLE: value });
      return loaded.ok ? loaded.config.accessLogSample : loaded.error;
    };
    expect(sample()).toBe(1);
    expect(sample('100')).toBe(100);
    expect(sample('0.1')).toBe(
      'Invalid GATEHOUSE_ACCESS_LOG_SAMPLE "0.1": a whole number N from 1 to 1000000, to write the access line of one in N successful requests (1: every request)',
    );
    expect(sample('0')).toMatch(/^Invalid GATEHOUSE_ACCESS_LOG_SAMPLE "0"/);
  });
});

describe('a destination that fails', () => {
  it('on a full disk, drops lines and says so once, while every request is answered', async () => {
    const reports: { message: string; code: string }[] = [];
    // /dev/full answers every write with ENOSPC.
    const log = new AccessLog({ file: '/dev/full' }, { flushIntervalMs: 3_600_000, report: (message, { code }) => reports.push({ message, code }) });
    const h = await startHarness({ accessLog: log });
    try {
      for (let i = 0; i < 300; i++) expect((await h.request('GET', '/api/health')).status).toBe(200);
      await log.drain();
      expect((await h.request('GET', '/api/health')).status).toBe(200);
      await log.drain();
      expect(reports).toEqual([{ message: 'could not write the access log (ENOSPC); lines are dropped until it works again', code: 'ENOSPC' }]);
    } finally {
      await h.close();
      await log.close();
    }
  });
});

describe('GATEHOUSE_ACCESS_LOG', () => {
  it('is stdout by default, off, or a file (resolved); a directory is refused with the choices', () => {
    expect(parseAccessLog(undefined)).toEqual({ ok: true, value: 'stdout' });
    expect(parseAccessLog('STDOUT')).toEqual({ ok: true, value: 'stdout' });
    expect(parseAccessLog('off')).toEqual({ ok: true, value: 'off' });
    expect(parseAccessLog('/var/log/gatehouse/access.log')).toEqual({ ok: true, value: { file: '/var/log/gatehouse/access.log' } });
    expect(parseAccessLog('access.log')).toEqual({ ok: true, value: { file: join(process.cwd(), 'access.log') } });
    expect(parseAccessLog('/var/log/')).toEqual({
      ok: false,
      error: 'Invalid GATEHOUSE_ACCESS_LOG "/var/log/": stdout, off, or the path of a file to append to (e.g. /var/log/gatehouse/access.log)',
    });
  });
});

describe('gatehouse start with an access log file', () => {
  it('writes the last lines at SIGTERM, and reopens the file on SIGHUP (logrotate)', async () => {
    const store = freshSharedStore();
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-access-proc-'));
    const file = join(dir, 'access.log');
    const server = await startGatehouse(['--port', '0', ...store.flags], { ...store.env, GATEHOUSE_ACCESS_LOG: file });
    try {
      const before = await fetch(`${server.url}/api/health`, { headers: { 'x-request-id': 'req-before-rotate' } });
      expect(before.status).toBe(200);
      // Past a flush interval: that line is in the file logrotate moves away.
      for (let waited = 0; !(existsSync(file) && readFileSync(file, 'utf8').includes('req-before-rotate')) && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      renameSync(file, `${file}.1`);
      server.child.kill('SIGHUP');
      for (let waited = 0; !existsSync(file) && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      const ids = Array.from({ length: 20 }, (_, i) => `req-after-rotate-${i}`);
      for (const id of ids) expect((await fetch(`${server.url}/api/health`, { headers: { 'x-request-id': id } })).status).toBe(200);
      // At once: these lines are still in memory when the stop begins.
      const exit = await server.stop();
      expect(exit.code).toBe(0);
      expect(linesOf(`${file}.1`).map((line) => line.reqId)).toEqual(['req-before-rotate']);
      expect(linesOf(file).map((line) => line.reqId)).toEqual(ids);
      expect(server.output()).not.toContain('"msg":"access"');
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
      await store.dispose();
    }
  }, 60_000);

  it('refuses to start when the file cannot be opened, saying what to do', async () => {
    const store = freshSharedStore();
    try {
      const run = await runCli(['start', '--port', '0', ...store.flags], { ...store.env, GATEHOUSE_ACCESS_LOG: '/nonexistent-dir/access.log' });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(
        'Cannot open the access log /nonexistent-dir/access.log for appending (ENOENT): create its directory and let this user write there, or set GATEHOUSE_ACCESS_LOG=stdout or off',
      );
    } finally {
      await store.dispose();
    }
  }, 60_000);

  it('keeps serving when standard output is closed under it (EPIPE)', async () => {
    const store = freshSharedStore();
    const child = spawn(process.execPath, ['bin/gatehouse.js', 'start', '--port', '0', ...store.flags], { cwd: ROOT, env: { ...process.env, ...store.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`not serving within 30 s:\n${out}${stderr}`)), 30_000);
        child.stdout!.on('data', (chunk) => {
          out += String(chunk);
          const match = /serving on (http:\/\/\S+)/.exec(out);
          // The whole start output first (its last lines follow a store query): console.log to a
          // closed standard output is another matter (Node's own EPIPE), not the access log's.
          if (match && out.includes('bootstrap --account-name')) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      // The reader goes away: every later write to standard output fails with EPIPE.
      child.stdout!.destroy();
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(`${url}/api/health`).then((r) => r.status)));
        expect(answers.every((status) => status === 200)).toBe(true);
        await new Promise((r) => setTimeout(r, 1_200)); // past a flush
      }
      expect(child.exitCode, stderr).toBe(null);
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await store.dispose();
    }
  }, 60_000);
});
