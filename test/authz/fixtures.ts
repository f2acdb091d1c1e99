// One world for the authorization matrix: account A with a caller of every kind, account B with its
// own objects, and for every route the request that would succeed for an allowed caller. Setup
// goes through the domain services (the one write path); only account memberships are written
// straight to the store, to give a caller an exact role in one step.
import { randomBytes, randomUUID } from 'node:crypto';
import { startHarness, type Harness } from '../support/harness.js';
import { ACCOUNT_ROLE_IDS } from '../../src/authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import { SYSTEM_ACTOR, type OpContext } from '../../src/domain/context.js';
import type { Result } from '../../src/errors.js';
import { createSession } from '../../src/domain/sessions/service.js';
import { CUSTOM_ROLE, type Caller } from './policy.js';
import { closedPort } from '../support/ports.js';

/** The objects of one account that path parameters can name. */
export interface Side {
  account_id: string;
  workspace_id: string;
  /** The user named by `/api/users/:user_id` (in A: `member`; in B: B's Owner). */
  user_id: string;
  user_api_key_id: string;
  bot_id: string;
  bot_api_key_id: string;
  account_role_id: string;
  account_membership_id: string;
  workspace_role_id: string;
  user_access_id: string;
  bot_access_id: string;
  /** A pending invitation. */
  invitation_id: string;
  /** A browser session of a user of this side (in A, `member`'s; cells terminate fresh ones). */
  session_id: string;
  /** A trust rule of `bot_id` (workload identity). */
  rule_id: string;
  /** A webhook endpoint (to a closed port on 127.0.0.1). */
  webhook_id: string;
  /** An OpenID Connect provider (its issuer a closed port on 127.0.0.1). */
  provider_id: string;
  /** An email domain of the account. */
  domain_id: string;
  /** A team with a member (no caller) and a grant on this side's workspace. */
  team_id: string;
  /** The actor id of `team_id`'s member. */
  actor_id: string;
  /** A SCIM token of this side (the matrix's callers hold API keys, which SCIM refuses). */
  scim_token_id: string;
  /** `team_id` as a SCIM Group. */
  group_id: string;
}

interface User {
  userId: string;
  actorId: string;
  key: string;
}

type Grant = { principalId: string; workspaceRoleId: string };

export interface World {
  h: Harness;
  keys: Record<Caller, string | null>;
  a: Side;
  b: Side;
  /** A workspace of A that no one has been granted: only account Owners and Admins reach it. */
  hiddenWorkspaceId: string;
  /** The caller acting as the user of each side's `/api/users/:user_id` routes. */
  selfKey: { a: string; b: string };
  // Targets the per-cell preparations re-create.
  spare: User;
  grantee: User;
  revokableBotId: string;
  wGrants: { users: Grant[]; bots: Grant[] };
  /** The code of A's `invitation_id`, for the public preview. */
  inviteCode: string;
  /** A user with a password, for sign-in cells; no caller, so no cell changes their password. */
  signer: { email: string; password: string };
  /** Each side's SCIM token: what the tenant isolation tests present on SCIM routes. */
  scimToken: { a: string; b: string };
}

