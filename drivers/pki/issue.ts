// Issues the project's test PKI: CA certificates, leaf certificates and CRLs.
// node-forge builds and signs the structures; node:crypto generates the RSA keys because forge's
// pure-JS key generation takes seconds. Private keys are PKCS#8 PEM ("BEGIN PRIVATE KEY"), public
// keys SPKI PEM ("BEGIN PUBLIC KEY"): both node:crypto and forge read them.
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { AppError } from '../../core/errors.ts';
import { derIntegerHex } from './serial.ts';
import { issuerAttributes, subjectAttributes, type SubjectFields } from './subject.ts';

export type { SubjectFields } from './subject.ts';

export interface KeyAndCertificate {
  keyPem: string;
  certificatePem: string;
}

export type CertificateUsage = 'server' | 'client' | 'server-and-client' | 'card-auth';

export interface IssueOptions {
  subject: SubjectFields;
  usage: CertificateUsage;
  /** subjectAltName entries; servers usually want 'localhost' and '127.0.0.1'. */
  dnsNames?: string[];
  ipAddresses?: string[];
  validFrom: Date;
  validTo: Date;
  /** Default: 16 random bytes, positive. Leading zeros are dropped (see subject.ts). */
  serialHex?: string;
  /** Certify an existing key (a card's); keyPem is then ''. */
  publicKeyPem?: string;
}

export interface CrlOptions {
  revoked: { serialHex: string; revokedAt: Date }[];
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber?: number;
}

const { asn1, pki } = forge;
const SHA256_WITH_RSA_OID = '1.2.840.113549.1.1.11';
const CRL_NUMBER_OID = '2.5.29.20';
const AUTHORITY_KEY_IDENTIFIER_OID = '2.5.29.35';
const DEFAULT_SERIAL_BYTES = 16;

export function generateRsaKeyPem(bits = 2048): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export function createCertificateAuthority(options: {
  subject: SubjectFields;
  validFrom: Date;
  validTo: Date;
}): KeyAndCertificate {
  const keys = generateRsaKeyPem();
  const certificate = newCertificate(keys.publicKeyPem, randomSerialHex(), options);
  const name = subjectAttributes(options.subject);
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  certificate.sign(pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return { keyPem: keys.privateKeyPem, certificatePem: pki.certificateToPem(certificate) };
}

export function issueCertificate(issuer: KeyAndCertificate, options: IssueOptions): KeyAndCertificate {
  const keys =
    options.publicKeyPem === undefined ? generateRsaKeyPem() : { privateKeyPem: '', publicKeyPem: options.publicKeyPem };
  const issuerCertificate = pki.certificateFromPem(issuer.certificatePem);
  const certificate = newCertificate(keys.publicKeyPem, options.serialHex ?? randomSerialHex(), options);
  certificate.setSubject(subjectAttributes(options.subject));
  certificate.setIssuer(issuerAttributes(issuerCertificate));
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    ...usageExtensions(options.usage),
    ...subjectAltNameExtensions(options),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifierBytes(issuerCertificate) },
  ]);
  certificate.sign(pki.privateKeyFromPem(issuer.keyPem), forge.md.sha256.create());
  return { keyPem: keys.privateKeyPem, certificatePem: pki.certificateToPem(certificate) };
}

/** A v2 CRL (RFC 5280 §5.1) with CRL number and authority key identifier, as PEM "X509 CRL". */
export function createCrl(issuer: KeyAndCertificate, options: CrlOptions): string {
  const issuerCertificate = pki.certificateFromPem(issuer.certificatePem);
  const tbsCertList = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    integer('01'), // v2
    sha256WithRsaAlgorithm(),
    issuerNameAsn1(issuer.certificatePem),
    time(options.thisUpdate),
    time(options.nextUpdate),
    ...revokedCertificates(options.revoked),
    crlExtensions(keyIdentifierBytes(issuerCertificate), options.crlNumber ?? 1),
  ]);
  const digest = forge.md.sha256.create();
  digest.update(asn1.toDer(tbsCertList).getBytes());
  const signature = pki.privateKeyFromPem(issuer.keyPem).sign(digest);
  const certificateList = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbsCertList,
    sha256WithRsaAlgorithm(),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature),
  ]);
  return forge.pem.encode({ type: 'X509 CRL', body: asn1.toDer(certificateList).getBytes() });
}

