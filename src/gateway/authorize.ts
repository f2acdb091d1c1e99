// The gateway's one decision, shared by the proxy, the websocket proxy and forward-auth: which
// Prefect route a request is (match.ts), which workspace scopes it needs (route-table.ts), and
// whether the caller's scopes in that workspace hold them.
import { fail, ok, type ErrorCode, type Result } from '../errors.js';
import { dependsOnBody, matchRoute, requiredScopes, type GatewayRoute } from './match.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const WORKSPACE_PATH = /^\/api\/accounts\/([^/]+)\/workspaces\/([^/]+)(\/.*)?$/;

/** A request aimed at a workspace's Prefect API. */
export interface GatewayTarget {
  accountId: string;
  workspaceId: string;
  /** `/api/accounts/{a}/workspaces/{w}`: where this workspace's Prefect API lives behind Gatehouse. */
  prefix: string;
  /** The path after the prefix, still percent-encoded as sent, e.g. `/flows/filter`. */
  apiPath: string;
  /** `?…` as sent, or empty. */
  search: string;
  query: URLSearchParams;
  /** What the upstream is sent after its own base URL: path and query, unchanged. */
  rawPathAndQuery: string;
}

/**
 * Reads a request URI. Gatehouse's own form `/api/accounts/{a}/workspaces/{w}/<route>` names the
 * workspace; a Prefect-form URI (`/api/<route>`, as nginx in front of Prefect sees it) needs the
 * workspace from the forward-auth URL's `account_id` and `workspace_id` (and `api_prefix` when the
 * Prefect API is not mounted at `/api`).
 */
export function parseGatewayUri(uri: string, given: { account_id?: string; workspace_id?: string; api_prefix?: string }): Result<GatewayTarget> {
  const withoutFragment = uri.split('#')[0];
  const queryAt = withoutFragment.indexOf('?');
  const path = queryAt === -1 ? withoutFragment : withoutFragment.slice(0, queryAt);
  const search = queryAt === -1 ? '' : withoutFragment.slice(queryAt);
  let accountId: string;
  let workspaceId: string;
  let apiPath: string;
  const own = WORKSPACE_PATH.exec(path);
  if (own) {
    [accountId, workspaceId, apiPath] = [own[1], own[2], own[3] ?? '/'];
  } else if (given.account_id && given.workspace_id) {
    const apiPrefix = (given.api_prefix ?? '/api').replace(/\/+$/, '');
    if (!path.startsWith(`${apiPrefix}/`)) {
      return fail('GATEWAY_BAD_PATH', `The original URI must start with the Prefect API prefix ${apiPrefix}/ (set api_prefix if Prefect is mounted elsewhere)`);
    }
    [accountId, workspaceId, apiPath] = [given.account_id, given.workspace_id, path.slice(apiPrefix.length)];
  } else {
    return fail(
      'GATEWAY_BAD_PATH',
      'The URI names no workspace: use /api/accounts/{account_id}/workspaces/{workspace_id}/..., or pass account_id and workspace_id to the authorize URL',
    );
  }
  if (!UUID.test(accountId) || !UUID.test(workspaceId)) return fail('GATEWAY_BAD_PATH', 'The account and workspace in the URI must be UUIDs');
  accountId = accountId.toLowerCase();
  workspaceId = workspaceId.toLowerCase();
  return ok({
    accountId,
    workspaceId,
    prefix: `/api/accounts/${accountId}/workspaces/${workspaceId}`,
    apiPath,
    search,
    query: new URLSearchParams(search),
    rawPathAndQuery: `${apiPath}${search}`,
  });
}

export interface DecisionInput {
  /** An HTTP method, or 'WS' for a websocket upgrade. */
  method: string;
  apiPath: string;
  query: URLSearchParams;
  scopes: ReadonlySet<string>;
  /**
   * The body, for routes whose scope depends on it: 'later' (the proxy can read it: ask for it),
   * 'unseen' (forward-auth never sees it: assume the most it could ask for), 'unreadable', or the value.
   */
  body: 'later' | 'unseen' | 'unreadable' | { value: unknown };
}

export type Verdict =
  | { kind: 'allow'; route: GatewayRoute }
  | { kind: 'needs_body' }
  | { kind: 'redirect'; location: string; route: GatewayRoute }
  | { kind: 'deny'; code: ErrorCode; detail?: string; route?: GatewayRoute };

export function decide(input: DecisionInput): Verdict {
  const method = input.method === 'HEAD' ? 'GET' : input.method;
  const match = matchRoute(method, input.apiPath);
  if (match === null) {
    return { kind: 'deny', code: 'GATEWAY_ROUTE_UNKNOWN', detail: `Gatehouse has no scope declared for ${input.method} ${input.apiPath}, so it refuses it for every role (docs/gateway-routes.md lists the Prefect routes it knows)` };
  }
  if ('code' in match) return { kind: 'deny', code: match.code, detail: match.detail };
  const { route } = match;
  if (input.body === 'later' && dependsOnBody(route)) return { kind: 'needs_body' };
  const body = typeof input.body === 'object' ? input.body.value : undefined;
  const bodyUnknown = input.body === 'unseen' || input.body === 'unreadable';
  const needed = requiredScopes(route, { query: input.query, body, bodyUnknown });
  const missing = needed.filter((scope) => !input.scopes.has(scope));
  if (missing.length > 0) {
    const what = `${route.method === 'WS' ? 'websocket' : route.method} ${route.path}`;
    const hint = missing.includes('write_work_pools')
      ? ' Create the work pool (with its base job template) first as a Developer or Owner; a worker with a Worker-role key then finds it.'
      : missing.includes('see_secret_blocks')
        ? ' Reading secret block values needs a role with see_secret_blocks, e.g. a custom role that inherits from Worker and adds it.'
        : missing.includes('run_deployments') && route.scopes.includes('run_flows')
          ? ' Choosing a deployment, work pool, work queue, job variables or new parameters for a run, or scheduling it again, is running a deployment: it needs run_deployments (a Worker key creates and reports runs without these).'
          : ' Ask a workspace Owner for a role that has it.';
    // Forward-auth judged fields it could not see: say so, or the refusal of an innocent body puzzles.
    const unseen =
      input.body === 'unseen' && missing.some((scope) => !route.scopes.includes(scope))
        ? ' Forward-auth never sees the request body, so it judges this route as if the body used every field that adds scopes (docs/forward-auth.md); send it through the Gatehouse gateway instead.'
        : '';
    return { kind: 'deny', code: 'FORBIDDEN', route, detail: `${what} needs the workspace scope${missing.length > 1 ? 's' : ''} ${missing.map((s) => `\`${s}\``).join(', ')}, which your role in this workspace does not have.${hint}${unseen}` };
  }
  if (match.redirectTo !== undefined && route.method !== 'WS') return { kind: 'redirect', location: match.redirectTo, route };
  return { kind: 'allow', route };
}
