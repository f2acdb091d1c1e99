// URLs that may carry a password (SMTP, PostgreSQL) are shown in logs and messages with it masked.

/** `url` with any password replaced by `*****`; `unparseable` when it is not a URL. */
export function maskUrlPassword(url: string, unparseable: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return unparseable;
  if (parsed.password) parsed.password = '*****';
  return parsed.toString();
}
