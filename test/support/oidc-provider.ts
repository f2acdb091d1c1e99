// A real OpenID provider for the SSO tests: the certified `oidc-provider` package on 127.0.0.1 (an
// ephemeral port), with a login page of our own whose users the test controls (add, remove, mark
// an email unverified), PKCE required, and one switch that makes its token endpoint answer with an
// id token for another audience (signed with the provider's own key), as a confused or
// compromised provider would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface ProviderUser {
  email: string;
  email_verified: boolean;
  password: string;
}

export interface LocalProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  users: Map<string, ProviderUser>;
  /** Makes every token answer carry an id token for another audience (until set back to false). */
  wrongAudience: boolean;
  close(): Promise<void>;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function loginForm(uid: string, clientId: string, error?: string): string {
  return page(
    'Test identity provider: sign in',
    `<p>Sign in to continue to ${escape(clientId)}.</p>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Username <input name="login" autocomplete="off"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Continue</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`,
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** `redirectUris`: Gatehouse's callback URL(s), as the client registration at the provider names them. */
export async function startLocalProvider(redirectUris: string[]): Promise<LocalProvider> {
  const users = new Map<string, ProviderUser>();
  const clientId = 'gatehouse-test';
  const clientSecret = randomBytes(24).toString('base64url');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const signingJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };

  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server: Server = createServer((req, res) => handler!(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const state: LocalProvider = {
    issuer,
    clientId,
    clientSecret,
    users,
    wrongAudience: false,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // A removed user is no account: a session or code naming them is worth nothing.
    async findAccount(_ctx: unknown, id: string) {
      const user = users.get(id);
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email: user.email, email_verified: user.email_verified }) };
    },
  } as never);

  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (state.wrongAudience && ctx.path === '/token' && body?.id_token) {
      const claims = decodeJwt(body.id_token);
      body.id_token = await new SignJWT({ ...claims, aud: 'another-client' }).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    }
  });

  const koa = provider.callback();
  handler = (req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/.exec(req.url ?? '');
    if (!match) return void koa(req, res);
    void (async () => {
      try {
        const [, uid, action] = match;
        const details = await provider.interactionDetails(req, res);
        const send = (html: string, status = 200) => {
          res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
          res.end(html);
        };
        if (!action) return send(loginForm(uid, String(details.params.client_id)));
        if (action === '/abort') {
          return await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person cancelled the sign-in' }, { mergeWithLastSubmission: false });
        }
        const form = await readForm(req);
        const login = form.get('login') ?? '';
        const user = users.get(login);
        if (!user || user.password !== (form.get('password') ?? '')) return send(loginForm(uid, String(details.params.client_id), 'Unknown user or wrong password'), 401);
        // Consent is given with the login: Gatehouse asks for openid and email only.
        const grant = new provider.Grant({ accountId: login, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } }, { mergeWithLastSubmission: false });
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${(error as Error).message}`);
      }
    })();
  };
  return state;
}
