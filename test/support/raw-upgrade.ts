// A websocket upgrade request whose path goes out exactly as written: a websocket client parses
// its URL first (turning '\' into '/' and resolving '..'), so it cannot send the paths an attacker
// would. Resolves with 101 once upgraded (the socket is then dropped), or the refusal.
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';

export interface UpgradeAnswer {
  /** 101 when upgraded; 0 when the request could not be sent or the connection failed. */
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}, localAddress?: string): Promise<UpgradeAnswer> {
  return new Promise((resolve) => {
    let req;
    try {
      req = request({
        host: '127.0.0.1',
        port,
        path,
        localAddress,
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64'),
          ...headers,
        },
      });
    } catch (error) {
      return resolve({ status: 0, headers: {}, body: String(error) });
    }
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (error) => resolve({ status: 0, headers: {}, body: String(error) }));
    req.end();
  });
}
