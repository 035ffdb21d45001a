// Mutual-TLS HTTP client for Node (undici Agent) and Bun (our HTTP/1.1 over node:tls,
// http1-client.ts). In Bun undici is a shim over fetch that ignores the Agent's TLS options, and
// fetch itself cost twice the CPU (docs/runtime-facts.md, "TLS and HTTP"), so each runtime gets its own path.

import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Agent } from 'undici';
import { AppError } from '../../core/errors.ts';
import { Deadline } from './deadline.ts';
import type { Http1Pool } from './http1-client.ts';
import { Http1BadAnswer, Http1ResponseTooLarge } from './http1-errors.ts';

export interface MutualTlsClientOptions {
  baseUrl: string;
  caPem: string;
  /** This client's certificate and key; an empty certificate presents none (tests of refusal). */
  certificatePem: string;
  keyPem: string;
  /**
   * The organisation (O) the server's certificate must name, besides chaining to `caPem` and
   * matching the host: where one CA certifies several servers at the same address (the
   * municipalities' reference back ends, docs/municipality-backend.md), this tells them apart.
   */
  expectedServerOrganization?: string;
  /** Default 10000; covers connecting, the handshake, and reading the whole response. */
  timeoutMs?: number;
  /** Default 16 MiB. */
  maxResponseBytes?: number;
  /**
   * Default 8: kept-alive connections to the peer, at most; more requests in flight wait for one
   * (issue 10: a relay opened one connection per request in flight, 64 at 64 sessions, and its
   * worst latency came while those handshakes ran). Both undici's pool (Node) and ours (Bun,
   * http1-client.ts) hold to it; a request waits for a connection within its deadline.
   */
  maxConnections?: number;
  /**
   * The local address to connect from. The load bench gives each simulated kiosk its
   * own loopback address, as each real kiosk has its own, so the servers' per-address connection
   * cap sees many peers rather than one.
   */
  localAddress?: string;
}

export interface ClientResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface HttpClient {
  request(method: string, path: string, body?: Uint8Array | string, headers?: Record<string, string>): Promise<ClientResponse>;
  postJson<T = unknown>(path: string, value: unknown, headers?: Record<string, string>): Promise<{ status: number; json: T }>;
  close(): Promise<void>;
}

/** One HTTP exchange on a given runtime, within the request's overall deadline. */
interface Exchange {
  /** `target`: the request's URL, resolved against the base URL. */
  send(target: URL, init: ExchangeInit): Promise<ClientResponse>;
  close(): Promise<void>;
}

interface ExchangeInit {
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | string | undefined;
  deadline: Deadline;
  maxResponseBytes: number;
}

const defaultTimeoutMs = 10_000;
const defaultMaxResponseBytes = 16 * 1024 * 1024;
const keepAliveTimeoutMs = 30_000;

export function createMutualTlsClient(options: MutualTlsClientOptions): HttpClient {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const maxResponseBytes = options.maxResponseBytes ?? defaultMaxResponseBytes;
  const baseUrl = new URL(options.baseUrl);
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const exchange = typeof Bun !== 'undefined' ? bunExchange(options, maxConnections) : undiciExchange(options, timeoutMs, maxConnections);

  /** Each path's URL, parsed once: a client asks for a handful of endpoints, over and over. */
  const urls = new Map<string, URL>();
  const urlOf = (path: string): URL => {
    let url = urls.get(path);
    if (url === undefined) {
      url = new URL(path, baseUrl);
      if (urls.size < MAX_CACHED_URLS) urls.set(path, url);
    }
    return url;
  };

  const request: HttpClient['request'] = async (method, path, body, headers = {}) => {
    const url = urlOf(path);
    const deadline = new Deadline(timeoutMs);
    const send = () => exchange.send(url, { method, headers, body, deadline, maxResponseBytes });
    try {
      try {
        return await send();
      } catch (error) {
        const failure = transportError(error, baseUrl.host, deadline.passed);
        // A kept-alive connection the server closed as idle just as this request went out: the
        // server closes only connections with no request in progress, so the request was never
        // handled. It goes once more, on a new connection, within the same deadline (issue 10;
        // every endpoint takes a repeat, docs/runtime-facts.md "Kept-alive connections").
        if (failure.code !== 'transport.closed' || deadline.passed) throw failure;
        return await send();
      }
    } catch (error) {
      throw transportError(error, baseUrl.host, deadline.passed);
    } finally {
      deadline.clear();
    }
  };

  return {
    request,
    async postJson<T>(path: string, value: unknown, headers: Record<string, string> = {}) {
      const response = await request('POST', path, JSON.stringify(value), {
        'content-type': 'application/json',
        accept: 'application/json',
        ...headers,
      });
      return { status: response.status, json: parseJson<T>(response.body, baseUrl.host) };
    },
    close: () => exchange.close(),
  };
}

