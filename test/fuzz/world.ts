// The data the fuzzed server holds before the fuzz starts: an account with every kind of object a
// route can name, and callers of every kind (Owner key, Member key, service-account key, browser
// session). A route that deletes gets an object of its own to delete, so that the routes fuzzed
// after it still find theirs; the callers are never among the objects any route is aimed at.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { ACCOUNT_ROLE_IDS } from '../../src/authz/permissions.js';
import { WORKSPACE_ROLE_IDS } from '../../src/authz/workspace-roles.js';
import type { Harness } from '../support/harness.js';
import { addMember, createBot, createWorkspace, grant } from '../support/members.js';
import { COOKIE, PASSWORD, setFirstPassword, signIn } from '../support/people.js';

export interface World {
  accountId: string;
  workspaceId: string;
  /** Request headers of each kind of caller. */
  callers: {
    owner: Record<string, string>;
    member: Record<string, string>;
    bot: Record<string, string>;
    browser: Record<string, string>;
    /** A session of its own for the sign-out route, so that signing out ends no other caller's. */
    signingOut: Record<string, string>;
    /** The account's SCIM token: the only caller the SCIM endpoints answer. */
    scim: Record<string, string>;
  };
  /** Every id of a real object, for bodies that should sometimes point at something. */
  realIds: string[];
  /** Path parameters of a route that name real objects. */
  params(method: string, url: string): Record<string, string>;
  /** Query parameters a route needs to get past validation. */
  query(url: string): Record<string, string>;
}

async function post(h: Harness, key: string, url: string, body: unknown): Promise<any> {
  const res = await h.request('POST', url, { key, body });
  if (res.status >= 300) throw new Error(`fuzz setup: POST ${url} answered ${res.status} ${res.text}`);
  return res.body;
}

const email = (what: string) => `${what}-${randomBytes(3).toString('hex')}@example.com`;

