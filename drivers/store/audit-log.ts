// The audit log in a role's SQLite database: entries appended in the same transaction as the event
// they record, a signed checkpoint for every transaction that appended, and a refusal to sign
// anything that does not extend what was signed before.

import { assertAuditEvent, encodeAuditEntry, FIRST_PREVIOUS, type AuditEvent } from '../../core/audit-entry.ts';
import { AuditVerifier, type AuditVerification, type CheckpointEvidence, type StoredCheckpoint } from '../../core/audit-verify.ts';
import { bytesEqual, hexEncode } from '../../core/bytes.ts';
import { AppError } from '../../core/errors.ts';
import { formatUtcIso } from '../../core/jst.ts';
import { consistencyProofFromNodes, createMerkleHasher, MerkleFrontier, type MerkleHasher, type TreeNodes } from '../../core/merkle.ts';
import type { CheckpointOffer } from '../../core/witness.ts';
import type { Clock } from '../../core/ports.ts';
import {
  cosignatureKeyId,
  cosignatureVerifier,
  ed25519KeyId,
  formatCheckpoint,
  formatVerifierKey,
  noteBody,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  signNote,
  type NoteSigner,
  type NoteVerifier,
} from '../../core/signed-note.ts';
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

/** The C2SP cosignature verifier key (type 0x04) of a witness holding this private key. */
export function cosignatureKeyForPrivateKey(name: string, privateKeyPem: string): string {
  return formatVerifierKey(name, ed25519PublicKeyFromPrivatePem(privateKeyPem), sha256, 'cosignature');
}

/** The cosignature key of the same Ed25519 key as a log's verifier key: how a relay cosigns. */
export function cosignatureKeyForVerifierKey(verifierKey: string): string {
  const parsed = parseVerifierKey(verifierKey, sha256);
  return formatVerifierKey(parsed.name, parsed.publicKey, sha256, 'cosignature');
}

/** A verifier for either kind of key: a log's (signed notes) or a witness's (cosignatures). */
export function noteVerifierFromKey(verifierKey: string): NoteVerifier {
  const parsed = parseVerifierKey(verifierKey, sha256);
  const verify = createEd25519Verifier(parsed.publicKey);
  return parsed.type === 'ed25519' ? { name: parsed.name, keyId: parsed.keyId, verify } : cosignatureVerifier(parsed.name, parsed.keyId, verify);
}

/** The same Ed25519 key under another name (the centre's document key under DOCUMENT_KEY_NAME, from its audit verifier key). */
export function renamedVerifierKey(verifierKey: string, name: string): string {
  return formatVerifierKey(name, parseVerifierKey(verifierKey, sha256).publicKey, sha256);
}

export function noteSignerFor(name: string, privateKeyPem: string, type: 'ed25519' | 'cosignature'): NoteSigner {
  const publicKey = ed25519PublicKeyFromPrivatePem(privateKeyPem);
  return { name, keyId: type === 'ed25519' ? ed25519KeyId(name, publicKey, sha256) : cosignatureKeyId(name, publicKey, sha256), sign: createEd25519Signer(privateKeyPem) };
}

export function readCheckpoints(db: Database): StoredCheckpoint[] {
  return db.all<StoredCheckpoint>('SELECT size, note FROM audit_checkpoints ORDER BY size');
}

export function latestCheckpoint(db: Database): StoredCheckpoint | undefined {
  return db.get<StoredCheckpoint>('SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1');
}

export function checkpointAtSize(db: Database, size: number): StoredCheckpoint | undefined {
  return db.get<StoredCheckpoint>('SELECT size, note FROM audit_checkpoints WHERE size = :size', { size });
}

/** Number of entries: one past the highest index (gaps are verify's to find). */
export function logSize(db: Database): number {
  const last = db.get<{ idx: number }>('SELECT idx FROM audit_entries ORDER BY idx DESC LIMIT 1');
  return last ? last.idx + 1 : 0;
}

/** Cosignatures witnesses gave this log (audit-log cosign, relays' answers), as cosigned notes. */
export function readCosignatures(db: Database): StoredCosignature[] {
  return db.all<StoredCosignature>('SELECT size, witness, note FROM audit_cosignatures ORDER BY size, witness');
}