export function certificateDerFromPem(pem: string): Uint8Array {
  try {
    return new Uint8Array(new X509Certificate(pem).raw);
  } catch {
    throw new AppError('input', 'pki.certificate_invalid', 'not a PEM X.509 certificate');
  }
}

function newCertificate(
  publicKeyPem: string,
  serialHex: string,
  validity: { validFrom: Date; validTo: Date },
): forge.pki.Certificate {
  const certificate = pki.createCertificate();
  certificate.publicKey = pki.publicKeyFromPem(publicKeyPem);
  certificate.serialNumber = derIntegerHex(serialHex);
  certificate.validity.notBefore = validity.validFrom;
  certificate.validity.notAfter = validity.validTo;
  return certificate;
}

function randomSerialHex(): string {
  const bytes = randomBytes(DEFAULT_SERIAL_BYTES);
  // Clear the top bit so the INTEGER is positive, set the next so it keeps all 16 bytes.
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function usageExtensions(usage: CertificateUsage): object[] {
  const serverAuth = usage === 'server' || usage === 'server-and-client';
  const clientAuth = usage === 'client' || usage === 'server-and-client';
  if (usage === 'card-auth') {
    // A JPKI user-authentication certificate only signs challenges.
    return [{ name: 'keyUsage', digitalSignature: true, critical: true }];
  }
  return [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth, clientAuth },
  ];
}

function subjectAltNameExtensions(options: IssueOptions): object[] {
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  return names.length === 0 ? [] : [{ name: 'subjectAltName', altNames: names }];
}

/** The issuer's subjectKeyIdentifier as a binary string, computed when the CA lacks one. */
function keyIdentifierBytes(issuerCertificate: forge.pki.Certificate): string {
  const extension = issuerCertificate.getExtension('subjectKeyIdentifier') as
    | { subjectKeyIdentifier?: string }
    | undefined;
  return extension?.subjectKeyIdentifier !== undefined
    ? forge.util.hexToBytes(extension.subjectKeyIdentifier)
    : issuerCertificate.generateSubjectKeyIdentifier().getBytes();
}

/** The CA's subject exactly as encoded in its certificate, so the CRL issuer matches byte for byte. */
function issuerNameAsn1(issuerCertificatePem: string): forge.asn1.Asn1 {
  const certificate = asn1.fromDer(forge.pem.decode(issuerCertificatePem)[0]!.body);
  const tbs = (certificate.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  const hasVersion = tbs[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC;
  return tbs[hasVersion ? 5 : 4]!;
}

function revokedCertificates(revoked: CrlOptions['revoked']): forge.asn1.Asn1[] {
  if (revoked.length === 0) return []; // RFC 5280: omit the list rather than leave it empty
  const entries = revoked.map((entry) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      integer(derIntegerHex(entry.serialHex)),
      time(entry.revokedAt),
    ]),
  );
  return [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, entries)];
}

function crlExtensions(authorityKeyIdentifier: string, crlNumber: number): forge.asn1.Asn1 {
  const keyIdentifier = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, authorityKeyIdentifier),
  ]);
  const number = integer(derIntegerHex(crlNumber.toString(16)));
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      extension(AUTHORITY_KEY_IDENTIFIER_OID, keyIdentifier),
      extension(CRL_NUMBER_OID, number),
    ]),
  ]);
}

function extension(oid: string, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  ]);
}

function sha256WithRsaAlgorithm(): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SHA256_WITH_RSA_OID).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
}

function integer(derHex: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(derHex));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): forge.asn1.Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}
