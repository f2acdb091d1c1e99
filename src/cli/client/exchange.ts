// `gatehouse exchange`: a workload's OIDC token (GitHub Actions, Kubernetes, any OIDC issuer) for a
// short-lived key of a service account, printed as the settings a Prefect client needs. No profile
// and no stored key: the token is the credential (docs/workload-identity.md).
import { readFileSync } from 'node:fs';
import { UsageError } from '../args.js';
import type { CommandInput } from '../commands.js';
import { checkedUrl } from './session.js';
import { DEFAULT_URL } from './http.js';
import { prefectEnvironment, printJson, printLines } from './output.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Flags {
  url?: string;
  'service-account'?: string;
  'token-file'?: string;
  'token-env'?: string;
  workspace?: string;
  json?: boolean;
}

function readToken(f: Flags): string {
  if (Boolean(f['token-file']) === Boolean(f['token-env'])) throw new UsageError('give the token with exactly one of --token-file FILE or --token-env VARIABLE');
  let token: string | undefined;
  if (f['token-file']) {
    try {
      token = readFileSync(f['token-file'], 'utf8');
    } catch (error) {
      throw new Error(`cannot read the token file ${f['token-file']}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } else token = process.env[f['token-env']!];
  token = token?.trim();
  if (!token) throw new Error(f['token-file'] ? `the token file ${f['token-file']} is empty` : `the variable ${f['token-env']} is not set or empty`);
  return token;
}

async function call(url: string, path: string, init: RequestInit): Promise<{ status: number; body: any }> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { ...init, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new Error(`cannot reach Gatehouse at ${url} (${cause?.code ?? (error as Error).message}); give its address with --url or GATEHOUSE_URL`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } catch {
    throw new Error(`${url} answered ${path} with something other than JSON; is it the address of a Gatehouse server?`);
  }
}

export async function exchangeCommand({ flags }: CommandInput): Promise<number> {
  const f = flags as Flags;
  const bot = f['service-account'];
  if (!bot || !UUID.test(bot)) throw new UsageError('--service-account must be the service account\'s id (a UUID; `gatehouse service-account ls` shows it)');
  const token = readToken(f);
  const url = checkedUrl(f.url ?? process.env.GATEHOUSE_URL ?? DEFAULT_URL);
  const form = new URLSearchParams({ grant_type: GRANT, subject_token: token, subject_token_type: JWT_TYPE, audience: bot });
  const exchanged = await call(url, '/api/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() });
  if (exchanged.status !== 200) throw new Error(`Gatehouse refused the token (${exchanged.status}): ${exchanged.body?.detail ?? exchanged.body?.error_description ?? 'no reason given'}`);
  const key: string = exchanged.body.access_token;

  // Which workspace: the one named, else the service account's only one.
  const mine = await call(url, '/api/me/workspaces', { headers: { authorization: `Bearer ${key}`, accept: 'application/json' } });
  const workspaces: { account_id: string; workspace_id: string; account_handle: string; workspace_handle: string }[] = Array.isArray(mine.body) ? mine.body : [];
  const chosen = f.workspace
    ? workspaces.find((w) => `${w.account_handle}/${w.workspace_handle}` === f.workspace)
    : workspaces.length === 1
      ? workspaces[0]
      : undefined;
  if (f.workspace && !chosen) throw new Error(`the service account has no access to workspace ${f.workspace}; it has ${workspaces.map((w) => `${w.account_handle}/${w.workspace_handle}`).join(', ') || 'none'}`);
  if (f.json) {
    printJson({ ...exchanged.body, ...(chosen ? { prefect_api_url: `${url}/api/accounts/${chosen.account_id}/workspaces/${chosen.workspace_id}` } : {}) });
    return 0;
  }
  if (chosen) printLines(prefectEnvironment(url, chosen, key));
  else {
    printLines([`PREFECT_API_KEY=${key}`, `PREFECT_CLOUD_API_URL=${url}/api`]);
    process.stderr.write(`The service account reaches ${workspaces.length} workspaces: name one with --workspace ACCOUNT/WORKSPACE to get PREFECT_API_URL too.\n`);
  }
  process.stderr.write(`The key works until ${exchanged.body.expiration} (${exchanged.body.expires_in} seconds).\n`);
  return 0;
}
