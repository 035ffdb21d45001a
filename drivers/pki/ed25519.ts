// Ed25519 keys for signing audit-log checkpoints (C2SP signed notes). Private keys travel as
// PKCS#8 PEM like every other key in the project; public keys as the raw 32 bytes the signed-note
// key id and vkey formats use. node:crypto does the work on both Node and Bun.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { AppError } from '../../core/errors.ts';

export interface Ed25519KeyPair {
  privateKeyPem: string;
  /** Raw 32-byte public key (RFC 8032 encoding). */
  publicKey: Uint8Array;
}

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
/** SubjectPublicKeyInfo DER up to the key bytes: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: rawPublicKey(publicKey),
  };
}

export function ed25519PublicKeyFromPrivatePem(privateKeyPem: string): Uint8Array {
  return rawPublicKey(createPublicKey(loadPrivateKey(privateKeyPem)));
}

/** Parses the PEM once; the returned function signs with the cached KeyObject. */
export function createEd25519Signer(privateKeyPem: string): (message: Uint8Array) => Uint8Array {
  const key = loadPrivateKey(privateKeyPem);
  return (message) => new Uint8Array(sign(null, message, key));
}

/** Builds the KeyObject once; the returned function is false (never throws) for a bad signature. */
export function createEd25519Verifier(publicKey: Uint8Array): (message: Uint8Array, signature: Uint8Array) => boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new AppError('input', 'pki.bad_ed25519_key', 'an Ed25519 public key must be 32 bytes');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    throw new AppError('input', 'pki.bad_ed25519_key', 'the Ed25519 public key could not be loaded');
  }
  return (message, signature) => {
    if (signature.length !== SIGNATURE_BYTES) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

function loadPrivateKey(privateKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new AppError('input', 'pki.bad_ed25519_key', 'the private key PEM could not be read');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AppError('input', 'pki.bad_ed25519_key', `the private key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  }
  return key;
}

function rawPublicKey(publicKey: KeyObject): Uint8Array {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return new Uint8Array(der.subarray(SPKI_PREFIX.length));
}
