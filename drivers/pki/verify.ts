// The centre's check of a card's user-authentication certificate and signature. The hot path is
// node:crypto with cached KeyObjects and certificates (≈33k verifies/s on Node; re-parsing PEM per
// call is 8× slower). The CRL is parsed once, at load, with a small DER reader.
import { createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import { canonicalSerialHex } from './serial.ts';

export { canonicalSerialHex } from './serial.ts';

export type CardCertificateProblem =
  | 'malformed'
  | 'untrusted'
  | 'not-yet-valid'
  | 'expired'
  | 'revoked'
  | 'crl-stale'
  | 'wrong-usage';

export interface CardCertificateInfo {
  /** canonicalSerialHex form: lowercase, no leading zeros. */
  serialHex: string;
  /** X509Certificate.subject: one "KEY=value" per line. */
  subject: string;
  notBeforeMs: number;
  notAfterMs: number;
  /** X509Certificate.fingerprint256: uppercase hex pairs joined by ':'. */
  fingerprint256: string;
}

export type CardCertificateCheck =
  | { ok: true; certificate: CardCertificateInfo }
  | { ok: false; problem: CardCertificateProblem };

export interface CardVerifier {
  /** Chain to the CA, key usage, validity at atMs, revocation, CRL freshness, in that order. */
  check(certificateDer: Uint8Array, atMs: number): CardCertificateCheck;
  /** RSA PKCS#1 v1.5 SHA-256 over data with the certificate's key. False for any bad input and
   * for a certificate that does not chain to the CA; validity and revocation are check()'s job. */
  verifySignature(certificateDer: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
}

export interface ParsedCrl {
  revokedSerialsHex: Set<string>;
  thisUpdateMs: number;
  nextUpdateMs: number;
}

/** Enough for every card seen in a busy day; beyond it the oldest entries are parsed again. */
const CERTIFICATE_CACHE_LIMIT = 10_000;

interface CachedCertificate {
  trusted: boolean;
  /** Key usage digitalSignature, and no extended key usage that leaves out client authentication. */
  forAuthentication: boolean;
  info: CardCertificateInfo;
  publicKey: KeyObject;
}

/** How often the CRL's source is read again for a newer list. */
export const CRL_REFRESH_MS = 60_000;

export interface CardVerifierOptions {
  caCertificatePem: string;
  crlPem: string;
  /**
   * The CRL's source read again (the file `init` or the authority's distribution writes), at most
   * once a CRL_REFRESH_MS: a list with a later thisUpdate replaces the one held, so the centre stays
   * fresh without a restart. One that does not verify, or is older (a restored copy that lacks a
   * revocation), is ignored and reported through onCrlProblem; the list held stays.
   */
  freshCrl?: () => string;
  onCrlProblem?: (problem: string) => void;
}

export function createCardVerifier(options: CardVerifierOptions): CardVerifier {
  const authority = loadAuthority(options.caCertificatePem);
  let crl = parseCrl(options.crlPem, options.caCertificatePem);
  let crlText = options.crlPem;
  let refreshedAtMs = -Infinity;
  const cache = new Map<string, CachedCertificate>();

  function refreshCrl(atMs: number): void {
    if (options.freshCrl === undefined || atMs - refreshedAtMs < CRL_REFRESH_MS) return;
    refreshedAtMs = atMs;
    let text: string;
    let fresh: ParsedCrl;
    try {
      text = options.freshCrl();
      if (text === crlText) return;
      fresh = parseCrl(text, options.caCertificatePem);
    } catch (error) {
      options.onCrlProblem?.(error instanceof AppError ? error.code : 'pki.crl_unreadable');
      return;
    }
    if (fresh.thisUpdateMs <= crl.thisUpdateMs) {
      options.onCrlProblem?.('pki.crl_older');
      return;
    }
    crl = fresh;
    crlText = text;
  }

  function inspect(certificateDer: Uint8Array): CachedCertificate | undefined {
    const key = createHash('sha256').update(certificateDer).digest('hex');
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const inspected = inspectCertificate(certificateDer, authority);
    if (inspected === undefined) return undefined;
    if (cache.size >= CERTIFICATE_CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, inspected);
    return inspected;
  }

  return {
    check(certificateDer, atMs) {
      refreshCrl(atMs);
      const inspected = inspect(certificateDer);
      if (inspected === undefined) return { ok: false, problem: 'malformed' };
      const problem = findProblem(inspected, crl, atMs);
      return problem === undefined ? { ok: true, certificate: inspected.info } : { ok: false, problem };
    },
    verifySignature(certificateDer, data, signature) {
      const inspected = inspect(certificateDer);
      if (inspected === undefined || !inspected.trusted) return false;
      try {
        return verify('sha256', data, inspected.publicKey, signature);
      } catch {
        return false;
      }
    },
  };
}

function loadAuthority(caCertificatePem: string): X509Certificate {
  try {
    return new X509Certificate(caCertificatePem);
  } catch {
    throw new AppError('input', 'pki.ca_invalid', 'the CA certificate is not a PEM X.509 certificate');
  }
}

function inspectCertificate(certificateDer: Uint8Array, authority: X509Certificate): CachedCertificate | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificateDer);
  } catch {
    return undefined;
  }
  // A CA certificate (even the trusted one itself) is never a card's certificate.
  const trusted =
    !certificate.ca && certificate.checkIssued(authority) && certificate.verify(authority.publicKey);
  return {
    trusted,
    forAuthentication: signsForAuthentication(new Uint8Array(certificate.raw), certificate.keyUsage),
    publicKey: certificate.publicKey,
    info: {
      serialHex: canonicalSerialHex(certificate.serialNumber),
      subject: certificate.subject,
      // Node 20 lacks validFromDate/validToDate; both runtimes parse these strings the same way.
      notBeforeMs: new Date(certificate.validFrom).getTime(),
      notAfterMs: new Date(certificate.validTo).getTime(),
      fingerprint256: certificate.fingerprint256,
    },
  };
}