export interface StoredCosignature {
  size: number;
  witness: string;
  /** The checkpoint body, the log's signature and the witness's cosignature line. */
  note: string;
}

/** The stored tree (docs/audit-log.md, audit_nodes): leaf hashes at level 0, subtree roots above. */
export function storedTreeNodes(db: Database): TreeNodes {
  return {
    node(level, index) {
      const row =
        level === 0
          ? db.get<{ hash: Uint8Array }>('SELECT leaf_hash AS hash FROM audit_entries WHERE idx = :index', { index })
          : db.get<{ hash: Uint8Array }>('SELECT hash FROM audit_nodes WHERE level = :level AND idx = :index', { level, index });
      if (!row) throw new AppError('differences', 'audit.node_missing', `the audit log's stored tree lacks node ${level}/${index}; run "cvs-issue audit-log verify"`, db.path);
      return row.hash;
    },
  };
}

export interface StoredVerifyOptions {
  origin: string;
  verifiers: readonly NoteVerifier[];
  witnessVerifiers?: readonly NoteVerifier[];
  evidence?: readonly CheckpointEvidence[];
  /** Check every stored checkpoint (signature and root), not only the latest and those at evidence sizes. */
  thorough?: boolean;
}

/** The sizes the evidence claims, read without trusting it (the verifier checks the signatures). */
function evidenceSizes(evidence: readonly CheckpointEvidence[]): number[] {
  return evidence.flatMap((held) => {
    try {
      return [parseCheckpoint(noteBody(held.note)).size];
    } catch {
      return [];
    }
  });
}

/** A verifier for the stored log, given the checkpoints verify checks (docs/audit-log.md). */
export function storedLogVerifier(db: Database, options: StoredVerifyOptions): AuditVerifier {
  const evidence = options.evidence ?? [];
  let checkpoints: StoredCheckpoint[];
  if (options.thorough) checkpoints = readCheckpoints(db);
  else {
    const latest = latestCheckpoint(db);
    const atEvidence = [...new Set(evidenceSizes(evidence))].flatMap((size) => checkpointAtSize(db, size) ?? []);
    checkpoints = [...atEvidence.filter((stored) => stored.size !== latest?.size), ...(latest ? [latest] : [])].sort((left, right) => left.size - right.size);
  }
  return new AuditVerifier(checkpoints, { hasher: auditHasher, origin: options.origin, verifiers: options.verifiers, witnessVerifiers: options.witnessVerifiers, evidence });
}

