// Test helper: a throwaway certificate authority that issues server and client certificates
// for localhost / 127.0.0.1. Keys come from node:crypto (fast); node-forge builds and signs X.509.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import forge from 'node-forge';

export interface SubjectFields {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
}

export interface IssuedCertificate {
  certificatePem: string;
  keyPem: string;
}

export interface TestCertificateAuthority extends IssuedCertificate {
  /** Issues a leaf valid for DNS localhost and IP 127.0.0.1, usable as both TLS server and client. */
  issue(subject: SubjectFields): IssuedCertificate;
}

const dayMs = 24 * 60 * 60 * 1000;

export function createTestCertificateAuthority(subject: SubjectFields): TestCertificateAuthority {
  const caKeys = newKeyPair();
  const caCertificate = newCertificate(caKeys.publicKeyPem, subject);
  caCertificate.setIssuer(caCertificate.subject.attributes);
  caCertificate.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const caPrivateKey = forge.pki.privateKeyFromPem(caKeys.keyPem);
  caCertificate.sign(caPrivateKey, forge.md.sha256.create());
  const caKeyIdentifier = caCertificate.generateSubjectKeyIdentifier().getBytes();

  return {
    certificatePem: forge.pki.certificateToPem(caCertificate),
    keyPem: caKeys.keyPem,
    issue(leafSubject) {
      const leafKeys = newKeyPair();
      const leaf = newCertificate(leafKeys.publicKeyPem, leafSubject);
      leaf.setIssuer(caCertificate.subject.attributes);
      leaf.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
        { name: 'subjectKeyIdentifier' },
        { name: 'authorityKeyIdentifier', keyIdentifier: caKeyIdentifier },
      ]);
      leaf.sign(caPrivateKey, forge.md.sha256.create());
      return { certificatePem: forge.pki.certificateToPem(leaf), keyPem: leafKeys.keyPem };
    },
  };
}

function newKeyPair(): { publicKeyPem: string; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { publicKeyPem: publicKey, keyPem: privateKey };
}

function newCertificate(publicKeyPem: string, subject: SubjectFields): forge.pki.Certificate {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // A leading 01 keeps the DER integer positive whatever the random bytes are.
  certificate.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  certificate.validity.notBefore = new Date(now - dayMs);
  certificate.validity.notAfter = new Date(now + dayMs);
  certificate.setSubject(subjectAttributes(subject));
  return certificate;
}

function subjectAttributes(subject: SubjectFields): forge.pki.CertificateField[] {
  const attributes: forge.pki.CertificateField[] = [{ shortName: 'CN', value: subject.commonName }];
  if (subject.organization !== undefined) attributes.push({ shortName: 'O', value: subject.organization });
  if (subject.organizationalUnit !== undefined) attributes.push({ shortName: 'OU', value: subject.organizationalUnit });
  return attributes;
}

/**
 * A bare mutual-TLS server that reads each request (its head and Content-Length body) and writes
 * what `answer(n, socket)` gives for the n-th (from 1), or nothing; for clients meeting servers
 * that answer as ours do not (chunked, until close, dropped, garbage).
 */
export function rawTlsServer(certificate: IssuedCertificate, authority: IssuedCertificate, answer: (request: number, socket: tls.TLSSocket) => string | undefined) {
  let requests = 0;
  let connections = 0;
  let mostOpen = 0;
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ key: certificate.keyPem, cert: certificate.certificatePem, ca: authority.certificatePem, requestCert: true, rejectUnauthorized: true }, (socket) => {
    sockets.add(socket);
    connections += 1;
    mostOpen = Math.max(mostOpen, sockets.size);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const length = Number(/content-length: (\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        pending = pending.slice(end + 4 + length);
        requests += 1;
        const text = answer(requests, socket);
        if (text !== undefined && !socket.destroyed) socket.write(text);
      }
    });
  });
  return {
    /** Listens on 127.0.0.1 and resolves with the port. */
    start: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    stop: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    get mostOpen() {
      return mostOpen;
    },
  };
}
