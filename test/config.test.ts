// Loading the configuration: the settings table read from flags, GATEHOUSE_* variables and a TOML
// file (--config, GATEHOUSE_CONFIG) with the precedence flag > variable > file > default, and the
// file refused, naming the file, the key and what is expected, for an unknown key or a wrong value.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigFlags, type ConfigResult } from '../src/config.js';
import { SETTING_KEYS, settingOf, variableOf } from '../src/settings.js';
import { bootstrapHint } from '../src/main.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A config file with this text (mode 0600), in its own folder; returns its path. */
function file(text: string, name = 'gatehouse.toml'): string {
  const folder = join(dir, `f${++files}`);
  mkdirSync(folder);
  const path = join(folder, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const KEY_HEX = 'ab'.repeat(32);
const KEY_B64 = Buffer.alloc(32, 7).toString('base64');
// A secret-scanning partner's public key file (leak_report_keys_file is read at load time).
const LEAK_KEYS_FILE = join(dir, 'leak-report-keys.json');
writeFileSync(
  LEAK_KEYS_FILE,
  JSON.stringify({ public_keys: [{ key_identifier: 'k1', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) }] }),
);

function ok(result: ConfigResult) {
  if (!result.ok) throw new Error(`expected a configuration, got: ${result.error}`);
  return result;
}
function error(result: ConfigResult): string {
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}
const sourceOf = (result: ConfigResult, key: string) => ok(result).settings.find((s) => s.key === key)!.source;

describe('precedence: flag > variable > file > default', () => {
  const path = file('port = 5001\nlog_level = "warn"\nkey_failure_limit = 7\nauth_cache = false\n');
  const load = (flags: ConfigFlags, env: NodeJS.ProcessEnv) => loadConfig(flags, env);

  it('takes the default when nothing gives a value', () => {
    const result = ok(load({}, {}));
    expect([result.config.port, result.config.logLevel, result.config.keyFailureLimit, result.config.authCache]).toEqual([4280, 'info', 30, true]);
    expect(sourceOf(result, 'port')).toEqual({ kind: 'default' });
    expect(result.file).toBeUndefined();
  });

  it('takes the file over the default', () => {
    const result = ok(load({ config: path }, {}));
    expect([result.config.port, result.config.logLevel, result.config.keyFailureLimit, result.config.authCache]).toEqual([5001, 'warn', 7, false]);
    expect(sourceOf(result, 'port')).toEqual({ kind: 'file', name: path });
    expect(result.file).toBe(path);
  });

  it('takes the variable over the file', () => {
    const result = ok(load({ config: path }, { GATEHOUSE_PORT: '5002', GATEHOUSE_KEY_FAILURE_LIMIT: '8', GATEHOUSE_AUTH_CACHE: 'on' }));
    expect([result.config.port, result.config.logLevel, result.config.keyFailureLimit, result.config.authCache]).toEqual([5002, 'warn', 8, true]);
    expect(sourceOf(result, 'port')).toEqual({ kind: 'variable', name: 'GATEHOUSE_PORT' });
    expect(sourceOf(result, 'log_level')).toEqual({ kind: 'file', name: path });
  });

  it('takes the flag over the variable', () => {
    const result = ok(load({ config: path, port: '5003', 'log-level': 'debug' }, { GATEHOUSE_PORT: '5002', GATEHOUSE_LOG_LEVEL: 'error' }));
    expect([result.config.port, result.config.logLevel]).toEqual([5003, 'debug']);
    expect(sourceOf(result, 'port')).toEqual({ kind: 'flag', name: '--port' });
  });

  it('finds the file by GATEHOUSE_CONFIG, and by --config before it', () => {
    const other = file('port = 6000\n');
    expect(ok(load({}, { GATEHOUSE_CONFIG: path })).config.port).toBe(5001);
    expect(ok(load({ config: other }, { GATEHOUSE_CONFIG: path })).config.port).toBe(6000);
  });

  it('counts an empty variable as unset', () => {
    const result = ok(load({ config: path }, { GATEHOUSE_PORT: '', GATEHOUSE_CONFIG: '' }));
    expect(result.config.port).toBe(5001);
  });
});

describe('every setting of the table', () => {
  // A valid value for each, as the file writes it and as a variable's text.
  const SAMPLES: Record<string, [toml: string, text: string, expected: unknown]> = {
    port: ['8080', '8080', 8080],
    host: ['"0.0.0.0"', '0.0.0.0', '0.0.0.0'],
    data_dir: ['"/srv/gatehouse"', '/srv/gatehouse', '/srv/gatehouse'],
    database_url: ['"postgres://gh@db/gh"', 'postgres://gh@db/gh', 'postgres://gh@db/gh'],
    database_schema: ['"gatehouse"', 'gatehouse', 'gatehouse'],
    log_level: ['"warn"', 'warn', 'warn'],
    log_format: ['"json"', 'json', 'json'],
    body_limit: ['2048', '2048', 2048],
    public_url: ['"https://gatehouse.example.com"', 'https://gatehouse.example.com', 'https://gatehouse.example.com'],
    trust_proxy: ['["10.0.0.0/8", "loopback"]', '10.0.0.0/8,loopback', ['10.0.0.0/8', 'loopback']],
    session_ttl_seconds: ['3600', '3600', 3600],
    smtp_url: ['"smtps://u:p@mail.example.com:465"', 'smtps://u:p@mail.example.com:465', 'smtps://u:p@mail.example.com:465'],
    smtp_from: ['"ops@example.com"', 'ops@example.com', 'ops@example.com'],
    secret_key: [`"${KEY_HEX}"`, KEY_HEX, KEY_HEX],
    secret_key_file: ['"/run/secrets/gatehouse.key"', '/run/secrets/gatehouse.key', '/run/secrets/gatehouse.key'],
    previous_secret_keys: [`["${KEY_B64}", "${KEY_HEX}"]`, `${KEY_B64},${KEY_HEX}`, [KEY_B64, KEY_HEX]],
    upstream_connect_timeout_seconds: ['2.5', '2.5', 2.5],
    upstream_response_timeout_seconds: ['120', '120', 120],
    key_failure_limit: ['100', '100', 100],
    auth_cache: ['false', 'off', false],
    access_log: ['"off"', 'off', 'off'],
    access_log_sample: ['10', '10', 10],
    tracing: ['"off"', 'off', 'off'],
    metrics_port: ['9464', '9464', 9464],
    metrics_host: ['"10.0.0.5"', '10.0.0.5', '10.0.0.5'],
    audit_feed: ['"unix:/run/vector/audit.sock"', 'unix:/run/vector/audit.sock', 'unix:/run/vector/audit.sock'],
    audit_retention_days: ['400', '400', 400],
    leak_report_keys_file: [JSON.stringify(LEAK_KEYS_FILE), LEAK_KEYS_FILE, LEAK_KEYS_FILE],
  };
  // Settings that need another to be valid.
  const NEEDS: Record<string, string> = { database_schema: 'database_url = "postgres://gh@db/gh"\n' };

  it('has a sample here (a new setting gets one)', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...SETTING_KEYS].sort());
  });

  it.each(SETTING_KEYS)('%s is read from the file and from its variable, with the same value', (key) => {
    const [toml, text, expected] = SAMPLES[key]!;
    const fromFile = ok(loadConfig({ config: file(`${NEEDS[key] ?? ''}${key} = ${toml}\n`) }, {}));
    const env: NodeJS.ProcessEnv = { [variableOf(key)]: text, ...(NEEDS[key] ? { GATEHOUSE_DATABASE_URL: 'postgres://gh@db/gh' } : {}) };
    const fromVariable = ok(loadConfig({}, env));
    const valueOf = (result: ReturnType<typeof ok>) => result.settings.find((s) => s.key === key)!.value;
    expect(valueOf(fromFile)).toEqual(expected);
    expect(valueOf(fromVariable)).toEqual(expected);
    // The same configuration, but for where it came from.
    const same = (config: typeof fromFile.config) => ({ ...config, secretKeySource: undefined, configFile: undefined });
    expect(same(fromFile.config)).toEqual(same(fromVariable.config));
    expect(fromFile.config.configFile).toEqual({ path: expect.any(String), keys: NEEDS[key] ? ['database_url', key] : [key] });
  });

  it.each(SETTING_KEYS)('%s is refused with a value of the wrong type in the file, naming the file, the key and what is expected', (key) => {
    // A table value is wrong for every setting.
    const path = file(`${key} = { a = 1 }\n`);
    const message = error(loadConfig({ config: path }, {}));
    expect(message.startsWith(`Invalid ${key}`)).toBe(true);
    expect(message).toContain(` in ${path}: `);
    expect(message).toContain(settingOf(key).expect);
  });
});

