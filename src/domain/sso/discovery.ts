// openid-client configurations of the account providers: discovered from the issuer's
// /.well-known/openid-configuration (openid-client checks that it names the same issuer), with the
// client secret unsealed, kept for a few minutes per provider. Plain http only for a loopback issuer.
import * as client from 'openid-client';
import { fail, ok, type Result } from '../../errors.js';
import type { SsoProvidersTable } from '../../store/schema.js';
import type { SecretKeyring } from '../../secret-key.js';
import { unseal } from '../gateways/sealed.js';
import { issuerUrlProblem } from '../workload-identity/tokens.js';

const KEEP_MS = 10 * 60_000;
const TIMEOUT_SECONDS = 10;

export interface Discovery {
  configuration(provider: SsoProvidersTable, ring: SecretKeyring): Promise<Result<client.Configuration>>;
  forget(providerId: string): void;
}

const isLoopbackHttp = (issuer: string) => issuer.startsWith('http:') && issuerUrlProblem(issuer) === null;

export function discovery(): Discovery {
  const kept = new Map<string, { updated: string; until: number; config: client.Configuration }>();
  return {
    async configuration(provider, ring) {
      const hit = kept.get(provider.id);
      if (hit && hit.updated === provider.updated && hit.until > Date.now()) return ok(hit.config);
      let secret: string | undefined;
      if (provider.client_secret_sealed) {
        const opened = unseal(ring, provider.client_secret_sealed, `sso-provider:${provider.id}`);
        if (!opened.ok) return fail('SSO_SECRET_UNREADABLE');
        secret = opened.value;
      }
      try {
        const config = await client.discovery(
          new URL(provider.issuer),
          provider.client_id,
          undefined,
          secret === undefined ? client.None() : client.ClientSecretBasic(secret),
          { timeout: TIMEOUT_SECONDS, ...(isLoopbackHttp(provider.issuer) ? { execute: [client.allowInsecureRequests] } : {}) },
        );
        kept.set(provider.id, { updated: provider.updated, until: Date.now() + KEEP_MS, config });
        return ok(config);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        return fail('SSO_DISCOVERY_FAILED', `The discovery document of ${provider.issuer} could not be used: ${why}`);
      }
    },
    forget(providerId) {
      kept.delete(providerId);
    },
  };
}
