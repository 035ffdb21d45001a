// Proves the issued CA, server, client and card certificates and CRLs are what node:crypto, openssl and a mutual-TLS handshake accept.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { AppError } from '../../../core/errors.ts';
import {
  certificateDerFromPem,
  createCertificateAuthority,
  createCrl,
  generateRsaKeyPems,
  issueCertificate,
  type KeyAndCertificate,
} from '../../../drivers/pki/issue.ts';
import { parseCrl } from '../../../drivers/pki/verify.ts';
import { testRsaKey } from '../../rsa-keys.ts';

const validFrom = new Date('2025-01-01T00:00:00Z');
const validTo = new Date('2035-01-01T00:00:00Z');
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function extensionsOf(certificatePem: string): Record<string, Record<string, unknown>> {
  const certificate = forge.pki.certificateFromPem(certificatePem);
  return Object.fromEntries(certificate.extensions.map((extension) => [extension.name, extension]));
}

function openssl(args: string[], files: Record<string, string>): { status: number | null; stdout: string } {
  const directory = mkdtempSync(join(tmpdir(), 'cvs-pki-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(directory, name), content);
    const result = spawnSync('openssl', args, { cwd: directory, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

describe('issue', () => {
  let centreCa: KeyAndCertificate;
  let server: KeyAndCertificate;
  let kiosk: KeyAndCertificate;
  let cardPublicKeyPem: string;

  before(() => {
    centreCa = createCertificateAuthority({
      subject: { commonName: 'cvs-issue centre CA', organization: '地方公共団体情報システム機構', country: 'JP' },
      validFrom,
      validTo,
      keyPair: testRsaKey(0),
    });
    server = issueCertificate(centreCa, {
      subject: { commonName: 'centre' },
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      validFrom,
      validTo,
      keyPair: testRsaKey(1),
    });
    kiosk = issueCertificate(centreCa, {
      subject: { commonName: 'kiosk K-0001', organization: 'セブン‐イレブン', organizationalUnit: 'store 1234', serialNumber: 'K-0001' },
      usage: 'client',
      validFrom,
      validTo,
      keyPair: testRsaKey(2),
    });
    cardPublicKeyPem = testRsaKey(3).publicKeyPem;
  });

  it('makes a self-signed CA with critical cA=true, keyCertSign and cRLSign', () => {
    const ca = new X509Certificate(centreCa.certificatePem);
    assert.equal(ca.ca, true);
    assert.equal(ca.verify(ca.publicKey), true);
    assert.equal(ca.subject, 'C=JP\nO=地方公共団体情報システム機構\nCN=cvs-issue centre CA');
    const extensions = extensionsOf(centreCa.certificatePem);
    assert.equal(extensions.basicConstraints?.critical, true);
    assert.equal(extensions.keyUsage?.keyCertSign, true);
    assert.equal(extensions.keyUsage?.cRLSign, true);
    assert.ok(extensions.subjectKeyIdentifier);
    assert.match(centreCa.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  it('issues a server leaf that chains to the CA, with localhost alternative names and serverAuth', () => {
    const ca = new X509Certificate(centreCa.certificatePem);
    const leaf = new X509Certificate(server.certificatePem);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.checkIssued(ca), true);
    assert.equal(leaf.verify(ca.publicKey), true);
    assert.equal(leaf.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.ok(extensionsOf(server.certificatePem).authorityKeyIdentifier);
  });

  it('keeps Japanese names and the DN serialNumber in a client certificate', () => {
    const leaf = new X509Certificate(kiosk.certificatePem);
    assert.equal(leaf.subject, 'O=セブン‐イレブン\nOU=store 1234\nCN=kiosk K-0001\nserialNumber=K-0001');
    assert.equal(leaf.issuer, new X509Certificate(centreCa.certificatePem).subject);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  });

  it('certifies a given public key, returns no private key, and keeps the given serial', () => {
    const card = issueCertificate(centreCa, {
      subject: { commonName: 'card' },
      usage: 'card-auth',
      validFrom,
      validTo,
      serialHex: '008ABC',
      publicKeyPem: cardPublicKeyPem,
    });
    const leaf = new X509Certificate(card.certificatePem);
    assert.equal(card.keyPem, '');
    assert.equal(leaf.serialNumber.toLowerCase().replace(/^0+/, ''), '8abc');
    assert.equal(leaf.publicKey.equals(createPublicKey(cardPublicKeyPem)), true);
    assert.equal(leaf.keyUsage, undefined); // card-auth: keyUsage digitalSignature only, no extKeyUsage
    assert.equal(extensionsOf(card.certificatePem).keyUsage?.digitalSignature, true);
  });

  it('signs exactly as forge itself would: the same signature over the same to-be-signed bytes', () => {
    for (const issued of [centreCa, server, kiosk]) {
      const certificate = forge.pki.certificateFromPem(issued.certificatePem);
      const digest = forge.md.sha256.create();
      digest.update(forge.asn1.toDer(certificate.tbsCertificate).getBytes());
      assert.equal(Buffer.from(certificate.signature as string, 'binary').toString('hex'), Buffer.from(forge.pki.privateKeyFromPem(centreCa.keyPem).sign(digest), 'binary').toString('hex'));
    }
  });

  it('certifies a key pair generated beforehand, and generates distinct pairs on the thread pool', async () => {
    const pairs = await generateRsaKeyPems(2);
    assert.notEqual(pairs[0]!.publicKeyPem, pairs[1]!.publicKeyPem);
    const leaf = issueCertificate(centreCa, { subject: { commonName: 'kiosk K-0002' }, usage: 'client', validFrom, validTo, keyPair: pairs[1]! });
    assert.equal(leaf.keyPem, pairs[1]!.privateKeyPem);
    assert.equal(new X509Certificate(leaf.certificatePem).publicKey.equals(createPublicKey(pairs[1]!.publicKeyPem)), true);
    assert.equal(new X509Certificate(leaf.certificatePem).verify(createPublicKey(centreCa.certificatePem)), true);
  });

  it('draws a positive 16-byte serial by default', () => {
    const serial = new X509Certificate(server.certificatePem).serialNumber.replace(/^0+/, '');
    assert.equal(serial.length, 32);
  });

  it('gives the DER of a PEM certificate and refuses anything else', () => {
    const der = certificateDerFromPem(server.certificatePem);
    assert.deepEqual(Buffer.from(der), new X509Certificate(server.certificatePem).raw);
    assert.throws(() => certificateDerFromPem('not a certificate'), (error: unknown) => {
      return error instanceof AppError && error.code === 'pki.certificate_invalid';
    });
  });

  it('builds a v2 CRL that our parser verifies, with and without entries', () => {
    const thisUpdate = new Date('2026-05-01T00:00:00Z');
    const nextUpdate = new Date('2026-06-01T00:00:00Z');
    const listed = createCrl(centreCa, {
      revoked: [
        { serialHex: '8abc', revokedAt: thisUpdate },
        { serialHex: '0F', revokedAt: thisUpdate },
      ],
      thisUpdate,
      nextUpdate,
      crlNumber: 7,
    });
    assert.match(listed, /^-----BEGIN X509 CRL-----/);
    assert.deepEqual(parseCrl(listed, centreCa.certificatePem), {
      revokedSerialsHex: new Set(['8abc', 'f']),
      thisUpdateMs: thisUpdate.getTime(),
      nextUpdateMs: nextUpdate.getTime(),
    });
    const empty = createCrl(centreCa, { revoked: [], thisUpdate, nextUpdate });
    assert.equal(parseCrl(empty, centreCa.certificatePem).revokedSerialsHex.size, 0);
  });

  it('writes GeneralizedTime from 2050 on', () => {
    const crl = createCrl(centreCa, {
      revoked: [],
      thisUpdate: new Date('2049-12-31T23:59:59Z'),
      nextUpdate: new Date('2050-01-02T00:00:00Z'),
    });
    const parsed = parseCrl(crl, centreCa.certificatePem);
    assert.equal(parsed.thisUpdateMs, Date.parse('2049-12-31T23:59:59Z'));
    assert.equal(parsed.nextUpdateMs, Date.parse('2050-01-02T00:00:00Z'));
  });

  it('passes openssl: the CRL signature, number and entries, and a leaf chain checked against it', { skip: !hasOpenssl }, () => {
    const crl = createCrl(centreCa, {
      revoked: [{ serialHex: 'abc123', revokedAt: new Date('2026-05-01T00:00:00Z') }],
      thisUpdate: new Date('2026-05-01T00:00:00Z'),
      nextUpdate: new Date('2026-06-01T00:00:00Z'),
      crlNumber: 300,
    });
    const files = { 'ca.pem': centreCa.certificatePem, 'crl.pem': crl, 'leaf.pem': kiosk.certificatePem };
    const crlText = openssl(['crl', '-in', 'crl.pem', '-noout', '-text', '-CAfile', 'ca.pem'], files);
    assert.equal(crlText.status, 0);
    assert.match(crlText.stdout, /Version 2/);
    assert.match(crlText.stdout, /CRL Number: *\n *300/);
    assert.match(crlText.stdout, /Authority Key Identifier/);
    assert.match(crlText.stdout, /Serial Number: ABC123/);
    const verifyLeaf = ['verify', '-CAfile', 'ca.pem', '-crl_check', '-CRLfile', 'crl.pem', '-attime', '1778000000', 'leaf.pem'];
    assert.equal(openssl(verifyLeaf, files).status, 0);
    const kioskSerialHex = new X509Certificate(kiosk.certificatePem).serialNumber;
    const revoking = createCrl(centreCa, {
      revoked: [{ serialHex: kioskSerialHex, revokedAt: new Date('2026-05-01T00:00:00Z') }],
      thisUpdate: new Date('2026-05-01T00:00:00Z'),
      nextUpdate: new Date('2026-06-01T00:00:00Z'),
    });
    assert.notEqual(openssl(verifyLeaf, { ...files, 'crl.pem': revoking }).status, 0);
  });

  it('lets a client and a server authenticate each other over TLS', async () => {
    const tlsServer = tls.createServer({
      key: server.keyPem,
      cert: server.certificatePem,
      ca: centreCa.certificatePem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const serverSide = new Promise<{ authorized: boolean; commonName: string }>((resolve) => {
      tlsServer.once('secureConnection', (socket) => {
        const peer = socket.getPeerCertificate();
        resolve({ authorized: socket.authorized, commonName: String(peer.subject.CN) });
        socket.end();
      });
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = tlsServer.address() as AddressInfo;
      const client = tls.connect({ host: '127.0.0.1', port, key: kiosk.keyPem, cert: kiosk.certificatePem, ca: centreCa.certificatePem });
      await new Promise<void>((resolve, reject) => {
        client.once('secureConnect', resolve);
        client.once('error', reject);
      });
      assert.equal(client.authorized, true);
      assert.deepEqual(await serverSide, { authorized: true, commonName: 'kiosk K-0001' });
      client.destroy();
    } finally {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    }
  });
});
