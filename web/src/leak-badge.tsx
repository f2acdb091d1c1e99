// "Reported leaked" on a key's row: a secret-scanning partner found the key in public (issue 19
// item 4). Shows where (a link only for an http(s) address; anything else is plain text) and when.
import { formatDateTime } from './format';

export interface LeakReported {
  leak_reported_at?: string | null;
  leak_url?: string | null;
  leak_source?: string | null;
  expiration?: string | null;
}

const isWebAddress = (url: string) => /^https?:\/\//i.test(url);

export function LeakBadge({ apiKey }: { apiKey: LeakReported }) {
  if (!apiKey.leak_reported_at) return null;
  const url = apiKey.leak_url ?? '';
  const stopped = apiKey.expiration != null && new Date(apiKey.expiration).getTime() <= Date.now();
  return (
    <div className="leak-report small" data-testid="leak-report">
      <span className="badge badge-danger">Reported leaked</span>{' '}
      <span>
        {stopped ? 'Disabled. ' : 'Still works: rotate it. '}
        Found {url ? 'at ' : ''}
        {url && (isWebAddress(url) ? (
          <a href={url} target="_blank" rel="noopener noreferrer nofollow">
            {url}
          </a>
        ) : (
          <span className="mono">{url}</span>
        ))}
        {` (${apiKey.leak_source ?? 'unknown'}) on ${formatDateTime(apiKey.leak_reported_at)}`}
      </span>
    </div>
  );
}
