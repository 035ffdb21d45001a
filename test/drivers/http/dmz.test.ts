// Proves the mutual-TLS server holds in a DMZ, with real sockets: a connection that never
// handshakes, and one that trickles its headers, are closed at the deadline; connections beyond the
// per-address cap on handshakes, or the per-certificate cap once verified, are closed at once (so
// kiosks behind one NAT address are not); a body over the limit is refused as soon as its declared or
// streamed length passes the limit; TLS 1.2 without forward secrecy or AEAD is refused.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { startMutualTlsServer, type RunningServer } from '../../../drivers/http/server.ts';
import { createTestCertificateAuthority } from './tls-fixture.ts';

const authority = createTestCertificateAuthority({ commonName: 'DMZ Test CA' });
const serverCertificate = authority.issue({ commonName: 'relay.localhost' });
const clientCertificate = authority.issue({ commonName: 'K0001', organization: 'OP01', organizationalUnit: 'S0001' });
/** A second kiosk of the same store, behind the same address. */
const otherKioskCertificate = authority.issue({ commonName: 'K0002', organization: 'OP01', organizationalUnit: 'S0001' });
const HEADER_TIMEOUT_MS = 400;
const MAX_BODY_BYTES = 16 * 1024;

/** Resolves with the milliseconds until the server closed the socket (or rejects after `limitMs`). */
function closedWithin(socket: net.Socket, limitMs: number): Promise<number> {
  const startedMs = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - startedMs);
    });
  });
}

function tlsConnect(port: number, extra: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: authority.certificatePem,
      cert: clientCertificate.certificatePem,
      key: clientCertificate.keyPem,
      servername: 'localhost',
      ...extra,
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes, as text. */
function answerOf(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => resolve(text));
    socket.once('close', () => resolve(text));
  });
}

