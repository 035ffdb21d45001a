// Proves what a proof file means (core/audit-proof.ts): a true inclusion or consistency proof checks
// out; a wrong hash fails; an unsigned field that contradicts the signed checkpoint, a checkpoint by
// another key, an entry outside the grammar or a stray field is refused, whatever the hashes say.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkAuditProof } from '../../core/audit-proof.ts';
import { encodeAuditEntry, FIRST_PREVIOUS } from '../../core/audit-entry.ts';
import { base64Encode, hexEncode } from '../../core/bytes.ts';
import { AppError } from '../../core/errors.ts';
import { consistencyProof, createMerkleHasher, inclusionProof, rootFromLeafHashes } from '../../core/merkle.ts';
import { ed25519KeyId, formatCheckpoint, signNote, type NoteVerifier } from '../../core/signed-note.ts';
import { createEd25519Signer, createEd25519Verifier, generateEd25519KeyPair } from '../../drivers/pki/ed25519.ts';

const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
const hasher = createMerkleHasher(sha256);
const ORIGIN = 'cvs-issue.test/kiosk/K0001';

function logKey(name: string) {
  const keys = generateEd25519KeyPair();
  const keyId = ed25519KeyId(name, keys.publicKey, sha256);
  const signer = { name, keyId, sign: createEd25519Signer(keys.privateKeyPem) };
  const verifier: NoteVerifier = { name, keyId, verify: createEd25519Verifier(keys.publicKey) };
  return { signer, verifier };
}

const key = logKey(ORIGIN);
const entries: Uint8Array[] = [];
for (let index = 0; index < 7; index += 1) {
  const previous = index === 0 ? FIRST_PREVIOUS : hexEncode(hasher.leafHash(entries[index - 1]!));
  entries.push(encodeAuditEntry({ index, previous, time: '2026-12-01T01:00:00.000Z', kind: 'fault', data: { code: `test.${index}` } }));
}
const leaves = entries.map((entry) => hasher.leafHash(entry));
const checkpointAt = (size: number, signer = key.signer) => signNote(formatCheckpoint({ origin: ORIGIN, size, rootHash: rootFromLeafHashes(hasher, leaves.slice(0, size)), extensions: [] }), signer);

const inclusion = () => ({ type: 'inclusion', origin: ORIGIN, index: 3, size: 7, entryBase64: base64Encode(entries[3]!), proof: inclusionProof(hasher, leaves, 3, 7).map(hexEncode), checkpoint: checkpointAt(7) });
const consistency = () => ({ type: 'consistency', origin: ORIGIN, fromSize: 4, toSize: 7, proof: consistencyProof(hasher, leaves, 4, 7).map(hexEncode), fromCheckpoint: checkpointAt(4), toCheckpoint: checkpointAt(7) });

function refused(proof: unknown, kind: 'input' | 'differences', code: string): void {
  assert.throws(() => checkAuditProof(proof, key.verifier, hasher, 'proof.json'), (error: unknown) => error instanceof AppError && error.kind === kind && error.code === code && error.where === 'proof.json');
}

describe('audit proof files', () => {
  it('checks a true inclusion proof and a true consistency proof', () => {
    assert.deepEqual(checkAuditProof(inclusion(), key.verifier, hasher, 'p'), { ok: true, description: `entry 3 is in ${ORIGIN} at size 7` });
    assert.deepEqual(checkAuditProof(consistency(), key.verifier, hasher, 'p'), { ok: true, description: `${ORIGIN} at size 7 extends size 4` });
  });

  it('fails a proof whose hashes do not lead to the signed root', () => {
    const wrong = inclusion();
    wrong.proof[0] = wrong.proof[0]!.replace(/^./, (digit) => (digit === '0' ? '1' : '0'));
    assert.equal(checkAuditProof(wrong, key.verifier, hasher, 'p').ok, false);
    const otherEntry = { ...inclusion(), index: 4, entryBase64: base64Encode(entries[4]!) };
    assert.equal(checkAuditProof(otherEntry, key.verifier, hasher, 'p').ok, false);
  });

  it('refuses unsigned fields that contradict the signed checkpoints', () => {
    refused({ ...inclusion(), size: 6 }, 'differences', 'proof.contradicts');
    refused({ ...inclusion(), origin: 'cvs-issue.test/kiosk/K0002' }, 'differences', 'proof.contradicts');
    refused({ ...inclusion(), index: 2 }, 'differences', 'proof.contradicts');
    refused({ ...consistency(), fromSize: 3 }, 'differences', 'proof.contradicts');
    refused({ ...consistency(), toSize: 8 }, 'differences', 'proof.contradicts');
  });

  it("refuses a checkpoint signed by another key, and an entry outside the grammar", () => {
    const other = logKey(ORIGIN);
    refused({ ...inclusion(), checkpoint: checkpointAt(7, other.signer) }, 'differences', 'proof.bad_checkpoint');
    refused({ ...inclusion(), entryBase64: base64Encode(new TextEncoder().encode('{"index":3}')) }, 'differences', 'proof.bad_entry');
  });

  it('refuses malformed proofs as input errors naming the field', () => {
    refused([], 'input', 'proof.bad_field');
    refused({ ...inclusion(), type: 'audit' }, 'input', 'proof.bad_field');
    refused({ ...inclusion(), note: 'extra' }, 'input', 'proof.bad_field');
    refused({ ...inclusion(), proof: ['zz'] }, 'input', 'proof.bad_field');
    refused({ ...inclusion(), proof: Array.from({ length: 65 }, () => '0'.repeat(64)) }, 'input', 'proof.bad_field');
    refused({ ...inclusion(), checkpoint: 42 }, 'input', 'proof.bad_field');
  });
});
