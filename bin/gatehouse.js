#!/usr/bin/env node
// Entry point of the `gatehouse` command; the code is compiled to dist/ by the install step.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error('gatehouse: dist/ is missing; run "npm ci" (or "npm run build") in the project first');
  process.exit(1);
}
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv.slice(2));
