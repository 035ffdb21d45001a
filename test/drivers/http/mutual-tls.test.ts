// Proves the mutual-TLS server admits only clients with a certificate from its CA, shows the handler who they are, and that both ends fail with stable codes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { AppError, exitCodeFor } from '../../../core/errors.ts';
import { createMutualTlsClient, type HttpClient, type MutualTlsClientOptions } from '../../../drivers/http/client.ts';
import {
  startMutualTlsServer,
  type IncomingRequest,
  type RequestHandler,
  type RunningServer,
} from '../../../drivers/http/server.ts';
import { createTestCertificateAuthority, rawTlsServer, type IssuedCertificate } from './tls-fixture.ts';

const trustedAuthority = createTestCertificateAuthority({ commonName: 'Test Centre CA', organization: 'cvs-issue test' });
const foreignAuthority = createTestCertificateAuthority({ commonName: 'Foreign CA' });
const serverCertificate = trustedAuthority.issue({ commonName: 'centre.localhost' });
const kioskCertificate = trustedAuthority.issue({
  commonName: 'kiosk-0042',
  organization: 'Example Convenience',
  organizationalUnit: 'store-1234',
});
const foreignCertificate = foreignAuthority.issue({ commonName: 'kiosk-impostor' });

const echoHandler: RequestHandler = async (request) => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    method: request.method,
    path: request.path,
    contentType: request.headers['content-type'],
    bodyText: new TextDecoder().decode(request.body),
    subject: request.peer.subject,
    issuerCommonName: request.peer.issuer.CN,
    hasRawCertificate: request.peer.raw.byteLength > 0,
    fingerprintShape: /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(request.peer.fingerprint256),
  }),
});

/** Routes by path so one server covers success, failure and a request that never gets an answer. */
const routes: Record<string, RequestHandler> = {
  '/echo': echoHandler,
  '/fail': async () => {
    throw new Error('secret detail that must not leak');
  },
  '/hang': () => new Promise(() => undefined),
  // A text body written with a head that is not ASCII: the head's obs-text goes out as latin1, the body as UTF-8.
  '/obs-text': async () => ({ status: 200, headers: { 'content-type': 'application/json', 'x-note': 'caf\u00e9' }, body: '{"名前":"髙﨑 𠮷"}' }),
  '/hold': async () => {
    held.now += 1;
    held.most = Math.max(held.most, held.now);
    // Long enough for the other requests to arrive if the client let them through.
    await new Promise((resolve) => setTimeout(resolve, 20));
    held.now -= 1;
    return { status: 200, headers: {}, body: '{}' };
  },
};
/** Requests inside '/hold' now, and the most there were at once. */
const held = { now: 0, most: 0 };

function clientOptions(server: RunningServer, certificate: IssuedCertificate): MutualTlsClientOptions {
  return {
    baseUrl: server.url,
    caPem: trustedAuthority.certificatePem,
    certificatePem: certificate.certificatePem,
    keyPem: certificate.keyPem,
  };
}

/** Nothing listens at the address. */
function isUnavailable(error: unknown): boolean {
  return error instanceof AppError && error.kind === 'unavailable' && error.code === 'transport.unreachable';
}

/** A server that listens refused our certificate: in the handshake, or (TLS 1.3) right after it. Never "nothing listens". */
function isRefusedHandshake(error: unknown): boolean {
  return error instanceof AppError && error.kind === 'unavailable' && (error.code === 'transport.tls_refused' || error.code === 'transport.closed');
}

