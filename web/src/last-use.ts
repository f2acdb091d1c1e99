// A key's last use as people read it: "Last used 3 minutes ago from 10.0.0.4 · prefect/3.9.1".
// The server writes it at most once a minute, so "ago" is never more precise than that.

export interface LastUse {
  last_used_at?: string | null;
  last_used_from?: string | null;
  last_used_client?: string | null;
}

/** "40 seconds ago", "3 minutes ago", "2 days ago"; "just now" under 5 seconds. */
export function timeAgo(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 5) return 'just now';
  const units: Array<[string, number]> = [['day', 86_400], ['hour', 3_600], ['minute', 60], ['second', 1]];
  const [unit, size] = units.find(([, size]) => seconds >= size)!;
  const count = Math.floor(seconds / size);
  return `${count} ${unit}${count === 1 ? '' : 's'} ago`;
}

/** "Last used 3 minutes ago from 10.0.0.4 · prefect/3.9.1", or "Never used". */
export function lastUseText(key: LastUse, now?: number): string {
  if (!key.last_used_at) return 'Never used';
  const from = key.last_used_from ? ` from ${key.last_used_from}` : '';
  const client = key.last_used_client ? ` · ${key.last_used_client}` : '';
  return `Last used ${timeAgo(key.last_used_at, now)}${from}${client}`;
}
