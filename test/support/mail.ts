// A local SMTP server that keeps every mail it receives, and apps on a harness's store whose logs
// go to memory: for the tests of what Gatehouse mails (invitations, email verification) and of
// what it never writes to a log while doing so.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { createApp, type App } from '../../src/app.js';
import type { Mailer } from '../../src/mail/mailer.js';
import type { Harness } from './harness.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export interface SmtpCatcher {
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const mails: ReceivedMail[] = [];
  const smtp = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((done) => smtp.listen(0, '127.0.0.1', done));
  const port = (smtp.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((done) => smtp.close(done)) };
}

/** A pino logger at `level` whose lines are kept in memory. */
export function memoryLogger(level = 'trace') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level }, sink), lines, text: () => lines.join('') };
}

/** Apps on the harness's store with another mailer (or none), each with its logs kept apart; close them all at the end. */
export function appsOn(h: () => Harness) {
  const apps: App[] = [];
  return {
    async appWith(mailer: Mailer | null) {
      const { logger, text } = memoryLogger();
      const app = await createApp({ store: h().handle.store, cache: h().handle.cache, clock: h().clock, logger, mailer });
      apps.push(app);
      return { app, logs: text };
    },
    async closeAll() {
      for (const app of apps) await app.server.close();
    },
  };
}
