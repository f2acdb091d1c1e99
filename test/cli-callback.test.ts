// The /auth/client page's check of the Prefect CLI's callback: only the loopback interface, written
// as the CLI writes it, receives a key.
import { describe, expect, it } from 'vitest';
import { loopbackCallback } from '../web/src/cli-callback.js';

describe('loopbackCallback', () => {
  it.each([
    ['http://localhost:8765', 'http://localhost:8765'],
    ['http://localhost:8765/', 'http://localhost:8765'],
    ['http://127.0.0.1:1', 'http://127.0.0.1:1'],
    ['http://127.0.0.1:65535/', 'http://127.0.0.1:65535'],
  ])('accepts %s as %s', (raw, url) => {
    expect(loopbackCallback([raw])).toEqual({ ok: true, url });
  });

  it.each([
    ['another host', 'http://evil.example.com:8765'],
    ['a host that starts like localhost', 'http://localhost.evil.example.com:8765'],
    ['localhost with a trailing dot', 'http://localhost.:8765'],
    ['user info before localhost', 'http://localhost:8765@evil.example.com'],
    ['user info', 'http://user:pass@localhost:8765'],
    ['a short form of 127.0.0.1', 'http://127.1:8765'],
    ['a hexadecimal 127.0.0.1', 'http://0x7f000001:8765'],
    ['another loopback address', 'http://127.0.0.2:8765'],
    ['0.0.0.0', 'http://0.0.0.0:8765'],
    ['upper case', 'http://LOCALHOST:8765'],
    ['https', 'https://localhost:8765'],
    ['no port', 'http://localhost'],
    ['an empty port', 'http://localhost:'],
    ['port 0', 'http://localhost:0'],
    ['a port above 65535', 'http://localhost:65536'],
    ['a port with a leading zero', 'http://localhost:08765'],
    ['a path', 'http://localhost:8765/steal'],
    ['a query', 'http://localhost:8765?x=1'],
    ['a fragment', 'http://localhost:8765#x'],
    ['a relative path', '/api/me'],
    ['javascript:', 'javascript:alert(1)'],
    ['surrounding space', ' http://localhost:8765'],
    ['an empty value', ''],
  ])('refuses %s (%s)', (_what, raw) => {
    const check = loopbackCallback([raw]);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain('not on this computer');
  });

  it('refuses [::1], which a Content-Security-Policy cannot name, and says to use localhost', () => {
    expect(loopbackCallback(['http://[::1]:8765'])).toEqual({
      ok: false,
      reason: 'The callback is an IPv6 address ([::1]), which this page may not reach; use http://localhost:PORT, as the Prefect CLI does.',
    });
  });

  it('refuses a link without a callback, or with two', () => {
    expect(loopbackCallback([])).toEqual({ ok: false, reason: 'This login link has no callback: open the link the Prefect CLI printed, whole.' });
    const two = loopbackCallback(['http://localhost:1', 'http://localhost:2']);
    expect(two.ok).toBe(false);
    if (!two.ok) expect(two.reason).toContain('more than one callback');
  });
});
