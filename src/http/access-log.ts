// The access record: one JSON line per request, built when the answer has gone out and written in
// batches off the request's path (as nginx's `access_log ... buffer=64k flush=1s`): a write when
// enough lines have gathered, or each second, and the rest when the server closes.
import { closeSync, fstatSync, openSync, writeSync, writev } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { redactSecrets } from './log-redaction.js';

/** The most held in memory (bytes) while the destination cannot keep up; beyond it lines are dropped. */
const MAX_PENDING = 8 * 1024 * 1024;
/** One write to a pipe or socket at most this long, cut at a line's end: atomic beside other writers. */
const PIPE_BUF = 4096;
/** A file: lines gather in buffers of this size, each written when full (nginx's `buffer=64k`). */
const FILE_BUFFER = 64 * 1024;
/** How long a stop waits for a write under way before it gives up on the lines still held. */
const CLOSE_WAIT_MS = 2_000;

const upstreamStatus = Symbol('gatehouse.upstreamStatus');
type Noted = FastifyRequest & { [upstreamStatus]?: number | string };

/** The gateway notes what the workspace's Prefect server answered (a status, or how it failed). */
export function noteUpstream(request: FastifyRequest, status: number | string): void {
  (request as Noted)[upstreamStatus] = status;
}

/** Characters JSON must escape, and anything not ASCII (JSON.stringify knows lone surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
/** A JSON string: most values here (ids, addresses, paths) need no escaping, and skip JSON.stringify. */
const text = (value: string) => (NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`);

/**
 * The route a request matched (its URL pattern), or undefined for none. Fastify's
 * `request.routeOptions` builds and returns a new object of a dozen fields on every read; the
 * route's own context (where that getter reads `config.url`) is found by its symbol's name on the
 * first request and then read directly. Without it (an object that is not Fastify's request, or a
 * Fastify release that renamed it) the getter is used.
 */
let contextSymbol: symbol | undefined;
type WithContext = Record<symbol, { config?: { url?: string } } | undefined>;
function routeOf(request: FastifyRequest): string | undefined {
  const context = contextSymbol && (request as unknown as WithContext)[contextSymbol];
  if (context) return context.config?.url;
  contextSymbol = Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'fastify.context');
  return contextSymbol ? (request as unknown as WithContext)[contextSymbol]?.config?.url : request.routeOptions?.url;
}

/** `,"route":"<pattern>"` per route pattern, escaped once (the patterns are the app's own, a few hundred). */
const routeFields = new Map<string, string>();
function routeField(route: string): string {
  let field = routeFields.get(route);
  if (field === undefined) routeFields.set(route, (field = `,"route":${text(route)}`));
  return field;
}

/**
 * One request's line, shaped like pino's (level 30, time in epoch milliseconds, msg) so the same
 * pipeline reads both. Fields that are unknown for a request are left out. Never a header, a body,
 * or a credential: the URL goes through the same redaction as every other log line.
 *
 * Values that cannot need escaping are written as they are: Node's parser accepts only token
 * characters in a method, and an actor's type and id are the store's enum and UUID.
 */
export function accessLine(request: FastifyRequest, reply: FastifyReply, now = Date.now(), sampled = 1): string {
  const auth = request.auth;
  const actor = auth?.actor;
  let line = `{"level":30,"time":${now},"msg":"access","reqId":${text(String(request.id))},"remoteAddress":${text(request.ip ?? '')},"method":"${request.method}","url":${text(redactSecrets(request.url))}`;
  const route = routeOf(request);
  if (route) line += routeField(route);
  line += `,"statusCode":${reply.statusCode},"responseTime":${Math.round(reply.elapsedTime * 100) / 100}`;
  const length = reply.getHeader('content-length');
  if (length !== undefined) line += `,"bytes":${Number(length)}`;
  if (actor) {
    const credential = actor.apiKeyId ? 'api_key' : auth.sessionId ? 'session' : null;
    if (credential) line += `,"credential":"${credential}"`;
    line += `,"actorType":"${actor.type}"`;
    if (actor.id) line += `,"actorId":"${actor.id}"`;
    line += `,"actorName":${text(actor.name)}`;
  }
  const workspaceId = (request.params as { workspace_id?: unknown } | undefined)?.workspace_id;
  if (typeof workspaceId === 'string') line += `,"workspaceId":${text(workspaceId)}`;
  const upstream = (request as Noted)[upstreamStatus];
  if (upstream !== undefined) line += `,"upstreamStatus":${typeof upstream === 'number' ? upstream : text(upstream)}`;
  if (sampled > 1) line += `,"sampled":${sampled}`;
  return `${line}}\n`;
}

export interface AccessLogOptions {
  /** Told when lines are lost (the destination failed) and when writing works again. */
  report?: (message: string, details: { code: string; droppedLines: number }) => void;
  /** How often gathered lines are written even when few (default 1 s). */
  flushIntervalMs?: number;
}

/** Where the access lines go: the app adds them; the caller reopens (SIGHUP) and closes. */
export interface AccessRecorder {
  add(line: string): void;
  reopen(): void;
  close(): Promise<void>;
}

/** Lines handed to a stream as they come: pino-pretty's, for a person at a terminal (not buffered). */
export function accessLogThrough(stream: { write(chunk: string): unknown }): AccessRecorder {
  return { add: (line) => void stream.write(line), reopen() {}, close: async () => {} };
}

/** A buffer of whole lines waiting to be written: `length` bytes of `bytes`. */
interface Filled {
  bytes: Buffer;
  length: number;
}

/**
 * Copies each line into a preallocated buffer at once (the line's string dies young, so holding a
 * second of lines costs the garbage collector nothing), and writes full buffers to one file
 * descriptor, one write at a time, never on a request's path.
 */
export class AccessLog implements AccessRecorder {
  readonly #path: string | null;
  #fd: number;
  #nextFd: number | null = null;
  readonly #bufferSize: number;
  #buffer: Buffer;
  #used = 0;
  #filled: Filled[] = [];
  #filledBytes = 0;
  readonly #spare: Buffer[] = [];
  #writing: Promise<void> | null = null;
  #broken = false;
  #failure: { code: string; droppedLines: number } | null = null;
  readonly #timer: NodeJS.Timeout;
  readonly #report: NonNullable<AccessLogOptions['report']>;

  /** Standard output (fd 1) or a file opened for appending; opening a file throws when it cannot be. */
  constructor(destination: { fd: 1 } | { file: string }, options: AccessLogOptions = {}) {
    this.#path = 'file' in destination ? destination.file : null;
    this.#fd = this.#path === null ? 1 : openSync(this.#path, 'a', 0o640);
    // A pipe or socket (docker, systemd) gets writes no longer than PIPE_BUF: whole lines, never
    // split by the other lines (pino's) written to the same descriptor.
    const stat = fstatSync(this.#fd);
    this.#bufferSize = stat.isFIFO() || stat.isSocket() ? PIPE_BUF : FILE_BUFFER;
    this.#buffer = Buffer.allocUnsafe(this.#bufferSize);
    this.#report = options.report ?? (() => {});
    this.#timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 1000);
    this.#timer.unref();
  }

  add(line: string): void {
    if (this.#broken) return;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only near the buffer's end are they counted.
    if (this.#used + line.length * 3 > this.#bufferSize) {
      const bytes = Buffer.byteLength(line);
      if (this.#used + bytes > this.#bufferSize) {
        if (this.#filledBytes + this.#used > MAX_PENDING) return this.#lost('EBUFFERFULL', 1);
        this.#seal();
        this.#writeNext();
        if (bytes > this.#bufferSize) {
          this.#queue({ bytes: Buffer.from(line), length: bytes });
          return this.#writeNext();
        }
      }
    }
    this.#used += this.#buffer.write(line, this.#used);
  }

  /** Writes everything gathered so far (in buffers, one write at a time). */
  flush(): void {
    this.#seal();
    this.#writeNext();
  }

  /** Resolves once every line added so far has been written (or lost). */
  async drain(): Promise<void> {
    this.flush();
    while (this.#writing) {
      await this.#writing;
      this.flush();
    }
  }

  /** Opens the file again (after logrotate moved it): lines from now on go to the new file. */
  reopen(): void {
    if (this.#path === null) return;
    try {
      this.#nextFd = openSync(this.#path, 'a', 0o640);
    } catch (error) {
      this.#report(`could not reopen the access log ${this.#path}; still writing to the old file`, { code: errorCode(error), droppedLines: 0 });
      return;
    }
    if (!this.#writing) this.#swapFd();
  }

  /** Writes what is left, synchronously once the write under way has ended, and closes the file. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    // A reader that stopped reading (a blocked pipe) must not hold the stop: wait 2 s at most.
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (this.#writing) {
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([this.#writing.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, Math.max(0, left), true)))]);
      clearTimeout(timer);
      if (timedOut) {
        this.#seal();
        this.#lost('ETIMEDOUT', this.#filled.reduce((n, f) => n + countLines(f.bytes.subarray(0, f.length)), 0));
        this.#broken = true;
        return;
      }
    }
    if (this.#nextFd !== null) this.#swapFd();
    this.#seal();
    for (const { bytes, length } of this.#broken ? [] : this.#filled.splice(0)) {
      try {
        for (let offset = 0; offset < length; ) offset += writeSync(this.#fd, bytes, offset, length - offset);
      } catch (error) {
        this.#lost(errorCode(error), countLines(bytes.subarray(0, length)));
      }
    }
    this.#broken = true;
    if (this.#path !== null) closeSync(this.#fd);
  }

  /** The lines gathered so far join the queue of buffers to write. */
  #seal(): void {
    if (this.#used === 0) return;
    this.#queue({ bytes: this.#buffer, length: this.#used });
    this.#buffer = this.#spare.pop() ?? Buffer.allocUnsafe(this.#bufferSize);
    this.#used = 0;
  }

  #queue(filled: Filled): void {
    this.#filled.push(filled);
    this.#filledBytes += filled.length;
  }

  #writeNext(): void {
    if (this.#writing || this.#filled.length === 0 || this.#broken) return;
    // A file takes every buffer waiting in one write; a pipe one buffer (PIPE_BUF) at a time.
    const batch = this.#filled.splice(0, this.#bufferSize === PIPE_BUF ? 1 : 64);
    for (const filled of batch) this.#filledBytes -= filled.length;
    const pieces = batch.map(({ bytes, length }) => bytes.subarray(0, length));
    this.#writing = new Promise((resolve) => this.#writePieces(pieces, batch, resolve));
  }

  #writePieces(pieces: Buffer[], batch: Filled[], done: () => void): void {
    writev(this.#fd, pieces, (error, written) => {
      if (error && (error.code === 'EAGAIN' || error.code === 'EINTR')) {
        // The reader is slow: try again shortly, keeping the order of the lines.
        setTimeout(() => this.#writePieces(pieces, batch, done), 50).unref();
        return;
      }
      if (!error) {
        const rest = unwritten(pieces, written);
        if (rest.length > 0) return this.#writePieces(rest, batch, done);
      }
      if (error) {
        this.#lost(error.code ?? 'EIO', pieces.reduce((n, piece) => n + countLines(piece), 0));
        // A reader that has gone (EPIPE) does not come back: stop gathering lines for it.
        if (error.code === 'EPIPE') this.#broken = true;
      } else if (this.#failure) {
        const { code, droppedLines } = this.#failure;
        this.#failure = null;
        this.#report(`the access log is written again; ${droppedLines} line(s) were lost while it failed (${code})`, { code, droppedLines });
      }
      // The buffers are free again: the next ones to fill (a few kept, the rest left to the collector).
      for (const { bytes } of batch) if (bytes.length === this.#bufferSize && this.#spare.length < 4) this.#spare.push(bytes);
      this.#writing = null;
      done();
      if (this.#nextFd !== null) this.#swapFd();
      this.#writeNext();
    });
  }

  #swapFd(): void {
    const old = this.#fd;
    this.#fd = this.#nextFd!;
    this.#nextFd = null;
    try {
      closeSync(old);
    } catch {
      // already closed: nothing to release
    }
  }

  #lost(code: string, lines: number): void {
    if (this.#failure) {
      this.#failure.droppedLines += lines;
      return;
    }
    this.#failure = { code, droppedLines: lines };
    this.#report(`could not write the access log (${code}); lines are dropped until it works again`, { code, droppedLines: lines });
  }
}

