// The Prefect UI's files, moved under Gatehouse's path for a workspace. A Prefect server writes its
// UI's base path (PREFECT_UI_SERVE_BASE: `/` for the first UI, `/v2` for the second) into the files
// it serves: in the page's <script>/<link> addresses, in `url(...)` of its style sheets, and in the
// script that preloads the page's modules. Those places get Gatehouse's prefix in front; nothing else
// is touched (the same text also appears in API paths such as `/v2/concurrency_limits/filter`).
// The UI finds its own base from the address bar, so its router and its API client follow.
//
// Checked against the bundles of Prefect 3.9.1 (src/gateway/prefect-ui-rewrite.test.ts and the
// real-server suite); other versions are untested.

/** Which kind of file, from its Content-Type: the ones that name the base path, or none. */
export type UiFileKind = 'html' | 'css' | 'js' | null;

export function uiFileKind(contentType: string | undefined): UiFileKind {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/html') return 'html';
  if (type === 'text/css') return 'css';
  if (type === 'application/javascript' || type === 'text/javascript') return 'js';
  return null;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Puts `prefix` (e.g. `/w/acme/prod`) in front of the upstream's UI base (`''` for `/`, or `/v2`)
 * wherever a file names it as a path. Idempotent only per call: give it the upstream's bytes.
 */
export function rewriteUiFile(kind: Exclude<UiFileKind, null>, text: string, base: string, prefix: string): string {
  const b = escape(base);
  if (kind === 'html') {
    // src="/v2/assets/…", href="/v2/ico/…" (and, for the first UI, href="/favicon.ico"): never "//host".
    return text.replace(new RegExp(`(\\s(?:src|href)=["'])${b}/(?!/)`, 'g'), `$1${prefix}${base}/`);
  }
  if (kind === 'css') {
    return text.replace(new RegExp(`url\\((["']?)${b}/(?!/)`, 'g'), `url($1${prefix}${base}/`);
  }
  // Vite's module preloader: function(e){return`/v2/`+e} (or "/v2/"+e).
  return text.replace(new RegExp(`return(\`|")${b}/\\1\\+`, 'g'), `return$1${prefix}${base}/$1+`);
}

/**
 * The base a UI file at `path` (upstream path, under the UI's root) was written with: `/v2` for the
 * second UI's files, `''` for the first's. A Prefect server with another PREFECT_UI_SERVE_BASE is
 * not supported (docs/prefect-ui.md).
 */
export const uiBaseFor = (path: string): string => (path === '/v2' || path.startsWith('/v2/') ? '/v2' : '');
