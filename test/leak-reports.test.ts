// Leak reports (issue 19 item 4): a secret-scanning partner's signed report (GitHub's partner program
// shape) disables or flags each Gatehouse key found, per the account's key policy, audits it without
// the key, shows where it was found, and labels every token. A forged, unsigned or oversized report
// changes nothing. Signed here with a P-256 key pair made for this file.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSigningKeys, type SigningKeys } from '../src/leak-report-keys.js';
import { generateKey } from '../src/domain/api-keys/key-format.js';
import { authStatus, secondApp, useHarness, inject, type Harness } from './support/harness.js';
import { addMember, createBot } from './support/members.js';

function keyPair(): { privateKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

const partner = keyPair();
const stranger = keyPair(); // a key this Gatehouse was never told of
const KEY_ID = 'bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c';
const OLD_KEY_ID = 'retired-key-0001';

function configuredKeys(entries: { id: string; pem: string }[]): SigningKeys {
  const parsed = parseSigningKeys(JSON.stringify({ public_keys: entries.map((e) => ({ key_identifier: e.id, key: e.pem, is_current: true })) }));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.keys;
}

const h = useHarness({ leakReportKeys: configuredKeys([{ id: KEY_ID, pem: partner.pem }]) });
afterEach(() => vi.restoreAllMocks());

const signature = (body: string, privateKey = partner.privateKey) => sign('sha256', Buffer.from(body), privateKey).toString('base64');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const URL_FOUND = 'https://github.com/octo/repo/blob/0a1b2c/deploy/.env';

function finding(token: string, extra: Record<string, unknown> = {}) {
  return { token, type: 'gatehouse_service_account_key', url: URL_FOUND, source: 'commit', ...extra };
}

/** Posts `body` (a string is sent as it is) signed by the partner unless `headers` says otherwise. */
function report(body: unknown, headers?: Record<string, string>, target: Pick<Harness, 'request'> = h) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return target.request('POST', '/api/leak_reports', {
    rawBody: text,
    headers: headers ?? { 'content-type': 'application/json', 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': signature(text) },
  });
}

async function auditOf(accountId: string) {
  const rows = await h.handle.store.db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).where('action', '=', 'api_key.leak_reported').execute();
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) }));
}

const readBot = async (owner: { accountId: string; key: string }, botId: string) =>
  (await h.request('GET', `/api/accounts/${owner.accountId}/bots/${botId}`, { key: owner.key })).body;

let owner: { accountId: string; userId: string; key: string };
beforeAll(async () => {
  owner = await h.bootstrap();
});

describe('a service-account key reported leaked', () => {
  it('is disabled at once by default: true_positive, refused from then on, shown with where it was found, audited without the key', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    expect(await authStatus(h, bot.key)).toBe(200); // now in the auth cache
    const res = await report([finding(bot.key)]);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual([{ token_hash: sha256(bot.key), token_type: 'gatehouse_service_account_key', label: 'true_positive' }]);
    expect(res.text).not.toContain(bot.key);
    expect(await authStatus(h, bot.key)).toBe(401);

    const read = await readBot(owner, bot.id);
    expect(read.api_key).toMatchObject({ leak_url: URL_FOUND, leak_source: 'commit', leak_reported_at: expect.stringMatching(/Z$/) });
    expect(read.api_key.expiration).toBe(read.api_key.leak_reported_at); // it expired the moment it was reported
    const events = await auditOf(owner.accountId);
    const event = events.find((e) => e.target_id === bot.id)!;
    expect(event).toMatchObject({ actor_type: 'system', target_type: 'service_account' });
    expect(event.actor_name).toMatch(/^secret-scanning partner \(key bcb53661c06b4728\)$/);
    expect(event.details).toMatchObject({ url: URL_FOUND, source: 'commit', disabled: true, leaked_key_action: 'disable', key_was_live: true, name: bot.name });
    expect(JSON.stringify(events)).not.toContain(bot.key);
    expect(JSON.stringify(events)).not.toContain(sha256(bot.key));
  });

  it('is refused at once by every process on the same database (revocation is immediate)', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    const other = await secondApp(h);
    try {
      const ask = () => inject(other, 'GET', '/api/me/workspaces', { key: bot.key });
      expect((await ask()).status).toBe(200);
      expect((await report([finding(bot.key)])).status).toBe(200);
      expect((await ask()).status).toBe(401);
    } finally {
      await other.server.close();
    }
  });

  it('is flagged and keeps working when the account policy says flag', async () => {
    const flagging = await h.bootstrap();
    const set = await h.request('PUT', `/api/accounts/${flagging.accountId}/key_policy`, { key: flagging.key, body: { leaked_key_action: 'flag' } });
    expect(set.status, set.text).toBe(200);
    expect(set.body.leaked_key_action).toBe('flag');
    const bot = await createBot(h, flagging.accountId, flagging.key);
    const res = await report([finding(bot.key, { source: 'gist_content', url: '' })]);
    expect(res.body[0].label).toBe('true_positive');
    expect(await authStatus(h, bot.key)).toBe(200);
    expect((await readBot(flagging, bot.id)).api_key).toMatchObject({ leak_url: '', leak_source: 'gist_content', expiration: null });
    const [event] = await auditOf(flagging.accountId);
    expect(event.details).toMatchObject({ url: '', source: 'gist_content', disabled: false, leaked_key_action: 'flag' });
  });

  it('refuses a leaked_key_action other than disable or flag with 422', async () => {
    const res = await h.request('PUT', `/api/accounts/${owner.accountId}/key_policy`, { key: owner.key, body: { leaked_key_action: 'delete' } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });
});

