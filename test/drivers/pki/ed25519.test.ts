// Proves the Ed25519 driver signs and verifies round trip, rejects wrong messages, signatures and keys without throwing, and reproduces the RFC 8032 test 1 signature from a raw seed.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createEd25519Signer,
  createEd25519Verifier,
  ed25519PublicKeyFromPrivatePem,
  generateEd25519KeyPair,
} from '../../../drivers/pki/ed25519.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** PKCS#8 PEM for a raw 32-byte Ed25519 seed (RFC 8410 structure). */
function pemFromSeed(seedHex: string): string {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]);
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
}

describe('ed25519 driver', () => {
  it('signs and verifies a round trip; a wrong message or signature is false', () => {
    const keys = generateEd25519KeyPair();
    assert.equal(keys.publicKey.length, 32);
    assert.match(keys.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(hex(ed25519PublicKeyFromPrivatePem(keys.privateKeyPem)), hex(keys.publicKey));
    const sign = createEd25519Signer(keys.privateKeyPem);
    const verify = createEd25519Verifier(keys.publicKey);
    const signature = sign(text('origin\n1\nroot\n'));
    assert.equal(signature.length, 64);
    assert.equal(verify(text('origin\n1\nroot\n'), signature), true);
    assert.equal(verify(text('origin\n2\nroot\n'), signature), false);
    const tampered = signature.slice();
    tampered[10]! ^= 1;
    assert.equal(verify(text('origin\n1\nroot\n'), tampered), false);
    assert.equal(verify(text('origin\n1\nroot\n'), signature.subarray(1)), false);
    assert.equal(verify(text('origin\n1\nroot\n'), new Uint8Array(0)), false);
    assert.equal(createEd25519Verifier(generateEd25519KeyPair().publicKey)(text('origin\n1\nroot\n'), signature), false);
  });

  it('reproduces RFC 8032 §7.1 test 1 (empty message)', () => {
    const pem = pemFromSeed('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    assert.equal(
      hex(ed25519PublicKeyFromPrivatePem(pem)),
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    const signature = createEd25519Signer(pem)(new Uint8Array(0));
    assert.equal(
      hex(signature),
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    assert.equal(createEd25519Verifier(ed25519PublicKeyFromPrivatePem(pem))(new Uint8Array(0), signature), true);
  });

  it('refuses keys that are not Ed25519 or not 32 bytes', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    assert.throws(() => createEd25519Signer(rsa.toString()), { code: 'pki.bad_ed25519_key' });
    assert.throws(() => createEd25519Signer('not a pem'), { code: 'pki.bad_ed25519_key' });
    assert.throws(() => createEd25519Verifier(new Uint8Array(31)), { code: 'pki.bad_ed25519_key' });
  });
});
