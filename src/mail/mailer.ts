// Mail over SMTP: invitations (optional: the one-time link is always shown to the inviter, so mail
// is a convenience on top) and email verification (the only way a new email takes effect). A
// failure is reported to the caller and never thrown.
import nodemailer from 'nodemailer';
import { parseSmtpUrl, redactSmtpUrl } from './smtp-url.js';

export { parseSmtpUrl, redactSmtpUrl };

export interface MailerOptions {
  /** smtp://user:pass@host:587 or smtps://user:pass@host:465 */
  url: string;
  /** The From header, e.g. `Gatehouse <gatehouse@example.com>`. */
  from: string;
}

export interface InvitationMail {
  to: string;
  accountName: string;
  roleName: string;
  acceptUrl: string;
  /** ISO timestamp. */
  expiration: string;
  /** Who sent the invitation, when known. */
  inviterName?: string;
}

export interface EmailVerificationMail {
  to: string;
  /** The page that confirms the change; the one-time code is in its fragment (`#code=`). */
  verifyUrl: string;
  /** ISO timestamp. */
  expiration: string;
  /** The handle of the user changing their email. */
  userName: string;
}

export interface SendResult {
  sent: boolean;
  /** Why it was not sent; never contains the link, its code or the SMTP password. */
  error?: string;
}

/** A notice to an account's Owners (domain/notices): what happened, in one sentence, and its details. */
export interface NoticeMail {
  to: string[];
  accountName: string;
  sentence: string;
  /** The webhook event type, e.g. `api_key.expiring`. */
  type: string;
  /** ISO timestamp. */
  occurred: string;
  /** The audit event's details: names and ids only. */
  details: Record<string, unknown>;
}

export interface Mailer {
  sendInvitation(mail: InvitationMail): Promise<SendResult>;
  sendEmailVerification(mail: EmailVerificationMail): Promise<SendResult>;
  sendNotice(mail: NoticeMail): Promise<SendResult>;
}

const TIMEOUT_MS = 10_000;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface LinkMail {
  subject: string;
  /** The first sentence, as text and as HTML (names set in bold). */
  intro: string;
  introHtml: string;
  /** What the link is for: a sentence in the text part, the link's words and a note in the HTML part. */
  ask: string;
  linkText: string;
  linkNote: string;
  url: string;
  expiration: string;
  ignore: string;
}

/** The one layout of Gatehouse's mails: a sentence, a one-time link, when it expires, what to do if unexpected. */
function linkMessage(mail: LinkMail): { subject: string; text: string; html: string } {
  const expires = new Date(mail.expiration).toUTCString();
  const text = [mail.intro, '', mail.ask, mail.url, '', `The link expires ${expires}.`, mail.ignore, ''].join('\n');
  const html = [
    `<p>${mail.introHtml}</p>`,
    `<p><a href="${escapeHtml(mail.url)}">${escapeHtml(mail.linkText)}</a> ${escapeHtml(mail.linkNote)}:<br>${escapeHtml(mail.url)}</p>`,
    `<p>The link expires ${escapeHtml(expires)}.</p>`,
    `<p>${escapeHtml(mail.ignore)}</p>`,
  ].join('\n');
  return { subject: mail.subject, text, html };
}

/** The mail's subject and bodies (exported for tests and previews). */
export function invitationMessage(mail: InvitationMail): { subject: string; text: string; html: string } {
  const who = mail.inviterName ? `${mail.inviterName} has invited you` : 'You have been invited';
  return linkMessage({
    subject: `Invitation to ${mail.accountName} on Gatehouse`,
    intro: `${who} to join the account "${mail.accountName}" on Gatehouse with the role ${mail.roleName}.`,
    introHtml: `${escapeHtml(who)} to join the account <strong>${escapeHtml(mail.accountName)}</strong> on Gatehouse with the role <strong>${escapeHtml(mail.roleName)}</strong>.`,
    ask: 'Accept the invitation with this link (it works once):',
    linkText: 'Accept the invitation',
    linkNote: '(the link works once)',
    url: mail.acceptUrl,
    expiration: mail.expiration,
    ignore: 'If you did not expect this invitation, ignore this message.',
  });
}

