// Running Gatehouse: config → open store → migrate → createApp → listen; SIGTERM drains and exits 0.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createApp } from './app.js';
import { systemClock, type Clock } from './clock.js';
import { DEFAULTS, secretKeysFor, type Config, type LogFormatSetting } from './config.js';
import type { SettingKey } from './settings.js';
import { openStore, type Store } from './store/store.js';
import { openCache } from './cache/open.js';
import { migrate } from './store/migrate.js';
import { startDatabaseClock, type DatabaseClock } from './store/database-clock.js';
import { createMailer, redactSmtpUrl } from './mail/mailer.js';
import { listenUrl } from './http/public-url.js';
import { tracingWanted } from './tracing/tracing-setting.js';
import { enableMetrics, serveMetrics, type MetricsListener } from './observability/metrics.js';
import { countExpiringKeys } from './domain/api-keys/expiring.js';
import { AccessLog, accessLogThrough, type AccessRecorder } from './http/access-log.js';

/** The built web page: dist/web beside the compiled server. */
const WEB_ROOT = fileURLToPath(new URL('./web', import.meta.url));

/** How long SIGTERM waits for in-flight requests before closing their connections. */
const DRAIN_DEADLINE_MS = 8_000;

/** Starting would serve wrong answers: the message says why and what to do. */
export class StartRefused extends Error {}

export interface Running {
  url: string;
  store: Store;
  stop(): Promise<void>;
}

/** Pretty lines for a person at a terminal, JSON lines for anything that reads them. */
export function logFormat(setting: LogFormatSetting, stdoutIsTTY: boolean): 'json' | 'pretty' {
  return setting === 'auto' ? (stdoutIsTTY ? 'pretty' : 'json') : setting;
}

export function createLogger(level: string, format: 'json' | 'pretty' = 'json') {
  const options = {
    level,
    // Belt and braces: request logs never carry headers, but if one ever did, no credential goes out.
    // URLs and error texts are redacted by the app's serializers (http/log-redaction.ts).
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.key', '*.api_key'], censor: '[redacted]' },
  };
  if (format === 'json') {
    // pino's own stream on stdout, as `pino(options)` makes it. pino stops writing when the reader
    // has gone (EPIPE) but re-throws any other failure, such as a full disk (ENOSPC), which would
    // stop the server over a log line; and its stream retries a failed write at exit forever.
    // Any failure therefore ends the log's output as pino ends it for EPIPE, said once on stderr:
    // requests are still served, and the access record goes on by itself (http/access-log.ts).
    const stdout = pino.destination({ dest: process.stdout.fd ?? 1 });
    stdout.once('error', (error: NodeJS.ErrnoException) => {
      const silent = () => {};
      Object.assign(stdout, { write: () => true, flush: silent, flushSync: silent, end: silent });
      process.stderr.write(`gatehouse: writing the log to standard output failed (${error.code ?? error.message}); no more log lines until a restart\n`);
    });
    stdout.on('error', () => {});
    return pino(options, stdout);
  }
  // Loaded only here: JSON logging, the production path, never pays for it. It formats the JSON that
  // pino has already redacted, in this thread, writing synchronously so no line is lost on exit.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino(options, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/**
 * The access record's writer for the setting, or null when it is off. Lost lines (a full disk, a
 * reader gone) are told in the log, at most at their start and when writing works again.
 */
function openAccessLog(config: Config, logger: ReturnType<typeof createLogger>, format: 'json' | 'pretty'): AccessRecorder | null {
  const setting = config.accessLog;
  if (setting === 'off') return null;
  const report = (message: string, details: { code: string; droppedLines: number }) => logger.warn(details, message);
  // Pretty lines for a person at a terminal: through pino-pretty, like every other line there.
  if (setting === 'stdout' && format === 'pretty') return accessLogThrough((logger as unknown as Record<symbol, { write(chunk: string): unknown }>)[pino.symbols.streamSym]!);
  if (setting === 'stdout') return new AccessLog({ fd: 1 }, { report });
  try {
    return new AccessLog({ file: setting.file }, { report });
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unknown error';
    throw new StartRefused(`Cannot open the access log ${setting.file} for appending (${code}): create its directory and let this user write there, or set GATEHOUSE_ACCESS_LOG=stdout or off`);
  }
}

