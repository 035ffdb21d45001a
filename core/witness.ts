// Witnessing another party's audit log (S4-5): keep its signed checkpoints, and accept a new one
// only with a proof that it extends the last one kept. The relay witnesses its kiosks; the centre
// witnesses the relays; the relays cosign the centre's (C2SP tlog-cosignature). A log rewritten by
// its owner, even with its own key, is caught here.
//
// What a witness accepts it records in its own log (docs/audit-log.md): origin, size, root and
// the log's signature, enough to rebuild the signed note. Its tables are a cache of that record;
// verify reads the record, so deleting the witness's rows hides nothing.

import { bytesEqual, base64Decode, base64Encode, hexDecode } from './bytes.ts';
import { AppError } from './errors.ts';
import { verifyConsistency, type MerkleHasher } from './merkle.ts';
import { asObject, integerField, stringField } from './messages.ts';
import { cosignatureTimestamp, formatCheckpoint, noteBody, openNote, parseCheckpoint, signatureLines, type Checkpoint, type NoteVerifier } from './signed-note.ts';
import type { AuditValue } from './audit-entry.ts';

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

function hashList(body: Record<string, unknown>, field: string): string[] {
  const proof = body[field];
  if (!Array.isArray(proof) || proof.length > 64 || !proof.every((hash) => typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash))) {
    throw new AppError('input', 'request.bad_field', `field "${field}" must be a list of hex SHA-256 hashes`, field);
  }
  return proof as string[];
}

export function parseCheckpointOffer(body: Record<string, unknown>): CheckpointOffer {
  return {
    checkpointNote: stringField(body, 'checkpointNote', /^[\s\S]{1,2000}$/),
    fromSize: integerField(body, 'fromSize', 0, Number.MAX_SAFE_INTEGER),
    consistencyProof: hashList(body, 'consistencyProof'),
  };
}

export function parseCheckpointOfferBody(value: unknown): CheckpointOffer {
  return parseCheckpointOffer(asObject(value, 'body'));
}

/** The relay's heartbeat to the centre: its own offer, and how far it has cosigned the centre's log. */
export interface RelayHeartbeat extends CheckpointOffer {
  cosignedSize: number;
}

export function parseRelayHeartbeat(value: unknown): RelayHeartbeat {
  const body = asObject(value, 'body');
  return { ...parseCheckpointOffer(body), cosignedSize: body.cosignedSize === undefined ? 0 : integerField(body, 'cosignedSize', 0, Number.MAX_SAFE_INTEGER) };
}

/** The centre's answer: what it witnessed, and its own latest checkpoint for the relay to cosign. */
export interface RelayHeartbeatAnswer {
  witnessedSize: number;
  centerCheckpoint?: CheckpointOffer;
}

export function parseRelayHeartbeatAnswer(value: unknown): RelayHeartbeatAnswer {
  const body = asObject(value, 'answer');
  const witnessedSize = integerField(body, 'witnessedSize', 0, Number.MAX_SAFE_INTEGER);
  return body.centerCheckpoint === undefined ? { witnessedSize } : { witnessedSize, centerCheckpoint: parseCheckpointOffer(asObject(body.centerCheckpoint, 'centerCheckpoint')) };
}

/** What a witness writes in its own log about a checkpoint it accepted. */
export interface WitnessRecord {
  origin: string;
  size: number;
  /** Base64, as in the checkpoint. */
  rootHash: string;
  /** Base64 of the log's signature line (key id ‖ signature). */
  signature: string;
}

function openCheckpoint(note: string, verifier: NoteVerifier, origin: string): Checkpoint {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(openNote(note, [verifier]).body);
  } catch {
    throw new AppError('refused', 'witness.bad_signature', "the checkpoint is not signed with the log's audit key");
  }
  if (checkpoint.origin !== origin) throw new AppError('refused', 'witness.wrong_origin', 'the checkpoint belongs to another log');
  if (checkpoint.extensions.length > 0) throw new AppError('refused', 'witness.extensions', 'the checkpoint carries extension lines, which this witness does not keep');
  return checkpoint;
}

