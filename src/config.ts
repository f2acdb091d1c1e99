// Configuration from flags, GATEHOUSE_* variables and a TOML file, validated once against the
// settings table (settings.ts). Precedence, per setting: flag > variable > file > default.
import { dirname, join, resolve } from 'node:path';
import { Kind } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { keyring, parseSecretKey, readSecretKeyFile, secretKeyFile, type SecretKey, type SecretKeyring } from './secret-key.js';
import { readConfigFile, type ConfigFile } from './config-file.js';
import { maskUrlPassword } from './url-password.js';
import {
  CONFIG_FILE,
  SETTINGS,
  SETTING_KEYS,
  flagOf,
  settingOf,
  variableOf,
  type LogFormatSetting,
  type SettingKey,
  type SettingValues,
  type TrustProxy,
  type AccessLogSetting,
  type AuditFeedTarget,
  type TracingSetting,
  parseAccessLog,
  parseAuditFeed,
} from './settings.js';
import { readSigningKeysFile, type SigningKeys } from './leak-report-keys.js';

export type { AccessLogSetting, AuditFeedTarget, LogFormatSetting, TracingSetting, TrustProxy } from './settings.js';
export { parseAccessLog, parseAuditFeed, TRACING_SETTINGS } from './settings.js';

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
  /** Seals upstream credentials (secret_key); without it, `<dataDir>/secret.key` is used. */
  secretKey?: SecretKey;
  /** Where secretKey came from, for messages: GATEHOUSE_SECRET_KEY or the configuration file. */
  secretKeySource?: string;
  /** A file holding that key, named explicitly (secret_key_file); it must exist. */
  secretKeyFile?: string;
  /** Keys from before a rotation that still open credentials (previous_secret_keys). */
  previousSecretKeys: SecretKey[];
  /** How long the gateway waits to connect to a workspace's Prefect server, and for its answer. */
  upstreamConnectTimeoutMs: number;
  upstreamResponseTimeoutMs: number;
  /** Failed key authentications per client address per minute before 429. */
  keyFailureLimit: number;
  /** Keep verified keys and grants in memory between requests (coherent across processes). */
  authCache: boolean;
  /** One line per request: to standard output, to a file (reopened on SIGHUP), or off. */
  accessLog: AccessLogSetting;
  /** Write one of every N successful requests' access lines; refusals and errors always. */
  accessLogSample: number;
  /** OpenTelemetry traces: `auto` exports when an OTLP endpoint variable is set (docs/tracing.md). */
  tracing: TracingSetting;
  /** Serve Prometheus metrics at /metrics on this port (its own listener); unset: no metrics. */
  metricsPort?: number;
  /** The metrics listener's address (default 127.0.0.1: this machine only). */
  metricsHost: string;
  /** A file or local socket that every audit event is also written to, as a JSON line. */
  auditFeed?: AuditFeedTarget;
  /** Audit events older than this are pruned; unset keeps them forever. */
  auditRetentionDays?: number;
  /** The public keys secret-scanning partners sign leak reports with, read from leak_report_keys_file. */
  leakReportKeys?: SigningKeys;
  /** The configuration file read, and the keys whose value in effect came from it. */
  configFile?: { path: string; keys: SettingKey[] };
}

const defaultOf = <K extends SettingKey>(key: K) => SETTINGS[key].default as NonNullable<SettingValues[K]>;

export const DEFAULTS = {
  host: defaultOf('host'),
  port: defaultOf('port'),
  dataDir: defaultOf('data_dir'),
  logLevel: defaultOf('log_level'),
  bodyLimit: defaultOf('body_limit'),
  smtpFrom: defaultOf('smtp_from'),
  upstreamConnectTimeoutSeconds: defaultOf('upstream_connect_timeout_seconds'),
  upstreamResponseTimeoutSeconds: defaultOf('upstream_response_timeout_seconds'),
  keyFailureLimit: defaultOf('key_failure_limit'),
};

/** Where a setting's value came from. */
export type Source = { kind: 'flag' | 'variable' | 'file'; name: string } | { kind: 'default' };

export interface Effective {
  key: SettingKey;
  /** The value as the file would hold it (a path resolved); undefined when unset. */
  value: unknown;
  source: Source;
}

export type ConfigResult =
  | { ok: true; config: Config; settings: Effective[]; file?: string; /** Worth saying, not refusing: printed by start and config check. */ warnings: string[] }
  | { ok: false; error: string };

/** The flags of `start` (and the store commands): the table's flags by their dashed names, and --config. */
export type ConfigFlags = { config?: string } & Record<string, string | boolean | undefined>;

/** A value as a message may show it: a secret never, a URL with its password masked. */
export function shown(key: SettingKey, value: unknown): string | undefined {
  const secret = settingOf(key).secret;
  if (secret === 'value') return undefined;
  if (secret === 'url-password' && typeof value === 'string') return JSON.stringify(maskUrlPassword(value, '(unparseable URL)'));
  return JSON.stringify(value);
}