describe('the file, refused', () => {
  it('an unknown key, suggesting the nearest one', () => {
    const path = file('prot = 4280\n');
    expect(error(loadConfig({ config: path }, {}))).toBe(
      `Unknown key "prot" in ${path} (did you mean "port"?): the keys are the GATEHOUSE_* variables in lower case without GATEHOUSE_ (gatehouse start --help lists them)`,
    );
    const variable = file('GATEHOUSE_LOG_LEVEL = "warn"\n');
    expect(error(loadConfig({ config: variable }, {}))).toMatch(/^Unknown key "GATEHOUSE_LOG_LEVEL" in .* \(did you mean "log_level"\?\)/);
  });

  it('a table: the file has none', () => {
    const path = file('[server]\nport = 4280\n');
    expect(error(loadConfig({ config: path }, {}))).toBe(`Unknown table [server] in ${path}: the file has no tables; write every key at the top level, with no [table] line`);
  });

  it('a string where a number goes, and a number where a boolean goes, saying which type the key takes', () => {
    const port = file('port = "4280"\n');
    expect(error(loadConfig({ config: port }, {}))).toBe(`Invalid port = "4280" in ${port}: use a number from 0 to 65535 (the file gives a string; port takes an integer)`);
    const cache = file('auth_cache = "off"\n');
    expect(error(loadConfig({ config: cache }, {}))).toBe(`Invalid auth_cache = "off" in ${cache}: on or off (true or false in the file) (the file gives a string; auth_cache takes true or false)`);
    const limit = file('body_limit = 2048.5\n');
    expect(error(loadConfig({ config: limit }, {}))).toBe(`Invalid body_limit = 2048.5 in ${limit}: a number of bytes, at least 1024 (the file gives a number; body_limit takes an integer)`);
  });

  it('a value of the right type out of range, or failing its own check', () => {
    const port = file('port = 70000\n');
    expect(error(loadConfig({ config: port }, {}))).toBe(`Invalid port = 70000 in ${port}: use a number from 0 to 65535`);
    const proxy = file('trust_proxy = true\n');
    expect(error(loadConfig({ config: proxy }, {}))).toMatch(new RegExp(`^Invalid trust_proxy = true in ${proxy}: true is refused: it would believe every X-Forwarded-For hop`));
    const entry = file('trust_proxy = ["nginx"]\n');
    expect(error(loadConfig({ config: entry }, {}))).toMatch(/^Invalid trust_proxy = \["nginx"\] in .*: "nginx" is no address, CIDR or range name/);
  });

  it('never shows a secret it refuses: the secret key, an old key, a URL password', () => {
    const key = file('secret_key = "hunter2-not-a-key"\n');
    expect(error(loadConfig({ config: key }, {}))).toBe(`Invalid secret_key in ${key}: 32 random bytes as base64 or hex; make one with \`openssl rand -base64 32\``);
    const old = file(`previous_secret_keys = ["${KEY_HEX}", "hunter2-not-a-key"]\n`);
    const oldError = error(loadConfig({ config: old }, {}));
    expect(oldError).toBe(`Invalid previous_secret_keys in ${old}: key 2 is not 32 bytes as base64 or hex (separate keys with commas)`);
    const smtp = file('smtp_url = "http://u:hunter2@mail.example.com"\n');
    const smtpError = error(loadConfig({ config: smtp }, {}));
    expect(smtpError).toBe(`Invalid smtp_url = "http://u:*****@mail.example.com/" in ${smtp}: use smtp://[user:password@]host[:port] or smtps://…`);
    const db = file('database_url = "mysql://u:hunter2@db/gh"\n');
    expect(error(loadConfig({ config: db }, {}))).toBe(`Invalid database_url = "mysql://u:*****@db/gh" in ${db}: a URL starting with postgres:// or postgresql://`);
    const variable = error(loadConfig({}, { GATEHOUSE_SECRET_KEY: 'hunter2-not-a-key' }));
    expect(variable).toBe('Invalid GATEHOUSE_SECRET_KEY: 32 random bytes as base64 or hex; make one with `openssl rand -base64 32`');
    for (const message of [oldError, smtpError, variable]) expect(message).not.toContain('hunter2');
  });

  it('TOML that does not parse, by line and column, without quoting the file (it may hold a secret)', () => {
    const path = file('log_level = "warn"\nsecret_key = "hunter2\n');
    const message = error(loadConfig({ config: path }, {}));
    expect(message).toMatch(new RegExp(`^${path} is not valid TOML: .* \\(line 2, column \\d+\\)$`));
    expect(message).not.toContain('hunter2');
  });

  it('a file that is not there, naming where its name came from', () => {
    const missing = join(dir, 'nowhere.toml');
    expect(error(loadConfig({ config: missing }, {}))).toBe(`Cannot read the configuration file ${missing} (from --config): there is no such file`);
    expect(error(loadConfig({}, { GATEHOUSE_CONFIG: missing }))).toBe(`Cannot read the configuration file ${missing} (from GATEHOUSE_CONFIG): there is no such file`);
  });

  it('a data directory and a database URL both in the file; a secret key and its file both given', () => {
    const both = file('data_dir = "/srv/g"\ndatabase_url = "postgres://gh@db/gh"\n');
    expect(error(loadConfig({ config: both }, {}))).toBe(`Give either data_dir in ${both} (SQLite) or database_url in ${both} (PostgreSQL), not both`);
    // A data directory from the environment beside a URL from the file: the URL wins, as before.
    expect(ok(loadConfig({ config: file('database_url = "postgres://gh@db/gh"\n') }, { GATEHOUSE_DATA_DIR: '/srv/g' })).config.databaseUrl).toBe('postgres://gh@db/gh');
    const keys = file(`secret_key_file = "/run/k"\n`);
    expect(error(loadConfig({ config: keys }, { GATEHOUSE_SECRET_KEY: KEY_HEX }))).toBe(`Give either GATEHOUSE_SECRET_KEY or secret_key_file in ${keys}, not both`);
  });
});