/** The record of an accepted note: its body and the log's own signature line, nothing else. */
export function witnessRecordOf(note: string, verifier: NoteVerifier): WitnessRecord {
  const checkpoint = parseCheckpoint(openNote(note, [verifier]).body);
  const own = signatureLines(note).find((line) => line.name === verifier.name && bytesEqual(line.keyId, verifier.keyId));
  if (!own) throw new AppError('refused', 'witness.bad_signature', "the checkpoint is not signed with the log's audit key");
  return { origin: checkpoint.origin, size: checkpoint.size, rootHash: base64Encode(checkpoint.rootHash), signature: own.line.slice(own.line.lastIndexOf(' ') + 1) };
}

/** The signed note a record stands for, byte for byte as the log signed it. */
export function noteOfWitnessRecord(record: WitnessRecord): string {
  const body = formatCheckpoint({ origin: record.origin, size: record.size, rootHash: base64Decode(record.rootHash), extensions: [] });
  return `${body}\n\u2014 ${record.origin} ${record.signature}\n`;
}

export function witnessRecordData(record: WitnessRecord): Record<string, AuditValue> {
  return { origin: record.origin, size: record.size, rootHash: record.rootHash, signature: record.signature };
}

/** Reads a record back from an audit entry's data; undefined when a field is missing. */
export function witnessRecordFromData(data: Record<string, AuditValue>): WitnessRecord | undefined {
  const { origin, size, rootHash, signature } = data;
  if (typeof origin !== 'string' || typeof size !== 'number' || typeof rootHash !== 'string' || typeof signature !== 'string') return undefined;
  return { origin, size, rootHash, signature };
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
}): { keep: (WitnessedCheckpoint & { record: WitnessRecord }) | undefined; witnessedSize: number; resync?: true } {
  const { offer, verifier } = input;
  const checkpoint = openCheckpoint(offer.checkpointNote, verifier, input.origin);
  if (input.previous) {
    const before = parseCheckpoint(openNote(input.previous.note, [verifier]).body);
    // The owner proves from a size it thinks was witnessed. If that is not what this witness holds
    // (the owner was killed before it saved the last answer), nothing is accepted: the answer
    // names the size to prove from, and the next offer is checked against it.
    if (offer.fromSize !== before.size) return { keep: undefined, witnessedSize: before.size, resync: true };
    const consistent =
      checkpoint.size >= before.size &&
      (checkpoint.size === before.size
        ? bytesEqual(checkpoint.rootHash, before.rootHash)
        : verifyConsistency(input.hasher, before.size, checkpoint.size, offer.consistencyProof.map(hexDecode), before.rootHash, checkpoint.rootHash));
    if (!consistent) {
      throw new AppError('conflict', 'witness.inconsistent', `the audit log does not extend the checkpoint witnessed at size ${before.size}`, input.origin);
    }
    if (checkpoint.size === before.size) return { keep: undefined, witnessedSize: before.size };
  }
  const record = witnessRecordOf(offer.checkpointNote, verifier);
  return { keep: { size: checkpoint.size, note: noteOfWitnessRecord(record), record }, witnessedSize: checkpoint.size };
}

/**
 * A cosigned checkpoint handed back to the log: it must carry the log's signature over a body the
 * log really signed (`storedNote`) and a cosignature by the witness. Returns what to keep.
 */
export function checkCosignedNote(
  note: string,
  logVerifier: NoteVerifier,
  witnessVerifier: NoteVerifier,
  storedNoteAt: (size: number) => string | undefined,
): { size: number; witness: string; note: string; timestamp: number } {
  let verifiedBy: string[];
  try {
    verifiedBy = openNote(note, [logVerifier, witnessVerifier]).verifiedBy;
  } catch {
    throw new AppError('refused', 'cosignature.bad_signature', 'the cosigned checkpoint does not verify');
  }
  if (!verifiedBy.includes(witnessVerifier.name)) throw new AppError('refused', 'cosignature.bad_signature', `the checkpoint carries no cosignature by ${witnessVerifier.name}`);
  const body = noteBody(note);
  const checkpoint = parseCheckpoint(body);
  const stored = storedNoteAt(checkpoint.size);
  if (stored === undefined || noteBody(stored) !== body) throw new AppError('conflict', 'cosignature.not_this_log', `the log has no checkpoint at size ${checkpoint.size} with this root`);
  const line = signatureLines(note).find((signature) => signature.name === witnessVerifier.name && bytesEqual(signature.keyId, witnessVerifier.keyId))!;
  return { size: checkpoint.size, witness: witnessVerifier.name, note: `${stored}${line.line}\n`, timestamp: cosignatureTimestamp(line.signature) ?? 0 };
}