const TOML_TYPE: Record<string, string> = { Integer: 'an integer', Number: 'a number', String: 'a string', Boolean: 'true or false', Array: 'a list' };
function tomlTypeOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  if (value instanceof Date) return 'a date';
  return 'a table';
}

/** Whether a value is a secret: the secret keys, or a URL with a password in it. */
function holdsSecret({ key, value }: Effective): boolean {
  const secret = settingOf(key).secret;
  if (secret === 'value') return Array.isArray(value) ? value.length > 0 : value !== undefined;
  return secret === 'url-password' && typeof value === 'string' && URL.parse(value)?.password !== '' && URL.parse(value) !== null;
}

/** Why a value is refused, naming where it came from; undefined when it is valid. */
function refusal(key: SettingKey, value: unknown, text: string | undefined, source: Source): string | undefined {
  const spec = settingOf(key);
  let reason: string | undefined;
  if (!Value.Check(spec.schema, value)) reason = spec.expect;
  else reason = spec.check?.(value);
  if (reason === undefined) return undefined;
  if (source.kind === 'file') {
    const show = shown(key, value);
    const wanted = TOML_TYPE[spec.schema[Kind] as string];
    const typeNote = wanted && wanted !== tomlTypeOf(value) && !(wanted === 'a number' && typeof value === 'number') ? ` (the file gives ${tomlTypeOf(value)}; ${key} takes ${wanted})` : '';
    return `Invalid ${key}${show === undefined ? '' : ` = ${show}`} in ${source.name}: ${reason}${typeNote}`;
  }
  const where = source.kind === 'default' ? key : source.name;
  const masked = text === undefined ? undefined : spec.secret === 'url-password' ? shown(key, text) : spec.secret ? undefined : JSON.stringify(text);
  return `Invalid ${where}${masked === undefined ? '' : ` ${masked}`}: ${reason}`;
}

