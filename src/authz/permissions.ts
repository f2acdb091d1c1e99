// Account-level permissions and the three built-in account roles (Owner, Admin, Member), as data.

// The full enum Prefect Cloud serves from `GET /api/accounts/permissions` (47 values, from the
// Cloud OpenAPI spec). Kept sorted so role lists and API answers come out in a stable order.
export const ACCOUNT_PERMISSIONS = [
  'add:account_member',
  'administrate:sso',
  'administrate:workspace',
  'bypass:sso',
  'create:account_role',
  'create:audit_event',
  'create:bot',
  'create:invitation',
  'create:team',
  'create:workspace',
  'create:workspace_invitation',
  'create:workspace_role',
  'delete:account',
  'delete:account_membership',
  'delete:account_role',
  'delete:bot',
  'delete:mex-storage',
  'delete:team',
  'delete:workspace',
  'delete:workspace_role',
  'read:account',
  'read:account_membership',
  'read:account_role',
  'read:audit_event',
  'read:billing',
  'read:bot',
  'read:integrations',
  'read:invitation',
  'read:ip_allowlist',
  'read:mex-storage',
  'read:sso',
  'read:team',
  'read:workspace',
  'read:workspace_invitation',
  'read:workspace_role',
  'update:account',
  'update:account_membership',
  'update:account_role',
  'update:billing',
  'update:bot',
  'update:integrations',
  'update:invitation',
  'update:ip_allowlist',
  'update:mex-storage',
  'update:team',
  'update:workspace_invitation',
  'update:workspace_role',
] as const;

export type AccountPermission = (typeof ACCOUNT_PERMISSIONS)[number];

// Fixed ids so that every Gatehouse install (and every test) names the built-ins identically,
// the way Prefect Cloud's built-in roles are shared by all accounts (`account_id: null`).
export const ACCOUNT_ROLE_IDS = {
  Owner: 'a0000000-0000-4000-8000-000000000001',
  Admin: 'a0000000-0000-4000-8000-000000000002',
  Member: 'a0000000-0000-4000-8000-000000000003',
} as const;

export interface BuiltinAccountRole {
  id: string;
  name: 'Owner' | 'Admin' | 'Member';
  permissions: readonly AccountPermission[];
}

// Only the Owner may escape SSO enforcement or destroy the whole account; the docs say Admin is
// "same as Owner but cannot bypass SSO", and deleting the account is the one other act that is
// strictly above administering it (Cloud's counts, Owner 46 / Admin 44, also differ by two).
const OWNER_ONLY: ReadonlySet<AccountPermission> = new Set<AccountPermission>([
  'bypass:sso',
  'delete:account',
]);

// Each entry traces to a Member ability in the docs' role table; anything not traceable (audit
// log, billing, SSO, IP allowlist, integrations, managed-execution storage) is left out, because
// authorization is deny-by-default and those pages expose security or commercial settings.
const MEMBER_PERMISSIONS: readonly AccountPermission[] = [
  'read:account', // "view account profile settings"
  'read:account_membership', // "view account members ..."
  'read:account_role', // "... and their roles"
  'read:bot', // "view service accounts"
  'read:invitation', // pending invitations are prospective account members
  'read:team', // teams are named groups of account members
  'read:workspace', // "view workspaces you have access to" (access filtering happens per workspace)
  'read:workspace_invitation', // prospective members of the workspaces the member can see
  'read:workspace_role', // seeing a workspace means seeing which role one holds in it
];

export const BUILTIN_ACCOUNT_ROLES: readonly BuiltinAccountRole[] = [
  // Owner: every permission, including SSO bypass and account deletion (docs: full control).
  { id: ACCOUNT_ROLE_IDS.Owner, name: 'Owner', permissions: [...ACCOUNT_PERMISSIONS] },
  // Admin: Owner minus the two owner-only acts above; still manages members, bots and workspaces.
  {
    id: ACCOUNT_ROLE_IDS.Admin,
    name: 'Admin',
    permissions: ACCOUNT_PERMISSIONS.filter((p) => !OWNER_ONLY.has(p)),
  },
  // Member: read-only view of the account, its people and its service accounts; service accounts
  // are always Members, so this set is also everything a `pnb_` key can do at account level.
  { id: ACCOUNT_ROLE_IDS.Member, name: 'Member', permissions: [...MEMBER_PERMISSIONS].sort() },
];

const PERMISSION_SET: ReadonlySet<string> = new Set<string>(ACCOUNT_PERMISSIONS);

export function isAccountPermission(s: string): s is AccountPermission {
  return PERMISSION_SET.has(s);
}

/**
 * Account Owners and Admins act as workspace Owner in every workspace of their account. The grant
 * is the `administrate:workspace` permission rather than the role's name, so it stays data.
 */
export const ACTS_AS_WORKSPACE_OWNER = 'administrate:workspace';
