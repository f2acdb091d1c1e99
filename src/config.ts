// Configuration from flags and environment, validated once. Flags win over the environment.
import { isIP } from 'node:net';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { join, resolve } from 'node:path';
import { parseSmtpUrl, redactSmtpUrl } from './mail/mailer.js';
import { readSigningKeysFile, type SigningKeys } from './leak-report-keys.js';
import { keyring, parseSecretKey, readSecretKeyFile, secretKeyFile, type SecretKey, type SecretKeyring } from './secret-key.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema for Gatehouse's tables (default: the connection's search_path). */
  databaseSchema?: string;
  logLevel: string;
  /** JSON lines, or pino-pretty's lines for a person; `auto`: pretty when stdout is a terminal. */
  logFormat: LogFormatSetting;
  bodyLimit: number;
  /**
   * Which reverse proxies in front of Gatehouse to believe about the client (X-Forwarded-For/-Proto/
   * -Host): none, the nearest N hops, or those at the given addresses/CIDRs.
   */
  trustProxy: TrustProxy;
  /** How people reach Gatehouse (for setup and invitation links), e.g. https://gatehouse.example.com */
  publicUrl?: string;
  sessionTtlSeconds: number;
  /** SMTP server for mailing invitation links (optional; the link is always shown to the inviter). */
  smtpUrl?: string;
  /** The From header of those mails. */
  smtpFrom: string;
  /** Seals upstream credentials (GATEHOUSE_SECRET_KEY); without it, `<dataDir>/secret.key` is used. */
  secretKey?: SecretKey;
  /** A file holding that key, named explicitly (GATEHOUSE_SECRET_KEY_FILE); it must exist. */
  secretKeyFile?: string;
  /** Keys from before a rotation that still open credentials (GATEHOUSE_PREVIOUS_SECRET_KEYS). */
  previousSecretKeys: SecretKey[];
  /** How long the gateway waits to connect to a workspace's Prefect server, and for its answer. */
  upstreamConnectTimeoutMs: number;
  upstreamResponseTimeoutMs: number;
  /** Failed key authentications per client address per minute before 429. */
  keyFailureLimit: number;
  /** Keep verified keys and grants in memory between requests (coherent across processes). */
  authCache: boolean;
  /** OpenTelemetry traces: `auto` exports when an OTLP endpoint variable is set (docs/tracing.md). */
  tracing: TracingSetting;
  /** Serve Prometheus metrics at /metrics on this port (its own listener); unset: no metrics. */
  metricsPort?: number;
  /** The metrics listener's address (default 127.0.0.1: this machine only). */
  metricsHost: string;
  /** The public keys secret-scanning partners sign leak reports with, read from GATEHOUSE_LEAK_REPORT_KEYS_FILE. */
  leakReportKeys?: SigningKeys;
  /** GATEHOUSE_AUDIT_FEED: a file or local socket that every audit event is also written to, as a JSON line. */
  auditFeed?: AuditFeedTarget;
  /** GATEHOUSE_AUDIT_RETENTION_DAYS: audit events older than this are pruned; unset keeps them forever. */
  auditRetentionDays?: number;
  /** One line per request: to standard output, to a file (reopened on SIGHUP), or off. */
  accessLog: AccessLogSetting;
  /** Write one of every N successful requests' access lines; refusals and errors always. */
  accessLogSample: number;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 4280,
  dataDir: './.gatehouse',
  logLevel: 'info',
  bodyLimit: 1_048_576,
  smtpFrom: 'Gatehouse <gatehouse@localhost>',
  upstreamConnectTimeoutSeconds: 5,
  upstreamResponseTimeoutSeconds: 60,
  keyFailureLimit: 30,
  metricsHost: '127.0.0.1',
};

/** false: no proxy; a number: that many hops nearest Gatehouse; a list: proxies at those addresses/CIDRs. */
export type TrustProxy = false | number | string[];

const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const TRUST_PROXY_USE =
  'set the number of reverse proxies in front of Gatehouse (GATEHOUSE_TRUST_PROXY=1 for one nginx or Traefik) ' +
  'or their addresses (e.g. GATEHOUSE_TRUST_PROXY=127.0.0.1 or 10.0.0.0/8,192.168.1.5; loopback, linklocal and uniquelocal name those ranges)';

