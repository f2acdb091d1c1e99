// OpenTelemetry traces, off unless configured (docs/tracing.md). When off, this module is not even
// loaded (main.ts asks tracing-setting.ts first), nothing is built and the app installs no hook. When on,
// a trace starts only at a request (an HTTP request, a websocket's open); the auth decision, store
// queries and the upstream call are its children, and work outside a request is not traced.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  ATTR_CLIENT_ADDRESS, ATTR_DB_COLLECTION_NAME, ATTR_DB_OPERATION_NAME, ATTR_DB_QUERY_SUMMARY, ATTR_DB_RESPONSE_STATUS_CODE, ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely';
import type { AuthCore, Presented } from '../auth/core.js';
import { bearerKey } from '../auth/credentials.js';
import { KEY_PREFIX } from '../domain/api-keys/key-format.js';
import type { Forwarder } from '../gateway/proxy.js';
import type { WebsocketOpening } from '../gateway/websocket.js';
import type { TracingSetting } from '../config.js';
import { tracingWanted } from './tracing-setting.js';


export interface Tracing {
  /** The server span of every HTTP request (Fastify hooks); install before any route. */
  install(server: FastifyInstance): void;
  /** The auth core with a span around each decision. */
  auth(core: AuthCore): AuthCore;
  /** A Kysely dialect whose queries are spans (statement kind and table; never parameters). */
  dialect(dialect: Dialect, system: 'sqlite' | 'postgresql'): Dialect;
  /** The gateway's forwarder with a client span per upstream call, and `traceparent` sent on. */
  forwarder(forwarder: Forwarder): Forwarder;
  /** Starts the span of a websocket's open and runs `handle` (the upgrade) under it. */
  websocketOpen(request: IncomingMessage, socket: Duplex, handle: (opening: WebsocketOpening) => void): void;
  /** Sends the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  setting: TracingSetting;
  /** Replaces the OTLP/HTTP exporter (tests: an in-memory one, sent span by span). */
  exporter?: SpanExporter;
}

/** The tracer provider in use, or null when tracing is off: then no exporter, processor or hook exists. */
export function startTracing({ setting, exporter }: TracingOptions): Tracing | null {
  if (!tracingWanted(setting, process.env)) return null;
  // The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout) itself; the resource takes
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over Gatehouse's defaults; the provider reads OTEL_TRACES_SAMPLER.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'gatehouse', [ATTR_SERVICE_VERSION]: VERSION }))
    .merge(detectResources({ detectors: [envDetector] }));
  const processor = exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  // The global API: its context manager (AsyncLocalStorage) carries the request's span through
  // awaits, and its propagator reads and writes W3C traceparent/tracestate (and baggage).
  provider.register();
  return tracingWith(provider.getTracer('gatehouse', VERSION), async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
}

const VERSION = '0.1.0';

function tracingWith(tracer: Tracer, shutdown: () => Promise<void>): Tracing {
  /** A span under the active one, or undefined when no recorded span is active (outside a request, or not sampled). */
  function childSpan(name: string, kind: SpanKind, attributes: Attributes): Span | undefined {
    if (!trace.getActiveSpan()?.isRecording()) return undefined;
    return tracer.startSpan(name, { kind, attributes });
  }

  return {
    install: (server) => installRequestSpans(server, tracer),
    auth: (core) => tracedAuth(core, childSpan),
    dialect: (dialect, system) => tracedDialect(dialect, system, childSpan),
    forwarder: (forwarder) => tracedForwarder(forwarder, childSpan),
    websocketOpen: (request, socket, handle) => websocketOpen(tracer, request, socket, handle),
    shutdown,
  };
}

type ChildSpan = (name: string, kind: SpanKind, attributes: Attributes) => Span | undefined;

const headerGetter = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
};

