// HTTPS server that requires a client certificate and hands it to the handler, on Node and Bun.
// Bun's https.createServer enforces requestCert but hides the peer certificate (docs/runtime-facts.md, "TLS and HTTP"), so TLS
// is terminated by tls.createServer, and each authorised socket's requests are read by our own
// HTTP/1.1 parser (drivers/http/http1.ts), which costs a quarter of Bun's http.Server over it.

import type { Socket } from 'node:net';
import { createServer as createTlsServer, type PeerCertificate as TlsPeerCertificate, type TLSSocket } from 'node:tls';
import { AppError } from '../../core/errors.ts';
import { ChunkedBodyDecoder, endOfHead, httpDate, HttpRequestError, leadingBlankLines, MAX_HEAD_BYTES, parseRequestHead, responseHead, type RequestHead } from './http1.ts';

export interface PeerCertificate {
  subject: Record<string, string>;
  issuer: Record<string, string>;
  serialNumber: string;
  fingerprint256: string;
  raw: Uint8Array;
}

export interface IncomingRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  peer: PeerCertificate;
}

export interface OutgoingResponse {
  status: number;
  headers?: Record<string, string>;
  body: Uint8Array | string;
}

export type RequestHandler = (request: IncomingRequest) => Promise<OutgoingResponse>;

export interface MutualTlsServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  keyPem: string;
  certificatePem: string;
  /** CAs whose client certificates are accepted. */
  clientCaPem: string | string[];
  handler: RequestHandler;
  /** Default 1 MiB; a larger body is answered 413. */
  maxBodyBytes?: number;
  /** Default 30000; covers reading the body and running the handler. */
  requestTimeoutMs?: number;
  /** Default 10000: a TLS handshake, and each request's headers, must arrive within this. */
  headerTimeoutMs?: number;
  /** Default 1024 connections in all; more are closed at once. */
  maxConnections?: number;
  /**
   * Default 64: connections from one address that have not finished their TLS handshake, so not
   * yet shown a certificate. Once verified a connection counts against its certificate instead:
   * the kiosks of a store behind one NAT address are told apart by their certificates.
   */
  maxHandshakesPerPeer?: number;
  /** Default 16: verified connections with one client certificate (a kiosk keeps one or two). */
  maxConnectionsPerCertificate?: number;
  /** Called for each refused handshake or connection, for logs and audit. */
  onTlsError?: (reason: string, remoteAddress: string | undefined) => void;
  /**
   * Asked after the chain was verified, at the handshake (no path yet) and again for every request
   * (with its path): a reason to refuse this certificate (a decommissioned kiosk's, revoked), or
   * undefined. Refused at the handshake, a connection is closed before any request is read; refused
   * for a request, it gets 403 and is closed.
   */
  refuseCertificate?: (certificate: { serialNumber: string; fingerprint256: string }, path?: string) => string | undefined;
}

/**
 * TLS 1.2 only with forward secrecy and an AEAD cipher (ECDHE with GCM or ChaCha20-Poly1305);
 * TLS 1.3's suites all qualify and are not affected by this list.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface RunningServer {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

const defaultMaxBodyBytes = 1024 * 1024;
const defaultRequestTimeoutMs = 30_000;
const defaultHeaderTimeoutMs = 10_000;
const defaultMaxConnections = 1024;
const defaultMaxHandshakesPerPeer = 64;
const defaultMaxConnectionsPerCertificate = 16;
/** After a 413 the connection closes this long later at most, whatever the client still sends. */
const LINGER_AFTER_REFUSAL_MS = 1_000;