/** GATEHOUSE_TRUST_PROXY: off, a hop count, or a list of proxy addresses/CIDRs. `true` is refused. */
export function parseTrustProxy(given: string | undefined): { ok: true; value: TrustProxy } | { ok: false; error: string } {
  const text = (given ?? '').trim();
  if (text === '' || text.toLowerCase() === 'false' || text === '0') return { ok: true, value: false };
  if (text.toLowerCase() === 'true') {
    return {
      ok: false,
      error: `GATEHOUSE_TRUST_PROXY=true is refused: it believed every X-Forwarded-For hop, so any client could choose its own address (and slip past the sign-in and key throttles). Instead ${TRUST_PROXY_USE}`,
    };
  }
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 10) return { ok: false, error: `Invalid GATEHOUSE_TRUST_PROXY "${text}": a hop count from 1 to 10, or proxy addresses` };
    return { ok: true, value: hops };
  }
  const entries = text.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!isProxyRange(entry)) return { ok: false, error: `Invalid GATEHOUSE_TRUST_PROXY entry "${entry}": ${TRUST_PROXY_USE}` };
  }
  return { ok: true, value: entries };
}

function isProxyRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** GATEHOUSE_TRACING: `auto` (on when an OTLP endpoint variable is set), `on`, or `off` (tracing/tracing-setting.ts). */
export const TRACING_SETTINGS = ['auto', 'on', 'off'] as const;
export type TracingSetting = (typeof TRACING_SETTINGS)[number];
/** Where the live audit feed goes (domain/audit/feed-sink.ts has the same shape). */
export type AuditFeedTarget = { kind: 'file'; path: string } | { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

const AUDIT_FEED_USE = 'file:/var/log/gatehouse/audit.jsonl, unix:/run/vector/audit.sock or tcp:127.0.0.1:PORT (a collector on this machine)';

/** GATEHOUSE_AUDIT_FEED: `file:PATH`, `unix:PATH` or `tcp:HOST:PORT` with a loopback host; empty for none. */
export function parseAuditFeed(given: string | undefined): { ok: true; value: AuditFeedTarget | undefined } | { ok: false; error: string } {
  const text = (given ?? '').trim();
  if (text === '') return { ok: true, value: undefined };
  const refused = (why: string) => ({ ok: false as const, error: `Invalid GATEHOUSE_AUDIT_FEED "${text}": ${why}; use ${AUDIT_FEED_USE}` });
  const colon = text.indexOf(':');
  const [kind, rest] = colon === -1 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
  if (kind === 'file' || kind === 'unix') {
    if (!rest) return refused(`${kind}: needs a path`);
    return { ok: true, value: { kind, path: resolve(rest) } };
  }
  if (kind === 'tcp') {
    const match = /^(\[::1\]|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|[^:]+):(\d{1,5})$/.exec(rest);
    if (!match) return refused('tcp: needs HOST:PORT');
    const host = match[1]!.replace(/^\[|\]$/g, '');
    const port = Number(match[2]);
    // The feed is plain text with no authentication: it goes to a collector on this machine only.
    if (host !== 'localhost' && host !== '::1' && !(isIP(host) === 4 && host.startsWith('127.'))) return refused('tcp: goes to this machine only (127.0.0.1, ::1 or localhost): the lines are sent unencrypted');
    if (port < 1 || port > 65535) return refused('the port must be from 1 to 65535');
    return { ok: true, value: { kind: 'tcp', host, port } };
  }
  return refused(`"${kind}" is not a kind of feed`);
}

/** `GATEHOUSE_ACCESS_LOG`: standard output (with the rest of the log), a file, or nothing. */
export type AccessLogSetting = 'stdout' | 'off' | { file: string };

/** GATEHOUSE_ACCESS_LOG: stdout (default), off, or a file's path (relative to the working directory). */
export function parseAccessLog(given: string | undefined): { ok: true; value: AccessLogSetting } | { ok: false; error: string } {
  const text = (given ?? '').trim();
  if (text === '' || text.toLowerCase() === 'stdout') return { ok: true, value: 'stdout' };
  if (['off', 'false', 'none'].includes(text.toLowerCase())) return { ok: true, value: 'off' };
  if (text.endsWith('/') || text.includes('\0')) {
    return { ok: false, error: `Invalid GATEHOUSE_ACCESS_LOG "${text}": stdout, off, or the path of a file to append to (e.g. /var/log/gatehouse/access.log)` };
  }
  return { ok: true, value: { file: resolve(text) } };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormatSetting = (typeof LOG_FORMATS)[number];

export type ConfigResult = { ok: true; config: Config } | { ok: false; error: string };

export interface ConfigFlags {
  host?: string;
  port?: string;
  'data-dir'?: string;
  'database-url'?: string;
  'database-schema'?: string;
  'log-level'?: string;
  'metrics-port'?: string;
  'metrics-host'?: string;
}

/** Text that must be a whole number (digits only); anything else reads as NaN, which no schema accepts. */
const wholeNumber = (text: string) => (/^\d+$/.test(text) ? Number(text) : NaN);
/** Seconds: a number with an optional fraction. */
const decimalNumber = (text: string) => (/^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN);
const oneOf = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)));