/** Recomputes the whole log; names the first entry that is wrong. */
export function verifyStoredLog(db: Database, options: StoredVerifyOptions): AuditVerification {
  const verifier = storedLogVerifier(db, options);
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

/**
 * How long a group that opened while other requests were in their handlers waits for them
 * (docs/audit-log.md "Group commit"): each commit writes the WAL pages and signs a checkpoint once
 * for all of them. It adds at most this much to an answer, and nothing when one request is alone.
 */
const GROUP_WINDOW_MS = 2;

/** Every leaf hash in index order, a page at a time (for rebuilding the stored tree once). */
function* leafHashPages(db: Database): Generator<Uint8Array[]> {
  for (let first = 0; ; ) {
    const page = db.all<{ idx: number; leaf_hash: Uint8Array }>('SELECT idx, leaf_hash FROM audit_entries WHERE idx >= :first ORDER BY idx LIMIT :limit', { first, limit: VERIFY_PAGE_ROWS });
    if (page.length > 0) yield page.map((row) => row.leaf_hash);
    if (page.length < VERIFY_PAGE_ROWS) return;
    first = page.at(-1)!.idx + 1;
  }
}

export class AuditLog {
  readonly origin: string;
  readonly verifierKey: string;
  private readonly db: Database;
  private readonly clock: Clock;
  private readonly sign: (message: Uint8Array) => Uint8Array;
  private readonly keyId: Uint8Array;
  private readonly noteVerifier: NoteVerifier;
  private readonly listeners: (() => void)[] = [];
  private frontier = new MerkleFrontier(auditHasher);
  private lastLeaf: Uint8Array | undefined;

  /**
   * Group commit (servers only, docs/audit-log.md "Group commit"): the transactions of one turn of
   * the event loop share one database transaction and one signed checkpoint; `committed()` says when.
   * On SQLite a group that opens while other requests are still being handled (trackRequest) stays
   * open for them up to GROUP_WINDOW_MS, and commits as soon as none is left.
   */
  private readonly groupCommit: boolean;
  private readonly groupWindowMs: number;
  private group: CommitGroup | undefined;
  /** Requests whose handler has not returned yet (trackRequest): they may still write into the open group. */
  private requestsInHandler = 0;
  /** Groups whose commit failed: a request that overlapped one is not acknowledged (committedSince). */
  private failedGroups = 0;

  constructor(db: Database, options: { origin: string; privateKeyPem: string; clock: Clock; groupCommit?: boolean; groupWindowMs?: number }) {
    this.db = db;
    this.groupCommit = options.groupCommit ?? false;
    // PostgreSQL: the group holds the advisory lock every centre on the database takes (docs/postgres.md).
    this.groupWindowMs = options.groupWindowMs ?? (db.driver === 'postgres' ? 0 : GROUP_WINDOW_MS);
    this.origin = options.origin;
    this.clock = options.clock;
    this.sign = createEd25519Signer(options.privateKeyPem);
    const publicKey = ed25519PublicKeyFromPrivatePem(options.privateKeyPem);
    this.keyId = ed25519KeyId(this.origin, publicKey, sha256);
    this.verifierKey = formatVerifierKey(this.origin, publicKey, sha256);
    this.noteVerifier = { name: this.origin, keyId: this.keyId, verify: createEd25519Verifier(publicKey) };
    // In a transaction: the size and the latest checkpoint read together, not either side of another
    // process's commit (several centres on one PostgreSQL store, docs/postgres.md).
    this.db.transaction(() => this.reload());
  }

  get size(): number {
    return this.frontier.size;
  }

  /** Called after every committed append: the kiosk offers new entries to its witness at once. */
  onAppend(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Rebuilds the in-memory tree from the stored tree (O(log n) reads) and checks it against the
   * latest signed checkpoint. A log edited behind our back is refused rather than extended, and
   * so is a tail no checkpoint covers: signing over it would launder a forgery.
   */
  private reload(): void {
    const latest = latestCheckpoint(this.db);
    const size = logSize(this.db);
    const signedSize = latest?.size ?? 0;
    if (size > signedSize) {
      throw new AppError('differences', 'audit.uncovered', `the audit log has entries ${signedSize}..${size - 1} that no signed checkpoint covers; refusing to sign over them; run "cvs-issue audit-log verify"`, this.db.path);
    }
    if (size < signedSize) {
      throw new AppError('differences', 'audit.inconsistent', `the audit log is shorter than its signed checkpoint at size ${signedSize}; run "cvs-issue audit-log verify"`, this.db.path);
    }
    this.ensureStoredTree(size);
    const frontier = MerkleFrontier.fromNodes(auditHasher, storedTreeNodes(this.db), size);
    if (latest && size > 0 && !bytesEqual(frontier.root(), this.checkpointRoot(latest))) {
      throw new AppError('differences', 'audit.inconsistent', `the audit log no longer matches its signed checkpoint at size ${signedSize}; run "cvs-issue audit-log verify"`, this.db.path);
    }
    this.frontier = frontier;
    this.lastLeaf = size > 0 ? storedTreeNodes(this.db).node(0, size - 1) : undefined;
  }

  /** Logs written before the stored tree existed get it once, from their leaf hashes. */
  private ensureStoredTree(size: number): void {
    let start = 0;
    let complete = true;
    for (let level = 52; level >= 1; level -= 1) {
      const width = 2 ** level;
      if (size - start < width) continue;
      complete &&= this.db.get('SELECT 1 AS found FROM audit_nodes WHERE level = :level AND idx = :index', { level, index: start / width }) !== undefined;
      start += width;
    }
    if (complete) return;
    const rebuilt = new MerkleFrontier(auditHasher);
    this.db.transaction(() => {
      for (const page of leafHashPages(this.db)) for (const leaf of page) rebuilt.push(leaf, (level, index, hash) => this.storeNode(level, index, hash, 'OR IGNORE'));
    });
  }

  private storeNode(level: number, index: number, hash: Uint8Array, conflict: '' | 'OR IGNORE' = ''): void {
    this.db.run(`INSERT ${conflict} INTO audit_nodes (level, idx, hash) VALUES (:level, :index, :hash)`, { level, index, hash });
  }

  private checkpointRoot(stored: StoredCheckpoint): Uint8Array {
    try {
      return parseCheckpoint(openNote(stored.note, [this.noteVerifier]).body).rootHash;
    } catch {
      throw new AppError('differences', 'audit.inconsistent', `the audit log's checkpoint at size ${stored.size} does not carry its key's signature; run "cvs-issue audit-log verify"`, this.db.path);
    }
  }

  /**
   * Runs `work` and appends the events it yields in one database transaction, then signs a
   * checkpoint for the new size in the same transaction: the event and its record land together.
   * With group commit, that transaction is a savepoint of the turn's group, whose checkpoint is
   * signed and committed when the turn ends (flushGroup); the result is returned at once, and
   * nothing of it may be acknowledged to anyone before `committed()` resolves.
   */
  transaction<T>(events: AuditEvent[] | ((result: T) => AuditEvent[]), work: () => T): T {
    if (this.groupCommit) return this.transactionInGroup(events, work);
    let appended = false;
    let result: T;
    try {
      result = this.db.transaction(() => {
        const value = work();
        const list = typeof events === 'function' ? events(value) : events;
        if (list.length > 0) this.appendInTransaction(list);
        appended = list.length > 0;
        return value;
      });
    } catch (error) {
      this.reload();
      throw error;
    }
    if (appended) for (const listener of this.listeners) listener();
    return result;
  }

  /**
   * Resolves once everything done through this log so far is committed; rejects if that commit
   * failed (nothing of the group is then stored). Without group commit it is resolved already.
   */
  committed(): Promise<void> {
    return this.group?.done ?? Promise.resolve();
  }

  /**
   * A request is being handled (cmd/committed-handler.ts): while it is, a group opened by another
   * request waits for its writes, up to the window. Call the function returned when its handler
   * has returned, before awaiting `committed()`.
   */
  trackRequest(): () => void {
    this.requestsInHandler += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.requestsInHandler -= 1;
      const group = this.group;
      if (group !== undefined && this.requestsInHandler === 0 && group.timer !== undefined) {
        clearTimeout(group.timer);
        group.timer = undefined;
        setImmediate(() => this.flushGroup(group));
      }
    };
  }

  /** Commits the open group now (before the database is closed: a server stopping). */
  flushGroupNow(): void {
    if (this.group) this.flushGroup(this.group);
  }

  /** How many groups have failed to commit so far: compare before and after a request (committedSince). */
  get failedGroupCount(): number {
    return this.failedGroups;
  }

  private transactionInGroup<T>(events: AuditEvent[] | ((result: T) => AuditEvent[]), work: () => T): T {
    const group = this.openGroup();
    const frontier = this.frontier.clone();
    const lastLeaf = this.lastLeaf;
    try {
      // A savepoint inside the group's transaction (both drivers nest transactions so).
      return this.db.transaction(() => {
        const value = work();
        const list = typeof events === 'function' ? events(value) : events;
        if (list.length > 0) {
          this.appendEntries(list);
          group.appended = true;
        }
        return value;
      });
    } catch (error) {
      // Only this savepoint was rolled back: the tree goes back to where it stood before it.
      this.frontier = frontier;
      this.lastLeaf = lastLeaf;
      throw error;
    }
  }

  private openGroup(): CommitGroup {
    if (this.group) return this.group;
    // Taken before anything of the group is written: another process's appends are read first.
    this.db.run('BEGIN IMMEDIATE');
    try {
      if (logSize(this.db) !== this.frontier.size) this.reload(); // another process appended
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((onDone, onFailed) => {
      resolve = onDone;
      reject = onFailed;
    });
    // A group nobody awaits must not become an unhandled rejection; those who await still see it.
    done.catch(() => undefined);
    const group: CommitGroup = { done, resolve, reject, frontier: this.frontier.clone(), lastLeaf: this.lastLeaf, appended: false, timer: undefined };
    this.group = group;
    // The request writing now is one of those in a handler; any other may write into this group too.
    if (this.groupWindowMs > 0 && this.requestsInHandler > 1) {
      group.timer = setTimeout(() => this.flushGroup(group), this.groupWindowMs);
    } else {
      setImmediate(() => this.flushGroup(group));
    }
    return group;
  }

  /** Signs one checkpoint over the group's entries and commits; on failure nothing of it stays. */
  private flushGroup(group: CommitGroup): void {
    if (this.group !== group) return;
    this.group = undefined;
    if (group.timer !== undefined) clearTimeout(group.timer);
    try {
      if (group.appended) this.writeCheckpoint(formatUtcIso(this.clock.nowMs()));
      this.db.run('COMMIT');
    } catch (error) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // SQLite may have rolled the transaction back itself (an I/O error, a full disk)
      }
      this.frontier = group.frontier;
      this.lastLeaf = group.lastLeaf;
      this.failedGroups += 1;
      group.reject(error);
      return;
    }
    group.resolve();
    if (group.appended) for (const listener of this.listeners) listener();
  }

  append(...events: AuditEvent[]): void {
    this.transaction(events, () => undefined);
  }

  private appendInTransaction(events: readonly AuditEvent[]): void {
    if (logSize(this.db) !== this.frontier.size) this.reload(); // another process appended
    this.appendEntries(events);
    this.writeCheckpoint(formatUtcIso(this.clock.nowMs()));
  }

  private appendEntries(events: readonly AuditEvent[]): void {
    const time = formatUtcIso(this.clock.nowMs());
    for (const event of events) {
      assertAuditEvent(event);
      const index = this.frontier.size;
      const entry = encodeAuditEntry({ index, previous: this.lastLeaf ? hexEncode(this.lastLeaf) : FIRST_PREVIOUS, time, kind: event.kind, data: event.data ?? {} });
      const leafHash = auditHasher.leafHash(entry);
      this.db.run('INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (:index, :entry, :leafHash)', { index, entry, leafHash });
      this.frontier.push(leafHash, (level, nodeIndex, hash) => this.storeNode(level, nodeIndex, hash));
      this.lastLeaf = leafHash;
    }
  }

  private writeCheckpoint(time: string): void {
    const body = formatCheckpoint({ origin: this.origin, size: this.frontier.size, rootHash: this.frontier.root(), extensions: [] });
    const note = signNote(body, { name: this.origin, keyId: this.keyId, sign: this.sign });
    this.db.run('INSERT INTO audit_checkpoints (size, note, created_at) VALUES (:size, :note, :createdAt)', { size: this.frontier.size, note, createdAt: time });
  }
}