export function startMutualTlsServer(options: MutualTlsServerOptions): Promise<RunningServer> {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  const headerTimeoutMs = options.headerTimeoutMs ?? defaultHeaderTimeoutMs;
  const maxConnections = options.maxConnections ?? defaultMaxConnections;
  const maxHandshakesPerPeer = options.maxHandshakesPerPeer ?? defaultMaxHandshakesPerPeer;
  const maxConnectionsPerCertificate = options.maxConnectionsPerCertificate ?? defaultMaxConnectionsPerCertificate;
  const openSockets = new Set<Socket>();
  /** Connections in their handshake, by address; verified ones, by certificate fingerprint. */
  const perPeer = new Map<string, number>();
  const perCertificate = new Map<string, number>();
  /** Takes a connection off its address's count once its handshake is done (by address and port). */
  const handshakeDone = new Map<string, () => void>();
  let connections = 0;
  /** Connections still in their TLS handshake, by peer address and port, with their deadline. */
  const handshakes = new Map<string, ReturnType<typeof setTimeout>>();
  const limits: ConnectionLimits = { maxBodyBytes, requestTimeoutMs, headerTimeoutMs, keepAliveSeconds: Math.max(1, Math.floor(headerTimeoutMs / 2_000)) };
  const tlsServer = createTlsServer(
    {
      key: options.keyPem,
      cert: options.certificatePem,
      ca: options.clientCaPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ciphers: TLS12_CIPHERS,
      honorCipherOrder: true,
      handshakeTimeout: headerTimeoutMs,
    },
    (socket) => {
      const key = `${socket.remoteAddress}:${socket.remotePort}`;
      clearTimeout(handshakes.get(key));
      handshakes.delete(key);
      handshakeDone.get(key)?.();
      const certificate = peerCertificateOf(socket);
      const refused = options.refuseCertificate?.(certificate);
      if (refused !== undefined) {
        options.onTlsError?.(refused, socket.remoteAddress);
        socket.destroy();
        return;
      }
      const releaseCertificate = countIn(perCertificate, certificate.fingerprint256, maxConnectionsPerCertificate);
      if (!releaseCertificate) {
        options.onTlsError?.('too many connections with this certificate', socket.remoteAddress);
        socket.destroy();
        return;
      }
      openSockets.add(socket);
      // One listener for all the clean-up: in Bun this is the same socket as the connection's, and
      // many listeners draw a MaxListenersExceededWarning on stderr.
      socket.once('close', () => {
        releaseCertificate();
        openSockets.delete(socket);
      });
      // Backstop for a request that never finishes, which the per-request timer answers first.
      socket.setTimeout(requestTimeoutMs * 2, () => socket.destroy());
      serveConnection(socket, certificate, options, limits);
    },
  );
  tlsServer.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? '?';
    if (connections >= maxConnections) {
      options.onTlsError?.('too many connections', socket.remoteAddress);
      socket.destroy();
      return;
    }
    const releaseAddress = countIn(perPeer, peer, maxHandshakesPerPeer);
    if (!releaseAddress) {
      options.onTlsError?.('too many connections from this address still in their handshake', socket.remoteAddress);
      socket.destroy();
      return;
    }
    connections += 1;
    openSockets.add(socket);
    // The handshake's own deadline, whatever the runtime does with handshakeTimeout: a peer that
    // opens a connection and says nothing is closed, not kept (a reported timeout left them open).
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const handshake = setTimeout(() => socket.destroy(), headerTimeoutMs + 500);
    handshakes.set(key, handshake);
    handshakeDone.set(key, releaseAddress);
    socket.once('close', () => {
      connections -= 1;
      releaseAddress();
      openSockets.delete(socket);
      clearTimeout(handshake);
      handshakes.delete(key);
      handshakeDone.delete(key);
    });
  });
  tlsServer.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
    // Node destroys a socket with an untrusted certificate without an error of its own; the
    // verification result is on the socket, and says more than the ECONNRESET that follows.
    const reason = socket.authorizationError ?? error.code ?? error.message;
    options.onTlsError?.(String(reason), socket.remoteAddress);
    socket.destroy();
  });

  return new Promise((resolve, reject) => {
    const refuse = (error: Error & { code?: string }) => {
      const address = `${options.host}:${options.port}`;
      if (error.code === 'EADDRINUSE') reject(new AppError('usage', 'server.address_in_use', `cannot listen on ${address}: the address is already in use`, address));
      else if (error.code === 'EACCES') reject(new AppError('usage', 'server.address_denied', `cannot listen on ${address}: permission denied (a port below 1024 needs privileges)`, address));
      else if (error.code === 'EADDRNOTAVAIL') reject(new AppError('usage', 'server.address_unavailable', `cannot listen on ${address}: no such address on this machine`, address));
      else reject(error);
    };
    tlsServer.once('error', refuse);
    tlsServer.listen(options.port, options.host, () => {
      tlsServer.off('error', refuse);
      const address = tlsServer.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
      // Closing twice waits for the same close: a second tlsServer.close() never calls back in Bun.
      let closing: Promise<void> | undefined;
      resolve({
        host: options.host,
        port,
        url: `https://${hostInUrl}:${port}`,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            tlsServer.close(() => done());
            // Keep-alive sockets would otherwise hold the process open until they idle out.
            for (const socket of openSockets) socket.destroy();
            openSockets.clear();
          })),
      });
    });
  });
}