/** Each setting's value and where it came from: the first of flag, variable, file and default that gives one. */
function resolveSettings(flags: ConfigFlags, env: NodeJS.ProcessEnv, file: ConfigFile | undefined): { ok: true; values: SettingValues; settings: Effective[] } | { ok: false; error: string } {
  const values: Record<string, unknown> = {};
  const settings: Effective[] = [];
  for (const key of SETTING_KEYS) {
    const spec = settingOf(key);
    const flag = flagOf(key);
    const flagText = flag === undefined ? undefined : flags[flag];
    const variable = variableOf(key);
    // An empty variable counts as unset (as `FOO=` in a compose file or unit means to).
    const envText = env[variable] === '' ? undefined : env[variable];
    let value: unknown;
    let source: Source;
    let text: string | undefined;
    if (typeof flagText === 'string') [text, source] = [flagText, { kind: 'flag', name: `--${flag}` }];
    else if (envText !== undefined) [text, source] = [envText, { kind: 'variable', name: variable }];
    else if (file && Object.hasOwn(file.values, key)) [value, source] = [file.values[key], { kind: 'file', name: file.path }];
    else [value, source] = [spec.default, { kind: 'default' }];
    if (text !== undefined) value = spec.fromText ? spec.fromText(text) : text;
    if (source.kind !== 'default') {
      const refused = refusal(key, value, text, source);
      if (refused) return { ok: false, error: refused };
    }
    if (spec.path && typeof value === 'string') value = source.kind === 'file' ? resolve(dirname(source.name), value) : resolve(value);
    values[key] = value;
    settings.push({ key, value, source });
  }
  return { ok: true, values: values as SettingValues, settings };
}

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const filePath = typeof flags.config === 'string' ? flags.config : env[CONFIG_FILE.variable] || undefined;
  let file: ConfigFile | undefined;
  if (filePath !== undefined) {
    const read = readConfigFile(filePath, typeof flags.config === 'string' ? `--${CONFIG_FILE.flag}` : CONFIG_FILE.variable);
    if (!read.ok) return read;
    file = read.file;
  }
  const resolved = resolveSettings(flags, env, file);
  if (!resolved.ok) return resolved;
  const { values: v, settings } = resolved;
  const sourceOf = (key: SettingKey) => settings.find((s) => s.key === key)!.source;
  const named = (key: SettingKey) => {
    const source = sourceOf(key);
    return source.kind === 'file' ? `${key} in ${source.name}` : source.kind === 'default' ? key : source.name;
  };

  // A data directory given on purpose beside a database URL is a mistake; one from the environment
  // (a shared default, say) is not, and the URL wins.
  const dataDirSource = sourceOf('data_dir').kind;
  if (v.database_url && (dataDirSource === 'flag' || (dataDirSource === 'file' && sourceOf('database_url').kind === 'file'))) {
    return { ok: false, error: `Give either ${named('data_dir')} (SQLite) or ${named('database_url')} (PostgreSQL), not both` };
  }
  if (v.database_schema && !v.database_url) {
    return { ok: false, error: `A database schema (${named('database_schema')}) applies to PostgreSQL only: give a database URL too (--database-url, GATEHOUSE_DATABASE_URL or database_url)` };
  }
  if (v.secret_key && v.secret_key_file) {
    return { ok: false, error: `Give either ${named('secret_key')} or ${named('secret_key_file')}, not both` };
  }
  if (v.metrics_port !== undefined && v.metrics_port !== 0 && v.metrics_port === v.port) {
    return { ok: false, error: `The metrics port ${v.metrics_port} (${named('metrics_port')}) is the API's port: metrics have their own listener, apart from the public one; choose another port` };
  }
  // A relative path in the file is relative to the file's folder, as for the other paths.
  const accessLogSource = sourceOf('access_log');
  const accessLog = parseAccessLog(v.access_log, accessLogSource.kind === 'file' ? dirname(accessLogSource.name) : undefined);
  if (!accessLog.ok) return accessLog;
  const auditFeed = parseAuditFeed(v.audit_feed);
  if (!auditFeed.ok) return auditFeed;
  let leakReportKeys: SigningKeys | undefined;
  if (v.leak_report_keys_file !== undefined) {
    const read = readSigningKeysFile(v.leak_report_keys_file);
    if (!read.ok) {
      return { ok: false, error: `Invalid ${named('leak_report_keys_file')} ${v.leak_report_keys_file}: ${read.error}. It holds a partner's public keys as {"public_keys": [{"key_identifier": "…", "key": "-----BEGIN PUBLIC KEY-----…"}]} (docs/leak-reports.md)` };
    }
    leakReportKeys = read.keys;
  }
  const warnings: string[] = [];
  const secretsInFile = settings.filter((s) => s.source.kind === 'file' && holdsSecret(s)).map((s) => s.key);
  if (file && secretsInFile.length && (file.mode & 0o077) !== 0) {
    warnings.push(`${file.path} holds ${secretsInFile.join(', ')} and other users can read it (mode ${file.mode.toString(8).padStart(4, '0')}): chmod 600 ${file.path}`);
  }
  return {
    ok: true,
    settings,
    warnings,
    file: file?.path,
    config: {
      host: v.host!,
      port: v.port!,
      dataDir: v.data_dir!,
      databaseUrl: v.database_url,
      databaseSchema: v.database_schema,
      logLevel: v.log_level!,
      logFormat: v.log_format!,
      bodyLimit: v.body_limit!,
      trustProxy: v.trust_proxy as TrustProxy,
      publicUrl: v.public_url,
      sessionTtlSeconds: v.session_ttl_seconds!,
      smtpUrl: v.smtp_url,
      smtpFrom: v.smtp_from!,
      secretKey: v.secret_key === undefined ? undefined : parseSecretKey(v.secret_key)!,
      secretKeySource: v.secret_key === undefined ? undefined : named('secret_key'),
      secretKeyFile: v.secret_key_file,
      previousSecretKeys: v.previous_secret_keys!.map((text) => parseSecretKey(text)!),
      upstreamConnectTimeoutMs: v.upstream_connect_timeout_seconds! * 1000,
      upstreamResponseTimeoutMs: v.upstream_response_timeout_seconds! * 1000,
      keyFailureLimit: v.key_failure_limit!,
      authCache: v.auth_cache!,
      accessLog: accessLog.value,
      accessLogSample: v.access_log_sample!,
      tracing: v.tracing!,
      metricsPort: v.metrics_port,
      metricsHost: v.metrics_host!,
      auditFeed: auditFeed.value,
      auditRetentionDays: v.audit_retention_days === 'forever' || v.audit_retention_days === undefined ? undefined : v.audit_retention_days,
      leakReportKeys,
      configFile: file && { path: file.path, keys: settings.filter((s) => s.source.kind === 'file').map((s) => s.key) },
    },
  };
}

/** GATEHOUSE_TRUST_PROXY's text: off, a hop count, or a list of proxy addresses/CIDRs. `true` is refused. */
export function parseTrustProxy(given: string | undefined): { ok: true; value: TrustProxy } | { ok: false; error: string } {
  const loaded = loadConfig({}, given === undefined ? {} : { GATEHOUSE_TRUST_PROXY: given });
  return loaded.ok ? { ok: true, value: loaded.config.trustProxy } : loaded;
}

/**
 * The keys a process seals and opens upstream credentials with: secret_key, else the file
 * secret_key_file names, else `<dataDir>/secret.key` (made on first use); plus
 * previous_secret_keys during a rotation.
 */
export function secretKeysFor(config: Config): SecretKeyring {
  if (config.secretKey) return keyring(config.secretKey, config.previousSecretKeys, config.secretKeySource ?? 'GATEHOUSE_SECRET_KEY');
  if (config.secretKeyFile) return keyring(readSecretKeyFile(config.secretKeyFile), config.previousSecretKeys, config.secretKeyFile);
  return keyring(secretKeyFile(config.dataDir), config.previousSecretKeys, join(config.dataDir, 'secret.key'));
}
