// The real OpenTofu and Prefect Terraform provider for the suites under test/real: built (or found
// cached) by scripts/ensure-terraform.js, then run in a working directory of the test's own with a
// CLI configuration that lets providers come from the local mirror only.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../support/build.js';

export interface TerraformTools {
  core: string;
  coreVersion: string;
  providerVersion: string;
  env: Record<string, string>;
}

let tools: Promise<TerraformTools> | undefined;

/**
 * Why the Terraform suites are skipped, when they are: `npm test` found that the provider's source
 * cannot be had on this machine (no registry serves it) and says so loudly; any other failure to
 * build the tools fails the suites instead.
 */
export const TERRAFORM_UNAVAILABLE = process.env.GATEHOUSE_TEST_NO_TERRAFORM || undefined;

/**
 * OpenTofu and the provider, built by scripts/ensure-terraform.js (as a child, so a first build of
 * several minutes does not block this process); throws with the script's reason when they cannot
 * be had, so the suite fails instead of skipping.
 */
export function requireTerraform(): Promise<TerraformTools> {
  tools ??= new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'ensure-terraform.js'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', () => {
      let result: { ok: boolean; error?: string } & Partial<TerraformTools>;
      try {
        result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
      } catch {
        reject(new Error(`scripts/ensure-terraform.js printed no result:\n${stderr}${stdout}`));
        return;
      }
      if (!result.ok) reject(new Error(`The Terraform suites need OpenTofu and the Prefect provider, which could not be built: ${result.error}`));
      else resolve(result as TerraformTools);
    });
  });
  return tools;
}

export interface TofuRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A working directory holding one configuration, and the `tofu` commands run in it. */
export interface TofuDir {
  dir: string;
  /** Replaces main.tf. */
  write(config: string): void;
  run(args: string[], extraEnv?: Record<string, string>): Promise<TofuRun>;
  /** Runs and throws with the command's output unless it exits 0. */
  ok(args: string[], extraEnv?: Record<string, string>): Promise<TofuRun>;
  /** `tofu output -json`, values only. */
  outputs(): Promise<Record<string, any>>;
  dispose(): void;
}

export function tofuDir(t: TerraformTools): TofuDir {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tofu-'));
  // Nothing of the developer's own Terraform or Prefect settings may steer the provider.
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(base)) if (/^(TF_|PREFECT_)/.test(name)) delete base[name];
  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    new Promise<TofuRun>((resolve) => {
      execFile(
        t.core,
        args,
        { cwd: dir, env: { ...base, ...t.env, TF_DATA_DIR: join(dir, '.terraform'), ...extraEnv }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      );
    });
  return {
    dir,
    write: (config) => writeFileSync(join(dir, 'main.tf'), config),
    run,
    async ok(args, extraEnv) {
      const result = await run(args, extraEnv);
      if (result.code !== 0) throw new Error(`tofu ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
      return result;
    },
    async outputs() {
      const result = await run(['output', '-json']);
      if (result.code !== 0) throw new Error(`tofu output exited ${result.code}:\n${result.stderr}`);
      const raw = JSON.parse(result.stdout) as Record<string, { value: unknown }>;
      return Object.fromEntries(Object.entries(raw).map(([name, output]) => [name, output.value]));
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The `terraform` block that pins the provider to the version the mirror holds. */
export function requiredProvider(t: TerraformTools): string {
  return `terraform {
  required_providers {
    prefect = {
      source  = "prefecthq/prefect"
      version = "${t.providerVersion.replace(/^v/, '')}"
    }
  }
}
`;
}

/** `tofu version -json`'s version, for the results file. */
export function tofuVersion(t: TerraformTools): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(t.core, ['version', '-json'], { env: { ...process.env, ...t.env } }, (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout).terraform_version))),
  );
}