/** The password every password-change cell sets, and so the one it must send as current. */
export const MATRIX_PASSWORD = 'matrix-password-0001';

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}-${randomBytes(2).toString('hex')}`;

function unwrap<T>(what: string, result: Result<T>): T {
  if (!result.ok) throw new Error(`fixture: ${what} failed: ${result.code} ${result.detail ?? ''}`);
  return result.value;
}

const ctx = (h: Harness): OpContext => ({ actor: SYSTEM_ACTOR, requestId: null, now: h.clock.now() });

/** A new user with a `pnu_` key: bootstrap gives them a throwaway account of their own. */
async function newUser(h: Harness): Promise<User> {
  const email = `${unique('user')}@example.com`;
  const own = await h.bootstrap(undefined, email);
  await withPassword(h, email);
  const row = await h.handle.store.db.selectFrom('users').select('actor_id').where('id', '=', own.userId).executeTakeFirstOrThrow();
  return { userId: own.userId, actorId: row.actor_id, key: own.key };
}

/** Every user caller has MATRIX_PASSWORD, set the operator's way, so password changes can be tried. */
async function withPassword(h: Harness, email: string): Promise<void> {
  unwrap('set password', await h.app.services.sessions.setPassword(ctx(h), email, MATRIX_PASSWORD));
}

/** Makes `user` a member of `accountId` with `role`, replacing any membership it had there. */
async function join(h: Harness, accountId: string, user: User, role: keyof typeof ACCOUNT_ROLE_IDS): Promise<string> {
  const db = h.handle.store.db;
  await db.deleteFrom('account_memberships').where('account_id', '=', accountId).where('actor_id', '=', user.actorId).execute();
  const id = randomUUID();
  const now = h.clock.now().toISOString();
  await db
    .insertInto('account_memberships')
    .values({ id, account_id: accountId, actor_id: user.actorId, user_id: user.userId, bot_id: null, account_role_id: ACCOUNT_ROLE_IDS[role], created: now, updated: now })
    .execute();
  return id;
}

async function newBot(h: Harness, accountId: string, name = unique('bot')) {
  const bot = unwrap('create service account', await h.app.services.serviceAccounts.create(ctx(h), accountId, { name }));
  return { id: bot.id, actorId: bot.actor_id, key: bot.api_key.key, keyId: bot.api_key.id };
}

const RULE = { issuer: 'https://issuer.example.com', audience: 'gatehouse', subject_pattern: 'repo:acme/flows:*' };

async function newRule(h: Harness, accountId: string, botId: string) {
  return unwrap('create trust rule', await h.app.services.workloadIdentity.create(ctx(h), accountId, botId, RULE)).id;
}

async function newWorkspace(h: Harness, accountId: string) {
  const handle = unique('ws');
  return unwrap('create workspace', await h.app.services.workspaces.create(ctx(h), accountId, { name: handle, handle })).id;
}

async function grantBots(h: Harness, accountId: string, workspaceId: string, grants: Grant[]) {
  return unwrap('grant bot access', await h.app.services.access.upsertBotAccess(ctx(h), accountId, workspaceId, grants));
}

async function grantUsers(h: Harness, accountId: string, workspaceId: string, grants: Grant[]) {
  return unwrap('grant user access', await h.app.services.access.upsertUserAccess(ctx(h), accountId, workspaceId, grants));
}

/** A session of `userId`, as a sign-in would create it (without paying for a password check). */
async function newSession(h: Harness, userId: string): Promise<string> {
  const session = await h.handle.store.db
    .transaction()
    .execute((tx) => createSession(tx, userId, { ip: null, userAgent: 'matrix' }, h.clock.now(), 3600));
  return session.session_id;
}

async function newInvitation(h: Harness, accountId: string) {
  const email = `${unique('invitee')}@example.com`;
  return unwrap('create invitation', await h.app.services.invitations.create(ctx(h), accountId, { email, account_role_id: ACCOUNT_ROLE_IDS.Member }));
}

/** Nothing listens there: a test send is refused at once, and nothing leaves this machine. */
const WEBHOOK_URL = 'http://127.0.0.1:9/matrix-hook';

async function newScimToken(h: Harness, accountId: string) {
  return unwrap('create SCIM token', await h.app.services.scimTokens.create(ctx(h), accountId, { name: unique('scim') }));
}

async function newWebhook(h: Harness, accountId: string) {
  return unwrap('create webhook', await h.app.services.notices.create(ctx(h), accountId, { url: WEBHOOK_URL })).id;
}

/** Nothing answers there either: discovery fails at once. */
const SSO_ISSUER = 'http://127.0.0.1:9';

async function newProvider(h: Harness, accountId: string) {
  return unwrap('create provider', await h.app.services.sso.createProvider(ctx(h), accountId, { display_name: unique('idp'), issuer: SSO_ISSUER, client_id: 'matrix' })).id;
}

/** Each side's one domain (setting the list again keeps it, and its id). */
const domainOf = (side: 'a' | 'b') => `${side}-matrix.test`;

async function newDomain(h: Harness, accountId: string, side: 'a' | 'b') {
  const [row] = unwrap('set domains', await h.app.services.sso.setDomains(ctx(h), accountId, { domain_names: [domainOf(side)] }));
  return row.id;
}

/** A team of `accountId` with `member` in it and a Viewer grant on `workspaceId`. */
async function newTeam(h: Harness, accountId: string, workspaceId: string, member: { userId?: string; botId?: string }) {
  const svc = h.app.services.teams;
  const team = unwrap('create team', await svc.create(ctx(h), accountId, { name: unique('team') }));
  const memberInput = member.userId ? { member_id: member.userId, member_type: 'user' as const } : { member_id: member.botId!, member_type: 'service_account' as const };
  const filled = unwrap('add team member', await svc.addMembers(ctx(h), accountId, team.id, [memberInput]));
  unwrap('grant team access', await svc.upsertTeamAccess(ctx(h), accountId, workspaceId, [{ team_id: team.id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }]));
  return { id: team.id, actorId: filled.memberships[0]!.id };
}

async function userKeyId(h: Harness, userId: string): Promise<string> {
  const row = await h.handle.store.db.selectFrom('api_keys').select('id').where('user_id', '=', userId).orderBy('created').executeTakeFirstOrThrow();
  return row.id;
}

/** Any valid key with one checksum character changed: well-formed, but the checksum is wrong. */
function breakChecksum(key: string): string {
  const last = key.at(-1)!;
  return key.slice(0, -1) + (last === 'a' ? 'b' : 'a');
}

export async function buildWorld(): Promise<World> {
  const h = await startHarness();
  const svc = h.app.services;
  const ownerA = await h.bootstrap();
  const ownerB = await h.bootstrap();
  for (const owner of [ownerA, ownerB]) {
    const row = await h.handle.store.db.selectFrom('users').select('email').where('id', '=', owner.userId).executeTakeFirstOrThrow();
    await withPassword(h, row.email);
  }
  const A = ownerA.accountId;

  const [admin, member, memberViewer, spare, grantee] = [await newUser(h), await newUser(h), await newUser(h), await newUser(h), await newUser(h)];
  await join(h, A, admin, 'Admin');
  const memberMembership = await join(h, A, member, 'Member');
  await join(h, A, memberViewer, 'Member');
  await join(h, A, grantee, 'Member');

  const W = await newWorkspace(h, A);
  const hidden = await newWorkspace(h, A);
  const custom = unwrap(
    'create custom role',
    await svc.roles.createWorkspaceRole(ctx(h), A, { name: CUSTOM_ROLE.name, scopes: [...CUSTOM_ROLE.scopes], inherited_role_id: WORKSPACE_ROLE_IDS[CUSTOM_ROLE.inheritsFrom] }),
  );
  const targetRole = unwrap('create target role', await svc.roles.createWorkspaceRole(ctx(h), A, { name: 'matrix-target', scopes: ['see_flows'] }));

  const roleOf: Record<string, string> = {
    bot_owner: WORKSPACE_ROLE_IDS.Owner,
    bot_developer: WORKSPACE_ROLE_IDS.Developer,
    bot_runner: WORKSPACE_ROLE_IDS.Runner,
    bot_viewer: WORKSPACE_ROLE_IDS.Viewer,
    bot_worker: WORKSPACE_ROLE_IDS.Worker,
    bot_custom: custom.id,
  };
  const botKeys: Record<string, string> = {};
  const botGrants: Grant[] = [];
  for (const [caller, roleId] of Object.entries(roleOf)) {
    const bot = await newBot(h, A, caller);
    botKeys[caller] = bot.key;
    botGrants.push({ principalId: bot.id, workspaceRoleId: roleId });
  }
  const botNone = await newBot(h, A, 'bot_none');
  const userGrants: Grant[] = [{ principalId: memberViewer.userId, workspaceRoleId: WORKSPACE_ROLE_IDS.Viewer }];
  await grantBots(h, A, W, botGrants);
  const [viewerAccess] = await grantUsers(h, A, W, userGrants);

  const targetBot = await newBot(h, A, 'matrix-target');
  const [targetBotAccess] = await grantBots(h, A, W, [{ principalId: targetBot.id, workspaceRoleId: WORKSPACE_ROLE_IDS.Viewer }]);
  const revokable = await newBot(h, A, 'matrix-revokable');

  // A key that certainly worked, with Developer access, before its service account was deleted.
  const removed = await newBot(h, A, 'matrix-removed');
  await grantBots(h, A, W, [{ principalId: removed.id, workspaceRoleId: WORKSPACE_ROLE_IDS.Developer }]);
  const before = await h.request('GET', `/api/accounts/${A}/workspaces/${W}`, { key: removed.key });
  if (before.status !== 200) throw new Error(`fixture: removed_bot's key did not work before removal (${before.status})`);
  unwrap('remove service account', await svc.serviceAccounts.remove(ctx(h), A, removed.id));

  // Account B: a workspace, a service account with access to it, a user grant, a custom role.
  const B = ownerB.accountId;
  const WB = await newWorkspace(h, B);
  const botB = await newBot(h, B, 'b-bot');
  const [botBAccess] = await grantBots(h, B, WB, [{ principalId: botB.id, workspaceRoleId: WORKSPACE_ROLE_IDS.Developer }]);
  const [ownerBAccess] = await grantUsers(h, B, WB, [{ principalId: ownerB.userId, workspaceRoleId: WORKSPACE_ROLE_IDS.Owner }]);
  const roleB = unwrap('create B role', await svc.roles.createWorkspaceRole(ctx(h), B, { name: 'b-role', scopes: ['see_flows'] }));
  const botBMembership = await h.handle.store.db.selectFrom('account_memberships').select('id').where('bot_id', '=', botB.id).executeTakeFirstOrThrow();
  // B's session belongs to a member of B who is no caller, so no cell (a password change as
  // other_owner ends all of that user's sessions) can make it vanish.
  const bSessionUser = await newUser(h);
  await join(h, B, bSessionUser, 'Member');
  // Teams: in A, of `grantee` (no caller, so no caller's scopes change); in B, of B's service account.
  const teamA = await newTeam(h, A, W, { userId: grantee.userId });
  const teamB = await newTeam(h, B, WB, { botId: botB.id });
  const scimA = await newScimToken(h, A);
  const scimB = await newScimToken(h, B);

  const signerUser = await newUser(h);
  const signerRow = await h.handle.store.db.selectFrom('users').select('email').where('id', '=', signerUser.userId).executeTakeFirstOrThrow();
  const signer = { email: signerRow.email, password: MATRIX_PASSWORD };

  const invitationA = await newInvitation(h, A);
  const invitationB = await newInvitation(h, B);

  return {
    h,
    keys: {
      anonymous: null,
      malformed: breakChecksum(ownerA.key),
      removed_bot: removed.key,
      owner: ownerA.key,
      admin: admin.key,
      member: member.key,
      member_viewer: memberViewer.key,
      bot_owner: botKeys.bot_owner,
      bot_developer: botKeys.bot_developer,
      bot_runner: botKeys.bot_runner,
      bot_viewer: botKeys.bot_viewer,
      bot_worker: botKeys.bot_worker,
      bot_custom: botKeys.bot_custom,
      bot_none: botNone.key,
      other_owner: ownerB.key,
    },
    a: {
      account_id: A,
      workspace_id: W,
      user_id: member.userId,
      user_api_key_id: await userKeyId(h, member.userId),
      bot_id: targetBot.id,
      bot_api_key_id: targetBot.keyId,
      account_role_id: ACCOUNT_ROLE_IDS.Member,
      account_membership_id: memberMembership,
      workspace_role_id: targetRole.id,
      user_access_id: viewerAccess.id,
      bot_access_id: targetBotAccess.id,
      invitation_id: invitationA.id,
      session_id: await newSession(h, member.userId),
      rule_id: await newRule(h, A, targetBot.id),
      webhook_id: await newWebhook(h, A),
      provider_id: await newProvider(h, A),
      domain_id: await newDomain(h, A, 'a'),
      team_id: teamA.id,
      actor_id: teamA.actorId,
      scim_token_id: scimA.id,
      group_id: teamA.id,
    },
    b: {
      account_id: B,
      workspace_id: WB,
      user_id: ownerB.userId,
      user_api_key_id: await userKeyId(h, ownerB.userId),
      bot_id: botB.id,
      bot_api_key_id: botB.keyId,
      // B has no account roles of its own (only the shared built-ins), so B's "role" is one that
      // exists nowhere: the answer must be the same 404.
      account_role_id: randomUUID(),
      account_membership_id: botBMembership.id,
      workspace_role_id: roleB.id,
      user_access_id: ownerBAccess.id,
      bot_access_id: botBAccess.id,
      invitation_id: invitationB.id,
      session_id: await newSession(h, bSessionUser.userId),
      rule_id: await newRule(h, B, botB.id),
      webhook_id: await newWebhook(h, B),
      provider_id: await newProvider(h, B),
      domain_id: await newDomain(h, B, 'b'),
      team_id: teamB.id,
      actor_id: teamB.actorId,
      scim_token_id: scimB.id,
      group_id: teamB.id,
    },
    hiddenWorkspaceId: hidden,
    selfKey: { a: member.key, b: ownerB.key },
    spare,
    grantee,
    revokableBotId: revokable.id,
    wGrants: { users: userGrants, bots: botGrants },
    inviteCode: invitationA.code,
    signer,
    scimToken: { a: scimA.token, b: scimB.token },
  };
}

