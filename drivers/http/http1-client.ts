// The mutual-TLS client's HTTP/1.1 exchange under Bun: a pool of kept-alive TLS connections
// (node:tls, which does mutual TLS on both runtimes) and our own reading of the answers
// (RFC 9112). Why not Bun's fetch (docs/runtime-facts.md, "TLS and HTTP"): measured against the
// mutual-TLS server with an empty handler, fetch cost the client 0.13 ms of CPU per small exchange
// and 0.27 ms per 25 KB answer, and this costs 0.055 and 0.11 ms. The relay makes four such exchanges
// with the centre per issuance (issue 10). Node keeps undici (client.ts).

import { isIP } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Deadline } from './deadline.ts';
import { ChunkedBodyDecoder, endOfHead, HttpRequestError } from './http1.ts';
import { Http1BadAnswer, Http1ResponseTooLarge } from './http1-errors.ts';

export interface Http1PoolOptions {
  host: string;
  port: number;
  ca: string;
  cert?: string;
  key?: string;
  /** Checks the server's certificate beyond its chain (client.ts expectedServerOrganization). */
  checkServerIdentity?: (host: string, certificate: PeerCertificate) => Error | undefined;
  maxConnections: number;
  /** The local address to connect from (the load bench gives each simulated kiosk its own). */
  localAddress?: string;
}

export interface Http1Answer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export { Http1BadAnswer, Http1ResponseTooLarge };

/** The peer closed the connection before the whole answer came (client.ts maps it to transport.closed). */
class ConnectionClosed extends Error {
  readonly code = 'ConnectionClosed';
}

/** What a server may say before its answer, and its idle hint when it gives none: undici's default less a second. */
const DEFAULT_KEEP_ALIVE_MS = 4_000;
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/;
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

interface PooledConnection {
  socket: TLSSocket;
  idleTimer?: ReturnType<typeof setTimeout>;
  /** Taken off the count of open connections (once, whatever closed it). */
  retired: boolean;
  /**
   * The exchange reading this connection's answer, if one is under way. The socket's listeners
   * are added once, when it connects, and hand on to it: adding and removing three for every
   * request was a share of the relay's CPU of its own (docs/runtime-facts.md, "TLS and HTTP").
   */
  reader: AnswerReader | undefined;
}

/** What an exchange does with what its connection hears (exchange). */
interface AnswerReader {
  data(chunk: Buffer): void;
  closed(): void;
  failed(error: Error): void;
}

const DEADLINE_PASSED = 'the deadline passed';

export type Http1Pool = ReturnType<typeof createHttp1Pool>;

