// Keeps the bench (bench/, issue 22) honest where that is cheap, without measuring anything: it
// measures the defaults a user gets (no --log-level), every scenario module loads, the revocation
// prober tells a stale acceptance from a refusal, the percentile plot is a drawable SVG, the nginx
// peer's config has no unfilled name, and the better-auth peer server verifies a key and refuses it
// once revoked. The scenarios themselves (Prefect, nginx, load) run with `npm run bench`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/build.js';

// bench/ is plain JavaScript without type declarations: load it by URL.
const load = (path: string): Promise<any> => import(new URL(`../bench/${path}`, import.meta.url).href);

describe('bench options', () => {
  it('measure the defaults: no --log-level unless asked, every scenario of issue 22 selectable', async () => {
    const { parseOptions, SCENARIOS } = await load('lib/options.js');
    expect(parseOptions([]).logLevel).toBeUndefined();
    expect(parseOptions(['--log-level', 'warn']).logLevel).toBe('warn');
    expect(SCENARIOS).toEqual(expect.arrayContaining(['authz', 'gateway', 'accesslog', 'prefect', 'betterauth', 'nginx', 'revocation', 'keys', 'memory', 'control']));
    expect(parseOptions([]).prefectDatabase).toBe('postgres');
    expect(() => parseOptions(['--prefect-db', 'mysql'])).toThrow(/--prefect-db must be sqlite or postgres/);
  });

  it('start Gatehouse without --log-level when none is given', async () => {
    const stores = readFileSync(join(ROOT, 'bench/lib/stores.js'), 'utf8');
    expect(stores).toContain("...(logLevel ? ['--log-level', logLevel] : [])");
  });
});

describe('bench modules', () => {
  it('every scenario and library module loads and exports its function', async () => {
    for (const file of readdirSync(join(ROOT, 'bench/scenarios'))) {
      const mod = await load(`scenarios/${file}`);
      const runners = Object.entries(mod).filter(([name, value]) => name.endsWith('Scenario') && typeof value === 'function');
      expect(runners.length, file).toBe(1);
    }
    for (const file of readdirSync(join(ROOT, 'bench/lib'))) await load(`lib/${file}`);
  });

  it('byTarget puts issue 22 targets first, in order', async () => {
    const { byTarget, check } = await load('lib/report.js');
    const names = byTarget([check('x', '', '', null), check('T3 a', '', '', true), check('T0 b', '', '', true), check('T3 c', '', '', true)]).map((c: { name: string }) => c.name);
    expect(names).toEqual(['T0 b', 'T3 a', 'T3 c', 'x']);
  });
});

describe('percentile plot', () => {
  it('is an SVG with one line per series and no NaN coordinates', async () => {
    const { percentilePlot } = await load('lib/svg.js');
    const svg: string = percentilePlot({
      title: 'A <title> & more',
      series: [
        { label: 'straight', points: [[0.5, 1.2], [0.9, 2.5], [0.99, 4], [0.999, 9]] },
        { label: 'through', points: [[0.5, 1.3], [0.9, 2.7], [0.99, 4.4], [0.999, 9.5]], dashed: true },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).toContain('A &lt;title&gt; &amp; more');
    expect(svg).toContain('p99.9');
  });
});

describe('revocation prober', () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

  /** A server that accepts the key until `revoked` is set, then (after `lagMs`) refuses it. */
  async function keyServer(lagMs: number) {
    const state = { revokedAt: Infinity };
    const server = createServer((req, res) => {
      const refused = performance.now() >= state.revokedAt + lagMs;
      res.writeHead(refused ? 401 : 200, { 'content-type': 'application/json' });
      res.end(refused ? '{"detail":"revoked"}' : '{}');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state };
  }

  it('finds no stale acceptance, and a wait ≤ 0, when refusal starts before the call returns', async () => {
    const { watchRevocation } = await load('lib/revoke-probe.js');
    const s = await keyServer(0);
    const result = await watchRevocation({
      probes: [{ name: 'a', url: s.url, path: '/', headers: {} }],
      revoke: async () => {
        s.state.revokedAt = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
    });
    expect(result.stale).toBe(0);
    expect(result.waitMs).toBeLessThanOrEqual(0);
    expect(result.perProbe[0].statuses).toEqual([401]);
  });

  it('counts acceptances after the call returned, and a positive wait, when a process lags', async () => {
    const { watchRevocation } = await load('lib/revoke-probe.js');
    const fast = await keyServer(0);
    const slow = await keyServer(60);
    const result = await watchRevocation({
      probes: [
        { name: 'fast', url: fast.url, path: '/', headers: {} },
        { name: 'slow', url: slow.url, path: '/', headers: {} },
      ],
      revoke: async () => {
        fast.state.revokedAt = slow.state.revokedAt = performance.now();
      },
    });
    expect(result.stale).toBeGreaterThan(0);
    expect(result.perProbe[1].stale).toBeGreaterThan(0);
    expect(result.waitMs).toBeGreaterThan(30);
  });
});

describe('peers', () => {
  it("nginx's config names only what the scenario fills in", () => {
    const config = readFileSync(join(ROOT, 'bench/nginx/forward-auth.conf'), 'utf8');
    const scenario = readFileSync(join(ROOT, 'bench/scenarios/nginx.js'), 'utf8');
    const names = [...new Set([...config.matchAll(/\{\{([A-Z_]+)\}\}/g)].map((m) => m[1]))];
    for (const name of names) expect(scenario, name).toMatch(new RegExp(`\\b${name}\\b`));
    expect(config).toContain('auth_request /_gatehouse_auth;');
    expect(config).toContain('proxy_set_header X-Original-URI $request_uri;');
  });

  it('better-auth with its API-key plugin verifies a key, then refuses it once revoked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-test-'));
    const child = spawn(process.execPath, [join(ROOT, 'bench/servers/better-auth.js')], {
      env: { ...process.env, BENCH_BODY: Buffer.from('["see_flows"]').toString('base64'), BENCH_DB: join(dir, 'ba.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk;
          const m = /listening on (\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.stderr!.on('data', (chunk: Buffer) => (out += chunk));
        child.once('exit', (code) => reject(new Error(`better-auth server exited ${code}: ${out}`)));
      });
      const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
      const key = await post('/bench/key', {});
      const scopes = `${url}/api/me/workspaces/w/scopes`;
      for (let i = 0; i < 12; i++) {
        // More than the plugin's default rate limit (10 a day): the bench turns it off.
        const res = await fetch(scopes, { headers: { 'x-api-key': key.key } });
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('["see_flows"]');
      }
      expect((await fetch(scopes, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(200);
      expect((await fetch(scopes, { headers: { 'x-api-key': `${key.key}x` } })).status).toBe(401);
      await post('/bench/revoke', { userId: key.userId, keyId: key.keyId });
      const after = await fetch(scopes, { headers: { 'x-api-key': key.key } });
      expect(after.status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
