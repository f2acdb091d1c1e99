// Stand-in for a workspace's Prefect server in the gateway scenario: node:http answering every
// request with a fixed JSON body after reading the request body, as a cheap Prefect route would.
import { serveFixed } from './common.js';

serveFixed(process.env.BENCH_BODY ? Buffer.from(process.env.BENCH_BODY, 'base64') : Buffer.from('[]'), 'application/json');