describe('the file, read', () => {
  it('resolves relative paths against the file\'s folder; a flag\'s or variable\'s against the current directory', () => {
    const path = file('data_dir = "data"\nsecret_key_file = "keys/secret.key"\n');
    const result = ok(loadConfig({ config: path }, {}));
    expect(result.config.dataDir).toBe(join(path, '..', 'data'));
    expect(result.config.secretKeyFile).toBe(join(path, '..', 'keys', 'secret.key'));
    expect(ok(loadConfig({ config: path }, { GATEHOUSE_DATA_DIR: 'data' })).config.dataDir).toBe(resolve('data'));
  });

  it('warns when it holds a secret and others can read it', () => {
    const path = file(`secret_key = "${KEY_HEX}"\nsmtp_url = "smtp://u:pw@mail.example.com"\n`);
    expect(ok(loadConfig({ config: path }, {})).warnings).toEqual([]);
    chmodSync(path, 0o644);
    expect(ok(loadConfig({ config: path }, {})).warnings).toEqual([`${path} holds smtp_url, secret_key and other users can read it (mode 0644): chmod 600 ${path}`]);
    const plain = file('smtp_url = "smtp://mail.example.com"\n');
    chmodSync(plain, 0o644);
    expect(ok(loadConfig({ config: plain }, {})).warnings).toEqual([]);
  });

  it('says where the secret key came from, for the messages that name it', () => {
    const path = file(`secret_key = "${KEY_HEX}"\n`);
    expect(ok(loadConfig({ config: path }, {})).config.secretKeySource).toBe(`secret_key in ${path}`);
    expect(ok(loadConfig({}, { GATEHOUSE_SECRET_KEY: KEY_HEX })).config.secretKeySource).toBe('GATEHOUSE_SECRET_KEY');
  });
});

describe("start's bootstrap hint", () => {
  it('names the file when the store came from it, never the database password in it', () => {
    const path = file('database_url = "postgres://gh:hunter2@db.example.com/gh"\ndatabase_schema = "gh"\n');
    const hint = bootstrapHint(ok(loadConfig({ config: path }, {})).config, {}, '/');
    expect(hint).toHaveLength(1);
    expect(hint[0]).toMatch(new RegExp(`bootstrap --account-name .* --config ${path}$`));
    expect(hint[0]).not.toContain('hunter2');
  });

  it('names the store itself when a flag or variable chose it over the file', () => {
    const path = file('data_dir = "data"\n');
    const [hint] = bootstrapHint(ok(loadConfig({ config: path }, { GATEHOUSE_DATA_DIR: '/srv/other' })).config, {}, '/');
    expect(hint).toMatch(/--data-dir \/srv\/other$/);
  });
});
