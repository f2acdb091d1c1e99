// `POST /api/leak_reports` (Gatehouse's own, in the shape of GitHub's secret scanning partner
// program): a partner's signed report of tokens found in public, answered with a label per token.
// The signature is the credential, so it is checked on the raw bytes before the body is parsed; the
// route lives in its own plugin context for that body parser and a body limit of its own.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { PUBLIC } from '../../authz/requirements.js';
import { keyThrottle, type KeyThrottle } from '../../auth/key-throttle.js';
import { checkSignature, type SigningKeys } from '../../leak-report-keys.js';
import { LeakReport, MAX_REPORT_BYTES, TokenLabel } from '../../domain/leak-reports/inputs.js';
import { partnerActor } from '../../domain/leak-reports/service.js';
import { HttpError } from '../error-envelope.js';
import { JSON_TYPE, parseJsonBody } from '../json.js';
import { ErrorBody } from '../schemas.js';
import { registerRoutes, respond, type RouteDeps, type RouteSpec } from '../route.js';
import { routeShapes } from '../route-shapes.js';

export const LEAK_REPORT_URL = '/api/leak_reports';
const KEY_ID_HEADER = 'github-public-key-identifier';
const SIGNATURE_HEADER = 'github-public-key-signature';

/** The key identifier of each request whose signature verified, for the handler's audit actor. */
const signedBy = new WeakMap<FastifyRequest, string>();

/**
 * The error for a request whose body (empty: none) is not signed by a configured key; undefined when
 * it is. An ECDSA verification costs about a millisecond of CPU, so an address that keeps sending
 * bad signatures is answered 429 for the rest of the minute before any more are checked. A partner
 * never sends a bad one, and no one else sends from its addresses.
 */
function refusal(keys: SigningKeys | null, throttle: KeyThrottle, request: FastifyRequest, body: Buffer): HttpError | undefined {
  if (!keys) return new HttpError('LEAK_REPORTS_NOT_CONFIGURED');
  const wait = throttle.retryAfter(request.ip, '');
  if (wait !== null) return new HttpError('RATE_LIMITED', `Too many leak reports with a bad signature from this address; try again in ${wait} seconds`, wait);
  const identifier = request.headers[KEY_ID_HEADER];
  const verdict = checkSignature(keys, body, identifier, request.headers[SIGNATURE_HEADER]);
  if (verdict === 'valid') {
    signedBy.set(request, identifier as string);
    return undefined;
  }
  throttle.failed(request.ip);
  switch (verdict) {
    case 'missing':
      return new HttpError('LEAK_REPORT_UNSIGNED');
    case 'unknown_key':
      return new HttpError('LEAK_REPORT_KEY_UNKNOWN');
    case 'bad_signature':
      return new HttpError('LEAK_REPORT_SIGNATURE_INVALID');
  }
}

export function leakReportRoutes({ services, clock }: RouteDeps): RouteSpec[] {
  const { on } = routeShapes(clock, ['Leak reports']);
  return [
    // The partner holds no Gatehouse credential: its ECDSA signature over the body is checked instead.
    on('POST', LEAK_REPORT_URL, PUBLIC, "A secret-scanning partner's signed report of tokens found in public (GitHub's partner program shape): each Gatehouse key found is disabled or flagged per its account's key policy, and every token is labelled", {
      body: LeakReport,
      bodyLimit: MAX_REPORT_BYTES,
      response: { 200: Type.Array(TokenLabel), 400: ErrorBody, 413: ErrorBody },
      handler: async (req, reply) => {
        const identifier = signedBy.get(req);
        // Unreachable: the body parser or the preValidation hook refused an unsigned request.
        if (identifier === undefined) throw new HttpError('LEAK_REPORT_UNSIGNED');
        const result = await services.leakReports.report({ actor: partnerActor(identifier), requestId: String(req.id), now: clock.now() }, req.body);
        if (!result.ok) return respond(req, reply, result);
        for (const outcome of result.value.outcomes) {
          if (outcome.recorded) req.log.warn({ event: 'api_key_leak_reported', ...outcome }, outcome.disabled ? 'disabled an API key reported leaked' : 'flagged an API key reported leaked');
        }
        return reply.code(200).send(result.value.labels);
      },
    }),
  ];
}

/** Registers the leak report routes in a context of their own: signature first, then JSON. */
export interface LeakReportOptions {
  /** The partners' public keys; null: the endpoint answers 404 LEAK_REPORTS_NOT_CONFIGURED. */
  keys: SigningKeys | null;
  /** Refused reports one address may send per minute before 429 (GATEHOUSE_KEY_FAILURE_LIMIT). */
  failureLimit?: number;
  now: () => number;
}

export async function installLeakReports(server: FastifyInstance, routes: RouteSpec[], options: LeakReportOptions): Promise<void> {
  const { keys } = options;
  const throttle = keyThrottle({ now: options.now, limit: options.failureLimit });
  const signatureError = (request: FastifyRequest, body: Buffer) => refusal(keys, throttle, request, body);
  await server.register(async (context) => {
    context.removeAllContentTypeParsers();
    context.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
      const refused = signatureError(request, body as Buffer);
      if (refused) return done(refused, undefined);
      const parsed = parseJsonBody((body as Buffer).toString('utf8'));
      if (parsed instanceof HttpError) return done(parsed, undefined);
      done(null, parsed);
    });
    context.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
      done(signatureError(request, body as Buffer) ?? new HttpError('UNSUPPORTED_MEDIA_TYPE', 'Send the leak report as JSON with Content-Type: application/json'), undefined);
    });
    // A request without a body never reaches a parser: its (empty) body must be signed all the same.
    context.addHook('preValidation', (request, _reply, done) => {
      done(signedBy.has(request) ? undefined : signatureError(request, Buffer.alloc(0)));
    });
    registerRoutes(context, routes);
  });
}