/** The value of path parameter `name` on `side` for the route `key`. */
export function paramValue(side: Side, key: string, name: string): string {
  if (name === 'api_key_id') return key.includes('/api/users/') ? side.user_api_key_id : side.bot_api_key_id;
  if (name === 'access_id') return key.includes('/user_access/') ? side.user_access_id : side.bot_access_id;
  const value = (side as unknown as Record<string, string>)[name];
  if (!value) throw new Error(`fixture: no value for :${name} in ${key}`);
  return value;
}

export const pathParams = (url: string): string[] => [...url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]);

export function fillUrl(url: string, params: Record<string, string>): string {
  return url.replace(/:([A-Za-z_]+)/g, (_, name: string) => encodeURIComponent(params[name]));
}

export interface CellRequest {
  params: Record<string, string>;
  body?: unknown;
  /** Query parameters, appended by the matrix after the path. */
  query?: Record<string, string>;
}

/** The path and query one cell sends. */
export function cellUrl(path: string, req: CellRequest): string {
  return req.query ? `${path}?${new URLSearchParams(req.query)}` : path;
}

type Prepare = (w: World) => Promise<Partial<CellRequest>>;
const ACCOUNT = '/api/accounts/:account_id';
const WS = `${ACCOUNT}/workspaces/:workspace_id`;
const SCIM = `${ACCOUNT}/scim/v2`;

