// The issuer-key cache on its own: discovery checked against the issuer, a key rotation at the
// issuer picked up on the first token naming the new key id, and issuers fetched only when asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuerKeys, issuerUrlProblem, unverifiedIssuer } from './tokens.js';
import { startLocalIssuer, type LocalIssuer } from '../../../test/support/oidc-issuer.js';

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await startLocalIssuer();
});
afterAll(() => issuer?.close());

describe('issuer keys', () => {
  it('verify a token of the current key, and after a rotation one of the new key (one more JWKS fetch)', async () => {
    const keys = issuerKeys({ cooldownMs: 0 });
    const first = await keys.verify(await issuer.token({ sub: 's', aud: 'a' }), issuer.issuer, new Date());
    expect(first).toMatchObject({ ok: true, claims: { sub: 's', iss: issuer.issuer } });
    const fetched = issuer.jwksFetches();
    expect((await keys.verify(await issuer.token({ sub: 's', aud: 'a' }), issuer.issuer, new Date())).ok).toBe(true);
    expect(issuer.jwksFetches()).toBe(fetched);
    await issuer.rotate(false);
    expect((await keys.verify(await issuer.token({ sub: 's', aud: 'a' }), issuer.issuer, new Date())).ok).toBe(true);
    expect(issuer.jwksFetches()).toBe(fetched + 1);
  });

  it('refuse an issuer whose discovery document names another issuer', async () => {
    const keys = issuerKeys();
    const verified = await keys.verify(await issuer.token({ sub: 's' }), `${issuer.issuer}/`, new Date());
    expect(verified).toEqual({ ok: false, reason: `the issuer's discovery document names the issuer "${issuer.issuer}", not ${issuer.issuer}/` });
  });

  it('read the issuer of a token without trusting it, and judge issuer URLs', () => {
    expect(unverifiedIssuer('a.b.c')).toBeNull();
    expect(issuerUrlProblem('https://token.actions.githubusercontent.com')).toBeNull();
    expect(issuerUrlProblem('http://127.0.0.1:8080')).toBeNull();
    expect(issuerUrlProblem('http://issuer.internal')).toContain('https');
    expect(issuerUrlProblem('not a url')).toContain('must be a URL');
  });
});