/** The settings with a plain shape, in the order they are checked; the message for each names its source. */
const Settings = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  databaseSchema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
  logLevel: oneOf(LOG_LEVELS),
  logFormat: oneOf(LOG_FORMATS),
  bodyLimit: Type.Integer({ minimum: 1024 }),
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s/]+' })),
  sessionTtlSeconds: Type.Integer({ minimum: 60, maximum: 2_592_000 }),
  connectTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600 }),
  responseTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600 }),
  keyFailureLimit: Type.Integer({ minimum: 1 }),
  authCache: oneOf(['on', 'off']),
  tracing: oneOf(TRACING_SETTINGS),
  metricsPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  accessLogSample: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
});
type SettingName = keyof typeof Settings.properties;

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const text = {
    port: flags.port ?? env.GATEHOUSE_PORT ?? String(DEFAULTS.port),
    bodyLimit: env.GATEHOUSE_BODY_LIMIT ?? String(DEFAULTS.bodyLimit),
    sessionTtlSeconds: env.GATEHOUSE_SESSION_TTL_SECONDS ?? '43200',
    connectTimeoutSeconds: env.GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT_SECONDS ?? String(DEFAULTS.upstreamConnectTimeoutSeconds),
    responseTimeoutSeconds: env.GATEHOUSE_UPSTREAM_RESPONSE_TIMEOUT_SECONDS ?? String(DEFAULTS.upstreamResponseTimeoutSeconds),
    keyFailureLimit: env.GATEHOUSE_KEY_FAILURE_LIMIT ?? String(DEFAULTS.keyFailureLimit),
    metricsPort: flags['metrics-port'] ?? (env.GATEHOUSE_METRICS_PORT || undefined),
    accessLogSample: env.GATEHOUSE_ACCESS_LOG_SAMPLE ?? '1',
  };
  const values = {
    port: wholeNumber(text.port),
    databaseUrl: flags['database-url'] ?? env.GATEHOUSE_DATABASE_URL ?? undefined,
    databaseSchema: flags['database-schema'] ?? env.GATEHOUSE_DATABASE_SCHEMA ?? undefined,
    logLevel: flags['log-level'] ?? env.GATEHOUSE_LOG_LEVEL ?? DEFAULTS.logLevel,
    logFormat: (env.GATEHOUSE_LOG_FORMAT || 'auto').toLowerCase() as LogFormatSetting,
    bodyLimit: Number(text.bodyLimit),
    publicUrl: env.GATEHOUSE_PUBLIC_URL || undefined,
    sessionTtlSeconds: Number(text.sessionTtlSeconds),
    connectTimeoutSeconds: decimalNumber(text.connectTimeoutSeconds),
    responseTimeoutSeconds: decimalNumber(text.responseTimeoutSeconds),
    keyFailureLimit: wholeNumber(text.keyFailureLimit),
    authCache: (env.GATEHOUSE_AUTH_CACHE ?? 'on').toLowerCase(),
    tracing: (env.GATEHOUSE_TRACING || 'auto').toLowerCase() as TracingSetting,
    metricsPort: text.metricsPort === undefined ? undefined : wholeNumber(text.metricsPort),
    accessLogSample: wholeNumber(text.accessLogSample),
  };
  const refusal: Record<SettingName, () => string> = {
    port: () => `Invalid port "${text.port}": use a number from 0 to 65535 (--port or GATEHOUSE_PORT)`,
    databaseUrl: () => 'Invalid database URL: it must start with postgres:// or postgresql:// (--database-url or GATEHOUSE_DATABASE_URL)',
    databaseSchema: () => `Invalid database schema "${values.databaseSchema}": lowercase letters, digits and "_" (--database-schema or GATEHOUSE_DATABASE_SCHEMA)`,
    logLevel: () => `Invalid log level "${values.logLevel}": use one of ${LOG_LEVELS.join(', ')}`,
    logFormat: () => `Invalid GATEHOUSE_LOG_FORMAT "${env.GATEHOUSE_LOG_FORMAT}": json, pretty or auto (pretty when standard output is a terminal)`,
    bodyLimit: () => `Invalid GATEHOUSE_BODY_LIMIT "${text.bodyLimit}": a number of bytes, at least 1024`,
    publicUrl: () => `Invalid GATEHOUSE_PUBLIC_URL "${values.publicUrl}": an http:// or https:// address`,
    sessionTtlSeconds: () => `Invalid GATEHOUSE_SESSION_TTL_SECONDS "${text.sessionTtlSeconds}": seconds, from 60 to 2592000 (30 days)`,
    connectTimeoutSeconds: () => `Invalid GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT_SECONDS "${text.connectTimeoutSeconds}": seconds, more than 0 and at most 600`,
    responseTimeoutSeconds: () => `Invalid GATEHOUSE_UPSTREAM_RESPONSE_TIMEOUT_SECONDS "${text.responseTimeoutSeconds}": seconds, more than 0 and at most 3600`,
    keyFailureLimit: () => `Invalid GATEHOUSE_KEY_FAILURE_LIMIT "${text.keyFailureLimit}": a whole number of failed key authentications per address per minute, at least 1`,
    authCache: () => `Invalid GATEHOUSE_AUTH_CACHE "${env.GATEHOUSE_AUTH_CACHE}": on or off`,
    tracing: () => `Invalid GATEHOUSE_TRACING "${env.GATEHOUSE_TRACING}": auto (export traces when OTEL_EXPORTER_OTLP_ENDPOINT is set), on or off`,
    metricsPort: () => `Invalid metrics port "${text.metricsPort}": a number from 0 to 65535, or unset for no metrics (--metrics-port or GATEHOUSE_METRICS_PORT)`,
    accessLogSample: () => `Invalid GATEHOUSE_ACCESS_LOG_SAMPLE "${text.accessLogSample}": a whole number N from 1 to 1000000, to write the access line of one in N successful requests (1: every request)`,
  };
  const first = Value.Errors(Settings, values).First();
  if (first) return { ok: false, error: refusal[first.path.split('/')[1] as SettingName]() };
  const { port, databaseUrl, databaseSchema, logLevel, logFormat, bodyLimit, publicUrl, sessionTtlSeconds, keyFailureLimit } = values;

  const host = flags.host ?? env.GATEHOUSE_HOST ?? DEFAULTS.host;
  const metricsHost = flags['metrics-host'] ?? (env.GATEHOUSE_METRICS_HOST || DEFAULTS.metricsHost);
  if (values.metricsPort !== undefined && values.metricsPort !== 0 && values.metricsPort === port) {
    return { ok: false, error: `The metrics port ${values.metricsPort} is the API's port: metrics have their own listener, apart from the public one; choose another port (--metrics-port or GATEHOUSE_METRICS_PORT)` };
  }
  if (databaseUrl && flags['data-dir']) {
    return { ok: false, error: 'Give either --data-dir (SQLite) or --database-url (PostgreSQL), not both' };
  }
  if (databaseSchema && !databaseUrl) {
    return { ok: false, error: 'A database schema applies to PostgreSQL only: give --database-url too' };
  }
  const trustProxy = parseTrustProxy(env.GATEHOUSE_TRUST_PROXY);
  if (!trustProxy.ok) return trustProxy;
  const smtpUrl = env.GATEHOUSE_SMTP_URL || undefined;
  if (smtpUrl !== undefined && !parseSmtpUrl(smtpUrl)) {
    // The URL may hold a password: show it masked, or not at all when it cannot be read.
    return { ok: false, error: `Invalid GATEHOUSE_SMTP_URL ${redactSmtpUrl(smtpUrl)}: use smtp://[user:password@]host[:port] or smtps://…` };
  }
  const smtpFrom = env.GATEHOUSE_SMTP_FROM || DEFAULTS.smtpFrom;
  if (!/^(?:[^<>\r\n]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/.test(smtpFrom.trim())) {
    return { ok: false, error: `Invalid GATEHOUSE_SMTP_FROM ${JSON.stringify(smtpFrom)}: an address like gatehouse@example.com or "Gatehouse <gatehouse@example.com>"` };
  }
  const secretKeyText = env.GATEHOUSE_SECRET_KEY || undefined;
  const secretKey = secretKeyText === undefined ? undefined : parseSecretKey(secretKeyText);
  if (secretKey === null) {
    return { ok: false, error: 'Invalid GATEHOUSE_SECRET_KEY: 32 random bytes as base64 or hex; make one with `openssl rand -base64 32`' };
  }
  const secretKeyFile = env.GATEHOUSE_SECRET_KEY_FILE || undefined;
  if (secretKey && secretKeyFile) {
    return { ok: false, error: 'Give either GATEHOUSE_SECRET_KEY or GATEHOUSE_SECRET_KEY_FILE, not both' };
  }
  const auditFeed = parseAuditFeed(env.GATEHOUSE_AUDIT_FEED);
  if (!auditFeed.ok) return auditFeed;
  const retentionText = (env.GATEHOUSE_AUDIT_RETENTION_DAYS ?? '').trim();
  const auditRetentionDays = retentionText === '' || retentionText === 'forever' ? undefined : wholeNumber(retentionText);
  if (auditRetentionDays !== undefined && !(auditRetentionDays >= 1 && auditRetentionDays <= 36_500)) {
    return { ok: false, error: `Invalid GATEHOUSE_AUDIT_RETENTION_DAYS "${retentionText}": a whole number of days from 1 to 36500, or forever (the default) to keep every event` };
  }
  const accessLog = parseAccessLog(env.GATEHOUSE_ACCESS_LOG);
  if (!accessLog.ok) return accessLog;
  const previousSecretKeys: SecretKey[] = [];
  for (const [i, text] of (env.GATEHOUSE_PREVIOUS_SECRET_KEYS ?? '').split(',').map((t) => t.trim()).filter(Boolean).entries()) {
    const key = parseSecretKey(text);
    if (!key) return { ok: false, error: `Invalid GATEHOUSE_PREVIOUS_SECRET_KEYS: key ${i + 1} is not 32 bytes as base64 or hex (separate keys with commas)` };
    previousSecretKeys.push(key);
  }
  const leakReportKeysFile = env.GATEHOUSE_LEAK_REPORT_KEYS_FILE || undefined;
  let leakReportKeys: SigningKeys | undefined;
  if (leakReportKeysFile !== undefined) {
    const read = readSigningKeysFile(resolve(leakReportKeysFile));
    if (!read.ok) {
      return { ok: false, error: `Invalid GATEHOUSE_LEAK_REPORT_KEYS_FILE ${leakReportKeysFile}: ${read.error}. It holds a partner's public keys as {"public_keys": [{"key_identifier": "…", "key": "-----BEGIN PUBLIC KEY-----…"}]} (docs/leak-reports.md)` };
    }
    leakReportKeys = read.keys;
  }
  return {
    ok: true,
    config: {
      host,
      port,
      dataDir: resolve(flags['data-dir'] ?? env.GATEHOUSE_DATA_DIR ?? DEFAULTS.dataDir),
      databaseUrl: databaseUrl || undefined,
      databaseSchema: databaseSchema || undefined,
      logLevel,
      logFormat,
      bodyLimit,
      trustProxy: trustProxy.value,
      publicUrl,
      sessionTtlSeconds,
      smtpUrl,
      smtpFrom,
      secretKey,
      secretKeyFile: secretKeyFile === undefined ? undefined : resolve(secretKeyFile),
      previousSecretKeys,
      upstreamConnectTimeoutMs: values.connectTimeoutSeconds * 1000,
      upstreamResponseTimeoutMs: values.responseTimeoutSeconds * 1000,
      keyFailureLimit,
      authCache: values.authCache === 'on',
      tracing: values.tracing,
      metricsPort: values.metricsPort,
      metricsHost,
      leakReportKeys,
      auditFeed: auditFeed.value,
      auditRetentionDays,
      accessLog: accessLog.value,
      accessLogSample: values.accessLogSample,
    },
  };
}

/**
 * The keys a process seals and opens upstream credentials with: GATEHOUSE_SECRET_KEY, else the file
 * GATEHOUSE_SECRET_KEY_FILE names, else `<dataDir>/secret.key` (made on first use); plus
 * GATEHOUSE_PREVIOUS_SECRET_KEYS during a rotation.
 */
export function secretKeysFor(config: Config): SecretKeyring {
  if (config.secretKey) return keyring(config.secretKey, config.previousSecretKeys, 'GATEHOUSE_SECRET_KEY');
  if (config.secretKeyFile) return keyring(readSecretKeyFile(config.secretKeyFile), config.previousSecretKeys, config.secretKeyFile);
  return keyring(secretKeyFile(config.dataDir), config.previousSecretKeys, join(config.dataDir, 'secret.key'));
}
