// The client's HTTP/1.1 pool (drivers/http/http1-client.ts; the binary's client, tested here on both
// runtimes) against raw TLS servers that answer as other servers may: chunked, until close, after a
// 100 Continue, with garbage; and the cap on connections, which a burst of requests must not pass.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { Deadline } from '../../../drivers/http/deadline.ts';
import { createHttp1Pool, Http1BadAnswer, Http1ResponseTooLarge } from '../../../drivers/http/http1-client.ts';
import { createTestCertificateAuthority, rawTlsServer } from './tls-fixture.ts';

const authority = createTestCertificateAuthority({ commonName: 'Client Test CA' });
const serverCertificate = authority.issue({ commonName: 'localhost' });
const clientCertificate = authority.issue({ commonName: 'K0001', organization: 'OP01', organizationalUnit: 'S0001' });

const rawServer = (answer: (request: number, socket: tls.TLSSocket) => string | undefined) => rawTlsServer(serverCertificate, authority, answer);

function poolFor(port: number, maxConnections = 4) {
  return createHttp1Pool({ host: 'localhost', port, ca: authority.certificatePem, cert: clientCertificate.certificatePem, key: clientCertificate.keyPem, maxConnections });
}

async function send(pool: ReturnType<typeof poolFor>, body = '{"kioskId":"K0001","名前":"髙"}', maxBytes = 1 << 20, deadline = new Deadline(10_000)) {
  try {
    return await pool.send('POST', '/v1/x', { 'content-type': 'application/json' }, body, deadline, maxBytes);
  } finally {
    deadline.clear();
  }
}
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('the HTTP/1.1 client pool', () => {
  /**
   * The next answers the server gives, in order (then "ok"); `close` ends the connection after one;
   * `pieces` sends the text in writes of those lengths, a few milliseconds apart; `delayMs` sends
   * it after that long; `unasked` is sent on the same connection 20 ms after the answer.
   */
  const script: { text: string; close?: boolean; pieces?: number[]; delayMs?: number; unasked?: string }[] = [];
  const server = rawServer((_, socket) => {
    const next = script.shift() ?? { text: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok' };
    if (next.unasked !== undefined) setTimeout(() => socket.destroyed || socket.write(next.unasked!), 20);
    if (next.delayMs !== undefined) {
      setTimeout(() => socket.destroyed || socket.write(next.text), next.delayMs);
      return undefined;
    }
    if (next.pieces) {
      void writeInPieces(socket, next.text, next.pieces);
      return undefined;
    }
    if (!next.close) return next.text;
    socket.end(next.text);
    return undefined;
  });
  let port = 0;
  before(async () => {
    port = await server.start();
  });
  after(() => server.stop());

  it('reads a chunked answer, one after a 100 Continue, and keeps the connection for the next', async () => {
    const pool = poolFor(port);
    const connectionsBefore = server.connections;
    script.push({ text: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' });
    script.push({ text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-A: 1\r\nX-A: 2\r\n\r\nabc' });
    const first = await send(pool);
    assert.deepEqual([first.status, text(first.body)], [200, 'hello world']);
    const second = await send(pool);
    assert.deepEqual([second.status, text(second.body), second.headers['x-a']], [201, 'abc', '1, 2']);
    assert.equal(server.connections - connectionsBefore, 1, 'both on one kept-alive connection');
    await pool.close();
  });

  it('keeps headers named __proto__ and toString as headers, without touching the object they are kept in', async () => {
    const pool = poolFor(port);
    script.push({ text: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n__proto__: x\r\ntoString: y\r\nconstructor: z\r\n\r\nok' });
    const answer = await send(pool);
    assert.deepEqual([answer.headers['__proto__'], answer.headers.tostring, answer.headers.constructor], ['x', 'y', 'z']);
    assert.equal(Object.getPrototypeOf(answer.headers), null);
    assert.equal(({} as Record<string, unknown>).x, undefined);
    await pool.close();
  });

  it('reads an answer without a length until the server closes, and then opens a new connection', async () => {
    const pool = poolFor(port);
    const connectionsBefore = server.connections;
    script.push({ text: 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it', close: true });
    const answer = await send(pool);
    assert.equal(text(answer.body), 'all of it');
    assert.equal((await send(pool)).status, 200);
    assert.equal(server.connections - connectionsBefore, 2);
    await pool.close();
  });

  it('reads a body of known length that comes in many writes, the head split too, and one that ends with bytes nobody asked for', async () => {
    const pool = poolFor(port);
    const body = 'x'.repeat(40_000) + 'end';
    const answer = `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    script.push({ text: answer, pieces: [10, 30, 16_384, 1, 16_384, 5_000] });
    const first = await send(pool);
    assert.equal(text(first.body), body);
    script.push({ text: `${answer}HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale`, pieces: [60, 40_000] });
    assert.equal(text((await send(pool)).body), body);
    assert.equal(text((await send(pool)).body), 'ok', 'the stale bytes after the body are not the next answer');
    await pool.close();
  });

  it('does not use a connection again after bytes no request asked for', async () => {
    const pool = poolFor(port);
    const connectionsBefore = server.connections;
    script.push({ text: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale' });
    assert.equal(text((await send(pool)).body), 'ok');
    assert.equal(text((await send(pool)).body), 'ok', 'the next answer is its own, not the stale one');
    assert.equal(server.connections - connectionsBefore, 2);
    await pool.close();
  });

  it('refuses an answer larger than allowed, by its length or as it streams', async () => {
    const pool = poolFor(port);
    script.push({ text: `HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n${'a'.repeat(100)}` });
    script.push({ text: `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n40\r\n${'b'.repeat(64)}\r\n0\r\n\r\n` });
    await assert.rejects(send(pool, '{}', 50), Http1ResponseTooLarge);
    await assert.rejects(send(pool, '{}', 50), Http1ResponseTooLarge);
    await pool.close();
  });

  it('does not use a kept-alive connection again once the server sent bytes on it while it was idle', async () => {
    const pool = poolFor(port);
    const connectionsBefore = server.connections;
    script.push({ text: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', unasked: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale' });
    assert.equal(text((await send(pool)).body), 'ok');
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(text((await send(pool)).body), 'ok', 'the next answer is its own, not the stale one');
    assert.equal(server.connections - connectionsBefore, 2);
    await pool.close();
  });

  it('gives up an answer at its deadline, closes that connection, and answers the next request on a new one', async () => {
    const pool = poolFor(port);
    const connectionsBefore = server.connections;
    script.push({ text: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nlate!', delayMs: 300 });
    const deadline = new Deadline(60);
    await assert.rejects(send(pool, '{}', 1 << 20, deadline), /the deadline passed/);
    assert.equal(deadline.passed, true);
    assert.equal(text((await send(pool)).body), 'ok');
    assert.equal(server.connections - connectionsBefore, 2, 'the connection whose answer was cut off is not used again');
    await pool.close();
  });

  it('refuses an answer that is not HTTP/1.1 as a bad answer', async () => {
    const pool = poolFor(port);
    script.push({ text: 'SSH-2.0-OpenSSH_9.6\r\n\r\n' });
    script.push({ text: 'HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n' });
    await assert.rejects(send(pool), Http1BadAnswer);
    await assert.rejects(send(pool), Http1BadAnswer);
    await pool.close();
  });
});

describe('the pool cap', () => {
  it('opens at most maxConnections for a burst of requests; the others wait and are answered', async () => {
    const held: (() => void)[] = [];
    const server = rawServer((_, socket) => {
      held.push(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
      return undefined;
    });
    const port = await server.start();
    const pool = poolFor(port, 2);
    try {
      const burst = Promise.all(Array.from({ length: 6 }, () => send(pool)));
      // Answer whatever is waiting, a few at a time, until all six are done.
      const releaser = setInterval(() => held.splice(0).forEach((release) => release()), 20);
      const answers = await burst;
      clearInterval(releaser);
      assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 200]);
      assert.ok(server.mostOpen <= 2, `${server.mostOpen} connections were open at once`);
    } finally {
      await pool.close();
      await server.stop();
    }
  });

  it('gives up a request waiting for a connection at its deadline', async () => {
    const server = rawServer(() => undefined);
    const port = await server.start();
    const pool = poolFor(port, 1);
    try {
      const firstDeadline = new Deadline(2_000);
      const first = pool.send('POST', '/v1/x', {}, '{}', firstDeadline, 1024).catch(() => 'first ended').finally(() => firstDeadline.clear());
      const deadline = new Deadline(150);
      await assert.rejects(pool.send('POST', '/v1/x', {}, '{}', deadline, 1024));
      assert.equal(deadline.passed, true);
      await first;
    } finally {
      await pool.close();
      await server.stop();
    }
  });
});

/** Writes `text` in pieces of the given lengths (the rest in one last write), each after a pause. */
async function writeInPieces(socket: tls.TLSSocket, text: string, lengths: number[]): Promise<void> {
  let at = 0;
  for (const length of [...lengths, Infinity]) {
    if (at >= text.length || socket.destroyed) return;
    socket.write(text.slice(at, at + length));
    at += length;
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}
