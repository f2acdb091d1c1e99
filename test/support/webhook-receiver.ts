// A webhook receiver on 127.0.0.1 that keeps what it is sent; it answers `status`, or never (hang).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedHook[];
  /** What to answer next: a status, or 'hang' to keep the request open until close. */
  answer: number | 'hang';
  close(): Promise<void>;
}

export async function startWebhookReceiver(answer: number | 'hang' = 204): Promise<WebhookReceiver> {
  const hanging: ServerResponse[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    answer,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* kept as text */
      }
      receiver.received.push({ headers: req.headers, body, json });
      if (receiver.answer === 'hang') hanging.push(res);
      else res.writeHead(receiver.answer).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
