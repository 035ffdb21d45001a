// Issues the project's test PKI: CA certificates, leaf certificates and CRLs.
// node-forge builds the structures; node:crypto generates the RSA keys (forge's pure-JS key
// generation takes seconds) and applies the issuer's key to forge's digest: forge's own RSA takes
// about 90 ms a signature, node:crypto under 2 ms, and RSA PKCS#1 v1.5 is deterministic, so the
// certificate bytes are the same either way (test/drivers/pki/issue.test.ts checks it). Private
// keys are PKCS#8 PEM ("BEGIN PRIVATE KEY"), public keys SPKI PEM ("BEGIN PUBLIC KEY"): both
// node:crypto and forge read them.
import { constants, createPrivateKey, generateKeyPair, generateKeyPairSync, privateEncrypt, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { AppError } from '../../core/errors.ts';
import { SHA256_DIGEST_INFO_PREFIX } from './raw-sign.ts';
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
  /** A key pair generated beforehand (see generateRsaKeyPems); default: a new one now. */
  keyPair?: RsaKeyPair;
}

export interface RsaKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
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

function rsaKeyOptions(bits: number) {
  return {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki' as const, format: 'pem' as const },
    privateKeyEncoding: { type: 'pkcs8' as const, format: 'pem' as const },
  };
}

export function generateRsaKeyPem(bits = 2048): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', rsaKeyOptions(bits));
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * `count` RSA-2048 key pairs, generated on the runtime's worker thread pool rather than one after
 * another on the main thread: a key takes 50-400 ms (the prime search), so a deployment with a
 * thousand cards needs every core. Each pair is its own key, never shared.
 */
export async function generateRsaKeyPems(count: number, bits = 2048): Promise<RsaKeyPair[]> {
  const one = () =>
    new Promise<RsaKeyPair>((resolve, reject) =>
      generateKeyPair('rsa', rsaKeyOptions(bits), (error, publicKey, privateKey) =>
        error ? reject(error) : resolve({ privateKeyPem: privateKey, publicKeyPem: publicKey }),
      ),
    );
  return Promise.all(Array.from({ length: count }, one));
}

export function createCertificateAuthority(options: {
  subject: SubjectFields;
  validFrom: Date;
  validTo: Date;
  keyPair?: RsaKeyPair;
}): KeyAndCertificate {
  const keys = options.keyPair ?? generateRsaKeyPem();
  const certificate = newCertificate(keys.publicKeyPem, randomSerialHex(), options);
  const name = subjectAttributes(options.subject);
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  certificate.sign(rsaSigner(createPrivateKey(keys.privateKeyPem)), forge.md.sha256.create());
  return { keyPem: keys.privateKeyPem, certificatePem: pki.certificateToPem(certificate) };
}

export function issueCertificate(issuer: KeyAndCertificate, options: IssueOptions): KeyAndCertificate {
  const keys =
    options.publicKeyPem !== undefined ? { privateKeyPem: '', publicKeyPem: options.publicKeyPem } : (options.keyPair ?? generateRsaKeyPem());
  const { certificate: issuerCertificate, signer } = parsedIssuer(issuer);
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
  certificate.sign(signer, forge.md.sha256.create());
  return { keyPem: keys.privateKeyPem, certificatePem: pki.certificateToPem(certificate) };
}

interface ParsedIssuer {
  certificate: forge.pki.Certificate;
  signer: forge.pki.rsa.PrivateKey;
}

/** An issuer parsed once, not once per certificate it signs: init issues a thousand with one CA. */
const parsedIssuers = new WeakMap<KeyAndCertificate, ParsedIssuer>();

function parsedIssuer(issuer: KeyAndCertificate): ParsedIssuer {
  let parsed = parsedIssuers.get(issuer);
  if (parsed === undefined) {
    parsed = { certificate: pki.certificateFromPem(issuer.certificatePem), signer: rsaSigner(createPrivateKey(issuer.keyPem)) };
    parsedIssuers.set(issuer, parsed);
  }
  return parsed;
}

/**
 * What forge's `sign(key, md)` calls on its key, done by node:crypto: RSASSA-PKCS1-v1_5 over
 * DigestInfo(SHA-256, digest) (RFC 8017 §8.2.1), returned as forge's binary string. Only SHA-256
 * digests are signed here.
 */
function rsaSigner(key: KeyObject): forge.pki.rsa.PrivateKey {
  const sign = (md: forge.md.MessageDigest): string => {
    if (md.algorithm !== 'sha256') throw new AppError('internal', 'pki.digest', `only SHA-256 is signed here, not ${md.algorithm}`);
    const digest = Buffer.from(md.digest().getBytes(), 'binary');
    const digestInfo = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, digest]);
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo).toString('binary');
  };
  return { sign } as unknown as forge.pki.rsa.PrivateKey;
}

/** A v2 CRL (RFC 5280 §5.1) with CRL number and authority key identifier, as PEM "X509 CRL". */
export function createCrl(issuer: KeyAndCertificate, options: CrlOptions): string {
  const { certificate: issuerCertificate, signer } = parsedIssuer(issuer);
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
  const signature = signer.sign(digest);
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
