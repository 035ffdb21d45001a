// Proves the centre accepts only a card certificate that chains to the JPKI CA, is in its validity period, is not revoked under a fresh CRL, and only the card's own signatures.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, privateEncrypt, sign, verify, X509Certificate } from 'node:crypto';
import { AppError } from '../../../core/errors.ts';
import {
  certificateDerFromPem,
  createCertificateAuthority,
  createCrl,
  issueCertificate,
  type KeyAndCertificate,
} from '../../../drivers/pki/issue.ts';
import { sha256DigestInfo, signDigestInfo } from '../../../drivers/pki/raw-sign.ts';
import { createCardVerifier, CRL_REFRESH_MS, parseCrl, type CardVerifier } from '../../../drivers/pki/verify.ts';
import { testRsaKey } from '../../rsa-keys.ts';

const atMs = Date.parse('2026-06-10T09:00:00Z');
const crlThisUpdate = new Date('2026-06-01T00:00:00Z');
const crlNextUpdate = new Date('2026-07-01T00:00:00Z');
const challenge = new TextEncoder().encode('centre challenge 0001');

function isCrlInvalid(error: unknown): boolean {
  return error instanceof AppError && error.code === 'pki.crl_invalid';
}

/** The CRL's DER with one byte changed, wrapped as PEM again. */
function tamperedCrl(crlPem: string, byteFromEnd: number): string {
  const body = crlPem.replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64');
  der[der.length - byteFromEnd]! ^= 0x01;
  return `-----BEGIN X509 CRL-----\n${der.toString('base64')}\n-----END X509 CRL-----\n`;
}

