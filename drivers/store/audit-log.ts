// The audit log in a role's SQLite database: entries appended in the same transaction as the event
// they record, a signed checkpoint for every transaction that appended, and a refusal to sign
// anything that does not extend what was signed before.

import { assertAuditEvent, encodeAuditEntry, FIRST_PREVIOUS, type AuditEvent } from '../../core/audit-entry.ts';
import { AuditVerifier, type AuditVerification, type StoredCheckpoint } from '../../core/audit-verify.ts';
import { bytesEqual, hexEncode } from '../../core/bytes.ts';
import { AppError } from '../../core/errors.ts';
import { formatUtcIso } from '../../core/jst.ts';
import { consistencyProof, createMerkleHasher, MerkleFrontier, type MerkleHasher } from '../../core/merkle.ts';
import type { CheckpointOffer } from '../../core/witness.ts';
import type { Clock } from '../../core/ports.ts';
import { ed25519KeyId, formatCheckpoint, formatVerifierKey, openNote, parseCheckpoint, parseVerifierKey, signNote, type NoteVerifier } from '../../core/signed-note.ts';
import { createEd25519Signer, createEd25519Verifier, ed25519PublicKeyFromPrivatePem } from '../pki/ed25519.ts';
import { sha256 } from '../crypto/sha256.ts';
import type { Database } from './database.ts';

export const auditHasher: MerkleHasher = createMerkleHasher(sha256);

/** The log's name in its checkpoints: cvs-issue/center, cvs-issue/relay/OP01, cvs-issue/kiosk/K0001. */
export function auditOrigin(role: 'center' | 'relay' | 'kiosk', id?: string): string {
  return id ? `cvs-issue/${role}/${id}` : `cvs-issue/${role}`;
}

export function verifierKeyForPrivateKey(origin: string, privateKeyPem: string): string {
  return formatVerifierKey(origin, ed25519PublicKeyFromPrivatePem(privateKeyPem), sha256);
}

export function noteVerifierFromKey(verifierKey: string): NoteVerifier {
  const parsed = parseVerifierKey(verifierKey, sha256);
  return { name: parsed.name, keyId: parsed.keyId, verify: createEd25519Verifier(parsed.publicKey) };
}

export function readCheckpoints(db: Database): StoredCheckpoint[] {
  return db.all<StoredCheckpoint>('SELECT size, note FROM audit_checkpoints ORDER BY size');
}

export function latestCheckpoint(db: Database): StoredCheckpoint | undefined {
  return db.get<StoredCheckpoint>('SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1');
}

/** Recomputes the whole log; names the first entry that is wrong. */
export function verifyStoredLog(db: Database, origin: string, verifiers: readonly NoteVerifier[], witnessed: readonly StoredCheckpoint[] = []): AuditVerification {
  const verifier = new AuditVerifier(readCheckpoints(db), { hasher: auditHasher, origin, verifiers, witnessed });
  // Pages by primary key: all() on a page is several times cheaper per row than a row iterator.
  for (let first = Number.MIN_SAFE_INTEGER; ; first += VERIFY_PAGE_ROWS) {
    const page = db.all<{ idx: number; entry: Uint8Array; leaf_hash: Uint8Array }>(
      'SELECT idx, entry, leaf_hash FROM audit_entries WHERE idx >= :first ORDER BY idx LIMIT :limit',
      { first, limit: VERIFY_PAGE_ROWS },
    );
    for (const row of page) if (!verifier.push(row.idx, row.entry, row.leaf_hash)) return verifier.finish();
    if (page.length < VERIFY_PAGE_ROWS) return verifier.finish();
    first = page.at(-1)!.idx + 1 - VERIFY_PAGE_ROWS;
  }
}

const VERIFY_PAGE_ROWS = 20_000;

export function readLeafHashes(db: Database, size?: number): Uint8Array[] {
  const limit = size ?? Number.MAX_SAFE_INTEGER;
  return db.all<{ leaf_hash: Uint8Array }>('SELECT leaf_hash FROM audit_entries WHERE idx < :limit ORDER BY idx', { limit }).map((row) => row.leaf_hash);
}

export class AuditLog {
  readonly origin: string;
  readonly verifierKey: string;
  private readonly db: Database;
  private readonly clock: Clock;
  private readonly sign: (message: Uint8Array) => Uint8Array;
  private readonly keyId: Uint8Array;
  private readonly noteVerifier: NoteVerifier;
  private frontier = new MerkleFrontier(auditHasher);
  private lastLeaf: Uint8Array | undefined;

  constructor(db: Database, options: { origin: string; privateKeyPem: string; clock: Clock }) {
    this.db = db;
    this.origin = options.origin;
    this.clock = options.clock;
    this.sign = createEd25519Signer(options.privateKeyPem);
    const publicKey = ed25519PublicKeyFromPrivatePem(options.privateKeyPem);
    this.keyId = ed25519KeyId(this.origin, publicKey, sha256);
    this.verifierKey = formatVerifierKey(this.origin, publicKey, sha256);
    this.noteVerifier = { name: this.origin, keyId: this.keyId, verify: createEd25519Verifier(publicKey) };
    this.reload();
  }

