// Baseline server: bare node:http answering every request with the same bytes as the Gatehouse
// route under test (BENCH_BODY, base64), so the difference measured is Gatehouse's own work.
import { bodyFromEnv, serveFixed } from './common.js';

serveFixed(bodyFromEnv(), 'application/json; charset=utf-8');