/** The verification mail's subject and bodies (exported for tests and previews). */
export function emailVerificationMessage(mail: EmailVerificationMail): { subject: string; text: string; html: string } {
  return linkMessage({
    subject: 'Confirm your new email on Gatehouse',
    intro: `The Gatehouse user ${mail.userName} asked to use this address as their email.`,
    introHtml: `The Gatehouse user <strong>${escapeHtml(mail.userName)}</strong> asked to use this address as their email.`,
    ask: 'Confirm it with this link (it works once; you may be asked to sign in first):',
    linkText: 'Confirm the new email',
    linkNote: '(the link works once; you may be asked to sign in first)',
    url: mail.verifyUrl,
    expiration: mail.expiration,
    ignore: 'If you did not ask for this, ignore this message: the email is not changed without it.',
  });
}

/** The notice mail's subject and bodies (exported for tests and previews). */
export function noticeMessage(mail: NoticeMail): { subject: string; text: string; html: string } {
  const lines = Object.entries(mail.details).map(([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const footer = 'You receive this as an Owner of the account. Webhooks for the same notices are set on the Notices page.';
  const text = [`${mail.sentence}.`, '', `Account: ${mail.accountName}`, `Event: ${mail.type}`, `When: ${mail.occurred}`, ...lines, '', footer, ''].join('\n');
  const html = [
    `<p>${escapeHtml(mail.sentence)}.</p>`,
    `<p>Account: <strong>${escapeHtml(mail.accountName)}</strong><br>Event: ${escapeHtml(mail.type)}<br>When: ${escapeHtml(mail.occurred)}</p>`,
    lines.length ? `<pre>${escapeHtml(lines.join('\n'))}</pre>` : '',
    `<p>${escapeHtml(footer)}</p>`,
  ].join('\n');
  return { subject: `[Gatehouse] ${mail.accountName}: ${mail.sentence}`, text, html };
}

/** A mailer for the given SMTP server, or null when no URL is configured. Throws on a bad URL. */
export function createMailer(options: { url?: string; from: string }): Mailer | null {
  if (!options.url) return null;
  const connection = parseSmtpUrl(options.url);
  if (!connection) throw new Error(`Invalid SMTP URL ${redactSmtpUrl(options.url)}: use smtp:// or smtps://`);
  const transport = nodemailer.createTransport({
    ...connection,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    logger: false,
  });
  const secrets = connection.auth?.pass ? [connection.auth.pass] : [];

  /** Errors can quote what the server or transport saw; keep links, codes and the password out of them. */
  async function send(to: string | string[], message: { subject: string; text: string; html: string }, hide: string[]): Promise<SendResult> {
    try {
      await transport.sendMail({ from: options.from, to, ...message });
      return { sent: true };
    } catch (error) {
      let text = error instanceof Error ? error.message : String(error);
      for (const secret of [...hide, ...secrets]) if (secret) text = text.split(secret).join('[redacted]');
      return { sent: false, error: text };
    }
  }

  return {
    async sendInvitation(mail) {
      const link = new URL(mail.acceptUrl, 'http://x');
      const code = new URLSearchParams(link.hash.slice(1)).get('invite_code') ?? link.searchParams.get('invite_code');
      return send(mail.to, invitationMessage(mail), [mail.acceptUrl, ...(code ? [code, encodeURIComponent(code)] : [])]);
    },
    async sendEmailVerification(mail) {
      const code = new URLSearchParams(new URL(mail.verifyUrl, 'http://x').hash.slice(1)).get('code');
      return send(mail.to, emailVerificationMessage(mail), [mail.verifyUrl, ...(code ? [code, encodeURIComponent(code)] : [])]);
    },
    async sendNotice(mail) {
      return within(() => send(mail.to, noticeMessage(mail), []), TIMEOUT_MS);
    },
  };
}

/** Sends, but gives up waiting after `ms` (the send itself is bounded by the transport's timeouts). */
export function sendWithin(mailer: Mailer, mail: InvitationMail, ms = TIMEOUT_MS): Promise<SendResult> {
  return within(() => mailer.sendInvitation(mail), ms);
}

/** The same for an email verification mail. */
export function sendVerificationWithin(mailer: Mailer, mail: EmailVerificationMail, ms = TIMEOUT_MS): Promise<SendResult> {
  return within(() => mailer.sendEmailVerification(mail), ms);
}

async function within(send: () => Promise<SendResult>, ms: number): Promise<SendResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<SendResult>((done) => {
    timer = setTimeout(() => done({ sent: false, error: `no answer from the mail server within ${ms / 1000} s` }), ms);
  });
  try {
    return await Promise.race([
      send().catch((error: unknown) => ({ sent: false, error: error instanceof Error ? error.name : 'send failed' })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