const hasPassword = (url: string) => {
  try {
    return new URL(url).password !== '';
  } catch {
    return true; // unreadable here: assume it holds one rather than print it
  }
};
const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** The project folder (the compiled server is in dist/): `npx gatehouse` works from there. */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/+$/, '');

/**
 * The bootstrap command that reaches the same store as this server, ready to paste into this
 * terminal: the store flags must match, or the account lands in another database. Outside the
 * project folder it names the command by its path (`npx gatehouse` would look on the registry).
 * A database password is never printed: the command then reads GATEHOUSE_DATABASE_URL, which the
 * hint sets with a placeholder where the password goes, unless the server read it from there too.
 * A store named by the configuration file is reached with `--config FILE`.
 */
export function bootstrapHint(config: Config, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const inProject = resolve(cwd) === PROJECT_ROOT;
  const command = inProject ? 'npx gatehouse' : `node ${shellWord(`${PROJECT_ROOT}/bin/gatehouse.js`)}`;
  const flags = ['--account-name "My Organization"', '--account-handle my-org', '--email you@example.com'];
  const lines: string[] = [];
  const storeKeys: SettingKey[] = config.databaseUrl ? ['database_url', ...(config.databaseSchema ? ['database_schema' as const] : [])] : ['data_dir'];
  if (config.configFile && storeKeys.every((key) => config.configFile!.keys.includes(key))) {
    // The store is the file's: name the file (which may hold the database password), not its values.
    flags.push(`--config ${shellWord(config.configFile.path)}`);
  } else if (config.databaseUrl) {
    if (env.GATEHOUSE_DATABASE_URL === config.databaseUrl) {
      flags.push('--database-url "$GATEHOUSE_DATABASE_URL"');
    } else if (hasPassword(config.databaseUrl)) {
      lines.push(`export GATEHOUSE_DATABASE_URL=${shellWord(withPasswordPlaceholder(config.databaseUrl))}   # put the database password in`);
      flags.push('--database-url "$GATEHOUSE_DATABASE_URL"');
    } else {
      flags.push(`--database-url ${shellWord(config.databaseUrl)}`);
    }
    if (config.databaseSchema) flags.push(`--database-schema ${config.databaseSchema}`);
  } else if (!inProject || config.dataDir !== resolve(cwd, DEFAULTS.dataDir)) {
    flags.push(`--data-dir ${shellWord(config.dataDir)}`);
  }
  lines.push(`${command} bootstrap ${flags.join(' ')}`);
  return lines;
}

function withPasswordPlaceholder(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = 'PASSWORD';
    return parsed.toString();
  } catch {
    return 'postgres://USER:PASSWORD@HOST:5432/DATABASE';
  }
}

