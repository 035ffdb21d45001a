// Witnessing another party's audit log (S4-5): keep its signed checkpoints, and accept a new one
// only with a proof that it extends the last one kept. The relay witnesses its kiosks; the centre
// witnesses the relays. A log rewritten by its owner, even with its own key, is caught here.

import { bytesEqual, hexDecode } from './bytes.ts';
import { AppError } from './errors.ts';
import { verifyConsistency, type MerkleHasher } from './merkle.ts';
import { asObject, integerField, stringField } from './messages.ts';
import { openNote, parseCheckpoint, type Checkpoint, type NoteVerifier } from './signed-note.ts';

export interface WitnessedCheckpoint {
  size: number;
  note: string;
}

/** A heartbeat's audit part: the latest signed checkpoint and a proof from the last one witnessed. */
export interface CheckpointOffer {
  checkpointNote: string;
  fromSize: number;
  consistencyProof: string[];
}

export function parseCheckpointOffer(body: Record<string, unknown>): CheckpointOffer {
  const proof = body.consistencyProof;
  if (!Array.isArray(proof) || proof.length > 64 || !proof.every((hash) => typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash))) {
    throw new AppError('input', 'request.bad_field', 'field "consistencyProof" must be a list of hex SHA-256 hashes', 'consistencyProof');
  }
  return {
    checkpointNote: stringField(body, 'checkpointNote', /^[\s\S]{1,2000}$/),
    fromSize: integerField(body, 'fromSize', 0, Number.MAX_SAFE_INTEGER),
    consistencyProof: proof as string[],
  };
}

export function parseCheckpointOfferBody(value: unknown): CheckpointOffer {
  return parseCheckpointOffer(asObject(value, 'body'));
}

function openCheckpoint(note: string, verifier: NoteVerifier, origin: string): Checkpoint {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(openNote(note, [verifier]).body);
  } catch {
    throw new AppError('refused', 'witness.bad_signature', "the checkpoint is not signed with the log's audit key");
  }
  if (checkpoint.origin !== origin) throw new AppError('refused', 'witness.wrong_origin', 'the checkpoint belongs to another log');
  return checkpoint;
}

/**
 * Decides about an offered checkpoint. Returns the checkpoint to keep (undefined when it is the
 * one already kept); throws 'witness.inconsistent' when the log does not extend what was seen.
 */
export function witness(input: {
  offer: CheckpointOffer;
  previous: WitnessedCheckpoint | undefined;
  origin: string;
  verifier: NoteVerifier;
  hasher: MerkleHasher;
}): { keep: WitnessedCheckpoint | undefined; witnessedSize: number } {
  const { offer, verifier } = input;
  const checkpoint = openCheckpoint(offer.checkpointNote, verifier, input.origin);
  if (input.previous) {
    const before = parseCheckpoint(openNote(input.previous.note, [verifier]).body);
    const consistent =
      offer.fromSize === before.size &&
      checkpoint.size >= before.size &&
      (checkpoint.size === before.size
        ? bytesEqual(checkpoint.rootHash, before.rootHash)
        : verifyConsistency(input.hasher, before.size, checkpoint.size, offer.consistencyProof.map(hexDecode), before.rootHash, checkpoint.rootHash));
    if (!consistent) {
      throw new AppError('conflict', 'witness.inconsistent', `the audit log does not extend the checkpoint witnessed at size ${before.size}`, input.origin);
    }
    if (checkpoint.size === before.size) return { keep: undefined, witnessedSize: before.size };
  }
  return { keep: { size: checkpoint.size, note: offer.checkpointNote }, witnessedSize: checkpoint.size };
}
