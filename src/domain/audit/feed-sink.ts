// Where the audit feed's lines go: a file (appended, synced to disk before the feed's cursor moves
// past them, reopened when log rotation renames it), or a stream socket, Unix or TCP on this machine
// (written before the cursor moves; reconnected after an error).
import { open as openFile, stat, type FileHandle } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';

export type FeedTarget =
  | { kind: 'file'; path: string }
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number };

export interface FeedSink {
  /** Writes the text; resolves once it is on disk (file) or handed to the socket's kernel buffer. */
  write(text: string): Promise<void>;
  close(): void;
}

export const describeFeedTarget = (target: FeedTarget): string => (target.kind === 'tcp' ? `tcp:${target.host}:${target.port}` : `${target.kind}:${target.path}`);

export function openFeedSink(target: FeedTarget, connectTimeoutMs = 5_000): FeedSink {
  return target.kind === 'file' ? fileSink(target.path) : socketSink(target, connectTimeoutMs);
}

function fileSink(path: string): FeedSink {
  // Asynchronous file calls: an fsync must not hold up the requests this process serves.
  let file: FileHandle | null = null;
  const close = () => {
    void file?.close().catch(() => {});
    file = null;
  };
  return {
    async write(text) {
      // Rotation renamed or removed the file: write to a new one at the path.
      if (file !== null) {
        const [open, named] = await Promise.all([file.stat(), stat(path).catch(() => null)]);
        if (!named || open.ino !== named.ino || open.dev !== named.dev) close();
      }
      file ??= await openFile(path, 'a', 0o600);
      try {
        await file.writeFile(text);
        await file.sync();
      } catch (error) {
        close();
        throw error;
      }
    },
    close,
  };
}

function socketSink(target: Exclude<FeedTarget, { kind: 'file' }>, connectTimeoutMs: number): FeedSink {
  let socket: Socket | null = null;
  let failure: Error | null = null;

  function connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const next = target.kind === 'unix' ? createConnection({ path: target.path }) : createConnection({ host: target.host, port: target.port });
      const timer = setTimeout(() => next.destroy(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      next.once('connect', () => {
        clearTimeout(timer);
        failure = null;
        // What the reader sends back is not read; a close or error makes the next write reconnect.
        next.on('data', () => {});
        next.on('error', (error) => (failure = error));
        next.on('close', () => (failure ??= new Error('the feed socket closed')));
        resolve(next);
      });
      next.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  return {
    async write(text) {
      if (socket && failure) {
        socket.destroy();
        socket = null;
      }
      socket ??= await connect();
      const open = socket;
      await new Promise<void>((resolve, reject) => {
        open.write(text, (error) => (error ? reject(error) : failure ? reject(failure) : resolve()));
      }).catch((error) => {
        open.destroy();
        if (socket === open) socket = null;
        throw error;
      });
    },
    close() {
      // Whatever is still unsent is dropped: the cursor has not moved past it.
      socket?.destroy();
      socket = null;
    },
  };
}
