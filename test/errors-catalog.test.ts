// The error-code catalog is a contract: every code is documented for clients, used by the code
// (a dead code misleads readers of the docs), and an HTTP error status.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/errors.js';
import { useHarness } from './support/harness.js';

const ROOT = join(import.meta.dirname, '..');
const CODES = Object.keys(ERRORS);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

describe('the error catalog', () => {
  it('has codes in STABLE_UPPER_SNAKE with a 4xx or 5xx status and a public message', () => {
    expect(CODES.length).toBeGreaterThan(10);
    for (const [code, entry] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
      expect(entry.message.length, code).toBeGreaterThan(5);
    }
  });

  it('documents every code in docs/api.md', () => {
    // Missing docs/api.md fails this test on purpose: the catalog is part of the API.
    const doc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
    const undocumented = CODES.filter((code) => !doc.includes(`\`${code}\``));
    expect(undocumented).toEqual([]);
  });

  it('uses every code somewhere in src/ besides the catalog itself', () => {
    const files = sourceFiles(join(ROOT, 'src')).filter((f) => relative(ROOT, f) !== join('src', 'errors.ts'));
    expect(files.length).toBeGreaterThan(20);
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    const unused = CODES.filter((code) => !new RegExp(`['"\`]${code}['"\`]`).test(text));
    expect(unused).toEqual([]);
  });
});

describe('catalog codes on the wire', () => {
  const h = useHarness();

  it('answers 405 METHOD_NOT_ALLOWED with Allow for a known path under another method', async () => {
    const { accountId, key } = await h.bootstrap();
    for (const url of [`/api/accounts/${accountId}`, `/api/accounts/${accountId}/`]) {
      const res = await h.request('PUT', url, { key, body: {} });
      expect(res.status).toBe(405);
      expect(res.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED', request_id: expect.any(String) });
      expect(res.body.detail).toContain('PATCH');
      expect(String(res.headers.allow).split(', ').sort()).toEqual(expect.arrayContaining(['GET', 'PATCH']));
    }
    const health = await h.request('DELETE', '/api/health');
    expect(health.status).toBe(405);
  });

  it('answers 404 ROUTE_NOT_FOUND for a path no route serves', async () => {
    const res = await h.request('GET', '/api/no_such_thing');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'ROUTE_NOT_FOUND', request_id: expect.any(String) });
    expect(res.headers.allow).toBeUndefined();
  });

  it('sends the catalog status with every code it answers', async () => {
    const { accountId, key } = await h.bootstrap();
    const answers = [
      await h.request('GET', '/api/me/'),
      await h.request('GET', `/api/accounts/${accountId}`, { key: 'pnu_' + 'a'.repeat(36) }),
      await h.request('POST', `/api/accounts/${accountId}/bots/`, { key, rawBody: '{', headers: { 'content-type': 'application/json' } }),
      await h.request('POST', `/api/accounts/${accountId}/bots/`, { key, body: { name: 1 } }),
      await h.request('POST', `/api/accounts/${accountId}/bots/`, { key, rawBody: 'x', headers: { 'content-type': 'text/plain' } }),
    ];
    expect(answers.map((r) => r.body.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'INVALID_JSON', 'VALIDATION_FAILED', 'UNSUPPORTED_MEDIA_TYPE']);
    for (const res of answers) expect(res.status).toBe(ERRORS[res.body.code as keyof typeof ERRORS].status);
  });
});