describe('a DMZ that holds', () => {
  let server: RunningServer;
  const refused: string[] = [];

  before(async () => {
    server = await startMutualTlsServer({
      host: '127.0.0.1',
      port: 0,
      keyPem: serverCertificate.keyPem,
      certificatePem: serverCertificate.certificatePem,
      clientCaPem: authority.certificatePem,
      handler: async (request) => ({ status: 200, body: `got ${request.body.byteLength} bytes, sum ${request.body.reduce((sum, byte) => (sum * 31 + byte) % 65_521, 0)}` }),
      maxBodyBytes: MAX_BODY_BYTES,
      headerTimeoutMs: HEADER_TIMEOUT_MS,
      maxHandshakesPerPeer: 4,
      maxConnectionsPerCertificate: 3,
      onTlsError: (reason) => refused.push(reason),
    });
  });
  after(() => server.close());

  it('closes a connection that never starts its TLS handshake', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    const elapsedMs = await closedWithin(socket, HEADER_TIMEOUT_MS + 3_000);
    assert.ok(elapsedMs >= HEADER_TIMEOUT_MS - 50, `closed after ${elapsedMs} ms, not before the deadline`);
  });

  it('closes a connection whose headers trickle in past the deadline', async () => {
    const socket = await tlsConnect(server.port);
    const closed = closedWithin(socket, HEADER_TIMEOUT_MS + 3_000);
    const header = 'POST /v1/x HTTP/1.1\r\nhost: localhost\r\nx-slow: ';
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(header[sent % header.length]!);
      sent += 1;
    }, 50);
    try {
      await closed;
    } finally {
      clearInterval(drip);
    }
    assert.ok(sent * 50 >= HEADER_TIMEOUT_MS - 100);
  });

  it('keeps serving a client that sends its request in time, and closes it once idle past the deadline', async () => {
    const socket = await tlsConnect(server.port);
    const answer = answerOf(socket);
    socket.write('POST /v1/x HTTP/1.1\r\nhost: localhost\r\ncontent-length: 5\r\n\r\nhello');
    const closedMs = await closedWithin(socket, HEADER_TIMEOUT_MS + 3_000);
    assert.match(await answer, /^HTTP\/1\.1 200[\s\S]*got 5 bytes/);
    assert.ok(closedMs >= HEADER_TIMEOUT_MS - 50);
  });

  it('closes connections beyond the cap for one address still in their handshake at once, and admits again when they leave', async () => {
    const held = [1, 2, 3, 4].map(() => net.connect(server.port, '127.0.0.1'));
    await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const extra = net.connect(server.port, '127.0.0.1');
    assert.ok((await closedWithin(extra, 1_000)) < 1_000);
    assert.ok(refused.includes('too many connections from this address still in their handshake'));
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await tlsConnect(server.port);
    again.destroy();
  });

  it('counts a verified connection against its certificate, not its address: kiosks behind one NAT address get in, one certificate is capped', async () => {
    const other = { cert: otherKioskCertificate.certificatePem, key: otherKioskCertificate.keyPem };
    // Six verified connections from 127.0.0.1, more than the four it may have in their handshake
    // (one after another: six handshakes at once would pass that cap).
    const held: tls.TLSSocket[] = [];
    for (const extra of [{}, {}, {}, other, other, other]) held.push(await tlsConnect(server.port, extra));
    const answers = held.map((socket) => answerOf(socket));
    held[5]!.write('POST /v1/x HTTP/1.1\r\nhost: localhost\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi');
    assert.match(await answers[5]!, /^HTTP\/1\.1 200[\s\S]*got 2 bytes/, 'the sixth is served');
    const fourth = await tlsConnect(server.port);
    assert.ok((await closedWithin(fourth, 1_000)) < 1_000, 'a fourth with one certificate is closed at once');
    assert.ok(refused.includes('too many connections with this certificate'));
    for (const socket of held) socket.destroy();
  });

  it('answers 413 to a declared length over the limit without reading the body', async () => {
    const socket = await tlsConnect(server.port);
    const answer = answerOf(socket);
    socket.write(`POST /v1/x HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n`);
    assert.match(await answer, /^HTTP\/1\.1 413/);
  });

  it('answers 413 as soon as a streamed body passes the limit, and stops reading', async () => {
    const socket = await tlsConnect(server.port);
    const answer = answerOf(socket);
    socket.write('POST /v1/x HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n');
    const chunk = Buffer.alloc(4 * 1024, 0x61);
    let sentBytes = 0;
    for (let round = 0; round < 2_000 && !socket.destroyed; round += 1) {
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      socket.write('\r\n');
      sentBytes += chunk.length;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.match(await answer, /^HTTP\/1\.1 413/);
    assert.ok(sentBytes < 2_000 * chunk.length, `the server closed before the client sent all ${sentBytes} bytes`);
  });

  it('answers pipelined requests in order, a chunked body, and 100 Continue before a body it waits for', async () => {
    const socket = await tlsConnect(server.port);
    const answer = answerOf(socket);
    socket.write(
      'POST /v1/x HTTP/1.1\r\nhost: localhost\r\ncontent-length: 3\r\n\r\nabc' +
        'POST /v1/x HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n' +
        'POST /v1/x HTTP/1.1\r\nhost: localhost\r\ncontent-length: 6\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write('abcdef');
    const text = await answer;
    assert.deepEqual(
      [...text.matchAll(/HTTP\/1\.1 (\d+)|got (\d+) bytes/g)].map((match) => match[1] ?? match[2]),
      ['200', '3', '200', '4', '100', '200', '6'],
    );
  });

  it('reads a body of declared length that comes in many pieces, and the request pipelined after it', async () => {
    const body = Buffer.from(Array.from({ length: 12_000 }, (_, index) => 97 + (index % 26)));
    const sum = body.reduce((total, byte) => (total * 31 + byte) % 65_521, 0);
    const socket = await tlsConnect(server.port);
    const answer = answerOf(socket);
    const request = Buffer.concat([
      Buffer.from(`POST /v1/x HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${body.length}\r\n\r\n`),
      body,
      Buffer.from('POST /v1/x HTTP/1.1\r\nhost: localhost\r\ncontent-length: 2\r\nconnection: close\r\n\r\nab'),
    ]);
    for (const [start, end] of [[0, 20], [20, 70], [70, 4_000], [4_000, 4_001], [4_001, 11_000], [11_000, request.length]]) {
      socket.write(request.subarray(start, end));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const text = await answer;
    assert.deepEqual([...text.matchAll(/got (\d+) bytes, sum (\d+)/g)].map((match) => [Number(match[1]), Number(match[2])]), [
      [12_000, sum],
      [2, (97 * 31 + 98) % 65_521],
    ]);
  });

  it('refuses a request framed two ways (Content-Length and chunked) with 400 and closes, without calling the handler', async () => {
    const socket = await tlsConnect(server.port);
    const answer = answerOf(socket);
    socket.write('POST /v1/x HTTP/1.1\r\nhost: localhost\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nPOST /v1/x HTTP/1.1\r\ncontent-length: 0\r\n\r\n');
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 400[\s\S]*http\.ambiguous_length/);
    assert.doesNotMatch(text, /got/);
  });

  it('refuses a head over 16 KiB with 431', async () => {
    const socket = await tlsConnect(server.port);
    const answer = answerOf(socket);
    socket.write(`POST /v1/x HTTP/1.1\r\nhost: localhost\r\nx-big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    assert.match(await answer, /^HTTP\/1\.1 431/);
  });

  it('refuses TLS 1.2 without forward secrecy or AEAD, and accepts ECDHE with GCM', async () => {
    for (const cipher of ['AES128-SHA', 'AES256-SHA', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA']) {
      await assert.rejects(tlsConnect(server.port, { maxVersion: 'TLSv1.2', ciphers: cipher }), `${cipher} is refused`);
    }
    const modern = await tlsConnect(server.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    assert.equal(modern.getCipher().name, 'ECDHE-RSA-AES128-GCM-SHA256');
    modern.destroy();
    const latest = await tlsConnect(server.port);
    assert.equal(latest.getProtocol(), 'TLSv1.3');
    latest.destroy();
  });
});

describe('closing a server', () => {
  it('can be asked twice, and both calls end', async () => {
    const server = await startMutualTlsServer({
      host: '127.0.0.1',
      port: 0,
      keyPem: serverCertificate.keyPem,
      certificatePem: serverCertificate.certificatePem,
      clientCaPem: authority.certificatePem,
      handler: async () => ({ status: 200, body: '' }),
    });
    await Promise.all([server.close(), server.close()]);
    await server.close();
  });
});