function findProblem(inspected: CachedCertificate, crl: ParsedCrl, atMs: number): CardCertificateProblem | undefined {
  if (!inspected.trusted) return 'untrusted';
  if (!inspected.forAuthentication) return 'wrong-usage';
  if (atMs < inspected.info.notBeforeMs) return 'not-yet-valid';
  if (atMs > inspected.info.notAfterMs) return 'expired';
  // Revocation is final, so a listed serial is revoked even when the list is out of date.
  if (crl.revokedSerialsHex.has(inspected.info.serialHex)) return 'revoked';
  if (atMs > crl.nextUpdateMs) return 'crl-stale';
  return undefined;
}

// ---- Key usage (RFC 5280 §4.2.1.3, §4.2.1.12) ----

const KEY_USAGE_OID_DER = '0603551d0f';
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE_OID = '2.5.29.37.0';
const TAG_EXTENSIONS = 0xa3; // [3] EXPLICIT, in a certificate's TBS
const TAG_BOOLEAN = 0x01;
const TAG_OCTET_STRING = 0x04;

/**
 * A JPKI user-authentication certificate signs challenges: its key usage extension must be there
 * with digitalSignature, and an extended key usage, if any, must allow client authentication. A
 * certificate the authority issued for something else (a server's, encipherment only) is refused.
 * `extendedKeyUsage` is X509Certificate.keyUsage, which holds the extended key usage OIDs.
 */
function signsForAuthentication(der: Uint8Array, extendedKeyUsage: string[] | undefined): boolean {
  if (extendedKeyUsage !== undefined && !extendedKeyUsage.includes(CLIENT_AUTH_OID) && !extendedKeyUsage.includes(ANY_EXTENDED_KEY_USAGE_OID)) return false;
  try {
    const tbs = children(der, readTlv(der, 0))[0]!;
    const extensions = children(der, tbs).find((field) => field.tag === TAG_EXTENSIONS);
    if (extensions === undefined) return false;
    for (const extension of children(der, children(der, extensions)[0]!)) {
      const [oid, ...rest] = children(der, extension);
      if (oid === undefined || hex(tlvBytes(der, oid)) !== KEY_USAGE_OID_DER) continue;
      // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
      const value = rest.at(-1);
      if (value === undefined || value.tag !== TAG_OCTET_STRING || rest.length > 2 || (rest.length === 2 && rest[0]!.tag !== TAG_BOOLEAN)) return false;
      const bits = readTlv(der, value.contentStart);
      // BIT STRING: unused-bit count, then the bits; digitalSignature is bit 0, the first byte's top bit.
      return bits.tag === TAG_BIT_STRING && bits.end - bits.contentStart >= 2 && ((der[bits.contentStart + 1] ?? 0) & 0x80) !== 0;
    }
    return false;
  } catch {
    return false;
  }
}

// ---- CRL parsing (RFC 5280 §5.1) ----

const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_SEQUENCE = 0x30;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
const TAG_VERSION = 0xa0; // [0] EXPLICIT, in a certificate's TBS
const SHA256_WITH_RSA_ALGORITHM_DER = '06092a864886f70d01010b';

/** Verifies the CRL's signature and issuer against the CA certificate, then reads it. */
export function parseCrl(crlPem: string, issuerCertificatePem: string): ParsedCrl {
  const issuer = loadAuthority(issuerCertificatePem);
  try {
    return readSignedCrl(pemBody(crlPem, 'X509 CRL'), issuer);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw crlInvalid('the CRL could not be read as DER');
  }
}

function crlInvalid(message: string): AppError {
  return new AppError('input', 'pki.crl_invalid', message);
}

