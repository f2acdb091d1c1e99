// Baseline for the gateway scenario: the least a reverse proxy in Node does (no authentication, no
// route table), forwarding every request to BENCH_UPSTREAM over the same kind of keep-alive pool as
// Gatehouse (undici). Its ratio to the upstream shows what proxying in Node costs on this machine
// before any of Gatehouse's work, so Gatehouse's own share can be told apart.
import http from 'node:http';
import { Agent } from 'undici';
import { announce } from './common.js';

const upstream = new URL(process.env.BENCH_UPSTREAM ?? '');
const agent = new Agent({ connections: 256 });
const prefix = /^\/api\/accounts\/[^/]+\/workspaces\/[^/]+/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'expect', 'upgrade']);

const server = http.createServer((req, res) => {
  const headers = { host: upstream.host };
  for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const answer = [];
    let status = 502;
    let answerHeaders = {};
    agent.dispatch(
      { origin: upstream.origin, method: req.method, path: `/api${req.url.replace(prefix, '')}`, headers, body: chunks.length ? Buffer.concat(chunks) : null },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode, received) {
          status = statusCode;
          answerHeaders = received;
        },
        onResponseData(_controller, chunk) {
          answer.push(chunk);
        },
        onResponseEnd() {
          for (const name of HOP_BY_HOP) delete answerHeaders[name];
          res.writeHead(status, answerHeaders);
          res.end(Buffer.concat(answer));
        },
        onResponseError() {
          res.writeHead(502);
          res.end();
        },
      },
    );
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => announce(server));