export async function buildWorld(h: Harness): Promise<World> {
  const owner = await h.bootstrap();
  const a = `/api/accounts/${owner.accountId}`;
  const main = await createWorkspace(h, owner.accountId, owner.key, 'main');
  const doomedWorkspace = await createWorkspace(h, owner.accountId, owner.key, 'doomed');

  // People: callers (member, admin with browser sessions) and members that routes change.
  const member = await addMember(h, owner.accountId, 'Member');
  await grant(h, owner.accountId, main.id, owner.key, { userId: member.userId }, WORKSPACE_ROLE_IDS.Viewer);
  const changed = await addMember(h, owner.accountId, 'Member');
  const changedAccess = await grant(h, owner.accountId, main.id, owner.key, { userId: changed.userId }, WORKSPACE_ROLE_IDS.Viewer);
  const doomed = await addMember(h, owner.accountId, 'Member');
  const admin = await addMember(h, owner.accountId, 'Admin');
  // Not the doomed member's: removing that membership takes its workspace access along.
  const doomedAccess = await grant(h, owner.accountId, main.id, owner.key, { userId: admin.userId }, WORKSPACE_ROLE_IDS.Viewer);
  await setFirstPassword(h, admin.email, PASSWORD);
  const session = await signIn(h, admin.email, PASSWORD);
  const doomedSession = await signIn(h, admin.email, PASSWORD);
  const signingOut = await signIn(h, admin.email, PASSWORD);
  const currentSession = async (token: string) =>
    ((await h.request('GET', '/api/me/sessions', { headers: { cookie: `${COOKIE}=${token}` } })).body as { id: string; current: boolean }[]).find((s) => s.current)!.id;
  const doomedSessionId = await currentSession(doomedSession.token);

  // Service accounts: the caller, one the routes read and change, one they delete.
  const callerBot = await createBot(h, owner.accountId, owner.key, 'caller');
  await grant(h, owner.accountId, main.id, owner.key, { botId: callerBot.id }, WORKSPACE_ROLE_IDS.Runner);
  const changedBot = await createBot(h, owner.accountId, owner.key, 'changed');
  const changedBotAccess = await grant(h, owner.accountId, main.id, owner.key, { botId: changedBot.id }, WORKSPACE_ROLE_IDS.Worker);
  const doomedBot = await createBot(h, owner.accountId, owner.key, 'doomed');
  // Not the doomed bot's key or access: deleting the bot takes them along.
  const keyedBot = await createBot(h, owner.accountId, owner.key, 'keyed');
  const doomedBotAccess = await grant(h, owner.accountId, main.id, owner.key, { botId: keyedBot.id }, WORKSPACE_ROLE_IDS.Worker);
  const keyOf = async (botId: string) => (await h.request('GET', `${a}/bots/${botId}/read_bot_api_keys`, { key: owner.key })).body.active_key.id as string;
  const changedBotKey = await keyOf(changedBot.id);
  const doomedBotKey = await keyOf(keyedBot.id);

  const userKey = await post(h, owner.key, `/api/users/${owner.userId}/api_keys`, { name: 'read' });
  const doomedUserKey = await post(h, owner.key, `/api/users/${owner.userId}/api_keys`, { name: 'doomed' });
  const role = await post(h, owner.key, `${a}/workspace_roles/`, { name: 'Custom', scopes: ['see_flows'] });
  const doomedRole = await post(h, owner.key, `${a}/workspace_roles/`, { name: 'Doomed', scopes: ['see_flows'] });
  const invitation = await post(h, owner.key, `${a}/invitations/`, { email: email('invitee'), account_role_id: ACCOUNT_ROLE_IDS.Member });
  const toAccept = await post(h, owner.key, `${a}/invitations/`, { email: email('accepting'), account_role_id: ACCOUNT_ROLE_IDS.Member });
  const acceptCode = new URLSearchParams(new URL(toAccept.accept_url).hash.slice(1)).get('invite_code')!;
  // Webhooks to a closed port (nothing is ever sent there), and trust rules of the changed bot.
  const webhook = await post(h, owner.key, `${a}/webhooks`, { url: 'http://127.0.0.1:9/hook' });
  const doomedWebhook = await post(h, owner.key, `${a}/webhooks`, { url: 'http://127.0.0.1:9/doomed' });
  const rule = { issuer: 'https://issuer.example.com', audience: 'gatehouse', subject_pattern: 'repo:acme/flows:*' };
  const trustRule = await post(h, owner.key, `${a}/bots/${changedBot.id}/trust_rules/`, rule);
  const doomedTrustRule = await post(h, owner.key, `${a}/bots/${changedBot.id}/trust_rules/`, rule);
  // Teams: one the routes read and change (with two members and a grant on main), one to delete, one whose grant is deleted.
  const team = await post(h, owner.key, `${a}/teams/`, { name: 'kept' });
  const doomedTeam = await post(h, owner.key, `${a}/teams/`, { name: 'doomed' });
  const ungrantedTeam = await post(h, owner.key, `${a}/teams/`, { name: 'ungranted' });
  const members = [changed, admin].map((m) => ({ member_id: m.userId, member_type: 'user' }));
  if ((await h.request('PUT', `${a}/teams/${team.id}/members`, { key: owner.key, body: { members } })).status !== 200) throw new Error('fuzz setup: team members');
  const grantTeams = [team, ungrantedTeam].map((t) => ({ team_id: t.id, workspace_role_id: WORKSPACE_ROLE_IDS.Viewer }));
  if ((await h.request('PUT', `${a}/workspaces/${main.id}/team_access/`, { key: owner.key, body: grantTeams })).status !== 200) throw new Error('fuzz setup: team access');

  // SCIM: a token (and one to revoke), a provisioned person and a team SCIM may delete.
  const scimToken = await post(h, owner.key, `${a}/scim_tokens`, { name: 'fuzz' });
  const doomedScimToken = await post(h, owner.key, `${a}/scim_tokens`, { name: 'doomed' });
  const scimUser = await h.request('POST', `${a}/scim/v2/Users`, { key: scimToken.token, body: { userName: email('scim') } });
  const doomedScimUser = await h.request('POST', `${a}/scim/v2/Users`, { key: scimToken.token, body: { userName: email('scim-doomed') } });
  const doomedGroup = await post(h, owner.key, `${a}/teams/`, { name: 'doomed-group' });
  if (scimUser.status !== 201 || doomedScimUser.status !== 201) throw new Error('fuzz setup: SCIM users');

  // Single sign-on: providers whose issuer is a closed port (nothing is ever fetched there), one to
  // delete, and an email domain.
  const provider = { display_name: 'IdP', issuer: 'http://127.0.0.1:9', client_id: 'fuzz' };
  const ssoProvider = await post(h, owner.key, `${a}/sso/providers`, provider);
  const doomedSsoProvider = await post(h, owner.key, `${a}/sso/providers`, { ...provider, display_name: 'Doomed IdP' });
  if ((await h.request('PATCH', `${a}/domains`, { key: owner.key, body: { domain_names: ['fuzz.example'] } })).status !== 204) throw new Error('fuzz setup: domains');
  const domain = (await h.request('GET', `${a}/domains`, { key: owner.key })).body[0] as { id: string };

  const kept: Record<string, string> = {
    account_id: owner.accountId,
    user_id: owner.userId,
    workspace_id: main.id,
    bot_id: changedBot.id,
    workspace_role_id: role.id,
    account_role_id: ACCOUNT_ROLE_IDS.Member,
    account_membership_id: changed.membershipId,
    session_id: doomedSessionId,
    invitation_id: invitation.id,
    webhook_id: webhook.id,
    rule_id: trustRule.id,
    team_id: team.id,
    actor_id: changed.actorId,
    scim_token_id: scimToken.id,
    group_id: team.id,
    provider_id: ssoProvider.id,
    domain_id: domain.id,
  };
  /** What each deleting route deletes, by the route's URL; other routes keep `kept`. */
  const doomedFor: [RegExp, Record<string, string>][] = [
    [/\/workspaces\/:workspace_id$/, { workspace_id: doomedWorkspace.id }],
    [/\/account_memberships\/:account_membership_id$/, { account_membership_id: doomed.membershipId }],
    [/\/bots\/:bot_id$/, { bot_id: doomedBot.id }],
    [/\/delete_bot_api_key\/:api_key_id$/, { bot_id: keyedBot.id, api_key_id: doomedBotKey }],
    [/\/api_keys\/:api_key_id$/, { api_key_id: doomedUserKey.id }],
    [/\/workspace_roles\/:workspace_role_id$/, { workspace_role_id: doomedRole.id }],
    [/\/user_access\/:access_id$/, { access_id: doomedAccess.id }],
    [/\/bot_access\/:access_id$/, { access_id: doomedBotAccess.id }],
    [/\/webhooks\/:webhook_id$/, { webhook_id: doomedWebhook.id }],
    [/\/trust_rules\/:rule_id$/, { rule_id: doomedTrustRule.id }],
    [/\/teams\/:team_id$/, { team_id: doomedTeam.id }],
    [/\/members\/:actor_id$/, { actor_id: admin.actorId }],
    [/\/team_access\/:team_id$/, { team_id: ungrantedTeam.id }],
    [/\/scim_tokens\/:scim_token_id$/, { scim_token_id: doomedScimToken.id }],
    [/\/scim\/v2\/Users\/:user_id$/, { user_id: doomedScimUser.body.id }],
    [/\/scim\/v2\/Groups\/:group_id$/, { group_id: doomedGroup.id }],
    [/\/sso\/providers\/:provider_id$/, { provider_id: doomedSsoProvider.id }],
  ];
  const realIds = [
    ...Object.values(kept),
    toAccept.id, member.userId, changed.userId, admin.userId, callerBot.id, changedAccess.id, changedBotAccess.id, changedBotKey, userKey.id,
    ...Object.values(ACCOUNT_ROLE_IDS), ...Object.values(WORKSPACE_ROLE_IDS),
  ];
  return {
    accountId: owner.accountId,
    workspaceId: main.id,
    callers: {
      owner: { authorization: `Bearer ${owner.key}` },
      member: { authorization: `Bearer ${member.key}` },
      bot: { authorization: `Bearer ${callerBot.key}` },
      browser: { cookie: `${COOKIE}=${session.token}`, 'x-csrf-token': session.csrf },
      signingOut: { cookie: `${COOKIE}=${signingOut.token}`, 'x-csrf-token': signingOut.csrf },
      scim: { authorization: `Bearer ${scimToken.token}` },
    },
    realIds,
    params(method, url) {
      const out: Record<string, string> = {
        ...kept,
        access_id: url.includes('/user_access/') ? changedAccess.id : changedBotAccess.id,
        api_key_id: url.includes('/bots/') ? changedBotKey : userKey.id,
      };
      if (url.startsWith('/api/invitations/')) out.invitation_id = toAccept.id;
      // SCIM changes a person it provisioned, not the Owner whose key the other routes use.
      if (url.includes('/scim/v2/')) out.user_id = scimUser.body.id;
      if (method === 'DELETE') for (const [pattern, ids] of doomedFor) if (pattern.test(url)) return { ...out, ...ids };
      return out;
    },
    query(url): Record<string, string> {
      return url.startsWith('/api/invitations/') ? { invite_code: acceptCode } : {};
    },
  };
}

/** UUIDs for body fields: mostly ones that name something, sometimes random ones. */
export function uuidSource(world: World): fc.Arbitrary<string> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...world.realIds) }, { weight: 1, arbitrary: fc.uuid() });
}
