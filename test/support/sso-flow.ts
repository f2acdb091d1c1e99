// Driving a sign-in through Gatehouse and the local OpenID provider without a browser: Gatehouse
// in-process (its callback URL is http://localhost/api/auth/sso/callback), the provider over HTTP
// with a small cookie jar, as a browser would follow the redirects.
import { expect } from 'vitest';
import type { Harness, Response } from './harness.js';

export const CALLBACK = 'http://localhost/api/auth/sso/callback';
export const STATE_COOKIE = 'gatehouse_sso_state';

/** The value of one Set-Cookie of a response (in-process or fetch), or null. */
export function setCookieValue(lines: string[], name: string): string | null {
  const line = lines.find((c) => c.startsWith(`${name}=`));
  return line ? decodeURIComponent(line.slice(name.length + 1).split(';')[0]) : null;
}

export const setCookies = (res: Pick<Response, 'headers'>): string[] => {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
};

/** A browser's cookies at the provider (by name; the provider's paths do not overlap). */
class Jar {
  private cookies = new Map<string, string>();
  take(res: globalThis.Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
  }
  header = () => [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

export interface AtProvider {
  /** Gatehouse's state cookie, as the browser holds it after /start. */
  state: string;
  /** The login page's interaction path at the provider. */
  interaction: string;
  jar: Jar;
  submit(login: string, password: string): Promise<globalThis.Response>;
  cancel(): Promise<globalThis.Response>;
}

/** GET /start, then follow the provider's redirects to its login page. */
export async function startAtProvider(h: Harness, providerId: string, query = ''): Promise<AtProvider> {
  const start = await h.request('GET', `/api/auth/sso/${providerId}/start${query}`);
  expect(start.status, start.text).toBe(303);
  const state = setCookieValue(setCookies(start), STATE_COOKIE)!;
  expect(state).toBeTruthy();
  const jar = new Jar();
  let url = String(start.headers.location);
  for (let hops = 0; hops < 5; hops++) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(res);
    if (res.status === 200) break;
    expect([302, 303], await res.text()).toContain(res.status);
    url = new URL(res.headers.get('location')!, url).href;
  }
  const interaction = new URL(url);
  const post = async (path: string, body: URLSearchParams) => {
    const res = await fetch(new URL(path, interaction), { method: 'POST', redirect: 'manual', body, headers: { cookie: jar.header() } });
    jar.take(res);
    return res;
  };
  return {
    state,
    interaction: interaction.pathname,
    jar,
    submit: (login, password) => post(`${interaction.pathname}/login`, new URLSearchParams({ login, password })),
    cancel: () => post(`${interaction.pathname}/abort`, new URLSearchParams()),
  };
}

/** After the provider's interaction: follow its redirects until one points at Gatehouse's callback; that path and query. */
export async function toCallback(at: AtProvider, first: globalThis.Response): Promise<string> {
  let res = first;
  for (let hops = 0; hops < 5; hops++) {
    const location = res.headers.get('location');
    expect(location, `provider answered ${res.status}`).toBeTruthy();
    const next = new URL(location!, res.url || 'http://x/');
    if (next.href.startsWith(CALLBACK)) return next.pathname + next.search;
    res = await fetch(next, { redirect: 'manual', headers: { cookie: at.jar.header() } });
    at.jar.take(res);
  }
  throw new Error('the provider never redirected to the callback');
}

/** The callback as the browser sends it: with its state cookie (or another). */
export const callback = (h: Harness, path: string, state: string | null) =>
  h.request('GET', path, { headers: state === null ? {} : { cookie: `${STATE_COOKIE}=${state}` } });

/** The refusal a callback or start redirected to the sign-in page with. */
export function refusal(res: Response): { code: string | null; detail: string | null } {
  expect(res.status).toBe(303);
  const location = new URL(String(res.headers.location), 'http://localhost');
  expect(location.pathname).toBe('/sign-in');
  return { code: location.searchParams.get('sso_error'), detail: location.searchParams.get('sso_detail') };
}
