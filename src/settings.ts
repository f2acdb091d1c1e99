// Every server setting, once: its file key, flag, GATEHOUSE_ variable, schema, default, whether it is
// secret, and one line of help. Loading (config.ts), `gatehouse start --help`, `gatehouse config
// check` and the docs test all read this table; a new setting is one entry here plus its use in Config.
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { parseSmtpUrl } from './mail/smtp-url.js';
import { parseSecretKey } from './secret-key.js';

export interface Setting<S extends TSchema = TSchema> {
  /** Also a command-line flag: the key with dashes (`data_dir` is --data-dir). Kept for the few set at launch. */
  flag?: boolean;
  /** The value's placeholder in help: PORT, URL. */
  value: string;
  /** The value as the file holds it; a flag's or variable's text goes through `fromText` first. */
  schema: S;
  /** Text of a flag or variable → a value for the schema (default: the text itself). */
  fromText?: (text: string) => unknown;
  /** What the schema cannot say: the reason a schema-valid value is refused, or undefined. */
  check?: (value: Static<S>) => string | undefined;
  default?: Static<S>;
  /** For help and docs when there is no plain default: how the value is found. */
  defaultText?: string;
  /** `value`: never shown; `url-password`: a URL shown with its password masked. */
  secret?: 'value' | 'url-password';
  /** A path: relative to the file's folder when the file gives it, else to the current directory. */
  path?: boolean;
  /** What a valid value is, for messages (after "Invalid GATEHOUSE_X "…": "). */
  expect: string;
  help: string;
}

const setting = <S extends TSchema>(spec: Setting<S>): Setting<S> => spec;

/** Text that must be a whole number (digits only); anything else reads as NaN, which no schema accepts. */
const wholeNumber = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text) : NaN);
/** Seconds: a number with an optional fraction. */
const decimalNumber = (text: string) => (/^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN);
const oneOf = <T extends string>(values: readonly T[]) => Type.Union(values.map((value) => Type.Literal(value)));
const onOff = (text: string): unknown => ({ on: true, true: true, off: false, false: false })[text.trim().toLowerCase()] ?? text;
const commaList = (text: string) => text.split(',').map((entry) => entry.trim()).filter(Boolean);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormatSetting = (typeof LOG_FORMATS)[number];
export const DEFAULT_SMTP_FROM = 'Gatehouse <gatehouse@localhost>';

/** false: no proxy; a number: that many hops nearest Gatehouse; a list: proxies at those addresses/CIDRs. */
export type TrustProxy = false | number | string[];
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const TRUST_PROXY_USE =
  'set the number of reverse proxies in front of Gatehouse (1 for one nginx or Traefik) or their addresses ' +
  '(e.g. 127.0.0.1 or 10.0.0.0/8,192.168.1.5; loopback, linklocal and uniquelocal name those ranges)';

function isProxyRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function trustProxyFromText(given: string): unknown {
  const text = given.trim();
  if (text === '' || text.toLowerCase() === 'false' || text === '0') return false;
  if (text.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  return commaList(text);
}

/** GATEHOUSE_TRACING: `auto` (on when an OTLP endpoint variable is set), `on`, or `off` (tracing/tracing-setting.ts). */
export const TRACING_SETTINGS = ['auto', 'on', 'off'] as const;
export type TracingSetting = (typeof TRACING_SETTINGS)[number];

/** `access_log`: standard output (with the rest of the log), a file, or nothing. */
export type AccessLogSetting = 'stdout' | 'off' | { file: string };
const ACCESS_LOG_USE = 'stdout, off, or the path of a file to append to (e.g. /var/log/gatehouse/access.log)';

function accessLogProblem(text: string): string | undefined {
  return text.trim().endsWith('/') || text.includes('\0') ? ACCESS_LOG_USE : undefined;
}

/** GATEHOUSE_ACCESS_LOG: stdout (default), off, or a file's path (relative to `base`, default the working directory). */
export function parseAccessLog(given: string | undefined, base?: string): { ok: true; value: AccessLogSetting } | { ok: false; error: string } {
  const text = (given ?? '').trim();
  if (text === '' || text.toLowerCase() === 'stdout') return { ok: true, value: 'stdout' };
  if (['off', 'false', 'none'].includes(text.toLowerCase())) return { ok: true, value: 'off' };
  const problem = accessLogProblem(text);
  if (problem) return { ok: false, error: `Invalid GATEHOUSE_ACCESS_LOG "${text}": ${problem}` };
  return { ok: true, value: { file: base === undefined ? resolve(text) : resolve(base, text) } };
}

/** Where the live audit feed goes (domain/audit/feed-sink.ts has the same shape). */
export type AuditFeedTarget = { kind: 'file'; path: string } | { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };
const AUDIT_FEED_USE = 'file:/var/log/gatehouse/audit.jsonl, unix:/run/vector/audit.sock or tcp:127.0.0.1:PORT (a collector on this machine)';

/** GATEHOUSE_AUDIT_FEED: `file:PATH`, `unix:PATH` or `tcp:HOST:PORT` with a loopback host; the target, or why not. */
function auditFeedTarget(text: string): AuditFeedTarget | string {
  const refused = (why: string) => `${why}; use ${AUDIT_FEED_USE}`;
  const colon = text.indexOf(':');
  const [kind, rest] = colon === -1 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
  if (kind === 'file' || kind === 'unix') return rest ? { kind, path: resolve(rest) } : refused(`${kind}: needs a path`);
  if (kind === 'tcp') {
    const match = /^(\[::1\]|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|[^:]+):(\d{1,5})$/.exec(rest);
    if (!match) return refused('tcp: needs HOST:PORT');
    const host = match[1]!.replace(/^\[|\]$/g, '');
    const port = Number(match[2]);
    // The feed is plain text with no authentication: it goes to a collector on this machine only.
    if (host !== 'localhost' && host !== '::1' && !(isIP(host) === 4 && host.startsWith('127.'))) return refused('tcp: goes to this machine only (127.0.0.1, ::1 or localhost): the lines are sent unencrypted');
    if (port < 1 || port > 65535) return refused('the port must be from 1 to 65535');
    return { kind: 'tcp', host, port };
  }
  return refused(`"${kind}" is not a kind of feed`);
}

const auditFeedProblem = (text: string): string | undefined => {
  const target = auditFeedTarget(text.trim());
  return typeof target === 'string' ? target : undefined;
};

/** GATEHOUSE_AUDIT_FEED's text: the target, none (empty), or the refusal naming the variable. */
export function parseAuditFeed(given: string | undefined): { ok: true; value: AuditFeedTarget | undefined } | { ok: false; error: string } {
  const text = (given ?? '').trim();
  if (text === '') return { ok: true, value: undefined };
  const target = auditFeedTarget(text);
  return typeof target === 'string' ? { ok: false, error: `Invalid GATEHOUSE_AUDIT_FEED "${text}": ${target}` } : { ok: true, value: target };
}

const SMTP_FROM = /^(?:[^<>\r\n]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/;
const SECRET_KEY_USE = '32 random bytes as base64 or hex; make one with `openssl rand -base64 32`';

/** The settings, in the order help, docs and `config check` show them. The file's key is the entry's name. */
export const SETTINGS = {
  port: setting({
    flag: true,
    value: 'PORT',
    schema: Type.Integer({ minimum: 0, maximum: 65535 }),
    fromText: wholeNumber,
    default: 4280,
    expect: 'use a number from 0 to 65535',
    help: 'TCP port, 0 to 65535 (0 picks a free one)',
  }),
  host: setting({
    flag: true,
    value: 'ADDRESS',
    schema: Type.String({ minLength: 1 }),
    default: '127.0.0.1',
    expect: 'an address to listen on, such as 127.0.0.1, 0.0.0.0 or ::',
    help: 'Address to listen on (0.0.0.0 in a container)',
  }),
  data_dir: setting({
    flag: true,
    value: 'DIR',
    schema: Type.String({ minLength: 1 }),
    default: './.gatehouse',
    path: true,
    expect: 'a directory',
    help: "The SQLite store's directory",
  }),
  database_url: setting({
    flag: true,
    value: 'URL',
    schema: Type.String({ pattern: '^postgres(ql)?://' }),
    secret: 'url-password',
    expect: 'a URL starting with postgres:// or postgresql://',
    help: 'A postgres:// URL: use PostgreSQL instead of SQLite',
  }),
  database_schema: setting({
    flag: true,
    value: 'NAME',
    schema: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' }),
    defaultText: "the connection's search_path",
    expect: 'lowercase letters, digits and "_", at most 63, not starting with a digit',
    help: "PostgreSQL only: the schema of Gatehouse's tables",
  }),
  log_level: setting({
    flag: true,
    value: 'LEVEL',
    schema: oneOf(LOG_LEVELS),
    default: 'info',
    expect: `use one of ${LOG_LEVELS.join(', ')}`,
    help: 'fatal, error, warn, info, debug, trace or silent',
  }),
  log_format: setting({
    value: 'FORMAT',
    schema: oneOf(LOG_FORMATS),
    fromText: (text) => text.trim().toLowerCase(),
    default: 'auto',
    expect: 'json, pretty or auto (pretty when standard output is a terminal)',
    help: 'json, pretty, or auto: pretty when standard output is a terminal',
  }),
  body_limit: setting({
    value: 'BYTES',
    schema: Type.Integer({ minimum: 1024 }),
    fromText: wholeNumber,
    default: 1_048_576,
    expect: 'a number of bytes, at least 1024',
    help: 'Largest request body in bytes (larger: 413)',
  }),
  public_url: setting({
    value: 'URL',
    schema: Type.String({ pattern: '^https?://[^\\s/]+' }),
    defaultText: 'the address Gatehouse listens on',
    expect: 'an http:// or https:// address',
    help: 'How people reach Gatehouse, for links and redirects, e.g. https://gatehouse.example.com',
  }),
  trust_proxy: setting({
    value: 'HOPS|ADDRESSES',
    schema: Type.Union([Type.Boolean(), Type.Integer({ minimum: 0, maximum: 10 }), Type.Array(Type.String())]),
    fromText: trustProxyFromText,
    check: (value) => {
      if (value === true) return `true is refused: it would believe every X-Forwarded-For hop, so any client could choose its own address (and slip past the sign-in and key throttles). Instead ${TRUST_PROXY_USE}`;
      const bad = Array.isArray(value) ? value.find((entry) => !isProxyRange(entry)) : undefined;
      return bad === undefined ? undefined : `"${bad}" is no address, CIDR or range name: ${TRUST_PROXY_USE}`;
    },
    default: false,
    expect: `a hop count from 1 to 10, or proxy addresses: ${TRUST_PROXY_USE}`,
    help: 'Reverse proxies to believe about the client: a hop count, or their addresses/CIDRs',
  }),
  session_ttl_seconds: setting({
    value: 'SECONDS',
    schema: Type.Integer({ minimum: 60, maximum: 2_592_000 }),
    fromText: wholeNumber,
    default: 43_200,
    expect: 'seconds, from 60 to 2592000 (30 days)',
    help: 'How long a browser session lasts after signing in',
  }),
  smtp_url: setting({
    value: 'URL',
    schema: Type.String(),
    check: (value) => (parseSmtpUrl(value) ? undefined : 'use smtp://[user:password@]host[:port] or smtps://…'),
    secret: 'url-password',
    expect: 'use smtp://[user:password@]host[:port] or smtps://…',
    help: 'SMTP server for invitation and email verification mails',
  }),
  smtp_from: setting({
    value: 'ADDRESS',
    schema: Type.String(),
    check: (value) => (SMTP_FROM.test(value.trim()) ? undefined : 'an address like gatehouse@example.com or "Gatehouse <gatehouse@example.com>"'),
    default: DEFAULT_SMTP_FROM,
    expect: 'an address like gatehouse@example.com or "Gatehouse <gatehouse@example.com>"',
    help: 'The sender of those mails',
  }),
  secret_key: setting({
    value: 'KEY',
    schema: Type.String(),
    check: (value) => (parseSecretKey(value) ? undefined : SECRET_KEY_USE),
    secret: 'value',
    defaultText: 'the key in <data dir>/secret.key, made on first start',
    expect: SECRET_KEY_USE,
    help: 'Seals upstream credentials; the same on every process of one database',
  }),
  secret_key_file: setting({
    value: 'FILE',
    schema: Type.String({ minLength: 1 }),
    path: true,
    expect: 'a file holding the secret key',
    help: 'A file holding the secret key, for secret mounts (instead of the key itself)',
  }),
  previous_secret_keys: setting({
    value: 'KEYS',
    schema: Type.Array(Type.String()),
    fromText: commaList,
    check: (keys) => {
      const bad = keys.findIndex((key) => !parseSecretKey(key));
      return bad === -1 ? undefined : `key ${bad + 1} is not 32 bytes as base64 or hex (separate keys with commas)`;
    },
    default: [],
    secret: 'value',
    expect: 'secret keys (32 bytes as base64 or hex), separated by commas',
    help: 'During a secret key rotation: the old keys, comma-separated',
  }),
  upstream_connect_timeout_seconds: setting({
    value: 'SECONDS',
    schema: Type.Number({ exclusiveMinimum: 0, maximum: 600 }),
    fromText: decimalNumber,
    default: 5,
    expect: 'seconds, more than 0 and at most 600',
    help: "Gateway: wait to connect to a workspace's Prefect server (then 504)",
  }),
  upstream_response_timeout_seconds: setting({
    value: 'SECONDS',
    schema: Type.Number({ exclusiveMinimum: 0, maximum: 3600 }),
    fromText: decimalNumber,
    default: 60,
    expect: 'seconds, more than 0 and at most 3600',
    help: "Gateway: wait for the Prefect server's answer (then 504)",
  }),
  key_failure_limit: setting({
    value: 'COUNT',
    schema: Type.Integer({ minimum: 1 }),
    fromText: wholeNumber,
    default: 30,
    expect: 'a whole number of failed key authentications per address per minute, at least 1',
    help: 'Failed key authentications per client address per minute before 429',
  }),
  auth_cache: setting({
    value: 'on|off',
    schema: Type.Boolean(),
    fromText: onOff,
    default: true,
    expect: 'on or off (true or false in the file)',
    help: 'Keep verified keys and grants in memory between requests (coherent across processes)',
  }),
  access_log: setting({
    value: 'stdout|off|FILE',
    schema: Type.String({ minLength: 1 }),
    check: accessLogProblem,
    default: 'stdout',
    expect: ACCESS_LOG_USE,
    help: 'One line per request: to standard output, to a file (reopened on SIGHUP), or off',
  }),
  access_log_sample: setting({
    value: 'N',
    schema: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    fromText: wholeNumber,
    default: 1,
    expect: 'a whole number N from 1 to 1000000, to write the access line of one in N successful requests (1: every request)',
    help: 'Write the access line of one in N successful requests (refusals and errors always)',
  }),
  tracing: setting({
    value: 'auto|on|off',
    schema: oneOf(TRACING_SETTINGS),
    fromText: (text) => text.trim().toLowerCase(),
    default: 'auto',
    expect: 'auto (export traces when OTEL_EXPORTER_OTLP_ENDPOINT is set), on or off',
    help: 'OpenTelemetry traces, exported as OTLP/HTTP JSON (auto: when an OTEL_EXPORTER_OTLP endpoint is set)',
  }),
  metrics_port: setting({
    flag: true,
    value: 'PORT',
    schema: Type.Integer({ minimum: 0, maximum: 65535 }),
    fromText: wholeNumber,
    defaultText: 'none (no metrics)',
    expect: 'a number from 0 to 65535, or unset for no metrics',
    help: 'Serve Prometheus metrics at /metrics on this port, a listener of its own (0 picks a free one)',
  }),
  metrics_host: setting({
    flag: true,
    value: 'ADDRESS',
    schema: Type.String({ minLength: 1 }),
    default: '127.0.0.1',
    expect: 'an address for the metrics listener, such as 127.0.0.1',
    help: 'The address the metrics listener binds (it has no authentication: keep it private)',
  }),
  audit_feed: setting({
    value: 'file:PATH|unix:PATH|tcp:HOST:PORT',
    schema: Type.String({ minLength: 1 }),
    check: auditFeedProblem,
    expect: `use ${AUDIT_FEED_USE}`,
    help: 'Also write every audit event as a JSON line to a file or a local socket',
  }),
  audit_retention_days: setting({
    value: 'DAYS|forever',
    schema: Type.Union([Type.Integer({ minimum: 1, maximum: 36_500 }), Type.Literal('forever')]),
    fromText: (text) => (text.trim() === 'forever' ? 'forever' : wholeNumber(text)),
    default: 'forever',
    expect: 'a whole number of days from 1 to 36500, or forever (the default) to keep every event',
    help: 'Delete audit events older than this many days (in batches, every hour)',
  }),
  leak_report_keys_file: setting({
    value: 'FILE',
    schema: Type.String({ minLength: 1 }),
    path: true,
    expect: "a JSON file of secret-scanning partners' public keys (docs/leak-reports.md)",
    help: "Secret-scanning partners' public keys, for signed leak reports",
  }),
};

export type SettingKey = keyof typeof SETTINGS;
/** Each setting's value once loaded: the schema's type, undefined when unset without a default. */
export type SettingValues = { [K in SettingKey]: Static<(typeof SETTINGS)[K]['schema']> | undefined };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
/** `log_level` → GATEHOUSE_LOG_LEVEL. */
export const variableOf = (key: string) => `GATEHOUSE_${key.toUpperCase()}`;
/** `data_dir` → data-dir (the flag's name without its dashes), or undefined when it has no flag. */
export const settingOf = (key: SettingKey) => SETTINGS[key] as unknown as Setting;
export const flagOf = (key: SettingKey) => (settingOf(key).flag ? key.replace(/_/g, '-') : undefined);

/** The configuration file itself: named by --config or GATEHOUSE_CONFIG (never by the file). */
export const CONFIG_FILE = { flag: 'config', variable: 'GATEHOUSE_CONFIG', value: 'FILE', help: 'A TOML file of settings (keys as listed below)' };

/** A default as help and docs show it. */
export function defaultText(key: SettingKey): string {
  const spec = settingOf(key);
  if (spec.defaultText) return spec.defaultText;
  if (spec.default === undefined) return 'none';
  if (key === 'auth_cache') return spec.default ? 'on' : 'off';
  if (Array.isArray(spec.default)) return spec.default.length ? spec.default.join(',') : 'none';
  if (spec.default === false) return 'off';
  return String(spec.default);
}
