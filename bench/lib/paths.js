// Where the bench finds the project: its root, the compiled server and the command.
// GATEHOUSE_BENCH_ROOT measures another checkout's build (built there) with this bench, e.g. to
// compare two commits in one run of the same harness.
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = fileURLToPath(new URL('../../', import.meta.url));
const PROJECT = process.env.GATEHOUSE_BENCH_ROOT ? `${resolve(process.env.GATEHOUSE_BENCH_ROOT)}/` : HERE;

export const ROOT = PROJECT;
export const BIN = `${PROJECT}bin/gatehouse.js`;
export const SERVERS = fileURLToPath(new URL('../servers/', import.meta.url));
export const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

/** A module compiled into dist/, e.g. dist('domain/api-keys/key-format.js'). */
export const dist = (path) => import(pathToFileURL(`${PROJECT}dist/${path}`).href);