/**
 * Counts one more under `key` unless that would pass `max`, and returns what takes it off again
 * (safe to call more than once); undefined when refused, nothing counted.
 */
function countIn(counts: Map<string, number>, key: string, max: number): (() => void) | undefined {
  const count = (counts.get(key) ?? 0) + 1;
  if (count > max) return undefined;
  counts.set(key, count);
  let counted = true;
  return () => {
    if (!counted) return;
    counted = false;
    const left = (counts.get(key) ?? 1) - 1;
    if (left > 0) counts.set(key, left);
    else counts.delete(key);
  };
}

interface ConnectionLimits {
  maxBodyBytes: number;
  requestTimeoutMs: number;
  headerTimeoutMs: number;
  /** What the answers' Keep-Alive hint says: less than the idle deadline, so clients let go first. */
  keepAliveSeconds: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Serves the requests of one verified connection, one after another (drivers/http/http1.ts parses
 * them). Each request's head must be complete within the header deadline, which also closes a
 * connection idle that long; a request's body and handler must finish within the request timeout
 * (else 503). A body is refused with 413 as soon as its declared or streamed length passes the
 * limit. A request that cannot be framed is answered 400 (or 431, 501, 505) and the connection closes.
 */
function serveConnection(socket: TLSSocket, peer: PeerCertificate, options: Pick<MutualTlsServerOptions, 'handler' | 'refuseCertificate'>, limits: ConnectionLimits): void {
  let buffered: Uint8Array = EMPTY;
  let phase: 'head' | 'body' | 'handling' | 'closing' = 'head';
  let head: RequestHead | undefined;
  let bodyDecoder: ChunkedBodyDecoder | undefined;
  let headerDeadline: ReturnType<typeof setTimeout> | undefined;
  let requestTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped per request, so a handler that answers after its 503 writes nothing. */
  let requestNumber = 0;
  /** Records of a body of declared length that has not all come yet (the 'data' listener). */
  let waiting: Uint8Array[] = [];
  let waitingBytes = 0;

  const awaitHead = () => {
    clearTimeout(headerDeadline);
    headerDeadline = setTimeout(() => socket.destroy(), limits.headerTimeoutMs);
  };
  awaitHead();
  socket.on('error', () => socket.destroy());
  socket.once('close', () => {
    phase = 'closing';
    clearTimeout(headerDeadline);
    clearTimeout(requestTimer);
  });
  socket.on('data', (chunk: Uint8Array) => {
    if (phase === 'closing') return;
    if (phase === 'body' && head!.framing.kind === 'length') {
      // A body of declared length is joined once, when all of it has come, not copied again with
      // every TLS record (a body near the limit would otherwise cost the square of its records).
      waiting.push(chunk);
      waitingBytes += chunk.length;
      if (buffered.length + waitingBytes < head!.framing.length) return;
      buffered = Buffer.concat([buffered, ...waiting]);
      waiting = [];
      waitingBytes = 0;
    } else buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (phase === 'handling') {
      // A client that pipelines: keep what it sent for after the answer, but no more than a request.
      if (buffered.length > MAX_HEAD_BYTES + limits.maxBodyBytes) socket.pause();
      return;
    }
    advance();
  });

  /** Parses what has arrived as far as it goes; errors end the connection with their answer. */
  function advance(): void {
    try {
      if (phase === 'head') readHead();
      if (phase === 'body') readBody();
    } catch (error) {
      if (!(error instanceof HttpRequestError)) throw error;
      refuse(error.status, error.code, error.message);
    }
  }

  function readHead(): void {
    const blank = leadingBlankLines(buffered);
    if (blank > 0) buffered = buffered.subarray(blank);
    const end = endOfHead(buffered);
    if (end < 0) {
      if (buffered.length > MAX_HEAD_BYTES) throw new HttpRequestError(431, 'http.head_too_large', `the request head exceeds ${MAX_HEAD_BYTES} bytes`);
      return;
    }
    if (end > MAX_HEAD_BYTES) throw new HttpRequestError(431, 'http.head_too_large', `the request head exceeds ${MAX_HEAD_BYTES} bytes`);
    head = parseRequestHead(buffered.subarray(0, end));
    buffered = buffered.subarray(end);
    clearTimeout(headerDeadline);
    requestNumber += 1;
    const thisRequest = requestNumber;
    requestTimer = setTimeout(() => {
      if (requestNumber === thisRequest && phase !== 'closing') answer(503, { error: { code: 'timeout', message: 'request took too long' } }, false);
    }, limits.requestTimeoutMs);
    if (!socket.authorized) {
      // rejectUnauthorized should make this unreachable; never trust a certificate that was not verified.
      throw new HttpRequestError(403, 'unauthorized', 'client certificate not verified');
    }
    // Asked again on every request: a connection kept alive from before a revocation is refused too.
    const refused = options.refuseCertificate?.(peer, pathOf(head.target));
    if (refused !== undefined) throw new HttpRequestError(403, 'certificate_revoked', refused);
    const { framing } = head;
    if (framing.kind === 'length' && framing.length > limits.maxBodyBytes) throw new HttpRequestError(413, 'too_large', `request body exceeds ${limits.maxBodyBytes} bytes`);
    bodyDecoder = framing.kind === 'chunked' ? new ChunkedBodyDecoder(limits.maxBodyBytes) : undefined;
    phase = 'body';
    const waitsForBody = framing.kind === 'chunked' || (framing.kind === 'length' && buffered.length < framing.length);
    if (head.expectContinue && waitsForBody) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
  }

  function readBody(): void {
    const { framing } = head!;
    let body: Uint8Array;
    if (framing.kind === 'none') body = EMPTY;
    else if (framing.kind === 'length') {
      if (buffered.length < framing.length) return;
      body = buffered.subarray(0, framing.length);
      buffered = buffered.subarray(framing.length);
    } else {
      const used = bodyDecoder!.push(buffered);
      buffered = buffered.subarray(used);
      if (!bodyDecoder!.done) return;
      body = bodyDecoder!.body();
    }
    phase = 'handling';
    void handle(head!, body, requestNumber);
  }

  async function handle(request: RequestHead, body: Uint8Array, thisRequest: number): Promise<void> {
    let outgoing: OutgoingResponse;
    try {
      outgoing = await options.handler({ method: request.method, path: request.target, headers: request.headers, body, peer });
    } catch {
      outgoing = { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'internal', message: 'internal error' } }) };
    }
    if (thisRequest !== requestNumber || phase !== 'handling') return;
    const keepAlive = request.keepAlive && outgoing.headers?.connection?.toLowerCase() !== 'close';
    write(outgoing, keepAlive, request.method === 'HEAD');
    if (!keepAlive) return close();
    phase = 'head';
    head = undefined;
    awaitHead();
    if (socket.isPaused()) socket.resume();
    if (buffered.length > 0) advance();
  }

  function write(outgoing: OutgoingResponse, keepAlive: boolean, headOnly: boolean): void {
    clearTimeout(requestTimer);
    const body = outgoing.body;
    const bodyBytes = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
    const headText = responseHead(outgoing.status, outgoing.headers ?? {}, bodyBytes, keepAlive && { keepAliveSeconds: limits.keepAliveSeconds }, httpDate());
    if (headOnly || bodyBytes === 0) socket.write(headText, 'latin1');
    // A text body (the centre's JSON answers) goes out with its head as one string, which the TLS
    // socket encodes as UTF-8 itself: no Buffer of the body and no copy joining it to the head.
    // Only when the head is ASCII: a field's obs-text must go as latin1.
    else if (typeof body === 'string' && ASCII.test(headText)) socket.write(headText + body, 'utf8');
    else writeBytes(headText, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  }

  function writeBytes(headText: string, body: Uint8Array): void {
    // One write for head and body: each write is a TLS write and a send of its own, which cost more
    // than copying a certificate answer (~32 KB) once (bench/relay-forward.bench.ts: -3% of
    // the relay's CPU). Only a very large body goes as it is, without the copy.
    if (body.byteLength < ONE_WRITE_MAX_BYTES) socket.write(Buffer.concat([Buffer.from(headText, 'latin1'), body]));
    else {
      socket.write(headText, 'latin1');
      socket.write(body);
    }
  }

  /** A JSON answer that ends the connection. */
  function answer(status: number, json: unknown, headOnly: boolean): void {
    write({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) }, false, headOnly);
    close();
  }

  function refuse(status: number, code: string, message: string): void {
    answer(status, { error: { code, message } }, false);
  }

  /**
   * Ends our side after the answer and discards what still arrives for a moment, so that the close
   * does not reset the answer away while a client is still sending (a 413 mid-body); then closes.
   * Connection: close rather than destroy(): Bun drops an answer still queued on a destroyed socket.
   */
  function close(): void {
    phase = 'closing';
    buffered = EMPTY;
    clearTimeout(headerDeadline);
    clearTimeout(requestTimer);
    if (socket.isPaused()) socket.resume();
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_AFTER_REFUSAL_MS).unref?.();
  }
}