/**
 * Routes whose success depends on state: each call gets a fresh target (or an idempotent body),
 * so that no cell depends on what an earlier cell did, whatever the order.
 */
export const PREPARE: Record<string, Prepare> = {
  'PATCH /api/users/:user_id': async () => ({ body: { first_name: 'Matrix' } }),
  // A fresh pending email each time: the code the mail would carry, as the user confirms it.
  'POST /api/users/:user_id/email_change/confirm': async (w) => {
    const requested = unwrap('request an email change', await w.h.app.services.users.update(ctx(w.h), w.a.user_id, { email: `${unique('new')}@example.com` }, { canVerifyEmail: true }));
    return { body: { code: requested.emailChange!.code } };
  },
  'POST /api/users/:user_id/api_keys': async () => ({ body: { name: unique('key') } }),
  'DELETE /api/users/:user_id/api_keys/:api_key_id': async (w) => {
    const key = unwrap('create user key', await w.h.app.services.apiKeys.createUserKey(ctx(w.h), w.a.user_id, { name: unique('key') }));
    return { params: { api_key_id: key.id } };
  },
  [`PATCH ${ACCOUNT}`]: async () => ({ body: { link: 'https://example.com/matrix' } }),
  [`PUT ${ACCOUNT}/key_policy`]: async () => ({ body: { max_rotation_grace_seconds: null } }),
  [`PATCH ${ACCOUNT}/settings`]: async () => ({ body: { ai_log_summaries: false } }),
  [`PUT ${ACCOUNT}/ip_allowlist`]: async () => ({ body: { entries: [] } }),
  [`POST ${ACCOUNT}/webhooks`]: async () => ({ body: { url: WEBHOOK_URL } }),
  [`POST ${ACCOUNT}/sso/providers`]: async () => ({ body: { display_name: unique('idp'), issuer: SSO_ISSUER, client_id: 'matrix' } }),
  [`PATCH ${ACCOUNT}/sso/providers/:provider_id`]: async () => ({ body: { display_name: unique('idp') } }),
  [`DELETE ${ACCOUNT}/sso/providers/:provider_id`]: async (w) => ({ params: { provider_id: await newProvider(w.h, w.a.account_id) } }),
  [`PUT ${ACCOUNT}/sso/settings`]: async () => ({ body: { default_account_role_id: ACCOUNT_ROLE_IDS.Member } }),
  [`PATCH ${ACCOUNT}/domains`]: async () => ({ body: { domain_names: [domainOf('a')] } }),
  'GET /api/auth/sso/discover': async () => ({ query: { account: 'no-such-account' } }),
  [`PATCH ${ACCOUNT}/webhooks/:webhook_id`]: async () => ({ body: { description: 'matrix' } }),
  [`DELETE ${ACCOUNT}/webhooks/:webhook_id`]: async (w) => ({ params: { webhook_id: await newWebhook(w.h, w.a.account_id) } }),
  [`PATCH ${ACCOUNT}/account_memberships/:account_membership_id`]: async (w) => ({
    params: { account_membership_id: await join(w.h, w.a.account_id, w.spare, 'Member') },
    body: { account_role_id: ACCOUNT_ROLE_IDS.Admin },
  }),
  [`DELETE ${ACCOUNT}/account_memberships/:account_membership_id`]: async (w) => ({
    params: { account_membership_id: await join(w.h, w.a.account_id, w.spare, 'Member') },
  }),
  [`POST ${ACCOUNT}/bots/`]: async () => ({ body: { name: unique('new-bot') } }),
  [`PATCH ${ACCOUNT}/bots/:bot_id`]: async () => ({ body: { name: unique('renamed') } }),
  [`DELETE ${ACCOUNT}/bots/:bot_id`]: async (w) => ({ params: { bot_id: (await newBot(w.h, w.a.account_id)).id } }),
  [`POST ${ACCOUNT}/bots/:bot_id/rotate_api_key`]: async () => ({ body: {} }),
  [`POST ${ACCOUNT}/bots/:bot_id/trust_rules/`]: async () => ({ body: RULE }),
  [`PATCH ${ACCOUNT}/bots/:bot_id/trust_rules/:rule_id`]: async () => ({ body: { description: unique('rule') } }),
  [`DELETE ${ACCOUNT}/bots/:bot_id/trust_rules/:rule_id`]: async (w) => ({ params: { rule_id: await newRule(w.h, w.a.account_id, w.a.bot_id) } }),
  // No issuer in a token that is not one: refused for everyone, without a lookup.
  'POST /api/oauth/token': async (w) => ({
    body: { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'not-a-jwt', subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', audience: w.a.bot_id },
  }),
  [`DELETE ${ACCOUNT}/bots/:bot_id/delete_bot_api_key/:api_key_id`]: async (w) => {
    const bot = await newBot(w.h, w.a.account_id);
    return { params: { bot_id: bot.id, api_key_id: bot.keyId } };
  },
  [`POST ${ACCOUNT}/workspaces/`]: async () => {
    const handle = unique('new-ws');
    return { body: { name: handle, handle } };
  },
  [`PATCH ${WS}`]: async () => ({ body: { description: 'changed by the matrix' } }),
  [`PUT ${WS}/gateway`]: async () => ({ body: { upstream_url: 'http://prefect.invalid:4200/api', upstream_auth_string: 'matrix:secret' } }),
  // W forwards to a port nothing listens on: the check answers 200 (reachable: false) at once.
  [`POST ${WS}/gateway/check`]: async (w) => {
    unwrap('set gateway', await w.h.app.services.gateways.set(ctx(w.h), w.a.account_id, w.a.workspace_id, { upstream_url: `http://127.0.0.1:${await closedPort()}/api` }));
    return {};
  },
  // A workspace every caller reaches exactly as it reaches W, to be deleted instead of W.
  [`DELETE ${WS}`]: async (w) => {
    const id = await newWorkspace(w.h, w.a.account_id);
    await grantBots(w.h, w.a.account_id, id, w.wGrants.bots);
    await grantUsers(w.h, w.a.account_id, id, w.wGrants.users);
    return { params: { workspace_id: id } };
  },
  [`POST ${ACCOUNT}/workspace_roles/`]: async () => ({ body: { name: unique('role'), scopes: ['see_flows'] } }),
  [`PATCH ${ACCOUNT}/workspace_roles/:workspace_role_id`]: async () => ({ body: { description: 'changed by the matrix' } }),
  [`DELETE ${ACCOUNT}/workspace_roles/:workspace_role_id`]: async (w) => {
    const role = unwrap('create role', await w.h.app.services.roles.createWorkspaceRole(ctx(w.h), w.a.account_id, { name: unique('doomed') }));
    return { params: { workspace_role_id: role.id } };
  },
  [`POST ${WS}/user_access/`]: async (w) => ({ body: { user_id: w.grantee.userId, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer } }),
  [`DELETE ${WS}/user_access/:access_id`]: async (w) => {
    const [row] = await grantUsers(w.h, w.a.account_id, w.a.workspace_id, [{ principalId: w.grantee.userId, workspaceRoleId: WORKSPACE_ROLE_IDS.Viewer }]);
    return { params: { access_id: row.id } };
  },
  [`POST ${WS}/bot_access/`]: async (w) => ({ body: { bot_id: w.a.bot_id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer } }),
  [`DELETE ${WS}/bot_access/:access_id`]: async (w) => {
    const [row] = await grantBots(w.h, w.a.account_id, w.a.workspace_id, [{ principalId: w.revokableBotId, workspaceRoleId: WORKSPACE_ROLE_IDS.Viewer }]);
    return { params: { access_id: row.id } };
  },
  [`POST ${ACCOUNT}/teams/`]: async () => ({ body: { name: unique('team'), description: null } }),
  [`PUT ${ACCOUNT}/teams/:team_id`]: async () => ({ body: { name: unique('team'), description: 'renamed by the matrix' } }),
  [`DELETE ${ACCOUNT}/teams/:team_id`]: async (w) => ({ params: { team_id: (await newTeam(w.h, w.a.account_id, w.a.workspace_id, { userId: w.grantee.userId })).id } }),
  [`PUT ${ACCOUNT}/teams/:team_id/members`]: async (w) => ({ body: { members: [{ member_id: w.grantee.userId, member_type: 'user' }] } }),
  [`DELETE ${ACCOUNT}/teams/:team_id/members/:actor_id`]: async (w) => {
    const team = await newTeam(w.h, w.a.account_id, w.a.workspace_id, { userId: w.grantee.userId });
    return { params: { team_id: team.id, actor_id: team.actorId } };
  },
  [`PUT ${WS}/team_access/`]: async (w) => ({ body: [{ team_id: w.a.team_id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }] }),
  [`DELETE ${WS}/team_access/:team_id`]: async (w) => ({ params: { team_id: (await newTeam(w.h, w.a.account_id, w.a.workspace_id, { userId: w.grantee.userId })).id } }),

  [`POST ${ACCOUNT}/scim_tokens`]: async () => ({ body: { name: unique('scim') } }),
  [`DELETE ${ACCOUNT}/scim_tokens/:scim_token_id`]: async (w) => ({ params: { scim_token_id: (await newScimToken(w.h, w.a.account_id)).id } }),
  // Bodies that would succeed, so that a refusal is about who asks or what the path names.
  [`POST ${SCIM}/Users`]: async () => ({ body: { userName: `${unique('scim')}@example.com` } }),
  [`PUT ${SCIM}/Users/:user_id`]: async () => ({ body: { userName: `${unique('scim')}@example.com` } }),
  [`PATCH ${SCIM}/Users/:user_id`]: async () => ({ body: { Operations: [{ op: 'replace', path: 'name.givenName', value: 'Matrix' }] } }),
  [`POST ${SCIM}/Groups`]: async () => ({ body: { displayName: unique('group') } }),
  [`PUT ${SCIM}/Groups/:group_id`]: async () => ({ body: { displayName: unique('group') } }),
  [`PATCH ${SCIM}/Groups/:group_id`]: async () => ({ body: { Operations: [{ op: 'replace', path: 'displayName', value: unique('group') }] } }),

  'POST /api/auth/login': async (w) => ({ body: { email: w.signer.email, password: w.signer.password } }),
  // A well-formed request: the refusal must be SETUP_DONE, not a validation error.
  'POST /api/setup': async () => ({
    body: { token: 'not-a-real-token', account_name: 'Matrix', account_handle: unique('setup'), email: `${unique('setup')}@example.com`, password: MATRIX_PASSWORD },
  }),
  // A fresh session of `member` (A's user_id): only `member` may end it.
  'POST /api/me/sessions/:session_id/terminate': async (w) => ({ params: { session_id: await newSession(w.h, w.a.user_id) } }),
  // Sending the password as current works whether or not the user has one yet, so every cell succeeds.
  'POST /api/me/password': async () => ({ body: { current_password: MATRIX_PASSWORD, new_password: MATRIX_PASSWORD } }),
  [`POST ${ACCOUNT}/invitations/`]: async () => ({ body: { email: `${unique('invitee')}@example.com`, account_role_id: ACCOUNT_ROLE_IDS.Member } }),
  [`POST ${ACCOUNT}/invitations/:invitation_id/revoke`]: async (w) => ({ params: { invitation_id: (await newInvitation(w.h, w.a.account_id)).id } }),
  'GET /api/invitations/:invitation_id': async (w) => ({ query: { invite_code: w.inviteCode } }),
  // An invitation of someone new: accepting needs only the code and a password, whoever asks.
  'POST /api/invitations/:invitation_id/accept': async (w) => {
    const invitation = await newInvitation(w.h, w.a.account_id);
    return { params: { invitation_id: invitation.id }, query: { invite_code: invitation.code }, body: { password: MATRIX_PASSWORD } };
  },
};

/** The request for one cell of `route` on account A: valid ids, and a body that would succeed. */
export async function prepareCell(w: World, route: { method: string; url: string }): Promise<CellRequest> {
  const key = `${route.method} ${route.url}`;
  const params: Record<string, string> = {};
  for (const name of pathParams(route.url)) params[name] = paramValue(w.a, key, name);
  const extra = PREPARE[key] ? await PREPARE[key](w) : {};
  const body = extra.body ?? (route.method === 'POST' ? {} : undefined);
  return { params: { ...params, ...extra.params }, body, query: extra.query };
}

/** Every row an account owns, as plain data: compared before and after to prove nothing changed. */
export async function snapshotAccount(h: Harness, accountId: string) {
  const db = h.handle.store.db;
  const bots = await db.selectFrom('bots').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  const workspaces = await db.selectFrom('workspaces').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  const memberships = await db.selectFrom('account_memberships').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  const userIds = memberships.flatMap((m) => (m.user_id ? [m.user_id] : []));
  const wsIds = workspaces.map((x) => x.id);
  const botIds = bots.map((b) => b.id);
  const teams = await db.selectFrom('teams').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  const teamIds = teams.map((t) => t.id);
  return {
    teams,
    teamMembers: teamIds.length ? await db.selectFrom('team_members').selectAll().where('team_id', 'in', teamIds).orderBy('team_id').orderBy('actor_id').execute() : [],
    teamAccess: teamIds.length ? await db.selectFrom('team_access').selectAll().where('team_id', 'in', teamIds).orderBy('id').execute() : [],
    account: await db.selectFrom('accounts').selectAll().where('id', '=', accountId).execute(),
    bots,
    workspaces,
    memberships,
    users: userIds.length ? await db.selectFrom('users').selectAll().where('id', 'in', userIds).orderBy('id').execute() : [],
    roles: await db.selectFrom('workspace_roles').selectAll().where('account_id', '=', accountId).orderBy('id').execute(),
    access: wsIds.length ? await db.selectFrom('workspace_access').selectAll().where('workspace_id', 'in', wsIds).orderBy('id').execute() : [],
    keys: await db
      .selectFrom('api_keys')
      .selectAll()
      .where((eb) => eb.or([eb('bot_id', 'in', botIds.length ? botIds : ['']), eb('user_id', 'in', userIds.length ? userIds : [''])]))
      .orderBy('id')
      .execute(),
    audit: await db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).orderBy('id').execute(),
    invitations: await db.selectFrom('invitations').selectAll().where('account_id', '=', accountId).orderBy('id').execute(),
    webhooks: await db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).orderBy('id').execute(),
    keyPolicy: await db.selectFrom('account_key_policies').selectAll().where('account_id', '=', accountId).execute(),
    ssoProviders: await db.selectFrom('sso_providers').selectAll().where('account_id', '=', accountId).orderBy('id').execute(),
    domains: await db.selectFrom('account_domains').selectAll().where('account_id', '=', accountId).orderBy('id').execute(),
    ssoSettings: await db.selectFrom('account_sso_settings').selectAll().where('account_id', '=', accountId).execute(),
    sessions: userIds.length ? await db.selectFrom('sessions').selectAll().where('user_id', 'in', userIds).orderBy('id').execute() : [],
  };
}

/** Every id an account's rows carry (objects, actors, keys, audit events). */
export async function idsOf(h: Harness, accountId: string): Promise<Set<string>> {
  const s = await snapshotAccount(h, accountId);
  const ids = new Set<string>([accountId]);
  for (const rows of [s.bots, s.workspaces, s.memberships, s.users, s.roles, s.access, s.keys, s.audit, s.invitations, s.sessions, s.teams, s.teamAccess] as Array<Array<Record<string, unknown>>>) {
    for (const row of rows) {
      for (const field of ['id', 'actor_id', 'user_id', 'bot_id']) if (typeof row[field] === 'string') ids.add(row[field] as string);
    }
  }
  return ids;
}