describe('mutual TLS server and client', () => {
  let server: RunningServer;
  let client: HttpClient;
  const refusedHandshakes: string[] = [];

  before(async () => {
    server = await startMutualTlsServer({
      host: '127.0.0.1',
      port: 0,
      keyPem: serverCertificate.keyPem,
      certificatePem: serverCertificate.certificatePem,
      clientCaPem: trustedAuthority.certificatePem,
      maxBodyBytes: 1024,
      handler: (request: IncomingRequest) => (routes[request.path] ?? echoHandler)(request),
      onTlsError: (reason) => refusedHandshakes.push(reason),
    });
    client = createMutualTlsClient(clientOptions(server, kioskCertificate));
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('serves a client whose certificate the CA issued and shows the handler its subject', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const { status, json } = await client.postJson<Record<string, unknown>>('/echo', { hello: 'こんにちは' });
    assert.equal(status, 200);
    assert.deepEqual(json, {
      method: 'POST',
      path: '/echo',
      contentType: 'application/json',
      bodyText: '{"hello":"こんにちは"}',
      subject: { CN: 'kiosk-0042', O: 'Example Convenience', OU: 'store-1234' },
      issuerCommonName: 'Test Centre CA',
      hasRawCertificate: true,
      fingerprintShape: true,
    });
  });

  it('sends a text body as UTF-8 with its length in bytes, also when a field of the head is obs-text (latin1)', async () => {
    const response = await client.request('GET', '/obs-text');
    assert.equal(response.headers['x-note'], 'caf\u00e9');
    assert.equal(response.headers['content-length'], String(Buffer.byteLength('{"名前":"髙﨑 𠮷"}')));
    assert.equal(new TextDecoder().decode(response.body), '{"名前":"髙﨑 𠮷"}');
  });

  it('reuses the connection for a second request', async () => {
    const response = await client.request('GET', '/echo');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/json');
  });

  it('refuses a client that presents no certificate', async () => {
    const anonymous = createMutualTlsClient({ ...clientOptions(server, kioskCertificate), certificatePem: '', keyPem: '' });
    try {
      await assert.rejects(anonymous.request('GET', '/echo'), isRefusedHandshake);
    } finally {
      await anonymous.close();
    }
  });

  it('refuses a client whose certificate a foreign CA issued', async () => {
    const impostor = createMutualTlsClient(clientOptions(server, foreignCertificate));
    try {
      await assert.rejects(impostor.request('GET', '/echo'), isRefusedHandshake);
    } finally {
      await impostor.close();
    }
    assert.ok(refusedHandshakes.length >= 1);
  });

  it('refuses a server whose certificate the client does not trust', async () => {
    const wary = createMutualTlsClient({ ...clientOptions(server, kioskCertificate), caPem: foreignAuthority.certificatePem });
    try {
      await assert.rejects(wary.request('GET', '/echo'), (error: unknown) => error instanceof AppError && error.code === 'transport.server_untrusted');
    } finally {
      await wary.close();
    }
  });

  it('stops reading a response larger than the client allows', async () => {
    const frugal = createMutualTlsClient({ ...clientOptions(server, kioskCertificate), maxResponseBytes: 16 });
    try {
      await assert.rejects(
        frugal.request('GET', '/echo'),
        (error: unknown) => error instanceof AppError && error.code === 'transport.too_large',
      );
    } finally {
      await frugal.close();
    }
  });

  it('answers 413 with a JSON error when the body is too large', async () => {
    const response = await client.request('POST', '/echo', new Uint8Array(4096));
    assert.equal(response.status, 413);
    assert.equal((JSON.parse(new TextDecoder().decode(response.body)) as { error: { code: string } }).error.code, 'too_large');
  });

  it('answers 500 with a generic JSON error when the handler throws', async () => {
    const response = await client.request('GET', '/fail');
    assert.equal(response.status, 500);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(response.body)), {
      error: { code: 'internal', message: 'internal error' },
    });
  });

  it('gives up with transport.timeout when the server never answers', async () => {
    const impatient = createMutualTlsClient({ ...clientOptions(server, kioskCertificate), timeoutMs: 300 });
    try {
      await assert.rejects(
        impatient.request('GET', '/hang'),
        (error: unknown) => error instanceof AppError && error.code === 'transport.timeout' && !error.message.includes('/hang'),
      );
    } finally {
      await impatient.close();
    }
  });

  it('answers 503 when the handler outlives the server request timeout', async () => {
    const strict = await startMutualTlsServer({
      host: '127.0.0.1',
      port: 0,
      keyPem: serverCertificate.keyPem,
      certificatePem: serverCertificate.certificatePem,
      clientCaPem: [foreignAuthority.certificatePem, trustedAuthority.certificatePem],
      requestTimeoutMs: 200,
      handler: routes['/hang'] ?? echoHandler,
    });
    const patient = createMutualTlsClient(clientOptions(strict, kioskCertificate));
    try {
      const response = await patient.request('GET', '/hang');
      assert.equal(response.status, 503);
    } finally {
      await patient.close();
      await strict.close();
    }
  });

  it('fails with transport.unreachable when nothing listens', async () => {
    const idle = await startMutualTlsServer({
      host: '127.0.0.1',
      port: 0,
      keyPem: serverCertificate.keyPem,
      certificatePem: serverCertificate.certificatePem,
      clientCaPem: trustedAuthority.certificatePem,
      handler: echoHandler,
    });
    await idle.close();
    const orphan = createMutualTlsClient(clientOptions(idle, kioskCertificate));
    try {
      await assert.rejects(orphan.request('GET', '/echo'), isUnavailable);
    } finally {
      await orphan.close();
    }
  });

  it('refuses an address already in use with exit 2, naming the address', async () => {
    const second = startMutualTlsServer({
      host: '127.0.0.1',
      port: server.port,
      keyPem: serverCertificate.keyPem,
      certificatePem: serverCertificate.certificatePem,
      clientCaPem: trustedAuthority.certificatePem,
      handler: echoHandler,
    });
    await assert.rejects(second, (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'server.address_in_use');
      assert.equal(exitCodeFor(error), 2);
      assert.equal(error.where, `127.0.0.1:${server.port}`);
      return true;
    });
  });

  it('keeps at most maxConnections requests in flight to the peer; the others wait their turn', async () => {
    const narrow = createMutualTlsClient({ ...clientOptions(server, kioskCertificate), maxConnections: 2 });
    try {
      const answers = await Promise.all(Array.from({ length: 6 }, () => narrow.request('POST', '/hold', '{}')));
      assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 200]);
      assert.ok(held.most >= 1 && held.most <= 2, `${held.most} requests were in flight at once`);
    } finally {
      await narrow.close();
    }
  });

  it('connects from the local address it is given', async () => {
    const seen = https.createServer({ key: serverCertificate.keyPem, cert: serverCertificate.certificatePem, ca: trustedAuthority.certificatePem, requestCert: true, rejectUnauthorized: true }, (request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ remoteAddress: request.socket.remoteAddress }));
    });
    await new Promise<void>((resolve) => seen.listen(0, '127.0.0.1', resolve));
    const fromElsewhere = createMutualTlsClient({ ...clientOptions(server, kioskCertificate), baseUrl: `https://127.0.0.1:${(seen.address() as AddressInfo).port}`, localAddress: '127.0.0.7' });
    try {
      assert.deepEqual((await fromElsewhere.postJson('/', {})).json, { remoteAddress: '127.0.0.7' });
    } finally {
      await fromElsewhere.close();
      seen.closeAllConnections();
      await new Promise<void>((resolve) => seen.close(() => resolve()));
    }
  });
});

