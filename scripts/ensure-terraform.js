// The Terraform side of the real-tools suite: OpenTofu (a Terraform-compatible core) built from the
// Go module proxy, and the Prefect Terraform provider built from its pinned release, both cached in
// the tools cache. A CLI configuration file puts the provider in a filesystem mirror and allows no
// other installation method, so `tofu init` works offline and no provider registry is ever asked.
//
// The provider is the one piece the module proxy cannot give: it refuses
// github.com/prefecthq/terraform-provider-prefect outright (403 "This module version is not
// available"), and the provider's v3 tags could not be module versions anyway (its go.mod path has
// no /v3). Its source therefore comes from a git clone named by GATEHOUSE_TF_PROVIDER_SOURCE, checked
// against the pinned commit; its dependencies still come from the module proxy. Once built, the
// cached binary is used and no clone is needed.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolsDir } from './tools-cache.js';

export const TOFU = { module: 'github.com/opentofu/opentofu', version: 'v1.12.6', package: './cmd/tofu' };
export const PROVIDER = {
  module: 'github.com/prefecthq/terraform-provider-prefect',
  repository: 'https://github.com/PrefectHQ/terraform-provider-prefect',
  version: 'v3.4.1',
  commit: '79035d9576daf8f28c1ff94b6b64563b967f93fc',
  // The address `source = "prefecthq/prefect"` means to OpenTofu.
  address: 'registry.opentofu.org/prefecthq/prefect',
};
const PLATFORM = `${process.platform}_${{ x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch}`;

function say(line) {
  process.stderr.write(`ensure-terraform: ${line}\n`);
}

/** Runs a command; its output goes to `log` (appended), and the result says how it went. */
function run(command, args, { cwd, log, env = {} } = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  if (log) writeFileSync(log, `$ ${command} ${args.join(' ')}\n${output}\n`, { flag: 'a' });
  return { ok: result.status === 0, stdout: result.stdout ?? '', output, seconds: Math.round((Date.now() - started) / 1000) };
}

const tail = (text, lines = 12) => text.trimEnd().split('\n').slice(-lines).join('\n');

/** Copies a module from the module cache into a writable folder for building (the cache is read-only). */
function downloadModule(module, version, into, log) {
  const download = run('go', ['mod', 'download', '-json', `${module}@${version}`], { log });
  let answer = {};
  try {
    answer = JSON.parse(download.stdout);
  } catch {
    // No JSON: the go command itself failed; its output says why.
  }
  if (!download.ok || !answer.Dir) {
    const why = (answer.Error ?? tail(download.output, 4)).replace(/\s+/g, ' ');
    return { ok: false, error: `go mod download ${module}@${version} failed: ${why}` };
  }
  const { Dir } = answer;
  rmSync(into, { recursive: true, force: true });
  cpSync(Dir, into, { recursive: true });
  chmodSync(into, 0o755);
  run('chmod', ['-R', 'u+w', into]);
  return { ok: true };
}

/** The version `tofu version -json` prints, or undefined when there is no working binary. */
function tofuVersion(binary) {
  if (!existsSync(binary)) return undefined;
  const answer = run(binary, ['version', '-json'], { env: { TF_CLI_CONFIG_FILE: '/dev/null' } });
  try {
    return answer.ok ? JSON.parse(answer.stdout).terraform_version : undefined;
  } catch {
    return undefined;
  }
}

function ensureTofu() {
  const dir = toolsDir(`opentofu-${TOFU.version}`);
  const core = join(dir, 'tofu');
  const log = join(dir, 'build.log');
  const wanted = TOFU.version.slice(1);
  if (tofuVersion(core) === wanted) return { ok: true, core };
  say(`building OpenTofu ${TOFU.version} from the Go module proxy (the first time: 10 to 30 minutes on 2 cores, 26 min measured on a busy machine; log: ${log})`);
  writeFileSync(log, '');
  const source = join(toolsDir('build'), `opentofu-${TOFU.version}`);
  const fetched = downloadModule(TOFU.module, TOFU.version, source, log);
  if (!fetched.ok) return fetched;
  // `go install module/cmd/tofu@version` refuses a module whose go.mod has replace directives, as
  // OpenTofu's has (hcl/v2 => opentofu/hcl/v2); building inside the module honours them.
  // As OpenTofu's release builds do: without `dev=no` it calls itself 1.12.6-dev.
  const ldflags = '-s -w -X github.com/opentofu/opentofu/version.dev=no';
  const build = run('go', ['build', '-trimpath', `-ldflags=${ldflags}`, '-o', `${core}.tmp`, TOFU.package], { cwd: source, log });
  if (!build.ok) return { ok: false, error: `building OpenTofu ${TOFU.version} failed (log: ${log}):\n${tail(build.output)}` };
  renameSync(`${core}.tmp`, core);
  rmSync(source, { recursive: true, force: true });
  if (tofuVersion(core) !== wanted) return { ok: false, error: `the OpenTofu built from ${TOFU.module}@${TOFU.version} does not report version ${wanted}` };
  say(`OpenTofu ${TOFU.version} built in ${build.seconds} s`);
  return { ok: true, core };
}