/** The error status, with `error.type`, on a span. */
function failed(span: Span, type: string): void {
  span.setAttribute(ATTR_ERROR_TYPE, type);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/**
 * A server span per request, named by its route (`GET /api/accounts/:account_id`), never by its path
 * (ids) or query (which may hold anything). The caller's `traceparent` is continued. The span's
 * context is entered for the hooks and for the handler (body parsing runs outside it).
 */
function installRequestSpans(server: FastifyInstance, tracer: Tracer): void {
  const spans = new WeakMap<FastifyRequest, { span: Span; context: Context }>();
  server.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
    const span = tracer.startSpan(
      request.method,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_CLIENT_ADDRESS]: request.ip, 'gatehouse.request_id': String(request.id) } },
      parent,
    );
    const active = trace.setSpan(parent, span);
    spans.set(request, { span, context: active });
    context.with(active, done);
  });
  server.addHook('preHandler', (request, _reply, done) => {
    const entry = spans.get(request);
    if (entry) context.with(entry.context, done);
    else done();
  });
  const end = (request: FastifyRequest, status: number | null) => {
    const entry = spans.get(request);
    if (!entry) return;
    spans.delete(request);
    const { span } = entry;
    const route = request.routeOptions.url;
    if (route) {
      span.setAttribute(ATTR_HTTP_ROUTE, route);
      span.updateName(`${request.method} ${route}`);
    }
    if (status === null) failed(span, 'aborted');
    else {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (status >= 500) failed(span, String(status));
    }
    span.end();
  };
  server.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  server.addHook('onRequestAbort', (request, done) => {
    end(request, null);
    done();
  });
}

/** What a caller presented, by kind only: never a key's text. */
export function credentialKind(presented: Presented): string {
  const key = bearerKey(presented.authorization);
  if (key !== null) return key.startsWith(KEY_PREFIX.bot) ? 'service_account_key' : key.startsWith(KEY_PREFIX.user) ? 'user_key' : 'malformed';
  return presented.sessionToken() ? 'session' : 'none';
}

/**
 * A span `auth` around each route's decision: the result (`allow` or the refusal's code), the kind
 * of credential, and whether the cache answered it all (`hit`) or the store was asked (`miss`).
 * The store's queries are its children.
 */
function tracedAuth(core: AuthCore, childSpan: ChildSpan): AuthCore {
  return {
    ...core,
    authorize(requirement, presented, target) {
      const span = childSpan('auth', SpanKind.INTERNAL, { 'gatehouse.auth.credential': credentialKind(presented), 'gatehouse.auth.requirement': requirement.kind });
      if (!span) return core.authorize(requirement, presented, target);
      const finish = (result: Awaited<ReturnType<AuthCore['authorize']>>, cache: 'hit' | 'miss') => {
        span.setAttributes({ 'gatehouse.auth.result': result.ok ? 'allow' : result.code, 'gatehouse.auth.cache': cache });
        if (result.ok && result.value.actor) span.setAttribute('gatehouse.auth.actor_type', result.value.actor.type);
        span.end();
        return result;
      };
      try {
        const outcome = context.with(trace.setSpan(context.active(), span), () => core.authorize(requirement, presented, target));
        if (!(outcome instanceof Promise)) return finish(outcome, 'hit');
        return outcome.then(
          (result) => finish(result, 'miss'),
          (error: unknown) => {
            failed(span, errorType(error));
            span.end();
            throw error;
          },
        );
      } catch (error) {
        failed(span, errorType(error));
        span.end();
        throw error;
      }
    },
  };
}

/** An error's code or class name: never its message, which may quote what was sent. */
function errorType(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' || typeof code === 'number') return String(code);
  return error instanceof Error ? error.constructor.name : 'unknown';
}

/**
 * Kysely's dialect with every statement a client span: `select api_keys`, `begin`, `commit`. The
 * statement kind and its first table are read from the query tree; the SQL text and its
 * parameters are not recorded.
 */
