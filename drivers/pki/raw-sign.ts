// How the simulated card signs: it receives a host-built DigestInfo and applies the RSA private key
// with PKCS#1 v1.5 block type 1, as a JPKI card's COMPUTE DIGITAL SIGNATURE does. The result is
// exactly what crypto.sign('sha256', data, key) gives, so the centre checks it with
// crypto.verify('sha256', data, …). privateEncrypt behaves the same on Node 20 and Bun 1.4.5.
import { constants, createHash, privateEncrypt } from 'node:crypto';
import { AppError } from '../../core/errors.ts';

/** DER prefix of DigestInfo { sha256, NULL } with a 32-byte OCTET STRING (RFC 8017 §9.2). */
export const SHA256_DIGEST_INFO_PREFIX = Uint8Array.from(
  Buffer.from('3031300d060960864801650304020105000420', 'hex'),
);

/** DigestInfo(SHA-256(data)): what a host sends the card to sign. */
export function sha256DigestInfo(data: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(data).digest();
  const digestInfo = new Uint8Array(SHA256_DIGEST_INFO_PREFIX.length + digest.length);
  digestInfo.set(SHA256_DIGEST_INFO_PREFIX);
  digestInfo.set(digest, SHA256_DIGEST_INFO_PREFIX.length);
  return digestInfo;
}

/** RSA PKCS#1 v1.5 type-1 signature over the given bytes as they are (no hashing here). The key
 * is PKCS#8 or PKCS#1 PEM; the input must be at most the modulus size less 11 bytes. */
export function signDigestInfo(privateKeyPem: string, digestInfo: Uint8Array): Uint8Array {
  try {
    const signature = privateEncrypt({ key: privateKeyPem, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
    return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength);
  } catch {
    throw new AppError('input', 'pki.sign_failed', 'the key could not sign this block (bad key or too long)');
  }
}