export async function startServer(config: Config, out: (line: string) => void = console.log): Promise<Running> {
  const logger = createLogger(config.logLevel, logFormat(config.logFormat, process.stdout.isTTY === true));
  // Before the store opens: its query timing is attached then, and the app's hooks when it is built.
  if (config.metricsPort !== undefined) enableMetrics();
  // Before the store: its queries are traced through its dialect. Off, the SDK is never loaded.
  const tracing = tracingWanted(config.tracing, process.env) ? (await import('./tracing/tracing.js')).startTracing({ setting: config.tracing }) : null;
  let store: Store;
  try {
    store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema, wrapDialect: tracing?.dialect });
  } catch (error) {
    await tracing?.shutdown().catch(() => {});
    throw error;
  }
  const cache = openCache(store, { databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema, enabled: config.authCache });
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  let databaseClock: DatabaseClock | undefined;
  let metricsListener: MetricsListener | undefined;
  let accessLog: AccessRecorder | null = null;
  let address: string;
  try {
    accessLog = openAccessLog(config, logger, logFormat(config.logFormat, process.stdout.isTTY === true));
    await migrate(store);
    const secretKeys = secretKeysFor(config);
    // Expiry is decided by one clock for every process on the database: the database's. SQLite is
    // on this machine alone, and this process's clock is the only one there.
    let clock: Clock = systemClock;
    if (store.dialect === 'postgres') {
      databaseClock = await startDatabaseClock(store.db, {
        // The error's code only: what a driver says about a connection is not for the log.
        onResyncError: (error) => logger.warn({ code: (error as { code?: unknown })?.code }, 'reading the database clock failed; expiry goes on from the last reading'),
      });
      clock = databaseClock;
    }
    app = await createApp({
      store,
      cache,
      clock,
      logger,
      bodyLimit: config.bodyLimit,
      webRoot: WEB_ROOT,
      trustProxy: config.trustProxy,
      publicUrl: config.publicUrl,
      sessionTtlSeconds: config.sessionTtlSeconds,
      mailer: createMailer({ url: config.smtpUrl, from: config.smtpFrom }),
      secretKey: secretKeys,
      upstreamConnectTimeoutMs: config.upstreamConnectTimeoutMs,
      upstreamResponseTimeoutMs: config.upstreamResponseTimeoutMs,
      keyFailureLimit: config.keyFailureLimit,
      tracing,
      leakReportKeys: config.leakReportKeys ?? null,
      auditFeed: config.auditFeed,
      auditRetentionDays: config.auditRetentionDays,
      accessLog,
      accessLogSample: config.accessLogSample,
    });
    const claim = await app.services.gateways.claimSecretKey(clock.now());
    if (!claim.ok) throw new StartRefused(claim.detail);
    address = await app.server.listen({ host: config.host, port: config.port });
    if (config.metricsPort !== undefined) metricsListener = await serveMetrics({ host: config.metricsHost, port: config.metricsPort, expiringKeys: () => countExpiringKeys(store.db, clock.now()) });
  } catch (error) {
    // An open pool would keep the process alive long after the error (port in use, bad migration).
    await metricsListener?.close().catch(() => {});
    await app?.server.close().catch(() => {});
    databaseClock?.stop();
    await cache.close().catch(() => {});
    await store.close().catch(() => {});
    await tracing?.shutdown().catch(() => {});
    await accessLog?.close().catch(() => {});
    throw error;
  }
  const url = address.replace('://[::1]', '://localhost');

  out(`Gatehouse is serving on ${url} (store: ${store.description})`);
  out(`  health: ${url}/api/health   API description: ${url}/api/openapi.json`);
  out(`  web page: ${url}/`);
  if (metricsListener) out(`  metrics: ${metricsListener.url}`);
  if (config.smtpUrl) out(`  invitations are also mailed via ${redactSmtpUrl(config.smtpUrl)}`);
  if (!config.publicUrl) {
    out(`  GATEHOUSE_PUBLIC_URL is not set: invitation links point at ${listenUrl(app.server.server.address())};`);
    out('  set it to the address people use (e.g. https://gatehouse.example.com) when that differs');
  }
  const setupToken = await app.services.setup.issueToken();
  if (setupToken) {
    const base = (config.publicUrl ?? url).replace(/\/+$/, '');
    out('');
    out('No account exists yet. Create the first account and its Owner, either in the browser with this');
    out('one-time setup link (valid 24 hours, until the first account exists):');
    // In the fragment: a browser never sends it, so no proxy or access log records the token.
    out(`  ${base}/setup#token=${setupToken}`);
    out('or from the command line (prints an API key once):');
    for (const line of bootstrapHint(config)) out(`  ${line}`);
    out('');
  }

  // logrotate's postrotate (or `kill -HUP`) has the file opened again under its name.
  const opened = accessLog;
  const reopenAccessLog = opened && typeof config.accessLog === 'object' ? () => opened.reopen() : null;
  if (reopenAccessLog) process.on('SIGHUP', reopenAccessLog);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      // Fastify stops accepting, lets in-flight requests finish, then closes. A keep-alive
      // connection busy at close() turns idle only later, and Node then keeps it open for the
      // keep-alive timeout (72 s): close such connections as soon as they are idle, and every
      // connection once the drain deadline has passed.
      const http = app.server.server;
      const reaper = setInterval(() => http.closeIdleConnections(), 50);
      const deadline = setTimeout(() => http.closeAllConnections(), DRAIN_DEADLINE_MS);
      try {
        await app.server.close();
      } finally {
        clearInterval(reaper);
        clearTimeout(deadline);
      }
      await metricsListener?.close();
      // After the server has closed: the last requests' lines are written, then the file closed.
      await accessLog?.close();
      if (reopenAccessLog) process.off('SIGHUP', reopenAccessLog);
      databaseClock?.stop();
      await cache.close();
      await store.close();
      // The spans of the last requests are sent before the process exits.
      await tracing?.shutdown().catch(() => {});
    })();
    return stopping;
  };
  return { url, store, stop };
}