/** The path of a request-target, without its query; an unparsable target gives "/". */
function pathOf(target: string): string {
  // Our endpoints' shape: what URL would give back unchanged (no dots, escapes, query or empty segment).
  if (PLAIN_PATH.test(target)) return target;
  try {
    return new URL(target, 'https://request.invalid').pathname;
  } catch {
    return '/';
  }
}

const PLAIN_PATH = /^(?:\/[A-Za-z0-9_-]+)+$/;
const ONE_WRITE_MAX_BYTES = 256 * 1024;
const ASCII = /^[\x00-\x7f]*$/;

/** One parse per connection: keep-alive requests share the socket and its certificate. */
const peerBySocket = new WeakMap<TLSSocket, PeerCertificate>();

function peerCertificateOf(socket: TLSSocket): PeerCertificate {
  let peer = peerBySocket.get(socket);
  if (peer === undefined) {
    const certificate: TlsPeerCertificate = socket.getPeerCertificate(false);
    peer = {
      subject: flattenNameFields(certificate.subject),
      issuer: flattenNameFields(certificate.issuer),
      serialNumber: certificate.serialNumber,
      fingerprint256: certificate.fingerprint256,
      raw: new Uint8Array(certificate.raw),
    };
    peerBySocket.set(socket, peer);
  }
  return peer;
}

/** A name may repeat a field (two OUs); Node then gives an array. Join so the shape stays flat. */
function flattenNameFields(fields: object | undefined): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields ?? {})) {
    flat[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}
