// HTTP/1.1 requests as the mutual-TLS server reads them off a TLS socket (RFC 9112), strictly:
// what a proxy and we could frame differently is refused rather than guessed (request smuggling,
// RFC 9112 §6.3 and §11.2). Why this is not node:http (docs/runtime-facts.md, "TLS and HTTP"): in
// Bun a TLS socket emitted into an http.Server is parsed by Bun's JavaScript fallback, which cost
// 0.20 ms of CPU per small request and 0.48 ms per 100 KB answer against 0.055 and 0.17 ms here,
// eight times per issuance between the relay and the centre (issue 10).
//
// Pure functions over bytes; the connection around them (deadlines, limits, the handler) is in
// server.ts.

import { STATUS_CODES } from 'node:http';

/** A request the server answers with `status` and then closes the connection. */
export class HttpRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export interface RequestHead {
  method: string;
  /** The request-target as sent: a path with its query, for the requests we serve. */
  target: string;
  /** Header names in lower case; a repeated field's values joined with ", " (RFC 9110 §5.3). */
  headers: Record<string, string>;
  framing: BodyFraming;
  /** Whether the connection may carry another request after this one's answer. */
  keepAlive: boolean;
  /** The client waits for `100 Continue` before it sends the body (RFC 9110 §10.1.1). */
  expectContinue: boolean;
}

/** Node's own limit on a request's head, which the server had before (431 past it). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line with its extensions; a longer one is refused, not buffered. */
const MAX_CHUNK_LINE_BYTES = 1024;
const CRLF = 0x0d0a;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A request-target's characters: visible ASCII, no spaces (RFC 9112 §3.2). */
const TARGET = /^[\x21-\x7e]+$/;
/** A field value's characters: visible, space, tab and obs-text; no control characters. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const DIGITS = /^\d+$/;

/**
 * The position just past the blank line that ends a head in `bytes`, or -1 while it is not all
 * there. Blank lines before a request line are skipped as RFC 9112 §2.2 allows.
 */
export function endOfHead(bytes: Uint8Array): number {
  const index = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf('\r\n\r\n');
  return index < 0 ? -1 : index + 4;
}

/** How many CRLF pairs start `bytes` (blank lines a client may send between requests). */
export function leadingBlankLines(bytes: Uint8Array): number {
  let offset = 0;
  while (offset + 1 < bytes.length && bytes[offset] === 0x0d && bytes[offset + 1] === 0x0a) offset += 2;
  return offset;
}

/** Parses a head: the request line, the fields, and the CRLF CRLF that ends them. */
export function parseRequestHead(head: Uint8Array): RequestHead {
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  if (!text.endsWith('\r\n\r\n')) throw bad('http.bad_head', 'the request head does not end with an empty line');
  const fields = text.slice(0, -4);
  // A CR or LF that is not part of a CRLF: the same test as splitting at CRLF and finding one left in a line.
  if (BARE_LINE_END.test(fields)) throw bad('http.bad_line_end', 'a line of the request head does not end with CRLF');
  const lines = fields.split('\r\n');
  const [method, target, version, ...rest] = lines[0]!.split(' ');
  if (method === undefined || !TOKEN.test(method) || target === undefined || !TARGET.test(target) || version === undefined || rest.length > 0) {
    throw bad('http.bad_request_line', 'the request line is not METHOD TARGET HTTP-VERSION');
  }
  const versionMatch = VERSION.exec(version);
  if (!versionMatch) throw bad('http.bad_request_line', 'the request line is not METHOD TARGET HTTP-VERSION');
  if (versionMatch[1] !== '1') throw new HttpRequestError(505, 'http.version', `${version} is not served; use HTTP/1.1`);
  const http10 = versionMatch[2] === '0';

  // No prototype: a header named __proto__ or toString is a header like any other, not the object's own machinery.
  const headers: Record<string, string> = Object.create(null);
  const contentLengths: string[] = [];
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index]!;
    const first = line.charCodeAt(0);
    if (first === SPACE || first === TAB) throw bad('http.obsolete_fold', 'a header field is folded over two lines');
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) throw bad('http.bad_field', 'a header line is not NAME: VALUE');
    const value = trimSpacesAndTabs(line, colon + 1);
    if (!FIELD_VALUE.test(value)) throw bad('http.bad_field', `header "${name.toLowerCase()}" holds a control character`);
    const key = name.toLowerCase();
    if (key === 'content-length') for (const part of value.split(',')) contentLengths.push(part.trim());
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }

  const connection = headers.connection === undefined ? [] : headers.connection.toLowerCase().split(',').map((token) => token.trim());
  const keepAlive = http10 ? connection.includes('keep-alive') : !connection.includes('close');
  const expectation = headers.expect?.toLowerCase();
  if (expectation !== undefined && expectation !== '100-continue') throw new HttpRequestError(417, 'http.expectation', `expectation "${expectation}" is not supported`);
  return { method, target, headers, framing: framingOf(headers, contentLengths, http10), keepAlive, expectContinue: expectation === '100-continue' && !http10 };
}

const SPACE = 0x20;
const TAB = 0x09;
const BARE_LINE_END = /\r(?!\n)|(?<!\r)\n/;

/** `line` from `start`, without the spaces and tabs around it (OWS, RFC 9110 §5.6.3); other whitespace stays. */
function trimSpacesAndTabs(line: string, start: number): string {
  let from = start;
  let to = line.length;
  while (from < to && (line.charCodeAt(from) === SPACE || line.charCodeAt(from) === TAB)) from += 1;
  while (to > from && (line.charCodeAt(to - 1) === SPACE || line.charCodeAt(to - 1) === TAB)) to -= 1;
  return line.slice(from, to);
}

