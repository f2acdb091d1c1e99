// The Fastify instance every Gatehouse app starts from, with what each request costs kept small:
// the tick shape held, a request logger made only when a line is written, request ids without
// random bytes, and one onRequest hook (request id, logger, URL check). createApp adds the rest.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { TrustProxy } from '../config.js';
import { errorBody } from './error-envelope.js';
import { urlError } from './json.js';
import { lazyChildLogger, ProbeQuietLogController } from './request-logger.js';
import { logSerializers } from './log-redaction.js';
import { keepTickShape } from './tick-shape.js';
import { sharedSerializerCompiler } from './serializers.js';

export interface ServerOptions {
  logger?: Logger | false;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  trustProxy?: TrustProxy;
}

export interface Server {
  server: FastifyInstance;
  /** Where code outside a request logs (the websocket gateway): the quiet logger, or Fastify's. */
  log: FastifyBaseLogger;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request id in the shape of a UUID: a random prefix per process and a counter. Unique without
 * drawing random bytes for every request (ids identify, they guard nothing).
 */
function requestIds(): () => string {
  const prefix = randomUUID().slice(0, 24);
  let counter = 0;
  return () => prefix + (++counter).toString(16).padStart(12, '0');
}
const nextRequestId = requestIds();

/**
 * Fastify's trustProxy for ours. A hop count becomes a function: Fastify takes a bare number as
 * "trust no hop". A client's own X-Forwarded-For entries lie beyond the trusted hops and are ignored.
 */
export function fastifyTrustProxy(trust: TrustProxy | undefined): false | string[] | ((address: string, hop: number) => boolean) {
  if (trust === undefined || trust === false || trust === 0) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust;
}

export function createServer(options: ServerOptions): Server {
  // Every line a request writes shows its URL and errors with credentials in a query string redacted.
  const logger = options.logger ? options.logger.child({}, { serializers: logSerializers }) : false;
  // Before the routes are compiled: their garbage collections must not cost every later tick.
  keepTickShape();
  // Fastify's logger costs every request (its child logger, two response listeners, timing) even
  // when nothing is logged. Its two lines per request ("incoming request", "request completed") are
  // for debugging: the access record (access-log.ts) is one buffered line. Below debug Fastify gets
  // no logger: the onRequest hook gives each request its own (made only when a line is), and
  // Fastify's own other lines (through request.log and reply.log) still reach it.
  const quietLogger = logger && !logger.isLevelEnabled('debug') ? logger : null;
  const server: FastifyInstance = Fastify({
    ...(logger && !quietLogger ? { loggerInstance: logger as FastifyBaseLogger, childLoggerFactory: lazyChildLogger, logController: new ProbeQuietLogController() } : { logger: false }),
    bodyLimit: options.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    // A caller's X-Request-Id is kept when it is sane, so one id follows a request across systems.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    // During a drain, requests on open keep-alive connections are still served (with
    // Connection: close) rather than refused with a bare 503.
    return503OnClosing: false,
    trustProxy: fastifyTrustProxy(options.trustProxy),
    // A URL the router cannot even decode (bad percent-encoding) gets the same envelope as any 400.
    frameworkErrors: (error, request, reply) => {
      const detail = error.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid: check its percent-encoding' : undefined;
      // Typed for any route's schemas here; this reply has none.
      void (reply as FastifyReply).code(400).header('x-request-id', String(request.id)).type('application/json').send(errorBody(request as FastifyRequest, 'BAD_REQUEST', detail));
    },
  });

  // Before any route: each distinct response schema is compiled once (serializers.ts says why).
  server.setSerializerCompiler(sharedSerializerCompiler());

  // Callback style (not async) for the hooks every request runs: no promise to settle. One hook for
  // the request id and the URL check: each hook is a turn of Fastify's hook runner.
  server.addHook('onRequest', (request, reply, done) => {
    if (quietLogger) request.log = lazyChildLogger(quietLogger, { reqId: request.id }, {});
    reply.header('x-request-id', String(request.id));
    done(urlError(request));
  });
  return { server, log: quietLogger ?? server.log };
}
