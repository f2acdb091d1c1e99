// Where the bench finds the project: its root, the compiled server and the command.
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
export const SERVERS = fileURLToPath(new URL('../servers/', import.meta.url));
export const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

/** A module compiled into dist/, e.g. dist('domain/api-keys/key-format.js'). */
export const dist = (path) => import(new URL(`../../dist/${path}`, import.meta.url).href);
