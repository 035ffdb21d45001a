// What a proof file from `audit-log prove` means (docs/audit-log.md): an inclusion proof says one
// entry is in the log a signed checkpoint commits to, a consistency proof that a later signed
// checkpoint extends an earlier one. Every unsigned field must say what the signed checkpoints say,
// or the proof contradicts itself (exit 3 at the command), whatever its hashes prove.

import { decodeAuditEntry, type AuditEntry } from './audit-entry.ts';
import { base64Decode, hexDecode } from './bytes.ts';
import { AppError, inputError } from './errors.ts';
import { verifyConsistency, verifyInclusion, type MerkleHasher } from './merkle.ts';
import { openNote, parseCheckpoint, type Checkpoint, type NoteVerifier } from './signed-note.ts';

const HEX_HASH = /^[0-9a-f]{64}$/;
const PROOF_FIELDS = { inclusion: ['type', 'origin', 'index', 'size', 'entryBase64', 'proof', 'checkpoint'], consistency: ['type', 'origin', 'fromSize', 'toSize', 'proof', 'fromCheckpoint', 'toCheckpoint'] };
/** No tree this log can hold needs a longer path (2^64 entries). */
const MAX_PROOF_HASHES = 64;

export interface ProofVerdict {
  ok: boolean;
  description: string;
}

/**
 * Checks a parsed proof against a log's public key. Malformed fields are input errors; a checkpoint
 * not signed by the key, an entry outside the grammar, or an unsigned field that contradicts a signed
 * one are differences. `where` names the proof in every error (its file).
 */
export function checkAuditProof(proof: unknown, verifier: NoteVerifier, hasher: MerkleHasher, where: string): ProofVerdict {
  if (typeof proof !== 'object' || proof === null || Array.isArray(proof)) throw inputError('proof.bad_field', 'a proof is a JSON object', where);
  const fields = proof as Record<string, unknown>;
  if (fields.type !== 'inclusion' && fields.type !== 'consistency') throw inputError('proof.bad_field', 'field "type" must be "inclusion" or "consistency"', where);
  const allowed = PROOF_FIELDS[fields.type];
  const unknown = Object.keys(fields).find((field) => !allowed.includes(field));
  if (unknown) throw inputError('proof.bad_field', `field "${unknown}" does not belong in a ${fields.type} proof`, where);
  return checkFields(fields, verifier, hasher, where);
}

function checkFields(proof: Record<string, unknown>, verifier: NoteVerifier, hasher: MerkleHasher, where: string): ProofVerdict {
  const contradiction = (what: string): AppError => new AppError('differences', 'proof.contradicts', `the proof's ${what}`, where);
  const hashes = (field: string): Uint8Array[] => {
    const list = proof[field];
    if (!Array.isArray(list) || list.length > MAX_PROOF_HASHES || !list.every((hash) => typeof hash === 'string' && HEX_HASH.test(hash))) throw inputError('proof.bad_field', `field "${field}" must list hex hashes`, where);
    return list.map((hash) => hexDecode(hash as string));
  };
  const checkpointOf = (field: string): Checkpoint => {
    const note = proof[field];
    if (typeof note !== 'string') throw inputError('proof.bad_field', `field "${field}" must be a signed checkpoint`, where);
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpoint(openNote(note, [verifier]).body);
    } catch {
      throw new AppError('differences', 'proof.bad_checkpoint', `the checkpoint in "${field}" is not signed by this key`, where);
    }
    if (proof.origin !== checkpoint.origin) throw contradiction(`"origin" (${JSON.stringify(proof.origin)}) is not the signed origin ${checkpoint.origin}`);
    return checkpoint;
  };
  let ok: boolean;
  let description: string;
  if (proof.type === 'inclusion') {
    const checkpoint = checkpointOf('checkpoint');
    if (proof.size !== checkpoint.size) throw contradiction(`"size" (${JSON.stringify(proof.size)}) is not the signed size ${checkpoint.size}`);
    if (typeof proof.entryBase64 !== 'string' || !Number.isSafeInteger(proof.index)) throw inputError('proof.bad_field', 'fields "entryBase64" and "index" are required', where);
    const index = proof.index as number;
    const entry = base64Decode(proof.entryBase64);
    let recorded: AuditEntry;
    try {
      recorded = decodeAuditEntry(entry);
    } catch (error) {
      throw new AppError('differences', 'proof.bad_entry', `the entry does not follow the entry grammar: ${(error as Error).message}`, where);
    }
    if (recorded.index !== index) throw contradiction(`"index" (${index}) is not the position the entry records (${recorded.index})`);
    ok = verifyInclusion(hasher, hasher.leafHash(entry), index, checkpoint.size, hashes('proof'), checkpoint.rootHash);
    description = `entry ${index} is ${ok ? '' : 'NOT '}in ${checkpoint.origin} at size ${checkpoint.size}`;
  } else {
    const from = checkpointOf('fromCheckpoint');
    const to = checkpointOf('toCheckpoint');
    if (proof.fromSize !== from.size) throw contradiction(`"fromSize" (${JSON.stringify(proof.fromSize)}) is not the signed size ${from.size}`);
    if (proof.toSize !== to.size) throw contradiction(`"toSize" (${JSON.stringify(proof.toSize)}) is not the signed size ${to.size}`);
    ok = verifyConsistency(hasher, from.size, to.size, hashes('proof'), from.rootHash, to.rootHash);
    description = `${to.origin} at size ${to.size} ${ok ? 'extends' : 'does NOT extend'} size ${from.size}`;
  }
  return { ok, description };
}

