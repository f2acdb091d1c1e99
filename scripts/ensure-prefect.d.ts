// Types for scripts/ensure-prefect.js, for the test suites that import it.
export const PREFECT_VERSIONS: Record<string, string>;
export type EnsuredPrefect =
  | { ok: true; version: string; python: string; prefect: string; error?: undefined }
  | { ok: false; error: string; version?: undefined; python?: undefined; prefect?: undefined };
export function ensurePrefect(version?: string): EnsuredPrefect;