function readSignedCrl(der: Uint8Array, issuer: X509Certificate): ParsedCrl {
  const certificateList = readTlv(der, 0);
  if (certificateList.tag !== TAG_SEQUENCE || certificateList.end !== der.length) {
    throw crlInvalid('the CRL is not one DER SEQUENCE');
  }
  const [tbs, algorithm, signatureValue, ...extra] = children(der, certificateList);
  if (tbs === undefined || algorithm === undefined || signatureValue === undefined || extra.length > 0) {
    throw crlInvalid('the CRL does not have the three parts of a CertificateList');
  }
  if (!isSha256WithRsa(der, algorithm)) throw crlInvalid('the CRL is not signed with sha256WithRSAEncryption');
  if (signatureValue.tag !== TAG_BIT_STRING || der[signatureValue.contentStart] !== 0) {
    throw crlInvalid('the CRL signature is not a whole-byte BIT STRING');
  }
  const signature = der.subarray(signatureValue.contentStart + 1, signatureValue.end);
  if (!verify('sha256', der.subarray(tbs.start, tbs.end), issuer.publicKey, signature)) {
    throw crlInvalid('the CRL signature does not verify with the CA key');
  }
  return readTbsCertList(der, tbs, issuer);
}

function readTbsCertList(der: Uint8Array, tbs: Tlv, issuer: X509Certificate): ParsedCrl {
  const fields = children(der, tbs);
  let index = fields[0]?.tag === TAG_INTEGER ? 1 : 0; // v2 carries a version, v1 does not
  const algorithm = fields[index++];
  const issuerName = fields[index++];
  const thisUpdate = fields[index++];
  const nextUpdate = fields[index++];
  if (algorithm === undefined || !isSha256WithRsa(der, algorithm)) {
    throw crlInvalid('the CRL signature algorithms disagree');
  }
  if (issuerName === undefined || !sameBytes(tlvBytes(der, issuerName), certificateSubjectDer(issuer))) {
    throw crlInvalid('the CRL issuer is not the CA');
  }
  if (thisUpdate === undefined || nextUpdate === undefined || !isTime(nextUpdate)) {
    throw crlInvalid('the CRL lacks thisUpdate or nextUpdate');
  }
  const revokedList = fields[index]?.tag === TAG_SEQUENCE ? fields[index] : undefined;
  return {
    revokedSerialsHex: revokedList === undefined ? new Set() : revokedSerials(der, revokedList),
    thisUpdateMs: readTime(der, thisUpdate),
    nextUpdateMs: readTime(der, nextUpdate),
  };
}

function revokedSerials(der: Uint8Array, revokedList: Tlv): Set<string> {
  const serials = new Set<string>();
  for (const entry of children(der, revokedList)) {
    const serial = children(der, entry)[0];
    if (serial?.tag !== TAG_INTEGER) throw crlInvalid('a CRL entry lacks a serial number');
    serials.add(canonicalSerialHex(hex(der.subarray(serial.contentStart, serial.end))));
  }
  return serials;
}

/** The subject Name of a certificate, as encoded, to compare with a CRL's issuer byte for byte. */
function certificateSubjectDer(certificate: X509Certificate): Uint8Array {
  const der = new Uint8Array(certificate.raw);
  const tbs = children(der, readTlv(der, 0))[0]!;
  const fields = children(der, tbs);
  const subject = fields[fields[0]?.tag === TAG_VERSION ? 5 : 4]!;
  return tlvBytes(der, subject);
}

function isSha256WithRsa(der: Uint8Array, algorithm: Tlv): boolean {
  const oid = children(der, algorithm)[0];
  return oid !== undefined && hex(tlvBytes(der, oid)) === SHA256_WITH_RSA_ALGORITHM_DER;
}

function isTime(tlv: Tlv): boolean {
  return tlv.tag === TAG_UTC_TIME || tlv.tag === TAG_GENERALIZED_TIME;
}

/** UTCTime YYMMDDHHMMSSZ (50–99 → 19xx) or GeneralizedTime YYYYMMDDHHMMSSZ, as RFC 5280 allows. */
function readTime(der: Uint8Array, tlv: Tlv): number {
  const text = new TextDecoder().decode(der.subarray(tlv.contentStart, tlv.end));
  const match = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!isTime(tlv) || match === null || (tlv.tag === TAG_UTC_TIME) !== (match[1]!.length === 2)) {
    throw crlInvalid('a CRL time is not in RFC 5280 form');
  }
  const [yearDigits, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number, number, number, number, number, number,
  ];
  const year = tlv.tag === TAG_UTC_TIME ? (yearDigits >= 50 ? 1900 : 2000) + yearDigits : yearDigits;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

// ---- A minimal DER reader: definite lengths only, which is all DER allows ----

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Uint8Array, offset: number): Tlv {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) throw new RangeError('bad DER');
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const lengthBytes = first & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4) throw new RangeError('bad DER length');
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + (der[contentStart + i] ?? Number.NaN);
    contentStart += lengthBytes;
  }
  const end = contentStart + length;
  if (!Number.isFinite(end) || end > der.length) throw new RangeError('DER runs past its end');
  return { tag, start: offset, contentStart, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const result: Tlv[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = readTlv(der, offset);
    if (child.end > parent.end) throw new RangeError('DER child runs past its parent');
    result.push(child);
    offset = child.end;
  }
  return result;
}

function tlvBytes(der: Uint8Array, tlv: Tlv): Uint8Array {
  return der.subarray(tlv.start, tlv.end);
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function pemBody(pem: string, label: string): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (match === null) throw crlInvalid(`not a PEM "${label}"`);
  return new Uint8Array(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}