/** RFC 9112 §6.3: chunked, a length, or no body; both, or lengths that disagree, are refused. */
function framingOf(headers: Record<string, string>, contentLengths: string[], http10: boolean): BodyFraming {
  const transferEncoding = headers['transfer-encoding'];
  if (transferEncoding !== undefined) {
    if (contentLengths.length > 0) throw bad('http.ambiguous_length', 'the request has both Transfer-Encoding and Content-Length');
    if (http10) throw bad('http.bad_transfer_encoding', 'Transfer-Encoding is not allowed in an HTTP/1.0 request');
    if (transferEncoding.toLowerCase() !== 'chunked') throw new HttpRequestError(501, 'http.transfer_encoding', `transfer coding "${transferEncoding}" is not supported; send chunked or a Content-Length`);
    return { kind: 'chunked' };
  }
  if (contentLengths.length === 0) return { kind: 'none' };
  if (!contentLengths.every((length) => DIGITS.test(length) && length === contentLengths[0])) {
    throw bad('http.bad_content_length', 'Content-Length is not one decimal number');
  }
  const length = Number(contentLengths[0]);
  if (!Number.isSafeInteger(length)) throw bad('http.bad_content_length', 'Content-Length is not one decimal number');
  return length === 0 ? { kind: 'none' } : { kind: 'length', length };
}

function bad(code: string, message: string): HttpRequestError {
  return new HttpRequestError(400, code, message);
}

/**
 * A chunked body, decoded as its bytes arrive (RFC 9112 §7.1). `push` takes what has arrived and
 * says how much of it was used; what follows the body belongs to the next request.
 */
export class ChunkedBodyDecoder {
  private readonly chunks: Uint8Array[] = [];
  private receivedBytes = 0;
  /** Data left of the current chunk, then its CRLF; -1 between chunks. */
  private leftInChunk = -1;
  private awaitingChunkEnd = false;
  private inTrailers = false;
  private trailerBytes = 0;
  done = false;

  constructor(private readonly maxBodyBytes: number) {}

  /** The body's bytes so far. */
  get size(): number {
    return this.receivedBytes;
  }

  /** Decodes what it can of `bytes`; throws HttpRequestError on bad framing, 413 past the limit. */
  push(bytes: Uint8Array): number {
    let offset = 0;
    while (offset < bytes.length && !this.done) {
      if (this.leftInChunk > 0) {
        const take = Math.min(this.leftInChunk, bytes.length - offset);
        this.chunks.push(bytes.subarray(offset, offset + take));
        this.receivedBytes += take;
        this.leftInChunk -= take;
        offset += take;
        if (this.leftInChunk === 0) this.awaitingChunkEnd = true;
        continue;
      }
      const lineEnd = indexOfCrlf(bytes, offset);
      if (lineEnd < 0) {
        if (bytes.length - offset > MAX_CHUNK_LINE_BYTES) throw bad('http.bad_chunk', 'a chunk-size line is too long');
        return offset;
      }
      const line = Buffer.from(bytes.buffer, bytes.byteOffset + offset, lineEnd - offset).toString('latin1');
      offset = lineEnd + 2;
      if (this.awaitingChunkEnd) {
        if (line !== '') throw bad('http.bad_chunk', 'a chunk does not end with CRLF');
        this.awaitingChunkEnd = false;
        this.leftInChunk = -1;
      } else if (this.inTrailers) {
        this.trailerBytes += line.length + 2;
        if (this.trailerBytes > MAX_HEAD_BYTES) throw new HttpRequestError(431, 'http.head_too_large', 'the trailer fields are too large');
        if (line === '') this.done = true;
      } else {
        const size = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(line);
        if (!size) throw bad('http.bad_chunk', 'a chunk size is not hexadecimal');
        const length = parseInt(size[1]!, 16);
        if (this.receivedBytes + length > this.maxBodyBytes) throw new HttpRequestError(413, 'too_large', `request body exceeds ${this.maxBodyBytes} bytes`);
        if (length === 0) this.inTrailers = true;
        else this.leftInChunk = length;
      }
    }
    return offset;
  }

  body(): Uint8Array {
    return Buffer.concat(this.chunks, this.receivedBytes);
  }
}

function indexOfCrlf(bytes: Uint8Array, from: number): number {
  for (let index = from; index + 1 < bytes.length; index += 1) {
    if (((bytes[index]! << 8) | bytes[index + 1]!) === CRLF) return index;
  }
  return -1;
}

/** The status line and header fields of an answer, with its length, framing and the date. */
export function responseHead(status: number, headers: Record<string, string>, bodyBytes: number, keepAlive: { keepAliveSeconds: number } | false, date: string): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (key === 'content-length' || key === 'connection' || key === 'keep-alive' || key === 'date' || key === 'transfer-encoding') continue;
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) throw new Error(`header "${name}" cannot be sent`);
    head += `${name}: ${value}\r\n`;
  }
  head += `date: ${date}\r\ncontent-length: ${bodyBytes}\r\n`;
  head += keepAlive ? `connection: keep-alive\r\nkeep-alive: timeout=${keepAlive.keepAliveSeconds}\r\n\r\n` : 'connection: close\r\n\r\n';
  return head;
}

/** The Date field (RFC 9110 §6.6.1), real time to the second, formatted once a second. */
export function httpDate(): string {
  const nowSeconds = Math.floor(Date.now() / 1000);
  if (nowSeconds !== cachedDateSeconds) {
    cachedDateSeconds = nowSeconds;
    cachedDate = new Date(nowSeconds * 1000).toUTCString();
  }
  return cachedDate;
}
let cachedDateSeconds = -1;
let cachedDate = '';
