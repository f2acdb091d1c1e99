// Baseline for the gateway scenario: the least a node:http reverse proxy does (no authentication,
// no route table), forwarding every request to BENCH_UPSTREAM over keep-alive connections. Its
// ratio to the upstream shows what proxying in Node costs on this machine before any of Gatehouse's
// work, so Gatehouse's own share can be told apart.
import http from 'node:http';
import { announce } from './common.js';

const upstream = new URL(process.env.BENCH_UPSTREAM ?? '');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const prefix = /^\/api\/accounts\/[^/]+\/workspaces\/[^/]+/;

const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: upstream.host };
  const out = http.request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: `/api${req.url.replace(prefix, '')}`, headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(out);
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => announce(server));