/** The transactions of one turn of the event loop, committed together (AuditLog group commit). */
interface CommitGroup {
  done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
  /** The tree as the group found it, for a group that fails to commit. */
  frontier: MerkleFrontier;
  lastLeaf: Uint8Array | undefined;
  appended: boolean;
  /** Set while the group waits for requests still in their handlers (trackRequest), at most GROUP_WINDOW_MS. */
  timer: ReturnType<typeof setTimeout> | undefined;
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
  const offer = checkpointOffer(db, sizes.lastWitnessedSize());
  if (!offer) return;
  const answer = await post(offer);
  sizes.markWitnessed(answer.witnessedSize, nowMs());
}

/** The log's latest checkpoint with a consistency proof from `fromSize` (O(log n) reads). */
export function checkpointOffer(db: Database, fromSize: number): CheckpointOffer | undefined {
  const latest = latestCheckpoint(db);
  if (!latest) return undefined;
  const from = Math.min(fromSize, latest.size);
  const proof = from > 0 && from < latest.size ? consistencyProofFromNodes(auditHasher, storedTreeNodes(db), from, latest.size) : [];
  return { checkpointNote: latest.note, fromSize: from, consistencyProof: proof.map(hexEncode) };
}

/** Keeps a witness's cosignature of this log's checkpoint (the note already checked by the caller). */
export function saveCosignature(db: Database, cosignature: StoredCosignature & { timestamp: number }, receivedAtIso: string): boolean {
  return db.run('INSERT OR IGNORE INTO audit_cosignatures (size, witness, note, timestamp, received_at) VALUES (:size, :witness, :note, :timestamp, :receivedAtIso)', { ...cosignature, receivedAtIso }).changes > 0;
}
