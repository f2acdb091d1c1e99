// Optional invitation mail over SMTP. The one-time link is always shown to the inviter; mail is a
// convenience on top, so a failure is reported to the caller and never thrown.
import nodemailer from 'nodemailer';

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

export interface SendResult {
  sent: boolean;
  /** Why it was not sent; never contains the link, its code or the SMTP password. */
  error?: string;
}

export interface Mailer {
  sendInvitation(mail: InvitationMail): Promise<SendResult>;
}

/** The URL with its password masked, for logs and messages. */
export function redactSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '*****';
    return parsed.toString();
  } catch {
    return '(unparseable SMTP URL)';
  }
}

/** Connection settings from an smtp:// or smtps:// URL; null when it is not one. */
export function parseSmtpUrl(url: string): { host: string; port: number; secure: boolean; auth?: { user: string; pass: string } } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') return null;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) return null;
  const secure = parsed.protocol === 'smtps:';
  const port = parsed.port ? Number(parsed.port) : secure ? 465 : 587;
  try {
    const user = decodeURIComponent(parsed.username);
    const pass = decodeURIComponent(parsed.password);
    return { host, port, secure, ...(user ? { auth: { user, pass } } : {}) };
  } catch {
    return null; // a malformed %-escape in the credentials
  }
}

const TIMEOUT_MS = 10_000;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The mail's subject and bodies (exported for tests and previews). */
export function invitationMessage(mail: InvitationMail): { subject: string; text: string; html: string } {
  const who = mail.inviterName ? `${mail.inviterName} has invited you` : 'You have been invited';
  const expires = new Date(mail.expiration).toUTCString();
  const subject = `Invitation to ${mail.accountName} on Gatehouse`;
  const text = [
    `${who} to join the account "${mail.accountName}" on Gatehouse with the role ${mail.roleName}.`,
    '',
    'Accept the invitation with this link (it works once):',
    mail.acceptUrl,
    '',
    `The link expires ${expires}.`,
    'If you did not expect this invitation, ignore this message.',
    '',
  ].join('\n');
  const html = [
    `<p>${escapeHtml(who)} to join the account <strong>${escapeHtml(mail.accountName)}</strong> on Gatehouse with the role <strong>${escapeHtml(mail.roleName)}</strong>.</p>`,
    `<p><a href="${escapeHtml(mail.acceptUrl)}">Accept the invitation</a> (the link works once):<br>${escapeHtml(mail.acceptUrl)}</p>`,
    `<p>The link expires ${escapeHtml(expires)}.</p>`,
    '<p>If you did not expect this invitation, ignore this message.</p>',
  ].join('\n');
  return { subject, text, html };
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

  return {
    async sendInvitation(mail) {
      const message = invitationMessage(mail);
      // Errors can quote what the server or transport saw; keep the link and password out of them.
      const link = new URL(mail.acceptUrl, 'http://x');
      const code = new URLSearchParams(link.hash.slice(1)).get('invite_code') ?? link.searchParams.get('invite_code');
      const hide = [mail.acceptUrl, ...(code ? [code, encodeURIComponent(code)] : []), ...secrets];
      try {
        await transport.sendMail({ from: options.from, to: mail.to, ...message });
        return { sent: true };
      } catch (error) {
        let text = error instanceof Error ? error.message : String(error);
        for (const secret of hide) if (secret) text = text.split(secret).join('[redacted]');
        return { sent: false, error: text };
      }
    },
  };
}

/** Sends, but gives up waiting after `ms` (the send itself is bounded by the transport's timeouts). */
export async function sendWithin(mailer: Mailer, mail: InvitationMail, ms = TIMEOUT_MS): Promise<SendResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<SendResult>((done) => {
    timer = setTimeout(() => done({ sent: false, error: `no answer from the mail server within ${ms / 1000} s` }), ms);
  });
  try {
    return await Promise.race([
      mailer.sendInvitation(mail).catch((error: unknown) => ({ sent: false, error: error instanceof Error ? error.name : 'send failed' })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