function tracedDialect(dialect: Dialect, system: 'sqlite' | 'postgresql', childSpan: ChildSpan): Dialect {
  // The drivers hand out the same few connection objects again and again: one wrapper each.
  const wrappers = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const traced = (connection: DatabaseConnection): DatabaseConnection => {
    let wrapper = wrappers.get(connection);
    if (!wrapper) wrappers.set(connection, (wrapper = wrap(connection)));
    return wrapper;
  };
  const wrap = (connection: DatabaseConnection): DatabaseConnection => {
    const executeQuery = async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      const { operation, table } = statementOf(query);
      const summary = table ? `${operation} ${table}` : operation;
      const span = childSpan(summary, SpanKind.CLIENT, { [ATTR_DB_SYSTEM_NAME]: system, [ATTR_DB_OPERATION_NAME]: operation, [ATTR_DB_QUERY_SUMMARY]: summary, ...(table ? { [ATTR_DB_COLLECTION_NAME]: table } : {}) });
      if (!span) return connection.executeQuery<R>(query);
      try {
        return await connection.executeQuery<R>(query);
      } catch (error) {
        const code = errorType(error);
        span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, code);
        failed(span, code);
        throw error;
      } finally {
        span.end();
      }
    };
    // The driver calls its own connection's private methods (release, discard) through this one.
    return new Proxy(connection, {
      get: (target, property) => {
        if (property === 'executeQuery') return executeQuery;
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => {
      const driver = dialect.createDriver();
      // Transactions begin, commit and roll back through the traced connection, so they are spans too.
      const wrapped: Driver = {
        init: () => driver.init(),
        acquireConnection: async () => traced(await driver.acquireConnection()),
        beginTransaction: (connection, settings) => driver.beginTransaction(connection, settings),
        commitTransaction: (connection) => driver.commitTransaction(connection),
        rollbackTransaction: (connection) => driver.rollbackTransaction(connection),
        releaseConnection: (connection) => driver.releaseConnection(connection),
        destroy: () => driver.destroy(),
      };
      if (driver.savepoint) wrapped.savepoint = driver.savepoint.bind(driver);
      if (driver.rollbackToSavepoint) wrapped.rollbackToSavepoint = driver.rollbackToSavepoint.bind(driver);
      if (driver.releaseSavepoint) wrapped.releaseSavepoint = driver.releaseSavepoint.bind(driver);
      return wrapped;
    },
  };
}

const NODE_OPERATIONS: Record<string, string> = { SelectQueryNode: 'select', InsertQueryNode: 'insert', UpdateQueryNode: 'update', DeleteQueryNode: 'delete', MergeQueryNode: 'merge' };

/** A statement's kind (`select`, `begin`, …) and first table, from Kysely's query tree. */
export function statementOf(query: CompiledQuery): { operation: string; table: string | null } {
  const node = query.query as unknown as Record<string, any>;
  const operation = NODE_OPERATIONS[node.kind];
  if (!operation) return { operation: /^\s*([A-Za-z]+)/.exec(query.sql)?.[1]?.toLowerCase() ?? 'query', table: null };
  const from = node.kind === 'InsertQueryNode' ? node.into : node.kind === 'UpdateQueryNode' ? node.table : node.kind === 'MergeQueryNode' ? node.into : node.from?.froms?.[0];
  return { operation, table: tableName(from) };
}

function tableName(node: Record<string, any> | undefined): string | null {
  if (node?.kind === 'AliasNode') return tableName(node.node);
  const name = node?.kind === 'TableNode' ? node.table?.identifier?.name : undefined;
  return typeof name === 'string' ? name : null;
}

/**
 * A client span per call to a workspace's Prefect server, whose `traceparent` the upstream gets
 * (replacing any the caller sent): the Prefect server's own spans join the trace. A request that is
 * not sampled still passes its trace id on.
 */
function tracedForwarder(forwarder: Forwarder, childSpan: ChildSpan): Forwarder {
  return {
    close: () => forwarder.close(),
    async forward(request) {
      const { url } = request.upstream;
      const span = childSpan(request.method, SpanKind.CLIENT, {
        [ATTR_HTTP_REQUEST_METHOD]: request.method,
        [ATTR_SERVER_ADDRESS]: url.hostname,
        [ATTR_SERVER_PORT]: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      });
      delete request.headers.traceparent;
      delete request.headers.tracestate;
      propagation.inject(span ? trace.setSpan(context.active(), span) : context.active(), request.headers);
      if (!span) return forwarder.forward(request);
      try {
        const result = await forwarder.forward(request);
        if (result.ok) {
          span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.status);
          if (result.status >= 500) failed(span, String(result.status));
        } else failed(span, result.failure);
        return result;
      } finally {
        span.end();
      }
    },
  };
}

/** The span of a websocket's open (`WS open`), the caller's traceparent continued; its end is the first outcome. */
function websocketOpen(tracer: Tracer, request: IncomingMessage, socket: Duplex, handle: (opening: WebsocketOpening) => void): void {
  const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
  const span = tracer.startSpan('WS open', { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: 'GET', 'gatehouse.websocket': true } }, parent);
  const active = trace.setSpan(parent, span);
  let ended = false;
  const end = (apply: () => void) => {
    if (ended) return;
    ended = true;
    apply();
    span.end();
  };
  const opening: WebsocketOpening = {
    refused: (status, code) => end(() => span.setAttributes({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: status, 'gatehouse.refusal': code })),
    opened: () => end(() => span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, 101)),
    failed: (reason) => end(() => failed(span, reason)),
    inject: (headers) => propagation.inject(active, headers),
  };
  socket.once('close', () => opening.failed('closed_before_open'));
  context.with(active, () => handle(opening));
}
