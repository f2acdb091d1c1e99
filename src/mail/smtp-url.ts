// SMTP URLs: read for the mailer, checked by the configuration (without loading nodemailer), shown masked.
import { maskUrlPassword } from '../url-password.js';

/** The URL with its password masked, for logs and messages. */
export function redactSmtpUrl(url: string): string {
  return maskUrlPassword(url, '(unparseable SMTP URL)');
}

/** Connection settings from an smtp:// or smtps:// URL; null when it is not one. */
export function parseSmtpUrl(url: string): { host: string; port: number; secure: boolean; auth?: { user: string; pass: string } } | null {
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:')) return null;
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
