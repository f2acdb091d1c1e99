// The callback of `prefect cloud login` in a browser: where the /auth/client page hands the new API
// key. Only a server on this computer's loopback interface may receive it, written exactly as the
// Prefect CLI writes it; anything else is refused before a key exists.

export type CallbackCheck = { ok: true; url: string } | { ok: false; reason: string };

const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1):([1-9][0-9]{0,4})\/?$/;
const IPV6_LOOPBACK = /^http:\/\/\[::1\]:([1-9][0-9]{0,4})\/?$/;

/**
 * `http://localhost:PORT` or `http://127.0.0.1:PORT` (port 1–65535, an optional trailing `/`), as
 * the `callback` query parameter gives it; the answer's `url` has no trailing `/`, so the page posts
 * to `url + "/success"`. Refused: any other host (including other spellings of the loopback address
 * that a URL parser would normalise, such as `127.1` or `LOCALHOST.`), `https:`, user info, a path,
 * a query or a fragment (the CLI sends none), and `[::1]`, which a Content-Security-Policy cannot name.
 */
export function loopbackCallback(values: readonly string[]): CallbackCheck {
  if (values.length === 0) return { ok: false, reason: 'This login link has no callback: open the link the Prefect CLI printed, whole.' };
  if (values.length > 1) return { ok: false, reason: 'This login link has more than one callback; Gatehouse does not guess which one the Prefect CLI gave.' };
  const raw = values[0]!;
  const port = LOOPBACK.exec(raw)?.[2];
  if (port !== undefined && Number(port) <= 65535) return { ok: true, url: raw.replace(/\/$/, '') };
  if (IPV6_LOOPBACK.test(raw)) {
    return { ok: false, reason: 'The callback is an IPv6 address ([::1]), which this page may not reach; use http://localhost:PORT, as the Prefect CLI does.' };
  }
  return {
    ok: false,
    reason:
      'The callback is not on this computer: Gatehouse hands API keys only to a Prefect CLI listening on http://localhost:PORT or http://127.0.0.1:PORT. Run prefect cloud login again on this computer.',
  };
}