describe('a user key reported leaked', () => {
  it("is disabled, shown in the user's key list, and audited in every account the user belongs to", async () => {
    const member = await addMember(h, owner.accountId, 'Member');
    const res = await report([finding(member.key, { type: 'gatehouse_user_key' })]);
    expect(res.body).toEqual([{ token_hash: sha256(member.key), token_type: 'gatehouse_user_key', label: 'true_positive' }]);
    expect(await authStatus(h, member.key)).toBe(401);
    const row = await h.handle.store.db.selectFrom('api_keys').select(['id', 'leak_url', 'leak_source']).where('key_hash', '=', sha256(member.key)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ leak_url: URL_FOUND, leak_source: 'commit' });
    for (const accountId of [owner.accountId, member.ownAccountId]) {
      const events = (await auditOf(accountId)).filter((e) => e.target_id === row.id);
      expect(events, accountId).toHaveLength(1);
      expect(events[0].details).toMatchObject({ url: URL_FOUND, source: 'commit', disabled: true, user_id: member.userId });
    }
  });

  it('is only flagged when every account of the user says flag', async () => {
    const member = await addMember(h, owner.accountId, 'Member'); // owner's account: disable (default)
    await h.request('PUT', `/api/accounts/${member.ownAccountId}/key_policy`, { key: member.key, body: { leaked_key_action: 'flag' } });
    await report([finding(member.key)]);
    expect(await authStatus(h, member.key)).toBe(401);

    const loner = await h.bootstrap();
    await h.request('PUT', `/api/accounts/${loner.accountId}/key_policy`, { key: loner.key, body: { leaked_key_action: 'flag' } });
    await report([finding(loner.key)]);
    expect(await authStatus(h, loner.key)).toBe(200);
    const listed = await h.request('GET', `/api/users/${loner.userId}/api_keys`, { key: loner.key });
    expect(listed.body[0]).toMatchObject({ leak_url: URL_FOUND, leak_source: 'commit', leak_reported_at: expect.any(String) });
  });
});

