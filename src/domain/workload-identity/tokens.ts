// Verifying a workload's OIDC token against its issuer: the issuer's discovery document names its
// JWKS, whose keys jose fetches, caches and fetches again when a token names a key id it has not
// seen (a key rotation at the issuer). Only asymmetric algorithms are accepted, so `alg: none` and
// an HMAC "signed" with the issuer's public key (algorithm confusion) are refused by construction.
// Only issuers named by some trust rule are ever fetched: a token's claims alone never make
// Gatehouse reach out to a URL.
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';

export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** How far a token's `exp`/`nbf`/`iat` may be off Gatehouse's clock. */
const CLOCK_TOLERANCE_SECONDS = 30;
const FETCH_TIMEOUT_MS = 5_000;
const DISCOVERY_TTL_MS = 60 * 60 * 1000;

/** What a token claims before its signature is checked: only ever used to pick the rules to check it against. */
export function unverifiedIssuer(token: string): string | null {
  try {
    decodeProtectedHeader(token);
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' && iss ? iss : null;
  } catch {
    return null;
  }
}

/** An issuer URL Gatehouse may fetch: https, or http on the loopback interface (a local issuer). */
export function issuerUrlProblem(issuer: string): string | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'issuer must be a URL, exactly as the tokens\' `iss` claim says it (e.g. https://token.actions.githubusercontent.com)';
  }
  if (url.protocol === 'https:') return null;
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol === 'http:' && loopback) return null;
  return 'issuer must be an https URL (http only on the loopback interface, for a local issuer)';
}

export type VerifiedClaims = JWTPayload & { iss: string; sub: string; exp: number };

export type Verified = { ok: true; claims: VerifiedClaims } | { ok: false; reason: string };

export interface IssuerKeys {
  verify(token: string, issuer: string, now: Date): Promise<Verified>;
}

/** Verifies tokens against their issuers' published keys, cached per issuer. */
export function issuerKeys(options: { fetch?: typeof fetch; cooldownMs?: number } = {}): IssuerKeys {
  const doFetch = options.fetch ?? fetch;
  // At most one JWKS fetch per issuer in this long for tokens naming an unknown key id: a flood of
  // made-up key ids costs the issuer nothing.
  const cooldownDuration = options.cooldownMs ?? 30_000;
  const issuers = new Map<string, { jwks: ReturnType<typeof createRemoteJWKSet>; until: number }>();

  async function keysOf(issuer: string, now: number): Promise<ReturnType<typeof createRemoteJWKSet> | string> {
    const known = issuers.get(issuer);
    if (known && known.until > now) return known.jwks;
    const where = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await doFetch(where, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!res.ok) return `the issuer's discovery document ${where} answered ${res.status}`;
      document = (await res.json()) as typeof document;
    } catch (error) {
      return `the issuer's discovery document ${where} could not be read (${(error as Error).message})`;
    }
    if (document.issuer !== issuer) return `the issuer's discovery document names the issuer ${JSON.stringify(document.issuer)}, not ${issuer}`;
    if (typeof document.jwks_uri !== 'string') return "the issuer's discovery document has no jwks_uri";
    let jwksUrl: URL;
    try {
      jwksUrl = new URL(document.jwks_uri);
    } catch {
      return "the issuer's jwks_uri is not a URL";
    }
    if (issuerUrlProblem(jwksUrl.href) !== null) return "the issuer's jwks_uri must be https";
    const jwks = createRemoteJWKSet(jwksUrl, { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration, cacheMaxAge: 10 * 60_000 });
    issuers.set(issuer, { jwks, until: now + DISCOVERY_TTL_MS });
    return jwks;
  }

  return {
    async verify(token, issuer, now) {
      const jwks = await keysOf(issuer, now.getTime());
      if (typeof jwks === 'string') return { ok: false, reason: jwks };
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer,
          algorithms: ACCEPTED_ALGORITHMS,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: now,
          requiredClaims: ['exp', 'sub'],
        });
        return { ok: true, claims: payload as VerifiedClaims };
      } catch (error) {
        return { ok: false, reason: refusalReason(error) };
      }
    },
  };
}

/** What was wrong with a token, in words a person setting up CI can act on. */
function refusalReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired: get a new one from the issuer';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet (nbf): check the clocks';
    if (error.claim === 'iat') return 'the token was issued in the future (iat): check the clocks';
    return `the token's ${error.claim} claim is missing or wrong (${error.reason})`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return `the token's signing algorithm is not accepted (only ${ACCEPTED_ALGORITHMS.join(', ')})`;
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the issuer's JWKS matches the token's key id";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify with the issuer's keys";
  if (error instanceof errors.JWKSTimeout) return "the issuer's JWKS did not answer in time";
  if (error instanceof errors.JOSEError) return `the token is not a valid signed JWT (${error.code})`;
  return `the token could not be verified (${(error as Error).message})`;
}