const DEFAULT_MAX_CONNECTIONS = 8;
const MAX_CACHED_URLS = 64;

function undiciExchange(options: MutualTlsClientOptions, timeoutMs: number, maxConnections: number): Exchange {
  // Imported at the first request: only Node takes this path, and the binary should not load
  // undici for nothing at every start.
  let connection: Promise<{ agent: Agent; request: typeof import('undici').request }> | undefined;
  const connect = () =>
    (connection ??= import('undici').then(({ Agent: UndiciAgent, request }) => ({
      agent: new UndiciAgent({ connect: { ...tlsCredentials(options), timeout: timeoutMs }, keepAliveTimeout: keepAliveTimeoutMs, connections: maxConnections, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) }),
      request,
    })));
  return {
    async send(url, init) {
      const { agent, request } = await connect();
      // undici takes an AbortSignal; the deadline aborts it.
      const abort = new AbortController();
      if (init.deadline.passed) abort.abort();
      init.deadline.whenPassed(() => abort.abort());
      try {
        return await undiciRequest(request, agent, url, init, abort.signal, timeoutMs);
      } finally {
        init.deadline.whenPassed(undefined);
      }
    },
    close: async () => {
      if (connection) await (await connection).agent.close();
    },
  };
}

/** One request through undici, its whole body read within the limit. */
async function undiciRequest(request: typeof import('undici').request, agent: Agent, url: URL, init: ExchangeInit, signal: AbortSignal, timeoutMs: number): Promise<ClientResponse> {
  const response = await request(url.toString(), {
    method: init.method,
    headers: init.headers,
    body: init.body,
    dispatcher: agent,
    signal,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const body = await readLimited(response.body, init.maxResponseBytes);
  return { status: response.statusCode, headers, body };
}

/**
 * Bun: our HTTP/1.1 over a pool of node:tls connections (drivers/http/http1-client.ts) rather than
 * Bun's fetch, which took twice the CPU per exchange; node:tls does mutual TLS in Bun, where
 * undici's Agent would not.
 */
function bunExchange(options: MutualTlsClientOptions, maxConnections: number): Exchange {
  const tls = tlsCredentials(options);
  const url = new URL(options.baseUrl);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // Loaded at the first request, as undici is on Node: commands that never connect skip node:tls.
  let pool: Promise<Http1Pool> | undefined;
  const poolNow = () =>
    (pool ??= import('./http1-client.ts').then(({ createHttp1Pool }) =>
      createHttp1Pool({ host, port: Number(url.port || 443), ca: tls.ca, cert: tls.cert, key: tls.key, checkServerIdentity: tls.checkServerIdentity, maxConnections, localAddress: options.localAddress }),
    ));
  return {
    send: async (target, init) => (await poolNow()).send(init.method, `${target.pathname}${target.search}`, init.headers, init.body, init.deadline, init.maxResponseBytes),
    close: async () => {
      if (pool) await (await pool).close();
    },
  };
}

type ServerIdentityCheck = (host: string, certificate: PeerCertificate) => Error | undefined;

/** An empty certificate means "present none": only useful to prove that servers refuse such clients. */
function tlsCredentials(options: MutualTlsClientOptions): { ca: string; cert?: string; key?: string; checkServerIdentity?: ServerIdentityCheck } {
  const expected = options.expectedServerOrganization;
  const identity: { checkServerIdentity?: ServerIdentityCheck } =
    expected === undefined
      ? {}
      : { checkServerIdentity: (host, certificate) => checkServerIdentity(host, certificate) ?? (certificate.subject?.O === expected ? undefined : new Error(`the server's certificate is not one of ${expected}`)) };
  if (options.certificatePem === '') return { ca: options.caPem, ...identity };
  return { ca: options.caPem, cert: options.certificatePem, key: options.keyPem, ...identity };
}

class ResponseTooLarge extends Error {}

/** Leaving the loop early (the throw) makes either runtime's stream cancel and release the socket. */
async function readLimited(chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let receivedBytes = 0;
  for await (const chunk of chunks) {
    receivedBytes += chunk.byteLength;
    if (receivedBytes > maxBytes) throw new ResponseTooLarge();
    parts.push(chunk);
  }
  return concatenate(parts, receivedBytes);
}

function concatenate(parts: readonly Uint8Array[], totalBytes: number): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const whole = new Uint8Array(totalBytes);
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.byteLength;
  }
  return whole;
}

