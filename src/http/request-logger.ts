// Each request's logger, made only when something is logged. Fastify gives every request a child
// logger bound to its id; making one costs about as much as authenticating a cached key, and at the
// default level nothing is logged for most requests.
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
import { redactSecrets } from './log-redaction.js';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

class LazyChildLogger {
  #child: Logger | undefined;
  constructor(
    readonly parent: Logger,
    readonly bindings: Bindings,
    readonly options: ChildLoggerOptions,
  ) {}
  #real(): Logger {
    return (this.#child ??= this.parent.child(this.bindings, this.options));
  }
  #log(level: Level, args: unknown[]): void {
    if (!this.#child && !this.parent.isLevelEnabled(level)) return;
    // Messages Fastify builds itself can quote the URL (a reply sent twice): no credential in them.
    (this.#real()[level] as (...a: unknown[]) => void)(...args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)));
  }
  get level(): string {
    return this.#child?.level ?? this.parent.level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.#real().child(bindings, options);
  }
  fatal(...args: unknown[]) { this.#log('fatal', args); }
  error(...args: unknown[]) { this.#log('error', args); }
  warn(...args: unknown[]) { this.#log('warn', args); }
  info(...args: unknown[]) { this.#log('info', args); }
  debug(...args: unknown[]) { this.#log('debug', args); }
  trace(...args: unknown[]) { this.#log('trace', args); }
  silent() {}
}

export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger as unknown as Logger, bindings, options) as unknown as FastifyBaseLogger;
}

/** Paths that load balancers and orchestrators poll: their routine answers are not news. */
const PROBE_ROUTES = new Set(['/api/health', '/api/ready']);

/**
 * Fastify's two lines per request, at debug instead of info for a health probe answered 2xx/3xx, so
 * a probe every few seconds does not bury the log; a probe that fails is logged as any request.
 */
export class ProbeQuietLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (!PROBE_ROUTES.has(request.routeOptions.url ?? '')) return super.incomingRequest(request, reply);
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error || reply.statusCode >= 400 || !PROBE_ROUTES.has(request.routeOptions.url ?? '')) return super.requestCompleted(error, request, reply);
    if (!this.isLogDisabled(request)) reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
