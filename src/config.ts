// Configuration from flags and environment, validated once. Flags win over the environment.
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseSmtpUrl, redactSmtpUrl } from './mail/mailer.js';
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
};

function seconds(given: string | undefined, name: string, fallback: number, max: number): number | string {
  const text = given ?? String(fallback);
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value <= 0 || value > max) return `Invalid ${name} "${text}": seconds, more than 0 and at most ${max}`;
  return value;
}

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
}

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const host = flags.host ?? env.GATEHOUSE_HOST ?? DEFAULTS.host;
  const portText = flags.port ?? env.GATEHOUSE_PORT ?? String(DEFAULTS.port);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    return { ok: false, error: `Invalid port "${portText}": use a number from 0 to 65535 (--port or GATEHOUSE_PORT)` };
  }
  const databaseUrl = flags['database-url'] ?? env.GATEHOUSE_DATABASE_URL ?? undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    return { ok: false, error: 'Invalid database URL: it must start with postgres:// or postgresql:// (--database-url or GATEHOUSE_DATABASE_URL)' };
  }
  if (databaseUrl && flags['data-dir']) {
    return { ok: false, error: 'Give either --data-dir (SQLite) or --database-url (PostgreSQL), not both' };
  }
  const databaseSchema = flags['database-schema'] ?? env.GATEHOUSE_DATABASE_SCHEMA ?? undefined;
  if (databaseSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    return { ok: false, error: `Invalid database schema "${databaseSchema}": lowercase letters, digits and "_" (--database-schema or GATEHOUSE_DATABASE_SCHEMA)` };
  }
  if (databaseSchema && !databaseUrl) {
    return { ok: false, error: 'A database schema applies to PostgreSQL only: give --database-url too' };
  }
  const logLevel = flags['log-level'] ?? env.GATEHOUSE_LOG_LEVEL ?? DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    return { ok: false, error: `Invalid log level "${logLevel}": use one of ${LOG_LEVELS.join(', ')}` };
  }
  const logFormat = (env.GATEHOUSE_LOG_FORMAT || 'auto').toLowerCase() as LogFormatSetting;
  if (!LOG_FORMATS.includes(logFormat)) {
    return { ok: false, error: `Invalid GATEHOUSE_LOG_FORMAT "${env.GATEHOUSE_LOG_FORMAT}": json, pretty or auto (pretty when standard output is a terminal)` };
  }
  const bodyLimitText = env.GATEHOUSE_BODY_LIMIT ?? String(DEFAULTS.bodyLimit);
  const bodyLimit = Number(bodyLimitText);
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) {
    return { ok: false, error: `Invalid GATEHOUSE_BODY_LIMIT "${bodyLimitText}": a number of bytes, at least 1024` };
  }
  const trustProxy = parseTrustProxy(env.GATEHOUSE_TRUST_PROXY);
  if (!trustProxy.ok) return trustProxy;
  const publicUrl = env.GATEHOUSE_PUBLIC_URL || undefined;
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(publicUrl)) {
    return { ok: false, error: `Invalid GATEHOUSE_PUBLIC_URL "${publicUrl}": an http:// or https:// address` };
  }
  const ttlText = env.GATEHOUSE_SESSION_TTL_SECONDS ?? '43200';
  const sessionTtlSeconds = Number(ttlText);
  if (!Number.isInteger(sessionTtlSeconds) || sessionTtlSeconds < 60 || sessionTtlSeconds > 2_592_000) {
    return { ok: false, error: `Invalid GATEHOUSE_SESSION_TTL_SECONDS "${ttlText}": seconds, from 60 to 2592000 (30 days)` };
  }
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
  const previousSecretKeys: SecretKey[] = [];
  for (const [i, text] of (env.GATEHOUSE_PREVIOUS_SECRET_KEYS ?? '').split(',').map((t) => t.trim()).filter(Boolean).entries()) {
    const key = parseSecretKey(text);
    if (!key) return { ok: false, error: `Invalid GATEHOUSE_PREVIOUS_SECRET_KEYS: key ${i + 1} is not 32 bytes as base64 or hex (separate keys with commas)` };
    previousSecretKeys.push(key);
  }
  const connectTimeout = seconds(env.GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT_SECONDS, 'GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT_SECONDS', DEFAULTS.upstreamConnectTimeoutSeconds, 600);
  if (typeof connectTimeout === 'string') return { ok: false, error: connectTimeout };
  const responseTimeout = seconds(env.GATEHOUSE_UPSTREAM_RESPONSE_TIMEOUT_SECONDS, 'GATEHOUSE_UPSTREAM_RESPONSE_TIMEOUT_SECONDS', DEFAULTS.upstreamResponseTimeoutSeconds, 3600);
  if (typeof responseTimeout === 'string') return { ok: false, error: responseTimeout };
  const keyFailureText = env.GATEHOUSE_KEY_FAILURE_LIMIT ?? String(DEFAULTS.keyFailureLimit);
  const keyFailureLimit = Number(keyFailureText);
  if (!/^\d+$/.test(keyFailureText) || keyFailureLimit < 1) {
    return { ok: false, error: `Invalid GATEHOUSE_KEY_FAILURE_LIMIT "${keyFailureText}": a whole number of failed key authentications per address per minute, at least 1` };
  }
  const authCacheText = (env.GATEHOUSE_AUTH_CACHE ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(authCacheText)) {
    return { ok: false, error: `Invalid GATEHOUSE_AUTH_CACHE "${env.GATEHOUSE_AUTH_CACHE}": on or off` };
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
      upstreamConnectTimeoutMs: connectTimeout * 1000,
      upstreamResponseTimeoutMs: responseTimeout * 1000,
      keyFailureLimit,
      authCache: authCacheText === 'on',
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