describe('a certificate refused after it was accepted (a decommissioned kiosk)', () => {
  it('refuses a revoked certificate on a new connection and on one kept alive from before, without calling the handler', async () => {
    const revoked = new Set<string>();
    const refusals: string[] = [];
    let handled = 0;
    const server = await startMutualTlsServer({
      host: '127.0.0.1',
      port: 0,
      keyPem: serverCertificate.keyPem,
      certificatePem: serverCertificate.certificatePem,
      clientCaPem: trustedAuthority.certificatePem,
      handler: async (request) => {
        handled += 1;
        return echoHandler(request);
      },
      refuseCertificate: (certificate) => (revoked.has(certificate.fingerprint256) ? 'certificate revoked' : undefined),
      onTlsError: (reason) => refusals.push(reason),
    });
    const keptAlive = createMutualTlsClient(clientOptions(server, kioskCertificate));
    const fresh = createMutualTlsClient(clientOptions(server, kioskCertificate));
    /** 403 with the code on a connection kept alive, a refused handshake on a new one (whichever the runtime's pool uses). */
    const refused = async (client: HttpClient) => {
      try {
        const answer = await client.postJson<{ error?: { code?: string } }>('/echo', {});
        return answer.status === 403 && answer.json.error?.code === 'certificate_revoked';
      } catch (error) {
        return isRefusedHandshake(error);
      }
    };
    try {
      assert.equal((await keptAlive.postJson('/echo', {})).status, 200);
      revoked.add(new X509Certificate(kioskCertificate.certificatePem).fingerprint256);
      assert.equal(await refused(keptAlive), true);
      assert.equal(await refused(fresh), true);
      assert.equal(handled, 1, 'the handler saw only the request before the revocation');
      // A certificate that is not revoked still gets in.
      revoked.clear();
      assert.equal((await fresh.postJson('/echo', {})).status, 200);
      assert.ok(refusals.every((reason) => reason === 'certificate revoked'), refusals.join(', '));
    } finally {
      await keptAlive.close();
      await fresh.close();
      await server.close();
    }
  });
});

describe('a kept-alive connection the server closes just as a request goes out', () => {
  it('sends the request once more on a new connection, and answers it', async () => {
    // A TLS server that drops the second request it sees, with no answer, as the adapter's idle
    // deadline does to a kept-alive connection whose next request is on its way.
    const server = rawTlsServer(serverCertificate, trustedAuthority, (request, socket) => {
      if (request === 2) {
        socket.destroy();
        return undefined;
      }
      const body = JSON.stringify({ request });
      return `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`;
    });
    const url = `https://localhost:${await server.start()}`;
    const client = createMutualTlsClient({ baseUrl: url, caPem: trustedAuthority.certificatePem, certificatePem: kioskCertificate.certificatePem, keyPem: kioskCertificate.keyPem });
    try {
      assert.deepEqual(await client.postJson('/v1/x', {}), { status: 200, json: { request: 1 } });
      assert.deepEqual(await client.postJson('/v1/x', {}), { status: 200, json: { request: 3 } }, 'dropped once, answered on the second try');
      assert.equal(server.requests, 3);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
