// The shared end of the doc generators: write the regenerated document, or with --check report it
// stale (exit 1) without writing, naming the command that brings it up to date.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

export async function regenerateDoc(path: string, generate: (current: string) => string | Promise<string>, command: string): Promise<number> {
  const name = relative(process.cwd(), path);
  const current = readFileSync(path, 'utf8');
  const next = await generate(current);
  if (process.argv.includes('--check')) {
    if (next === current) return 0;
    console.error(`${name} is stale: run ${command}`);
    return 1;
  }
  if (next !== current) writeFileSync(path, next);
  console.log(next === current ? `${name} is up to date` : `${name} updated`);
  return 0;
}
