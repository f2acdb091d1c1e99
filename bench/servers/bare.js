// Baseline server: bare node:http answering every request with the same bytes as the Gatehouse
// route under test (BENCH_BODY, base64), so the difference measured is Gatehouse's own work.
import http from 'node:http';
import { announce, bodyFromEnv } from './common.js';

const body = bodyFromEnv();
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length };

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => announce(server));
