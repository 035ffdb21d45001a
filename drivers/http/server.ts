// HTTPS server that requires a client certificate and hands it to the handler, on Node and Bun.
// Bun's https.createServer enforces requestCert but hides the peer certificate (docs/runtime-facts.md, "TLS and HTTP"), so TLS
// is terminated by tls.createServer and each authorised socket is passed to a plain http.Server.

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type PeerCertificate as TlsPeerCertificate, type TLSSocket } from 'node:tls';
import { AppError } from '../../core/errors.ts';

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
  const headerDeadlines = new WeakMap<Socket, ReturnType<typeof setTimeout>>();
  /** Connections still in their TLS handshake, by peer address and port, with their deadline. */
  const handshakes = new Map<string, ReturnType<typeof setTimeout>>();
  /** Each request's headers must be complete within the deadline: a trickle of bytes resets no timer. */
  const awaitHeaders = (socket: Socket) => {
    clearTimeout(headerDeadlines.get(socket));
    headerDeadlines.set(
      socket,
      setTimeout(() => socket.destroy(), headerTimeoutMs),
    );
  };
  const httpServer = createHttpServer((request, response) => {
    const socket = request.socket;
    clearTimeout(headerDeadlines.get(socket));
    response.once('finish', () => {
      if (!socket.destroyed) awaitHeaders(socket);
    });
    void serveRequest(request, response, options, maxBodyBytes, requestTimeoutMs);
  });
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
      awaitHeaders(socket);
      // One listener for all the clean-up: in Bun this is the same socket as the connection's, and
      // many listeners draw a MaxListenersExceededWarning on stderr.
      socket.once('close', () => {
        releaseCertificate();
        openSockets.delete(socket);
        clearTimeout(headerDeadlines.get(socket));
      });
      // Backstop for a request that never finishes, which the per-request timer answers first.
      socket.setTimeout(requestTimeoutMs * 2, () => socket.destroy());
      httpServer.emit('connection', socket);
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

async function serveRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: Pick<MutualTlsServerOptions, 'handler' | 'refuseCertificate'>,
  maxBodyBytes: number,
  requestTimeoutMs: number,
): Promise<void> {
  const { handler } = options;
  const socket = request.socket as TLSSocket;
  if (!socket.authorized) {
    // rejectUnauthorized should make this unreachable; never trust a certificate that was not verified.
    writeError(response, 403, 'unauthorized', 'client certificate not verified', { connection: 'close' });
    return;
  }
  // Asked again on every request: a connection kept alive from before a revocation is refused too.
  const refused = options.refuseCertificate?.(peerCertificateOf(socket), new URL(request.url ?? '/', 'https://request.invalid').pathname);
  if (refused !== undefined) {
    writeError(response, 403, 'certificate_revoked', refused, { connection: 'close' });
    return;
  }
  const timer = setTimeout(() => {
    // Connection: close rather than destroy(): Bun drops a response still queued on a destroyed socket.
    writeError(response, 503, 'timeout', 'request took too long', { connection: 'close' });
  }, requestTimeoutMs);
  response.once('close', () => clearTimeout(timer));
  try {
    // Refused as soon as the declared or the streamed length passes the limit, not after reading
    // it all; the connection then closes, so what the client still sends goes nowhere.
    const declared = Number(request.headers['content-length'] ?? 0);
    const body = declared > maxBodyBytes ? undefined : await readBody(request, maxBodyBytes);
    if (body === undefined) {
      response.once('finish', () => {
        // Discard what is still arriving for a moment, so the close does not reset the 413 away.
        request.resume();
        setTimeout(() => socket.destroy(), LINGER_AFTER_REFUSAL_MS).unref?.();
      });
      writeError(response, 413, 'too_large', `request body exceeds ${maxBodyBytes} bytes`, { connection: 'close' });
      return;
    }
    const outgoing = await handler({
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: flattenHeaders(request.headers),
      body,
      peer: peerCertificateOf(socket),
    });
    writeResponse(response, outgoing);
  } catch {
    writeError(response, 500, 'internal', 'internal error');
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves to undefined as soon as the body passes the limit, without waiting for the rest. */
function readBody(request: IncomingMessage, maxBodyBytes: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    const onData = (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes <= maxBodyBytes) return void chunks.push(chunk);
      request.off('data', onData);
      request.pause();
      resolve(undefined);
    };
    request.on('data', onData);
    request.once('end', () => resolve(receivedBytes > maxBodyBytes ? undefined : Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function writeResponse(response: ServerResponse, outgoing: OutgoingResponse): void {
  if (response.headersSent) return;
  const body = typeof outgoing.body === 'string' ? Buffer.from(outgoing.body, 'utf8') : outgoing.body;
  response.writeHead(outgoing.status, { ...outgoing.headers, 'content-length': String(body.byteLength) });
  response.end(body);
}

function writeError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  writeResponse(response, {
    status,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ error: { code, message } }),
  });
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

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
