// The HTTP/1.1 request parser the mutual-TLS server reads requests with: what it accepts, and the
// heads it refuses rather than guesses at (RFC 9112 §6.3, §11.2: framing a proxy could read
// otherwise), each with the status the server answers before it closes the connection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedBodyDecoder, endOfHead, HttpRequestError, leadingBlankLines, MAX_HEAD_BYTES, parseRequestHead, responseHead } from '../../../drivers/http/http1.ts';

const bytes = (text: string) => Buffer.from(text, 'latin1');
const head = (text: string) => parseRequestHead(bytes(text));

function refusedWith(text: string, status: number, code: string): void {
  assert.throws(
    () => head(text),
    (error: unknown) => error instanceof HttpRequestError && error.status === status && error.code === code,
    `${JSON.stringify(text)} → ${status} ${code}`,
  );
}

describe('request heads', () => {
  it('reads the method, target, fields (lower-cased, repeats joined) and a Content-Length body', () => {
    const parsed = head('POST /v1/auth/challenge?x=1 HTTP/1.1\r\nHost: relay\r\nContent-Length: 12\r\nX-Many: a\r\nx-many: b \r\n\r\n');
    assert.equal(parsed.method, 'POST');
    assert.equal(parsed.target, '/v1/auth/challenge?x=1');
    assert.deepEqual({ ...parsed.headers }, { host: 'relay', 'content-length': '12', 'x-many': 'a, b' });
    assert.deepEqual(parsed.framing, { kind: 'length', length: 12 });
    assert.equal(parsed.keepAlive, true);
    assert.equal(parsed.expectContinue, false);
  });

  it('keeps fields named __proto__, toString and constructor as fields: repeats joined, no prototype touched', () => {
    const parsed = head('POST /v1/x HTTP/1.1\r\nHost: a\r\n__proto__: x\r\ntoString: y\r\ntoString: z\r\nconstructor: w\r\n\r\n');
    assert.deepEqual([parsed.headers['__proto__'], parsed.headers.tostring, parsed.headers.constructor], ['x', 'y, z', 'w']);
    assert.equal(Object.getPrototypeOf(parsed.headers), null);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it('trims only spaces and tabs around a field value (RFC 9110 §5.6.3), keeping other bytes such as NBSP', () => {
    const parsed = head('POST /v1/x HTTP/1.1\r\nX-A: \t a b \t\r\nX-B:\xa0v\xa0\r\nX-C:\r\nX-D:   \r\nContent-Length:  7 , 7\t\r\n\r\n');
    assert.deepEqual({ ...parsed.headers }, { 'x-a': 'a b', 'x-b': '\xa0v\xa0', 'x-c': '', 'x-d': '', 'content-length': '7 , 7' });
    assert.deepEqual(parsed.framing, { kind: 'length', length: 7 });
  });

  it('keeps HTTP/1.1 alive unless asked to close, and HTTP/1.0 only when asked to keep it', () => {
    assert.equal(head('GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n').keepAlive, false);
    assert.equal(head('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
    assert.equal(head('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
  });

  it('reads chunked framing, no body, a repeated equal length, and Expect: 100-continue', () => {
    assert.deepEqual(head('POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n').framing, { kind: 'chunked' });
    assert.deepEqual(head('POST / HTTP/1.1\r\n\r\n').framing, { kind: 'none' });
    assert.deepEqual(head('POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n').framing, { kind: 'none' });
    assert.deepEqual(head('POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n').framing, { kind: 'length', length: 5 });
    assert.equal(head('POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n').expectContinue, true);
  });

  it('refuses framing a proxy could read another way: both lengths, differing lengths, other codings', () => {
    const cases: [string, number, string][] = [
      ['POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'http.ambiguous_length'],
      ['POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400, 'http.bad_content_length'],
      ['POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n', 400, 'http.bad_content_length'],
      ['POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n', 400, 'http.bad_content_length'],
      ['POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n', 400, 'http.bad_content_length'],
      ['POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501, 'http.transfer_encoding'],
      ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n', 501, 'http.transfer_encoding'],
      ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'http.bad_transfer_encoding'],
    ];
    for (const [text, status, code] of cases) refusedWith(text, status, code);
  });

  it('refuses malformed lines: folded fields, space before the colon, bare LF or CR, control characters', () => {
    const cases: [string, number, string][] = [
      ['POST / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n', 400, 'http.obsolete_fold'],
      ['POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n', 400, 'http.bad_field'],
      ['POST / HTTP/1.1\r\nno colon here\r\n\r\n', 400, 'http.bad_field'],
      ['POST / HTTP/1.1\r\nX-A: 1\nContent-Length: 5\r\n\r\n', 400, 'http.bad_line_end'],
      ['POST / HTTP/1.1\r\nX-A: 1\rX-B: 2\r\n\r\n', 400, 'http.bad_line_end'],
      ['POST / HTTP/1.1\r\nX-A: 1\r\r\n\r\n', 400, 'http.bad_line_end'],
      ['POST / HTTP/1.1\n\r\n\r\n', 400, 'http.bad_line_end'],
      ['POST / HTTP/1.1\r\n\nX-A: 1\r\n\r\n', 400, 'http.bad_line_end'],
      ['POST / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n', 400, 'http.bad_field'],
      ['POST  / HTTP/1.1\r\n\r\n', 400, 'http.bad_request_line'],
      ['POST /a b HTTP/1.1\r\n\r\n', 400, 'http.bad_request_line'],
      ['POST / HTTP/1.1 extra\r\n\r\n', 400, 'http.bad_request_line'],
      ['POST /\r\n\r\n', 400, 'http.bad_request_line'],
      ['PO\x01ST / HTTP/1.1\r\n\r\n', 400, 'http.bad_request_line'],
    ];
    for (const [text, status, code] of cases) refusedWith(text, status, code);
  });

  it('refuses other versions with 505 and other expectations with 417', () => {
    refusedWith('GET / HTTP/2.0\r\n\r\n', 505, 'http.version');
    refusedWith('POST / HTTP/1.1\r\nExpect: something\r\n\r\n', 417, 'http.expectation');
  });

  it('finds the end of a head, and the blank lines a client may send before one', () => {
    assert.equal(endOfHead(bytes('GET / HTTP/1.1\r\nHost: x\r\n')), -1);
    assert.equal(endOfHead(bytes('GET / HTTP/1.1\r\n\r\nbody')), 18);
    assert.equal(leadingBlankLines(bytes('\r\n\r\nGET')), 4);
    assert.equal(leadingBlankLines(bytes('GET')), 0);
    assert.ok(MAX_HEAD_BYTES >= 8 * 1024);
  });
});

describe('chunked bodies', () => {
  it('decodes chunks as they arrive in pieces, with extensions and trailers, and stops at the body\'s end', () => {
    const wire = bytes('5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT');
    const decoder = new ChunkedBodyDecoder(1_000);
    let offset = 0;
    for (let step = 1; offset < wire.length && !decoder.done; step += 1) {
      // One byte at a time and then more: the decoder keeps no bytes of its own between pushes.
      const end = Math.min(wire.length, offset + step);
      const used = decoder.push(wire.subarray(offset, end));
      offset += used;
      if (used === 0 && end === wire.length) break;
    }
    assert.equal(decoder.done, true);
    assert.equal(Buffer.from(decoder.body()).toString(), 'hello, world');
    assert.equal(wire.subarray(offset).toString(), 'NEXT');
  });

  it('refuses with 413 as soon as a declared chunk would pass the limit, before its data', () => {
    const decoder = new ChunkedBodyDecoder(10);
    decoder.push(bytes('8\r\n12345678\r\n'));
    assert.throws(() => decoder.push(bytes('3\r\n')), (error: unknown) => error instanceof HttpRequestError && error.status === 413);
  });

  it('refuses a bad size, a chunk without its CRLF, and a size line that never ends', () => {
    assert.throws(() => new ChunkedBodyDecoder(100).push(bytes('z\r\n')), (error: unknown) => error instanceof HttpRequestError && error.code === 'http.bad_chunk');
    assert.throws(() => new ChunkedBodyDecoder(100).push(bytes('-1\r\n')), (error: unknown) => error instanceof HttpRequestError && error.code === 'http.bad_chunk');
    assert.throws(() => new ChunkedBodyDecoder(100).push(bytes('2\r\nabX\r\n')), (error: unknown) => error instanceof HttpRequestError && error.code === 'http.bad_chunk');
    assert.throws(() => new ChunkedBodyDecoder(100).push(bytes('1'.repeat(2_000))), (error: unknown) => error instanceof HttpRequestError && error.code === 'http.bad_chunk');
  });
});

describe('answer heads', () => {
  it('write the status, the handler\'s fields, the date, the length and the connection, and nothing twice', () => {
    const text = responseHead(200, { 'content-type': 'application/json', 'Content-Length': '999', connection: 'close' }, 12, { keepAliveSeconds: 5 }, 'Tue, 01 Dec 2026 00:00:00 GMT');
    assert.equal(
      text,
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ndate: Tue, 01 Dec 2026 00:00:00 GMT\r\ncontent-length: 12\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n',
    );
    assert.match(responseHead(413, {}, 0, false, 'd'), /^HTTP\/1\.1 413 Payload Too Large\r\n[\s\S]*connection: close\r\n\r\n$/);
  });

  it('refuse to send a field that would split the answer', () => {
    assert.throws(() => responseHead(200, { 'x-a': 'one\r\nx-b: two' }, 0, false, 'd'));
  });
});
