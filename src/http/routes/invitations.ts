// Invitations: created by an account's Owners and Admins (the one-time link is in the create
// response only), and previewed and accepted by the invited person through that link.
import { Type } from '@sinclair/typebox';
import { account, PUBLIC } from '../../authz/requirements.js';
import { InvitationAcceptance, InvitationCreate } from '../../domain/invitations/inputs.js';
import { opContext, page, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';
import { filterBody, Timestamp, Uuid } from '../schemas.js';
import { identifyCaller } from '../auth.js';
import { clientInfo, sessionBody, setSessionCookie } from '../session-cookie.js';
import { sendWithin, type Mailer } from '../../mail/mailer.js';

const Status = Type.Union(['PENDING', 'ACCEPTED', 'REVOKED', 'EXPIRED'].map((s) => Type.Literal(s)));

const invitationFields = {
  id: Uuid,
  created: Timestamp,
  updated: Timestamp,
  email: Type.String(),
  account_id: Uuid,
  account_role_id: Uuid,
  account_role_name: Type.String(),
  status: Status,
  expiration: Timestamp,
};
export const Invitation = Type.Object(invitationFields);
const CreatedInvitation = Type.Object({
  ...invitationFields,
  accept_url: Type.String({ description: 'The one-time link to send to the invited person: in this response only' }),
  mailed: Type.Boolean({ description: 'Whether the link was also mailed to the invited email (false when no SMTP server is configured or sending failed)' }),
});

const Preview = Type.Object({
  id: Uuid,
  email: Type.String(),
  account_name: Type.String(),
  account_role_name: Type.String(),
  expiration: Timestamp,
  status: Status,
  user_exists: Type.Boolean(),
});

const Code = Type.Object({ invite_code: Type.String({ minLength: 1, maxLength: 200 }) });
const Accepted = Type.Object({ account_id: Uuid, user_id: Uuid, csrf_token: Type.String(), expires_at: Timestamp });

export function invitationRoutes({ services, clock, auth, publicUrl }: RouteDeps, options: { mailer?: Mailer | null }): RouteSpec[] {
  const { on, filterMany, readOne } = routeShapes(clock, ['Invitations']);
  const base = '/api/accounts/:account_id/invitations';
  return [
    on('POST', `${base}/`, account('create:invitation'), 'Invite an email with an account role; the one-time accept link is in this response only (and mailed when SMTP is configured)', {
      body: InvitationCreate,
      response: { 201: CreatedInvitation },
      noStore: true,
      handler: async (req, reply) => {
        const result = await services.invitations.create(opContext(req, clock), req.params.account_id, req.body);
        if (!result.ok) return respond(req, reply, result);
        const { code, ...invitation } = result.value;
        // The code rides in the fragment: browsers never send it, so no proxy or server log sees it.
        const acceptUrl = `${publicUrl.base()}/invitations/${invitation.id}/accept#invite_code=${encodeURIComponent(code)}`;
        let mailed = false;
        if (options.mailer) {
          const account = await services.accounts.get(invitation.account_id);
          const result = await sendWithin(options.mailer, {
            to: invitation.email,
            accountName: account.ok ? account.value.name : invitation.account_id,
            roleName: invitation.account_role_name,
            acceptUrl,
            expiration: invitation.expiration,
            inviterName: req.auth.actor?.name || undefined,
          });
          mailed = result.sent;
          // The invitation stands either way: the inviter still has the link to pass on.
          if (!result.sent) req.log.warn({ invitation_id: invitation.id, mail_error: result.error }, 'invitation mail not sent');
        }
        return reply.code(201).send({ ...invitation, accept_url: acceptUrl, mailed });
      },
    }),
    filterMany(`${base}/filter`, account('read:invitation'), "The account's invitations, newest first (links are never shown again)", {
      body: filterBody({}),
      item: Invitation,
      list: (p, body) => services.invitations.filter(p.account_id, page(body)),
    }),
    readOne(`${base}/:invitation_id`, account('read:invitation'), 'Read an invitation', {
      response: Invitation,
      read: (p) => services.invitations.get(p.account_id, p.invitation_id),
    }),
    on('POST', `${base}/:invitation_id/revoke`, account('update:invitation'), 'Revoke a pending invitation; its link stops working', {
      response: { 200: Invitation },
      handler: async (req, reply) => {
        const p = req.params;
        return respond(req, reply, await services.invitations.revoke(opContext(req, clock), p.account_id, p.invitation_id));
      },
    }),
    on('GET', '/api/invitations/:invitation_id', PUBLIC, 'What an invitation link offers (needs its invite_code)', {
      querystring: Code,
      response: { 200: Preview },
      handler: async (req, reply) => {
        const { invitation_id } = req.params;
        return respond(req, reply, await services.invitations.preview(invitation_id, req.query.invite_code));
      },
    }),
    on('POST', '/api/invitations/:invitation_id/accept', PUBLIC, 'Accept an invitation once: a new user sets a password; an existing user must be signed in as the invited email', {
      querystring: Code,
      body: Type.Union([InvitationAcceptance, Type.Null()]),
      response: { 200: Accepted },
      handler: async (req, reply) => {
        // The link is public; who is signed in (if anyone) decides whether an existing user may accept.
        await identifyCaller(req, auth);
        const { invitation_id } = req.params;
        const result = await services.invitations.accept(
          invitation_id,
          req.query.invite_code,
          req.body ?? {},
          req.auth.actor,
          clientInfo(req),
        );
        if (!result.ok) return respond(req, reply, result);
        setSessionCookie(req, reply, result.value, publicUrl);
        return { account_id: result.value.account_id, ...sessionBody(result.value) };
      },
    }),
  ];
}
