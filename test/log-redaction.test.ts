// One-time codes, setup tokens and API keys never reach the request log, even when a URL carries
// them (an old invitation link, the API's own ?invite_code=, a key a client put in a query string);
// and the links Gatehouse hands out carry their code in the fragment, which browsers never send.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_ROLE_IDS } from '../src/authz/permissions.js';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { redactSecrets } from '../src/http/log-redaction.js';
import { startServer } from '../src/main.js';
import { useHarness } from './support/harness.js';

const h = useHarness();

async function logged(send: (app: App) => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, next) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      next();
    },
  });
  const app = await createApp({ store: h.handle.store, cache: h.handle.cache, clock: h.clock, logger: pino({ level: 'trace' }, sink) });
  try {
    await send(app);
  } finally {
    await app.server.close();
  }
  return lines;
}

const urlsOf = (lines: string[]) => lines.map((line) => JSON.parse(line) as { req?: { url: string } }).flatMap((line) => (line.req ? [line.req.url] : []));

describe('the request log', () => {
  it('shows invitation codes, setup tokens and keys in URLs only as [redacted], and the API accept still works', async () => {
    const owner = await h.bootstrap();
    const created = await h.request('POST', `/api/accounts/${owner.accountId}/invitations/`, {
      key: owner.key,
      body: { email: 'logged-invitee@example.com', account_role_id: ACCOUNT_ROLE_IDS.Member },
    });
    expect(created.status).toBe(201);
    const link = new URL(created.body.accept_url);
    expect(link.search).toBe('');
    const code = new URLSearchParams(link.hash.slice(1)).get('invite_code')!;
    expect(code.length).toBeGreaterThan(20);
    const setupToken = 'setup-token-that-must-not-be-logged';
    const q = encodeURIComponent(code);

    let accepted = 0;
    const lines = await logged(async (app) => {
      // An old link opened in a browser (the page route), the page's API calls, and keys in a query.
      await app.server.inject({ method: 'GET', url: `/invitations/${created.body.id}/accept?invite_code=${q}` });
      await app.server.inject({ method: 'GET', url: `/setup?token=${setupToken}` });
      const preview = await app.server.inject({ method: 'GET', url: `/api/invitations/${created.body.id}?invite_code=${q}` });
      expect(preview.statusCode).toBe(200);
      const accept = await app.server.inject({
        method: 'POST',
        url: `/api/invitations/${created.body.id}/accept?invite_code=${q}`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ password: 'a long enough passphrase' }),
      });
      accepted = accept.statusCode;
      await app.server.inject({ method: 'GET', url: `/api/me/?api_key=${owner.key}&x=1` });
      await app.server.inject({ method: 'GET', url: `/api/me/?other=${owner.key}` });
    });
    expect(accepted).toBe(200);

    const text = lines.join('\n');
    for (const secret of [code, q, setupToken, owner.key]) expect(text).not.toContain(secret);
    expect(urlsOf(lines)).toEqual([
      `/invitations/${created.body.id}/accept?invite_code=[redacted]`,
      '/setup?token=[redacted]',
      `/api/invitations/${created.body.id}?invite_code=[redacted]`,
      `/api/invitations/${created.body.id}/accept?invite_code=[redacted]`,
      '/api/me/?api_key=[redacted]&x=1',
      '/api/me/?other=[redacted]',
    ]);
  });

  it('keeps what is not a credential', () => {
    expect(redactSecrets('/api/accounts/a/workspaces/w/flows/?limit=5&sort=NAME')).toBe('/api/accounts/a/workspaces/w/flows/?limit=5&sort=NAME');
    expect(redactSecrets('/x?access_token=abc&Session=def&page=2')).toBe('/x?access_token=[redacted]&Session=[redacted]&page=2');
  });
});

describe('the first-run banner', () => {
  it('prints the setup link with its token in the fragment, and says which address links use', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-banner-'));
    const loaded = loadConfig({ port: '0', 'data-dir': dataDir, 'log-level': 'silent' }, {});
    if (!loaded.ok) throw new Error(loaded.error);
    const out: string[] = [];
    const running = await startServer(loaded.config, (line) => out.push(line));
    try {
      const setup = out.find((line) => line.includes('/setup'));
      expect(setup?.trim()).toMatch(new RegExp(`^${running.url}/setup#token=[A-Za-z0-9_-]{20,}$`));
      expect(out.join('\n')).toContain(`GATEHOUSE_PUBLIC_URL is not set: invitation links point at ${running.url};`);
    } finally {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