export function createHttp1Pool(options: Http1PoolOptions) {
  const authority = isIP(options.host) === 6 ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const idle: PooledConnection[] = [];
  const waiting: { resolve: (connection: PooledConnection | undefined) => void }[] = [];
  let open = 0;
  let closed = false;

  function connectNew(deadline: Deadline): Promise<PooledConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: options.host,
        port: options.port,
        // SNI for a name only (RFC 6066 §3); the certificate is checked against the host either way.
        ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
        ca: options.ca,
        ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
        ...(options.checkServerIdentity === undefined ? {} : { checkServerIdentity: options.checkServerIdentity }),
        minVersion: 'TLSv1.2',
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      });
      const connection: PooledConnection = { socket, retired: false, reader: undefined };
      const onFailure = (error: Error) => {
        deadline.whenPassed(undefined);
        socket.destroy();
        reject(error);
      };
      deadline.whenPassed(() => socket.destroy(new Error(DEADLINE_PASSED)));
      socket.once('error', onFailure);
      socket.once('secureConnect', () => {
        deadline.whenPassed(undefined);
        socket.off('error', onFailure);
        // Bytes nobody asked for, or the close of a connection no exchange is reading: it is
        // not used again. An error without an exchange is followed by the close, which retires it.
        socket.on('data', (chunk: Buffer) => (connection.reader === undefined ? retire(connection) : connection.reader.data(chunk)));
        socket.on('error', (error: Error) => connection.reader?.failed(error));
        socket.on('close', () => (connection.reader === undefined ? retire(connection) : connection.reader.closed()));
        resolve(connection);
      });
    });
  }

  /** Closes a connection for good and frees its place for a request waiting for one. */
  function retire(connection: PooledConnection): void {
    if (connection.retired) return;
    connection.retired = true;
    clearTimeout(connection.idleTimer);
    const index = idle.indexOf(connection);
    if (index >= 0) idle.splice(index, 1);
    connection.socket.destroy();
    open -= 1;
    handOn();
  }

  /** A kept-alive connection, a new one if fewer than the cap are open, or the next one freed. */
  async function acquire(deadline: Deadline): Promise<PooledConnection> {
    for (;;) {
      if (closed) throw new ConnectionClosed('the client is closed');
      if (deadline.passed) throw new Error(DEADLINE_PASSED);
      const reused = idle.pop();
      if (reused !== undefined) {
        clearTimeout(reused.idleTimer);
        if (!reused.socket.destroyed) return reused;
        retire(reused);
        continue;
      }
      if (open < options.maxConnections) {
        open += 1;
        try {
          return await connectNew(deadline);
        } catch (error) {
          open -= 1;
          handOn();
          throw error;
        }
      }
      const handed = await new Promise<PooledConnection | undefined>((resolve, reject) => {
        const waiter = {
          resolve: (connection: PooledConnection | undefined) => {
            deadline.whenPassed(undefined);
            resolve(connection);
          },
        };
        waiting.push(waiter);
        deadline.whenPassed(() => {
          const index = waiting.indexOf(waiter);
          if (index >= 0) waiting.splice(index, 1);
          reject(new Error(DEADLINE_PASSED));
        });
      });
      if (handed !== undefined) return handed;
    }
  }

  /** The next waiter gets the freed connection, or (undefined) a turn to open one. */
  function handOn(connection?: PooledConnection): boolean {
    const waiter = waiting.shift();
    if (waiter === undefined) return false;
    waiter.resolve(connection);
    return true;
  }

  function release(connection: PooledConnection, keepAliveMs: number | undefined): void {
    if (keepAliveMs === undefined || closed || connection.socket.destroyed) return retire(connection);
    if (handOn(connection)) return;
    connection.idleTimer = setTimeout(() => retire(connection), keepAliveMs);
    connection.idleTimer.unref?.();
    idle.push(connection);
  }

  return {
    async send(method: string, path: string, headers: Record<string, string>, body: Uint8Array | string | undefined, deadline: Deadline, maxResponseBytes: number): Promise<Http1Answer> {
      const request = requestBytes(method, path, authority, headers, body);
      const connection = await acquire(deadline);
      let keepAliveMs: number | undefined;
      try {
        const answer = await exchange(connection, request, method === 'HEAD', deadline, maxResponseBytes);
        keepAliveMs = answer.keepAliveMs;
        return { status: answer.status, headers: answer.headers, body: answer.body };
      } finally {
        release(connection, keepAliveMs);
      }
    },
    async close(): Promise<void> {
      closed = true;
      for (const connection of [...idle]) retire(connection);
      for (const waiter of waiting.splice(0)) waiter.resolve(undefined);
    },
  };
}

/**
 * The request as one write: text when the body is text (written as UTF-8, its length counted in
 * bytes), as Bun's TLS socket takes a string faster than a Buffer of the same bytes.
 */
function requestBytes(method: string, path: string, authority: string, headers: Record<string, string>, body: Uint8Array | string | undefined): string | Buffer {
  if (!/^[\x21-\x7e]+$/.test(path) || !FIELD_NAME.test(method)) throw new Error('the request line cannot be sent');
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${authority}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (key === 'host' || key === 'content-length' || key === 'connection' || key === 'transfer-encoding') continue;
    if (!FIELD_NAME.test(name) || !/^[\t\x20-\x7e]*$/.test(value)) throw new Error(`header "${name}" cannot be sent`);
    head += `${name}: ${value}\r\n`;
  }
  if (body === undefined) return `${head}\r\n`;
  if (typeof body === 'string') return `${head}content-length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`;
  return Buffer.concat([Buffer.from(`${head}content-length: ${body.byteLength}\r\n\r\n`, 'latin1'), body]);
}

interface Exchanged extends Http1Answer {
  /** How long the connection may idle in the pool; undefined when it must close. */
  keepAliveMs: number | undefined;
}