/** The provider's source at the pinned commit, in `into`: from the module proxy if it ever serves it, else a git clone. */
function providerSource(into, log) {
  const fromProxy = downloadModule(PROVIDER.module, PROVIDER.version, into, log);
  if (fromProxy.ok) return fromProxy;
  const clone = process.env.GATEHOUSE_TF_PROVIDER_SOURCE;
  if (!clone) {
    return {
      ok: false,
      // No registry this machine reaches serves it: the suites that need it are skipped, loudly.
      unavailable: true,
      error:
        `the Prefect Terraform provider ${PROVIDER.version} cannot be built: the Go module proxy does not serve it (${fromProxy.error}). ` +
        `Set GATEHOUSE_TF_PROVIDER_SOURCE to a git clone of ${PROVIDER.repository} that holds commit ${PROVIDER.commit} (tag ${PROVIDER.version}) ` +
        `and run \`node scripts/ensure-terraform.js\`; the built provider is then cached in ${toolsDir(`terraform-provider-prefect-${PROVIDER.version}`)}.`,
    };
  }
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  const archive = spawnSync('git', ['-C', clone, 'archive', '--format=tar', PROVIDER.commit], { maxBuffer: 512 * 1024 * 1024 });
  if (archive.status !== 0) {
    return { ok: false, error: `GATEHOUSE_TF_PROVIDER_SOURCE=${clone} has no commit ${PROVIDER.commit} (tag ${PROVIDER.version}): ${String(archive.stderr).trim()}` };
  }
  const untar = spawnSync('tar', ['-x', '-C', into], { input: archive.stdout });
  if (untar.status !== 0) return { ok: false, error: `unpacking the provider's source failed: ${String(untar.stderr).trim()}` };
  const moduleLine = /^module\s+(\S+)/m.exec(readFileSync(join(into, 'go.mod'), 'utf8'))?.[1];
  if (moduleLine !== PROVIDER.module) return { ok: false, error: `${clone} at ${PROVIDER.commit} is module ${moduleLine}, not ${PROVIDER.module}` };
  say(`the module proxy does not serve the provider; building it from ${clone} at ${PROVIDER.commit.slice(0, 12)} (${PROVIDER.version})`);
  return { ok: true };
}

function ensureProvider() {
  const dir = toolsDir(`terraform-provider-prefect-${PROVIDER.version}`);
  const bare = PROVIDER.version.slice(1);
  const providerDir = join(dir, 'mirror');
  // The filesystem mirror's unpacked layout: HOSTNAME/NAMESPACE/TYPE/VERSION/TARGET/terraform-provider-TYPE_vVERSION.
  const target = join(providerDir, PROVIDER.address, bare, PLATFORM);
  const binary = join(target, `terraform-provider-prefect_${PROVIDER.version}`);
  const cliConfig = join(dir, 'cli.tfrc');
  const log = join(dir, 'build.log');
  if (!existsSync(binary)) {
    writeFileSync(log, '');
    const source = join(toolsDir('build'), `terraform-provider-prefect-${PROVIDER.version}`);
    const fetched = providerSource(source, log);
    if (!fetched.ok) return fetched;
    say(`building the Prefect Terraform provider ${PROVIDER.version} (its dependencies from the Go module proxy; log: ${log})`);
    mkdirSync(target, { recursive: true });
    const build = run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', `${binary}.tmp`, '.'], { cwd: source, log });
    if (!build.ok) return { ok: false, error: `building the Prefect Terraform provider ${PROVIDER.version} failed (log: ${log}):\n${tail(build.output)}` };
    renameSync(`${binary}.tmp`, binary);
    rmSync(source, { recursive: true, force: true });
    say(`the Prefect Terraform provider ${PROVIDER.version} built in ${build.seconds} s`);
  }
  // Only the mirror, no `direct {}`: any other provider, or this one at another version, fails to install.
  writeFileSync(
    cliConfig,
    [
      '# Written by Gatehouse scripts/ensure-terraform.js: providers come from this mirror only.',
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = ${JSON.stringify(providerDir)}`,
      `    include = [${JSON.stringify(PROVIDER.address)}]`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  return { ok: true, providerDir, cliConfig };
}

/**
 * Builds (or finds cached) OpenTofu and the Prefect provider.
 * → `{ ok, core, coreVersion, providerDir, providerVersion, cliConfig, env, error }`; `env` is what every
 * `tofu` command of the suite runs with.
 */
export function ensureTerraform() {
  const go = run('go', ['version']);
  if (!go.ok) return { ok: false, error: `the go command is missing (${go.output.trim()}); Go is needed to build OpenTofu and the Prefect provider` };
  // The provider first: when it cannot be had, building OpenTofu (many minutes cold) is no use.
  const provider = ensureProvider();
  if (!provider.ok) return provider;
  const tofu = ensureTofu();
  if (!tofu.ok) return tofu;
  const env = {
    TF_CLI_CONFIG_FILE: provider.cliConfig,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
  };
  return {
    ok: true,
    core: tofu.core,
    coreVersion: TOFU.version,
    providerDir: provider.providerDir,
    providerVersion: PROVIDER.version,
    cliConfig: provider.cliConfig,
    env,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = ensureTerraform();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(result));
  } else if (result.ok) {
    console.log(`OpenTofu ${result.coreVersion}: ${result.core}`);
    console.log(`Prefect provider ${result.providerVersion}: ${result.providerDir}`);
    console.log(`TF_CLI_CONFIG_FILE=${result.cliConfig}`);
  } else {
    console.error(result.error);
  }
  process.exit(result.ok ? 0 : 1);
}