  get size(): number {
    return this.frontier.size;
  }

  /**
   * Rebuilds the in-memory tree from the database and checks it against the latest signed
   * checkpoint: a log edited behind our back is refused rather than extended.
   */
  private reload(): void {
    const latest = latestCheckpoint(this.db);
    const frontier = new MerkleFrontier(auditHasher);
    let lastLeaf: Uint8Array | undefined;
    let latestChecked = latest === undefined || latest.size === 0;
    for (const leaf of readLeafHashes(this.db)) {
      frontier.push(leaf);
      lastLeaf = leaf;
      if (latest && frontier.size === latest.size) {
        latestChecked = true;
        if (!bytesEqual(frontier.root(), this.checkpointRoot(latest))) {
          throw new AppError('differences', 'audit.inconsistent', `the audit log no longer matches its signed checkpoint at size ${latest.size}; run "cvs-issue audit-log verify"`);
        }
      }
    }
    if (!latestChecked) {
      throw new AppError('differences', 'audit.inconsistent', `the audit log is shorter than its signed checkpoint at size ${latest!.size}; run "cvs-issue audit-log verify"`);
    }
    this.frontier = frontier;
    this.lastLeaf = lastLeaf;
  }

  private checkpointRoot(stored: StoredCheckpoint): Uint8Array {
    return parseCheckpoint(openNote(stored.note, [this.noteVerifier]).body).rootHash;
  }

  /**
   * Runs `work` and appends the events it yields in one database transaction, then signs a
   * checkpoint for the new size in the same transaction: the event and its record land together.
   */
  transaction<T>(events: AuditEvent[] | ((result: T) => AuditEvent[]), work: () => T): T {
    try {
      return this.db.transaction(() => {
        const result = work();
        const list = typeof events === 'function' ? events(result) : events;
        if (list.length > 0) this.appendInTransaction(list);
        return result;
      });
    } catch (error) {
      this.reload();
      throw error;
    }
  }

  append(...events: AuditEvent[]): void {
    this.transaction(events, () => undefined);
  }

  private appendInTransaction(events: readonly AuditEvent[]): void {
    const last = this.db.get<{ idx: number }>('SELECT idx FROM audit_entries ORDER BY idx DESC LIMIT 1');
    if ((last ? last.idx + 1 : 0) !== this.frontier.size) this.reload(); // another process appended
    const time = formatUtcIso(this.clock.nowMs());
    for (const event of events) {
      assertAuditEvent(event);
      const index = this.frontier.size;
      const entry = encodeAuditEntry({ index, previous: this.lastLeaf ? hexEncode(this.lastLeaf) : FIRST_PREVIOUS, time, kind: event.kind, data: event.data ?? {} });
      const leafHash = auditHasher.leafHash(entry);
      this.db.run('INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (:index, :entry, :leafHash)', { index, entry, leafHash });
      this.frontier.push(leafHash);
      this.lastLeaf = leafHash;
    }
    const body = formatCheckpoint({ origin: this.origin, size: this.frontier.size, rootHash: this.frontier.root(), extensions: [] });
    const note = signNote(body, { name: this.origin, keyId: this.keyId, sign: this.sign });
    this.db.run('INSERT INTO audit_checkpoints (size, note, created_at) VALUES (:size, :note, :createdAt)', { size: this.frontier.size, note, createdAt: time });
  }
}

/** Where a log owner remembers what its witness acknowledged (the audit_witnessed table). */
export interface WitnessedSizes {
  lastWitnessedSize(): number;
  markWitnessed(size: number, atMs: number): void;
}

export function witnessedSizesIn(db: Database): WitnessedSizes {
  return {
    lastWitnessedSize: () => db.get<{ size: number | null }>('SELECT MAX(size) AS size FROM audit_witnessed')?.size ?? 0,
    markWitnessed: (size, atMs) => {
      db.run('INSERT OR IGNORE INTO audit_witnessed (size, acknowledged_at) VALUES (:size, :at)', { size, at: new Date(atMs).toISOString() });
    },
  };
}

/**
 * Offers this log's latest checkpoint to its witness, with a consistency proof from the last size
 * the witness acknowledged, and records what it acknowledged. Errors are the caller's to judge.
 */
export async function offerCheckpointToWitness(
  db: Database,
  sizes: WitnessedSizes,
  post: (offer: CheckpointOffer) => Promise<{ witnessedSize: number }>,
  nowMs: () => number,
): Promise<void> {
  const latest = latestCheckpoint(db);
  if (!latest) return;
  const fromSize = sizes.lastWitnessedSize();
  const proof = fromSize > 0 && fromSize < latest.size ? consistencyProof(auditHasher, readLeafHashes(db, latest.size), fromSize, latest.size) : [];
  const answer = await post({ checkpointNote: latest.note, fromSize, consistencyProof: proof.map(hexEncode) });
  sizes.markWitnessed(answer.witnessedSize, nowMs());
}
