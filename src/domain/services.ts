// Every domain service, built once from the store and the clock. The HTTP API, the CLI and the
// web page all go through these: there is no second write path.
import type { Deps } from './deps.js';
import { accountService } from './accounts/service.js';
import { userService } from './users/service.js';
import { apiKeyService } from './api-keys/service.js';
import { serviceAccountService } from './service-accounts/service.js';
import { workspaceService } from './workspaces/service.js';
import { roleService } from './roles/service.js';
import { accessService } from './access/service.js';
import { membershipService } from './memberships/service.js';
import { auditService } from './audit/service.js';
import { DEFAULT_SESSION_TTL_SECONDS, sessionService } from './sessions/service.js';
import { setupService } from './setup/service.js';
import { invitationService } from './invitations/service.js';
import { gatewayService } from './gateways/service.js';
import { keyPolicyService } from './key-policies/service.js';
import { ipAllowlistService } from './ip-allowlist/service.js';
import { workloadIdentityService } from './workload-identity/service.js';
import { leakReportService } from './leak-reports/service.js';
import { noticeService } from './notices/service.js';
import { expiryScan } from './notices/expiry.js';
import { ssoService } from './sso/service.js';
import { ssoSignIn } from './sso/login.js';
import { discovery } from './sso/discovery.js';
import { teamService } from './teams/service.js';
import { scimTokenService } from './scim/tokens.js';
import { scimUserService } from './scim/users.js';
import { scimGroupService } from './scim/groups.js';
import { ephemeralSecretKey, keyring, type SecretKey, type SecretKeyring } from '../secret-key.js';

export interface ServiceOptions {
  sessionTtlSeconds?: number;
  /** Seals upstream credentials (a key, or a ring with previous keys); every process on one database needs the same. */
  secretKey?: SecretKey | SecretKeyring;
}

// Apps built without a key (tests, embedding) share one for the life of the process.
let processKey: SecretKey | undefined;

export function createServices(deps: Deps, options: ServiceOptions = {}) {
  const sessionTtlSeconds = options.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
  const ring = asKeyring(options.secretKey ?? (processKey ??= ephemeralSecretKey()));
  const ssoDiscovery = discovery();
  const teams = teamService(deps);
  return {
    accounts: accountService(deps),
    users: userService(deps),
    apiKeys: apiKeyService(deps),
    serviceAccounts: serviceAccountService(deps),
    workspaces: workspaceService(deps),
    roles: roleService(deps),
    access: accessService(deps),
    memberships: membershipService(deps),
    audit: auditService(deps),
    sessions: sessionService(deps, { ttlSeconds: sessionTtlSeconds }),
    setup: setupService(deps, { sessionTtlSeconds }),
    invitations: invitationService(deps, { sessionTtlSeconds }),
    keyPolicies: keyPolicyService(deps),
    ipAllowlist: ipAllowlistService(deps),
    workloadIdentity: workloadIdentityService(deps),
    leakReports: leakReportService(deps),
    gateways: gatewayService(deps, ring),
    notices: noticeService(deps, ring),
    noticeExpiry: expiryScan(deps),
    sso: ssoService(deps, ring, ssoDiscovery),
    ssoSignIn: ssoSignIn(deps, ring, ssoDiscovery, { sessionTtlSeconds }),
    teams,
    scimTokens: scimTokenService(deps),
    scimUsers: scimUserService(deps),
    scimGroups: scimGroupService(deps, teams),
    /** The keyring that seals upstream credentials and webhook secrets. */
    secretKeyring: ring,
  };
}

function asKeyring(keys: SecretKey | SecretKeyring): SecretKeyring {
  return 'current' in keys ? keys : keyring(keys);
}

export type Services = ReturnType<typeof createServices>;