describe('card verifier', () => {
  let jpkiCa: KeyAndCertificate;
  let foreignCa: KeyAndCertificate;
  let card: { privateKeyPem: string; publicKeyPem: string };
  let otherKey: { privateKeyPem: string; publicKeyPem: string };
  let crlPem: string;
  let verifier: CardVerifier;
  const der: Record<'good' | 'expired' | 'notYetValid' | 'revoked' | 'foreign', Uint8Array> = {} as never;

  function cardCertificate(issuer: KeyAndCertificate, serialHex: string, validFrom: string, validTo: string): Uint8Array {
    const issued = issueCertificate(issuer, {
      subject: { commonName: serialHex, organization: 'JPKI test', country: 'JP' },
      usage: 'card-auth',
      validFrom: new Date(validFrom),
      validTo: new Date(validTo),
      serialHex,
      publicKeyPem: card.publicKeyPem,
    });
    return certificateDerFromPem(issued.certificatePem);
  }

  before(() => {
    const caValidity = { validFrom: new Date('2020-01-01T00:00:00Z'), validTo: new Date('2040-01-01T00:00:00Z') };
    jpkiCa = createCertificateAuthority({ subject: { commonName: 'JPKI user authentication test CA', country: 'JP' }, ...caValidity, keyPair: testRsaKey(0) });
    foreignCa = createCertificateAuthority({ subject: { commonName: 'JPKI user authentication test CA', country: 'JP' }, ...caValidity, keyPair: testRsaKey(1) });
    card = testRsaKey(2);
    otherKey = testRsaKey(3);
    der.good = cardCertificate(jpkiCa, '0a01', '2025-01-01T00:00:00Z', '2030-01-01T00:00:00Z');
    der.expired = cardCertificate(jpkiCa, '0a02', '2020-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
    der.notYetValid = cardCertificate(jpkiCa, '0a03', '2027-01-01T00:00:00Z', '2032-01-01T00:00:00Z');
    der.revoked = cardCertificate(jpkiCa, '8a04', '2025-01-01T00:00:00Z', '2030-01-01T00:00:00Z');
    der.foreign = cardCertificate(foreignCa, '0a01', '2025-01-01T00:00:00Z', '2030-01-01T00:00:00Z');
    crlPem = createCrl(jpkiCa, {
      revoked: [{ serialHex: '8a04', revokedAt: new Date('2026-05-20T00:00:00Z') }],
      thisUpdate: crlThisUpdate,
      nextUpdate: crlNextUpdate,
      crlNumber: 12,
    });
    verifier = createCardVerifier({ caCertificatePem: jpkiCa.certificatePem, crlPem });
  });

  describe('check', () => {
    it('accepts a certificate that chains, is valid and is not revoked', () => {
      const x509 = new X509Certificate(der.good);
      assert.deepEqual(verifier.check(der.good, atMs), {
        ok: true,
        certificate: {
          serialHex: 'a01',
          subject: 'C=JP\nO=JPKI test\nCN=0a01',
          notBeforeMs: Date.parse('2025-01-01T00:00:00Z'),
          notAfterMs: Date.parse('2030-01-01T00:00:00Z'),
          fingerprint256: x509.fingerprint256,
        },
      });
    });

    it('gives the same answer from its cache', () => {
      assert.equal(verifier.check(der.good, atMs).ok, true);
      assert.equal(verifier.check(Uint8Array.from(der.good), atMs).ok, true);
    });

    it('calls a certificate from another CA with the same name untrusted', () => {
      assert.deepEqual(verifier.check(der.foreign, atMs), { ok: false, problem: 'untrusted' });
    });

    it('calls the CA certificate itself untrusted: a CA is never a card', () => {
      const caDer = certificateDerFromPem(jpkiCa.certificatePem);
      assert.deepEqual(verifier.check(caDer, atMs), { ok: false, problem: 'untrusted' });
    });

    it('calls bytes that are not a certificate malformed', () => {
      assert.deepEqual(verifier.check(new Uint8Array([0x30, 0x03, 0x02, 0x01]), atMs), { ok: false, problem: 'malformed' });
      assert.deepEqual(verifier.check(der.good.subarray(0, 100), atMs), { ok: false, problem: 'malformed' });
    });

    it('refuses expired and not-yet-valid certificates', () => {
      assert.deepEqual(verifier.check(der.expired, atMs), { ok: false, problem: 'expired' });
      assert.deepEqual(verifier.check(der.notYetValid, atMs), { ok: false, problem: 'not-yet-valid' });
    });

    it('counts notBefore and notAfter themselves as valid', () => {
      const longCrlPem = createCrl(jpkiCa, { revoked: [], thisUpdate: crlThisUpdate, nextUpdate: new Date('2031-01-01T00:00:00Z') });
      const longVerifier = createCardVerifier({ caCertificatePem: jpkiCa.certificatePem, crlPem: longCrlPem });
      const notBeforeMs = Date.parse('2025-01-01T00:00:00Z');
      const notAfterMs = Date.parse('2030-01-01T00:00:00Z');
      assert.equal(longVerifier.check(der.good, notBeforeMs).ok, true);
      assert.equal(longVerifier.check(der.good, notAfterMs).ok, true);
      assert.deepEqual(longVerifier.check(der.good, notBeforeMs - 1), { ok: false, problem: 'not-yet-valid' });
      assert.deepEqual(longVerifier.check(der.good, notAfterMs + 1), { ok: false, problem: 'expired' });
    });

    it('refuses a serial listed in the CRL', () => {
      assert.deepEqual(verifier.check(der.revoked, atMs), { ok: false, problem: 'revoked' });
    });

    it('refuses every card once the CRL is past its next update, but still says revoked for a listed one', () => {
      const afterNextUpdateMs = crlNextUpdate.getTime() + 1;
      assert.deepEqual(verifier.check(der.good, afterNextUpdateMs), { ok: false, problem: 'crl-stale' });
      assert.deepEqual(verifier.check(der.revoked, afterNextUpdateMs), { ok: false, problem: 'revoked' });
    });

    it('refuses a certificate of the authority that is not for user authentication (key usage, extended key usage)', () => {
      const issued = (usage: 'server' | 'client', serialHex: string) =>
        certificateDerFromPem(issueCertificate(jpkiCa, { subject: { commonName: serialHex, country: 'JP' }, usage, validFrom: new Date('2025-01-01T00:00:00Z'), validTo: new Date('2030-01-01T00:00:00Z'), serialHex, publicKeyPem: card.publicKeyPem }).certificatePem);
      // A server certificate: key encipherment too, and serverAuth only as its extended key usage.
      assert.deepEqual(verifier.check(issued('server', '0b01'), atMs), { ok: false, problem: 'wrong-usage' });
      // digitalSignature with clientAuth among its extended key usages is one a card may hold.
      assert.equal(verifier.check(issued('client', '0b02'), atMs).ok, true);
    });

    it('takes up a newer CRL from its source within a minute, and ignores one that is older or does not verify', () => {
      let source = crlPem;
      const problems: string[] = [];
      const fresh = createCardVerifier({ caCertificatePem: jpkiCa.certificatePem, crlPem, freshCrl: () => source, onCrlProblem: (code) => problems.push(code) });
      assert.equal(fresh.check(der.good, atMs).ok, true);
      // The authority revokes the good card in a newer list.
      source = createCrl(jpkiCa, { revoked: [{ serialHex: '0a01', revokedAt: new Date('2026-06-09T00:00:00Z') }], thisUpdate: new Date('2026-06-09T00:00:00Z'), nextUpdate: new Date('2026-07-09T00:00:00Z'), crlNumber: 13 });
      assert.equal(fresh.check(der.good, atMs + CRL_REFRESH_MS - 1).ok, true, 'read again at most once a minute');
      assert.deepEqual(fresh.check(der.good, atMs + CRL_REFRESH_MS), { ok: false, problem: 'revoked' });
      const newer = source;
      // A restored older copy (which lacks the revocation), and a damaged file, are ignored.
      source = crlPem;
      assert.deepEqual(fresh.check(der.good, atMs + 2 * CRL_REFRESH_MS), { ok: false, problem: 'revoked' });
      source = tamperedCrl(newer, 1);
      assert.deepEqual(fresh.check(der.good, atMs + 3 * CRL_REFRESH_MS), { ok: false, problem: 'revoked' });
      assert.deepEqual(problems, ['pki.crl_older', 'pki.crl_invalid']);
      // The newer list's next update holds: past the first list's, another card is accepted, not stale.
      const another = cardCertificate(jpkiCa, '0a05', '2025-01-01T00:00:00Z', '2030-01-01T00:00:00Z');
      assert.deepEqual(verifier.check(another, crlNextUpdate.getTime() + 1), { ok: false, problem: 'crl-stale' }, 'the first list alone is stale then');
      assert.equal(fresh.check(another, crlNextUpdate.getTime() + 1).ok, true);
    });
  });

  describe('parseCrl', () => {
    it('reads the revoked serials and update times', () => {
      assert.deepEqual(parseCrl(crlPem, jpkiCa.certificatePem), {
        revokedSerialsHex: new Set(['8a04']),
        thisUpdateMs: crlThisUpdate.getTime(),
        nextUpdateMs: crlNextUpdate.getTime(),
      });
    });

    it('throws pki.crl_invalid for a CRL changed in its body or its signature', () => {
      const signatureBytes = 256;
      assert.throws(() => parseCrl(tamperedCrl(crlPem, signatureBytes + 40), jpkiCa.certificatePem), isCrlInvalid);
      assert.throws(() => parseCrl(tamperedCrl(crlPem, 1), jpkiCa.certificatePem), isCrlInvalid);
    });

    it('throws pki.crl_invalid for a CRL signed by another CA, or for text that is no CRL', () => {
      const foreignCrl = createCrl(foreignCa, { revoked: [], thisUpdate: crlThisUpdate, nextUpdate: crlNextUpdate });
      assert.throws(() => parseCrl(foreignCrl, jpkiCa.certificatePem), isCrlInvalid);
      assert.throws(() => parseCrl('no CRL here', jpkiCa.certificatePem), isCrlInvalid);
      assert.throws(() => createCardVerifier({ caCertificatePem: jpkiCa.certificatePem, crlPem: foreignCrl }), isCrlInvalid);
    });
  });

  describe('verifySignature', () => {
    it('accepts the card key signature over the data', () => {
      const signature = sign('sha256', challenge, card.privateKeyPem);
      assert.equal(verifier.verifySignature(der.good, challenge, signature), true);
    });

    it('refuses other data, another key, a truncated or empty signature, and a malformed certificate', () => {
      const signature = sign('sha256', challenge, card.privateKeyPem);
      const otherData = new TextEncoder().encode('centre challenge 0002');
      assert.equal(verifier.verifySignature(der.good, otherData, signature), false);
      assert.equal(verifier.verifySignature(der.good, challenge, sign('sha256', challenge, otherKey.privateKeyPem)), false);
      assert.equal(verifier.verifySignature(der.good, challenge, signature.subarray(0, 255)), false);
      assert.equal(verifier.verifySignature(der.good, challenge, new Uint8Array()), false);
      assert.equal(verifier.verifySignature(new Uint8Array([1, 2, 3]), challenge, signature), false);
    });

    it('refuses a good signature under a certificate that does not chain to the CA', () => {
      const signature = sign('sha256', challenge, card.privateKeyPem);
      assert.equal(verifier.verifySignature(der.foreign, challenge, signature), false);
    });
  });

  describe('raw signing over a host-supplied DigestInfo', () => {
    const digestInfo = Buffer.concat([
      Buffer.from('3031300d060960864801650304020105000420', 'hex'),
      createHash('sha256').update(challenge).digest(),
    ]);

    it('builds the SHA-256 DigestInfo a host sends the card', () => {
      assert.deepEqual(Buffer.from(sha256DigestInfo(challenge)), digestInfo);
    });

    it('privateEncrypt with PKCS#1 padding gives a signature crypto.verify accepts', () => {
      const signature = privateEncrypt({ key: card.privateKeyPem, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
      assert.equal(verify('sha256', challenge, card.publicKeyPem, signature), true);
      assert.equal(verifier.verifySignature(der.good, challenge, signature), true);
    });

    it('signDigestInfo equals crypto.sign and passes the verifier', () => {
      const signature = signDigestInfo(card.privateKeyPem, sha256DigestInfo(challenge));
      assert.deepEqual(Buffer.from(signature), sign('sha256', challenge, card.privateKeyPem));
      assert.equal(verifier.verifySignature(der.good, challenge, signature), true);
    });

    it('signDigestInfo refuses a block longer than the key allows', () => {
      assert.throws(
        () => signDigestInfo(card.privateKeyPem, new Uint8Array(250)),
        (error: unknown) => error instanceof AppError && error.code === 'pki.sign_failed',
      );
    });
  });
});
