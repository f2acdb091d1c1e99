// Dates as people read them, and the conversions between date inputs and RFC 3339.

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatExpiration(iso: string | null | undefined): string {
  return iso ? formatDate(iso) : 'Never';
}

/** A key that expires within this many days is flagged in the lists (notices: docs/notices.md). */
export const EXPIRES_SOON_DAYS = 7;

/** Whether a key still works but expires within EXPIRES_SOON_DAYS. */
export function expiresSoon(iso: string | null | undefined, now = Date.now()): boolean {
  if (!iso) return false;
  const left = Date.parse(iso) - now;
  return left > 0 && left <= EXPIRES_SOON_DAYS * 86_400_000;
}

/** Today as a `<input type="date">` value, in the person's own time zone. */
export function todayInput(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A key chosen to expire "on" a day keeps working through that whole day, local time. */
export function dateInputToExpiration(value: string): string {
  return new Date(`${value}T23:59:59`).toISOString();
}

/** `<input type="datetime-local">` value → RFC 3339 (UTC), or null when empty. */
export function localDateTimeToIso(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export function personName(p: { first_name?: string; last_name?: string; email?: string | null; handle?: string }): string {
  const full = [p.first_name, p.last_name].filter(Boolean).join(' ').trim();
  return full || p.email || p.handle || '';
}

/** A workspace handle suggested from its name: lower case, `-` between words. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}