describe('what is not a live key', () => {
  it('labels strings that fail the key checksum false_positive without a store lookup', async () => {
    const real = generateKey('bot');
    const broken = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    // Store calls made for the report (the leak-report service on the stack); the app's background
    // loops (notice delivery every 5 s, the key-use flush) may query meanwhile and do not count.
    const db = h.handle.store.db;
    const lookups: string[] = [];
    for (const method of ['transaction', 'selectFrom'] as const) {
      const original = db[method].bind(db) as (...args: unknown[]) => unknown;
      vi.spyOn(db, method).mockImplementation(((...args: unknown[]) => {
        if (/leak-reports/.test(new Error().stack ?? '')) lookups.push(method);
        return original(...args);
      }) as never);
    }
    const tokens = [broken, 'pnb_short', 'ghp_notours0000000000000000000000000000', 'x'];
    const res = await report(tokens.map((t) => finding(t)));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(tokens.map((t) => ({ token_hash: sha256(t), token_type: 'gatehouse_service_account_key', label: 'false_positive' })));
    expect(lookups).toEqual([]);
  });

  it('labels a well-formed key this Gatehouse never issued, or has deleted, false_positive', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    const rotated = await h.request('POST', `/api/accounts/${owner.accountId}/bots/${bot.id}/rotate_api_key`, { key: owner.key, body: { api_key_expiration: null } });
    expect(rotated.status, rotated.text).toBe(201);
    const res = await report([finding(generateKey('user')), finding(bot.key)]);
    expect(res.body.map((l: { label: string }) => l.label)).toEqual(['false_positive', 'false_positive']);
  });

  it('labels a key already expired true_positive, records where it was found, and leaves it disabled', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    const expiration = new Date(h.clock.now().getTime() - 1000).toISOString();
    await h.handle.store.db.updateTable('api_keys').set({ expiration }).where('key_hash', '=', sha256(bot.key)).execute();
    const res = await report([finding(bot.key)]);
    expect(res.body[0].label).toBe('true_positive');
    expect(await authStatus(h, bot.key)).toBe(401);
    expect((await readBot(owner, bot.id)).api_key).toMatchObject({ expiration, leak_url: URL_FOUND });
    const event = (await auditOf(owner.accountId)).find((e) => e.target_id === bot.id)!;
    expect(event.details).toMatchObject({ disabled: false, key_was_live: false, previous_expiration: expiration });
  });

  it('acts once on a key named twice in a report, and a replayed report changes nothing', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    const body = JSON.stringify([finding(bot.key), finding(bot.key)]);
    const headers = { 'content-type': 'application/json', 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': signature(body) };
    const first = await report(body, headers);
    expect(first.body.map((l: { label: string }) => l.label)).toEqual(['true_positive', 'true_positive']);
    const before = await readBot(owner, bot.id);
    h.clock.advance(60_000);
    const replay = await report(body, headers);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(await readBot(owner, bot.id)).toEqual(before);
    expect((await auditOf(owner.accountId)).filter((e) => e.target_id === bot.id)).toHaveLength(1);
  });
});

describe('a forged, unsigned or stale report', () => {
  /** A live key, a report naming it, and a check that after the test nothing about it changed. */
  async function target() {
    const bot = await createBot(h, owner.accountId, owner.key);
    const body = JSON.stringify([finding(bot.key)]);
    const before = await readBot(owner, bot.id);
    const eventsBefore = (await auditOf(owner.accountId)).length;
    return {
      body,
      async unchanged() {
        expect(await authStatus(h, bot.key)).toBe(200);
        expect(await readBot(owner, bot.id)).toEqual(before);
        expect((await auditOf(owner.accountId)).length).toBe(eventsBefore);
      },
    };
  }
  const json = { 'content-type': 'application/json' };

  it('refuses a report without signature headers with 400 LEAK_REPORT_UNSIGNED', async () => {
    const t = await target();
    for (const headers of [json, { ...json, 'github-public-key-identifier': KEY_ID }, { ...json, 'github-public-key-signature': signature(t.body) }]) {
      const res = await report(t.body, headers);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'LEAK_REPORT_UNSIGNED', detail: expect.stringContaining('Github-Public-Key-Signature') });
    }
    await t.unchanged();
  });

  it('refuses a signature by a key it does not know, or by a retired key, with 401 LEAK_REPORT_KEY_UNKNOWN', async () => {
    const t = await target();
    for (const id of ['no-such-key', OLD_KEY_ID]) {
      const res = await report(t.body, { ...json, 'github-public-key-identifier': id, 'github-public-key-signature': signature(t.body) });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('LEAK_REPORT_KEY_UNKNOWN');
    }
    await t.unchanged();
  });

  it('refuses with 401 LEAK_REPORT_SIGNATURE_INVALID a signature by another key, of another body, or that is not a signature', async () => {
    const t = await target();
    const other = JSON.stringify([finding('pnb_x')]);
    const spaced = t.body.replace(',', ', '); // the same JSON, other bytes
    const forged = [
      { body: t.body, sig: signature(t.body, stranger.privateKey) },
      { body: t.body, sig: signature(other) },
      { body: spaced, sig: signature(t.body) },
      { body: t.body, sig: 'bm90IGEgc2lnbmF0dXJl' },
      { body: t.body, sig: '%%%not-base64%%%' },
      { body: t.body, sig: 'A'.repeat(5000) },
    ];
    for (const { body, sig } of forged) {
      const res = await report(body, { ...json, 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': sig });
      expect(res.status, sig.slice(0, 20)).toBe(401);
      expect(res.body.code).toBe('LEAK_REPORT_SIGNATURE_INVALID');
    }
    await t.unchanged();
  });

  it('checks the signature before reading the body: an unsigned body that is not JSON, or not a report, is 400 unsigned', async () => {
    for (const body of ['not json', '[{"token": 1}]', '']) {
      const res = await report(body, json);
      expect(res.status, body).toBe(400);
      expect(res.body.code).toBe('LEAK_REPORT_UNSIGNED');
    }
    const plain = await report('x', { 'content-type': 'text/plain' });
    expect(plain.body.code).toBe('LEAK_REPORT_UNSIGNED');
  });
});