/** What is left of `pieces` after the first `written` bytes. */
function unwritten(pieces: Buffer[], written: number): Buffer[] {
  let skip = written;
  let i = 0;
  while (i < pieces.length && skip >= pieces[i]!.length) skip -= pieces[i++]!.length;
  if (i === pieces.length) return [];
  return [pieces[i]!.subarray(skip), ...pieces.slice(i + 1)];
}

function countLines(buffer: Buffer): number {
  let lines = 0;
  for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
  return lines;
}

function errorCode(error: unknown): string {
  return String((error as { code?: unknown })?.code ?? 'EIO');
}

/**
 * One onResponse hook: the line is built after the answer has been sent, and only queued. The log
 * is opened and closed by the caller (after the server has closed, so the last lines are written).
 */
export function installAccessLog(server: FastifyInstance, log: AccessRecorder, sampleEvery = 1): void {
  // Sampling (GATEHOUSE_ACCESS_LOG_SAMPLE=N): one of every N successful answers, each line saying
  // so ("sampled": N); every refusal and error is written.
  let successes = 0;
  server.addHook('onResponse', (request, reply, done) => {
    if (sampleEvery === 1) log.add(accessLine(request, reply));
    else if (reply.statusCode >= 400) log.add(accessLine(request, reply));
    else if (++successes % sampleEvery === 0) log.add(accessLine(request, reply, Date.now(), sampleEvery));
    done();
  });
}
