// Types for scripts/ensure-ha.js, for the suites that import it.
export const HA_BINARIES: { patroni: string; patronictl: string; etcd: string; haproxy: string; postgres: string };
export function ensureHa(): { ok: true; error?: undefined } | { ok: false; error: string };
