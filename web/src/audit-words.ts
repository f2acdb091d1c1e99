// Audit rows in words, where the raw fields do not read well on their own.

const DOORS: Record<string, string> = { proxy: 'the gateway', forward_auth: 'forward-auth', websocket: 'a websocket', prefect_ui: 'the Prefect UI' };
const REASONS: Record<string, string> = {
  UNAUTHENTICATED: 'no valid API key',
  RATE_LIMITED: 'too many bad keys from this address',
  NOT_FOUND: 'no access to the workspace',
  FORBIDDEN: 'a scope the role lacks',
  GATEWAY_ROUTE_UNKNOWN: 'a Prefect route Gatehouse does not know',
  IP_NOT_ALLOWED: 'an address outside the IP allowlist',
  CSRF_FAILED: 'a missing CSRF token',
};

/** `gateway.request_refused` in words: how many, what, why, through which door and from where. */
export function refusalSummary(details: Record<string, unknown>): string {
  const count = Number(details.count ?? 1);
  const reason = String(details.reason ?? '');
  const what = details.others ? 'other requests' : `${count === 1 ? 'request' : 'requests'} ${String(details.method ?? '')} ${String(details.route ?? '')}`.trim();
  const from = details.address ? ` from ${String(details.address)}` : '';
  return `Refused ${count} ${what} through ${DOORS[String(details.via)] ?? String(details.via)}: ${REASONS[reason] ?? reason}${from}`;
}
