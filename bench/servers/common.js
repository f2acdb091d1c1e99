// What the baseline servers share: the body they answer with, and the line that tells the runner
// where they listen (the runner waits for it on stdout).
import http from 'node:http';

export function bodyFromEnv() {
  const encoded = process.env.BENCH_BODY;
  if (!encoded) throw new Error('BENCH_BODY (base64 of the response body) is not set; the bench runner sets it');
  return Buffer.from(encoded, 'base64');
}

export function announce(server) {
  const { port } = server.address();
  console.log(`listening on http://127.0.0.1:${port}`);
  const stop = () => {
    server.close(() => process.exit(0));
    // Keep-alive sockets of the load generator would hold close() open; drop them once idle.
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 100).unref();
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** A bare node:http server answering every request, once its body is read, with `body`. */
export function serveFixed(body, contentType) {
  const headers = { 'content-type': contentType, 'content-length': body.length };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, headers);
      res.end(body);
    });
  });
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => announce(server));
}