describe('bad input from a signed report', () => {
  it('answers 422 or 400 for a body of the wrong shape, never 500', async () => {
    const cases: [string, number, string][] = [
      ['not json', 400, 'INVALID_JSON'],
      ['{"token": "pnb_x"}', 422, 'VALIDATION_FAILED'],
      ['[]', 422, 'VALIDATION_FAILED'],
      ['[{"token": 5, "type": "t", "url": "", "source": "commit"}]', 422, 'VALIDATION_FAILED'],
      ['[{"type": "t", "url": "", "source": "commit"}]', 422, 'VALIDATION_FAILED'],
      [JSON.stringify([finding('a\u0000b')]), 422, 'VALIDATION_FAILED'],
      [JSON.stringify([finding('x'.repeat(1001))]), 422, 'VALIDATION_FAILED'],
      ['['.repeat(100) + ']'.repeat(100), 422, 'VALIDATION_FAILED'],
      ['', 422, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const res = await report(body);
      expect(res.status, body.slice(0, 40)).toBe(status);
      expect(res.body.code).toBe(code);
    }
  });

  it('ignores fields a partner adds and takes unicode in url and source', async () => {
    const res = await report([finding('ünïcødé 🚀', { url: 'https://example.com/名前', source: 'Issue_comment', extra: { nested: true } })]);
    expect(res.status).toBe(200);
    expect(res.body[0].label).toBe('false_positive');
  });

  it('bounds a report: more than 1000 tokens is 422, more than 512 KiB is 413, checked before any key is touched', async () => {
    const bot = await createBot(h, owner.accountId, owner.key);
    const many = await report(Array.from({ length: 1001 }, () => finding(bot.key)));
    expect(many.status).toBe(422);
    expect(many.body.code).toBe('VALIDATION_FAILED');
    const big = await report([finding(bot.key, { url: 'u'.repeat(600 * 1024) })]);
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await authStatus(h, bot.key)).toBe(200);
  });
});

describe('an address sending bad signatures', () => {
  const strict = useHarness({ leakReportKeys: configuredKeys([{ id: KEY_ID, pem: partner.pem }]), keyFailureLimit: 3 });

  it('is answered 429 with Retry-After for the rest of the minute, before any more signatures are checked', async () => {
    const body = JSON.stringify([finding('pnb_x')]);
    const forged = { 'content-type': 'application/json', 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': signature(body, stranger.privateKey) };
    expect((await report(body, undefined, strict)).status).toBe(200);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await report(body, forged, strict)).status);
    expect(answers).toEqual([401, 401, 401, 429, 429]);
    const limited = await report(body, forged, strict);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', detail: expect.stringContaining('bad signature') });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await report(body, undefined, strict)).status).toBe(429);
    strict.clock.advance(61_000);
    expect((await report(body, undefined, strict)).status).toBe(200);
  });
});

describe('without configured partner keys', () => {
  const bare = useHarness();

  it('answers 404 LEAK_REPORTS_NOT_CONFIGURED to any report, signed or not', async () => {
    const body = JSON.stringify([finding('pnb_x')]);
    const variants: Record<string, string>[] = [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': signature(body) }];
    for (const headers of variants) {
      const res = await report(body, headers, bare);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('LEAK_REPORTS_NOT_CONFIGURED');
    }
  });
});

describe('the configured keys', () => {
  it('take the file GitHub serves (public_keys with key_identifier and PEM key) and refuse anything but P-256 ECDSA keys', () => {
    expect(parseSigningKeys(JSON.stringify({ public_keys: [{ key_identifier: 'a', key: partner.pem, is_current: true }] })).ok).toBe(true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const refusals: [unknown, RegExp][] = [
      ['not json', /not JSON/],
      [{}, /non-empty "public_keys"/],
      [{ public_keys: [{ key: partner.pem }] }, /key_identifier/],
      [{ public_keys: [{ key_identifier: 'a', key: 'nope' }] }, /not a PEM public key/],
      [{ public_keys: [{ key_identifier: 'a', key: rsa }] }, /P-256/],
      [{ public_keys: [{ key_identifier: 'a', key: p384 }] }, /P-256/],
    ];
    for (const [document, message] of refusals) {
      const parsed = parseSigningKeys(typeof document === 'string' ? document : JSON.stringify(document));
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(message);
    }
  });
});
