// A local OIDC issuer for workload identity tests: its discovery document and JWKS on 127.0.0.1,
// and tokens signed with its keys (or, for the refusal tests, with anything else).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyObject } from 'jose';

export interface LocalIssuer {
  issuer: string;
  /** A token signed with the issuer's current key; `claims` override the defaults (iss, sub, aud, iat, exp, jti). */
  token(claims: JWTPayload, options?: { now?: Date; lifetimeSeconds?: number; alg?: string; key?: KeyObject; kid?: string }): Promise<string>;
  /** Publishes a new signing key (a rotation at the issuer); the old one stays published when `keepOld`. */
  rotate(keepOld?: boolean): Promise<void>;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  close(): Promise<void>;
}

export async function startLocalIssuer(): Promise<LocalIssuer> {
  let keys: { kid: string; privateKey: KeyObject; publicJwk: JWK }[] = [];
  const addKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    keys.push({ kid, privateKey: privateKey as KeyObject, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } });
  };
  await addKey();
  let fetches = 0;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    if (req.url === '/jwks') {
      fetches++;
      return res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    async token(claims, options = {}) {
      const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
      const current = keys[keys.length - 1]!;
      return new SignJWT({ iss: issuer, jti: randomUUID(), iat: now, exp: now + (options.lifetimeSeconds ?? 300), ...claims })
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? current.kid, typ: 'JWT' })
        .sign(options.key ?? current.privateKey);
    },
    async rotate(keepOld = true) {
      if (!keepOld) keys = [];
      await addKey();
    },
    jwksFetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