function parseJson<T>(body: Uint8Array, host: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(body)) as T;
  } catch {
    throw new AppError('unavailable', 'transport.bad_response', `response from ${host} is not JSON`);
  }
}

const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
/** The peer sent a TLS alert or broke the handshake protocol. */
const handshakeRefusedPattern = /ALERT|HANDSHAKE|^EPROTO$|^ERR_SSL_/i;
/** Our side could not verify the server's certificate chain or name. */
const serverUntrustedPattern = /CERT|UNABLE_TO_VERIFY|SELF_SIGNED|ALTNAME/i;
const closedCodes = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'ConnectionClosed', 'EPIPE']);

/** Maps whatever either runtime threw to a stable code; the message names the peer, never the payload. */
function transportError(error: unknown, host: string, deadlinePassed: boolean): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof Http1BadAnswer) {
    return new AppError('unavailable', 'transport.bad_response', `${host} answered with something that is not HTTP/1.1`);
  }
  if (error instanceof ResponseTooLarge || error instanceof Http1ResponseTooLarge) {
    return new AppError('unavailable', 'transport.too_large', `response from ${host} exceeds the size limit`);
  }
  const codes = errorCodes(error);
  if (deadlinePassed || codes.some((code) => timeoutCodes.has(code) || code === 'TimeoutError')) {
    return new AppError('unavailable', 'transport.timeout', `no answer from ${host} in time`);
  }
  const refusedCode = codes.find((code) => handshakeRefusedPattern.test(code));
  if (refusedCode !== undefined) {
    return new AppError('unavailable', 'transport.tls_refused', `TLS handshake refused by ${host} (${refusedCode})`);
  }
  const untrustedCode = codes.find((code) => serverUntrustedPattern.test(code));
  if (untrustedCode !== undefined) {
    return new AppError('unavailable', 'transport.server_untrusted', `certificate of ${host} is not trusted (${untrustedCode})`);
  }
  const reason = codes[0] ?? 'unknown error';
  if (closedCodes.has(reason)) {
    // With TLS 1.3 a server refuses a client certificate after the client thinks the handshake is done.
    return new AppError(
      'unavailable',
      'transport.closed',
      `${host} closed the connection without an answer (${reason}); was the client certificate refused?`,
    );
  }
  return new AppError('unavailable', 'transport.unreachable', `cannot reach ${host} (${reason})`);
}

/** Codes from the error and its causes, outermost first; Node nests the socket error in `cause`. */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (typeof name === 'string' && name !== 'Error' && name !== 'TypeError') codes.push(name);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}