/** Writes the request and reads one answer off the connection (1xx answers skipped). */
function exchange(connection: PooledConnection, request: string | Buffer, headOnly: boolean, deadline: Deadline, maxResponseBytes: number): Promise<Exchanged> {
  const socket = connection.socket;
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    let head: { status: number; headers: Record<string, string>; keepAlive: boolean } | undefined;
    let decoder: ChunkedBodyDecoder | undefined;
    let length: number | undefined;
    let untilClose = false;
    let settled = false;
    /** Records of a body of known length that is not complete yet (onData). */
    let waiting: Buffer[] = [];
    let waitingBytes = 0;

    const finish = (error: unknown, answer?: Exchanged) => {
      if (settled) return;
      settled = true;
      connection.reader = undefined;
      deadline.whenPassed(undefined);
      if (error !== undefined) {
        socket.destroy();
        reject(error);
      } else resolve(answer!);
    };
    const onError = (error: Error) => finish(error);
    const onClose = () => {
      if (head !== undefined && untilClose) return done(buffered);
      finish(new ConnectionClosed('the connection closed before the answer'));
    };
    /** `rest`: bytes after the answer, which no request asked for: the connection is not used again. */
    const done = (body: Uint8Array, rest = 0) => {
      const { status, headers, keepAlive } = head!;
      finish(undefined, { status, headers, body, keepAliveMs: keepAlive && !untilClose && rest === 0 ? keepAliveMsOf(headers) : undefined });
    };

    function onData(chunk: Buffer): void {
      if (head !== undefined && decoder === undefined && length !== undefined) {
        // A body of known length (a certificate's is ~37 KB, several TLS records) is joined once,
        // when all of it is here, not copied again with every record.
        waiting.push(chunk);
        waitingBytes += chunk.length;
        if (buffered.length + waitingBytes < length) return;
        buffered = Buffer.concat([buffered, ...waiting]);
        waiting = [];
        waitingBytes = 0;
      } else buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      try {
        while (head === undefined) {
          const end = endOfHead(buffered);
          if (end < 0) {
            if (buffered.length > MAX_RESPONSE_HEAD_BYTES) throw new Http1BadAnswer('the answer head is too large');
            return;
          }
          const parsed = parseResponseHead(buffered.subarray(0, end));
          buffered = buffered.subarray(end);
          if (parsed.status >= 100 && parsed.status < 200) continue;
          head = parsed;
          const transferEncoding = parsed.headers['transfer-encoding']?.toLowerCase();
          if (headOnly || parsed.status === 204 || parsed.status === 304) length = 0;
          else if (transferEncoding === 'chunked') decoder = new ChunkedBodyDecoder(maxResponseBytes);
          else if (transferEncoding !== undefined) throw new Http1BadAnswer(`transfer coding "${transferEncoding}" is not understood`);
          else if (parsed.headers['content-length'] !== undefined) {
            if (!/^\d+$/.test(parsed.headers['content-length'])) throw new Http1BadAnswer('the answer has a bad Content-Length');
            length = Number(parsed.headers['content-length']);
            if (length > maxResponseBytes) throw new Http1ResponseTooLarge();
          } else untilClose = true;
        }
        if (decoder !== undefined) {
          buffered = buffered.subarray(decoder.push(buffered));
          if (decoder.done) done(decoder.body(), buffered.length);
        } else if (length !== undefined) {
          if (buffered.length >= length) done(buffered.subarray(0, length), buffered.length - length);
        } else if (buffered.length > maxResponseBytes) throw new Http1ResponseTooLarge();
      } catch (error) {
        if (error instanceof HttpRequestError) finish(error.status === 413 ? new Http1ResponseTooLarge() : new Http1BadAnswer(error.message));
        else finish(error);
      }
    }

    if (deadline.passed) return finish(new Error(DEADLINE_PASSED));
    connection.reader = { data: onData, closed: onClose, failed: onError };
    deadline.whenPassed(() => finish(new Error(DEADLINE_PASSED)));
    socket.write(request);
  });
}

function parseResponseHead(bytes: Uint8Array): { status: number; headers: Record<string, string>; keepAlive: boolean } {
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').slice(0, -4).split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0] ?? '');
  if (!statusLine) throw new Http1BadAnswer('the answer is not HTTP/1.1');
  // No prototype: an answer's header named __proto__ or toString is only a header.
  const headers: Record<string, string> = Object.create(null);
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Http1BadAnswer('the answer has a malformed header line');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const connection = (headers.connection ?? '').toLowerCase();
  const keepAlive = statusLine[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  return { status: Number(statusLine[2]), headers, keepAlive };
}

/** The server's Keep-Alive hint less a second, as undici keeps connections (docs/runtime-facts.md). */
function keepAliveMsOf(headers: Record<string, string>): number {
  const seconds = /timeout=(\d+)/i.exec(headers['keep-alive'] ?? '')?.[1];
  return seconds === undefined ? DEFAULT_KEEP_ALIVE_MS : Math.max(1_000, Number(seconds) * 1_000 - 1_000);
}
