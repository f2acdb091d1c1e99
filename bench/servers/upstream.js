// Stand-in for a workspace's Prefect server in the gateway scenario: node:http answering every
// request with a fixed JSON body after reading the request body, as a cheap Prefect route would.
import http from 'node:http';
import { announce } from './common.js';

const body = Buffer.from(process.env.BENCH_BODY ? Buffer.from(process.env.BENCH_BODY, 'base64') : '[]');
const headers = { 'content-type': 'application/json', 'content-length': body.length };

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => announce(server));
