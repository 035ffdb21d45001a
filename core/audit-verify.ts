// Recomputes an audit log from its stored rows and checks it against the evidence that it is the
// log its owner signed: its own latest signed checkpoint, and every checkpoint a witness holds
// (witnessed notes signed with the log's key, cosignatures by witness keys). Names the first
// entry that was changed, removed, inserted, moved, or appended without a signature.
//
// Which signatures are checked (docs/audit-log.md, "What verify checks"): the latest checkpoint
// of the log's own store, every checkpoint given as evidence, and every stored checkpoint at the
// size of one of those. Older checkpoints of the store are not needed: each is a prefix of the
// latest, whose root commits to every entry before it. Checking every one would cost a root and
// a signature per transaction, 100 times the hashing; `thorough` does it on request.
//
// One pass, O(log n) memory: a 1,000,000-entry log is two SHA-256 per entry plus a scan.

import { checkEntryBytes, scanEntryAt, scanned } from './audit-entry.ts';
import { bytesEqual, utf8Encode } from './bytes.ts';
import { MerkleFrontier, type MerkleHasher } from './merkle.ts';
import { openNote, parseCheckpoint, type NoteVerifier } from './signed-note.ts';

export interface StoredAuditRow {
  index: number;
  entry: Uint8Array;
  leafHash: Uint8Array;
}

export interface StoredCheckpoint {
  size: number;
  note: string;
}

/** A checkpoint of this log that someone other than its owner holds. */
export interface CheckpointEvidence {
  /** Who holds it, for messages: "relay OP01's log, entry 812". */
  source: string;
  /** A signed note: the checkpoint with the log's signature, a witness's cosignature, or both. */
  note: string;
}

export interface AuditProblem {
  /** The first entry found wrong, or null when the problem is with a checkpoint itself. */
  index: number | null;
  what: string;
  /** Set when two signatures by the log's key commit to different trees of the same size. */
  equivocation?: { size: number; sources: [string, string] };
}

export interface AuditVerification {
  ok: boolean;
  size: number;
  rootHash: Uint8Array;
  checkpointsChecked: number;
  /** The largest size some valid signature covers (the log's or a witness's). */
  coveredSize: number;
  problem?: AuditProblem;
}

export interface VerifyOptions {
  hasher: MerkleHasher;
  origin: string;
  /** The log's own key. */
  verifiers: readonly NoteVerifier[];
  /** Cosignature verifiers of the witnesses whose cosignatures count (C2SP tlog-cosignature). */
  witnessVerifiers?: readonly NoteVerifier[];
  /** Evidence held outside the log's store. */
  evidence?: readonly CheckpointEvidence[];
}

interface ExpectedRoot {
  size: number;
  rootHash: Uint8Array;
  source: string;
  /** Signed with the log's own key (so two of them that differ are an equivocation). */
  logSigned: boolean;
  /** The store's latest checkpoint: a mismatch with it locates a changed entry. */
  local: boolean;
}

const HEX_DIGITS = utf8Encode('0123456789abcdef');

function previousMatches(entry: Uint8Array, start: number, previousLeaf: Uint8Array | undefined): boolean {
  if (start + 64 > entry.length) return false;
  for (let byte = 0; byte < 32; byte += 1) {
    const value = previousLeaf ? previousLeaf[byte]! : 0;
    if (entry[start + byte * 2] !== HEX_DIGITS[value >> 4] || entry[start + byte * 2 + 1] !== HEX_DIGITS[value & 15]) return false;
  }
  return true;
}

function describeEntryProblem(row: StoredAuditRow, expectedIndex: number, previousLeaf: Uint8Array | undefined): AuditProblem | undefined {
  const position = checkEntryBytes(row.entry);
  if ('problem' in position) return { index: row.index, what: `entry ${row.index} does not follow the entry grammar: ${position.problem}` };
  if (position.index !== expectedIndex) {
    return { index: row.index, what: `entry ${row.index} records position ${position.index}: entries were moved or reordered` };
  }
  if (!previousMatches(row.entry, position.previousStart, previousLeaf)) {
    return row.index === 0
      ? { index: 0, what: 'entry 0 does not start the log: entries before it were removed' }
      : { index: row.index - 1, what: `entry ${row.index - 1} was changed, removed or inserted: entry ${row.index} does not commit to it` };
  }
  return undefined;
}

/** Opens each note; a note no trusted key signed, or of another log, is a problem of its own. */
function expectedRoots(
  notes: readonly { source: string; note: string; local: boolean }[],
  options: VerifyOptions,
): ExpectedRoot[] | AuditProblem {
  const logNames = new Set(options.verifiers.map((verifier) => verifier.name));
  const roots: ExpectedRoot[] = [];
  for (const { source, note, local } of notes) {
    let opened: { body: string; verifiedBy: string[] };
    try {
      opened = openNote(note, [...options.verifiers, ...(local ? [] : options.witnessVerifiers ?? [])]);
    } catch {
      return { index: null, what: `${source} does not carry a valid signature of this log's key${local ? '' : ' or of a trusted witness'}` };
    }
    const checkpoint = parseCheckpointOrUndefined(opened.body);
    if (!checkpoint || checkpoint.origin !== options.origin) return { index: null, what: `${source} is a checkpoint of another log` };
    roots.push({ size: checkpoint.size, rootHash: checkpoint.rootHash, source, logSigned: opened.verifiedBy.some((name) => logNames.has(name)), local });
  }
  return roots;
}

function parseCheckpointOrUndefined(body: string): ReturnType<typeof parseCheckpoint> | undefined {
  try {
    return parseCheckpoint(body);
  } catch {
    return undefined;
  }
}

/** Two signatures by the log's key over different roots at one size: a forked history. */
function findEquivocation(roots: readonly ExpectedRoot[]): AuditProblem | undefined {
  for (let at = 0; at < roots.length; at += 1) {
    for (let other = at + 1; other < roots.length && roots[other]!.size === roots[at]!.size; other += 1) {
      const [left, right] = [roots[at]!, roots[other]!];
      if (left.logSigned && right.logSigned && !bytesEqual(left.rootHash, right.rootHash)) {
        return {
          index: null,
          what: `equivocation: the log's key signed two different trees of size ${left.size}, one in ${left.source}, the other in ${right.source}: its history was forked`,
          equivocation: { size: left.size, sources: [left.source, right.source] },
        };
      }
    }
  }
  return undefined;
}

/**
 * Checks a log entry by entry as its rows arrive (in index order). `push` returns false once a
 * problem is found; `finish` gives the verdict. O(log n) memory whatever the log's length.
 *
 * `checkpoints` are checkpoints from the log's own store, oldest first: at least its latest,
 * and any others the caller wants checked (the ones at evidence sizes, or all of them).
 */
export class AuditVerifier {
  private readonly options: VerifyOptions;
  private readonly frontier: MerkleFrontier;
  private expected: ExpectedRoot[] = [];
  private next = 0;
  private lastGoodSize = 0;
  private checkpointsChecked = 0;
  private coveredSize = 0;
  private previousLeaf: Uint8Array | undefined;
  /** A checkpoint mismatch only bounds where the change is; the next entry's link usually names it exactly. */
  private pendingMismatch: AuditProblem | undefined;
  private problem: AuditProblem | undefined;

  constructor(checkpoints: readonly StoredCheckpoint[], options: VerifyOptions) {
    this.options = options;
    this.frontier = new MerkleFrontier(options.hasher);
    const notes = [
      ...checkpoints.map((stored) => ({ source: `the log's checkpoint at size ${stored.size}`, note: stored.note, local: true })),
      ...(options.evidence ?? []).map((held) => ({ ...held, local: false })),
    ];
    const roots = expectedRoots(notes, options);
    if (!Array.isArray(roots)) {
      this.problem = roots;
      return;
    }
    const storedSizeMismatch = checkpoints.find((stored, at) => roots[at]!.size !== stored.size);
    if (storedSizeMismatch) {
      this.problem = { index: null, what: `the log's checkpoint stored at size ${storedSizeMismatch.size} is signed for another size` };
      return;
    }
    this.expected = roots.sort((left, right) => left.size - right.size || Number(right.local) - Number(left.local));
    this.coveredSize = this.expected.reduce((largest, root) => Math.max(largest, root.size), 0);
    this.problem = findEquivocation(this.expected) ?? this.checkRootsAtCurrentSize();
  }

  private checkRootsAtCurrentSize(): AuditProblem | undefined {
    while (this.next < this.expected.length && this.expected[this.next]!.size === this.frontier.size) {
      const checkpoint = this.expected[this.next]!;
      if (!bytesEqual(this.frontier.root(), checkpoint.rootHash)) {
        const from = checkpoint.local ? this.lastGoodSize : 0;
        return {
          index: from,
          what: checkpoint.local
            ? `entries ${from}..${checkpoint.size - 1} do not match ${checkpoint.source}: entry ${from} or a later one was changed`
            : `entries 0..${checkpoint.size - 1} do not match ${checkpoint.source}: the log was rewritten after it was witnessed`,
        };
      }
      this.checkpointsChecked += 1;
      this.lastGoodSize = checkpoint.size;
      this.next += 1;
    }
    return undefined;
  }

  push(index: number, entry: Uint8Array, storedLeafHash: Uint8Array): boolean {
    if (this.problem) return false;
    const expectedIndex = this.frontier.size;
    if (this.pendingMismatch) {
      const link =
        index === expectedIndex && bytesEqual(this.options.hasher.leafHash(entry), storedLeafHash)
          ? describeEntryProblem({ index, entry, leafHash: storedLeafHash }, expectedIndex, this.previousLeaf)
          : undefined;
      this.problem = link ?? this.pendingMismatch;
      return false;
    }
    if (index !== expectedIndex) {
      this.problem =
        index > expectedIndex ? { index: expectedIndex, what: `entry ${expectedIndex} is missing` } : { index, what: `entry ${index} appears twice` };
      return false;
    }
    const leafHash = this.options.hasher.leafHash(entry);
    if (!bytesEqual(leafHash, storedLeafHash)) {
      this.problem = { index, what: `entry ${index} was changed: its bytes do not match its stored hash` };
      return false;
    }
    // The common case without allocating; anything else is judged (and named) by the slow path.
    const sound = scanEntryAt(entry, 0) === entry.length && scanned.index === expectedIndex && previousMatches(entry, scanned.previousStart, this.previousLeaf);
    if (!sound) this.problem = describeEntryProblem({ index, entry, leafHash: storedLeafHash }, expectedIndex, this.previousLeaf);
    if (this.problem) return false;
    this.frontier.push(leafHash);
    this.previousLeaf = leafHash;
    this.pendingMismatch = this.checkRootsAtCurrentSize();
    return true;
  }

  /**
   * The other half of a parallel verify: a leaf whose entry an `EntryRunChecker` has already
   * checked. Builds the tree and checks the roots; false once anything is wrong (the caller then
   * verifies again one entry at a time, which names the problem).
   */
  pushCheckedLeaf(leafHash: Uint8Array): boolean {
    if (this.problem || this.pendingMismatch) return false;
    this.frontier.push(leafHash);
    this.previousLeaf = leafHash;
    this.pendingMismatch = this.checkRootsAtCurrentSize();
    return this.pendingMismatch === undefined;
  }

  /**
   * A run of `count` = 2^k checked entries at once, as the root of its perfect subtree (the run
   * starts at a multiple of 2^k, and no checkpoint to check falls inside it).
   */
  pushCheckedSubtree(root: Uint8Array, count: number, lastLeaf: Uint8Array): boolean {
    if (this.problem || this.pendingMismatch) return false;
    this.frontier.pushSubtree(root, Math.log2(count));
    this.previousLeaf = lastLeaf;
    this.pendingMismatch = this.checkRootsAtCurrentSize();
    return this.pendingMismatch === undefined;
  }

  /** Sizes at which a signed root is still to be checked, smallest first. */
  sizesToCheck(): number[] {
    return this.expected.slice(this.next).map((root) => root.size);
  }

  /** Whether the next entry's "previous" (32 bytes) is the last leaf pushed (zeros at index 0). */
  linksTo(previous: Uint8Array): boolean {
    return bytesEqual(previous, this.previousLeaf ?? new Uint8Array(32));
  }

  finish(): AuditVerification {
    let problem = this.problem ?? this.pendingMismatch;
    const size = this.frontier.size;
    if (!problem && this.next < this.expected.length) {
      const checkpoint = this.expected[this.next]!;
      problem = { index: size, what: `entry ${size} is missing: ${checkpoint.source} covers entries up to ${checkpoint.size - 1}` };
    }
    if (!problem && size > this.coveredSize) {
      const first = this.coveredSize;
      problem = {
        index: first,
        what: `entr${size - first === 1 ? 'y' : 'ies'} ${first}${size - first === 1 ? '' : `..${size - 1}`} ${size - first === 1 ? 'is' : 'are'} not covered by any signed checkpoint: appended without the log's key`,
      };
    }
    const result = { size, rootHash: this.frontier.root(), checkpointsChecked: this.checkpointsChecked, coveredSize: this.coveredSize };
    return problem ? { ok: false, ...result, problem } : { ok: true, ...result };
  }
}

export function verifyAuditLog(rows: Iterable<StoredAuditRow>, checkpoints: readonly StoredCheckpoint[], options: VerifyOptions): AuditVerification {
  const verifier = new AuditVerifier(checkpoints, options);
  for (const row of rows) if (!verifier.push(row.index, row.entry, row.leafHash)) break;
  return verifier.finish();
}

/**
 * Checks a run of consecutive entries on its own, as `AuditVerifier.push` checks each one (grammar,
 * index, stored leaf hash, the link to the entry before), except the first entry's link, which
 * `previousOfFirst` hands to the verifier that has the run before. Keeps the leaf hashes, joined.
 * Any doubt ends the run: it is then verified one entry at a time instead.
 */
export class EntryRunChecker {
  /** The leaf hashes, joined (only when asked to keep them). */
  readonly leaves: Uint8Array | undefined;
  readonly previousOfFirst = new Uint8Array(32);
  private readonly tree: MerkleFrontier;
  private taken = 0;
  private last: Uint8Array | undefined;

  constructor(
    private readonly hasher: MerkleHasher,
    private readonly firstIndex: number,
    readonly count: number,
    keepLeaves: boolean,
  ) {
    this.leaves = keepLeaves ? new Uint8Array(count * 32) : undefined;
    this.tree = new MerkleFrontier(hasher);
  }

  get complete(): boolean {
    return this.taken === this.count;
  }

  /** The root of the run's own tree: for a run of 2^k entries starting at a multiple of 2^k, a node of the log's tree. */
  get subtreeRoot(): Uint8Array {
    return this.tree.root();
  }

  get lastLeaf(): Uint8Array {
    return this.last ?? new Uint8Array(32);
  }

  push(index: number, entry: Uint8Array, storedLeafHash: Uint8Array): boolean {
    if (this.taken === this.count || index !== this.firstIndex + this.taken) return false;
    if (scanEntryAt(entry, 0) !== entry.length || scanned.index !== index) return false;
    if (this.last === undefined) {
      for (let byte = 0; byte < 32; byte += 1) {
        const high = HEX_DIGITS.indexOf(entry[scanned.previousStart + byte * 2]!);
        const low = HEX_DIGITS.indexOf(entry[scanned.previousStart + byte * 2 + 1]!);
        this.previousOfFirst[byte] = high * 16 + low;
      }
    } else if (!previousMatches(entry, scanned.previousStart, this.last)) return false;
    const leafHash = this.hasher.leafHash(entry);
    if (!bytesEqual(leafHash, storedLeafHash)) return false;
    this.leaves?.set(leafHash, this.taken * 32);
    this.tree.push(leafHash);
    this.last = leafHash;
    this.taken += 1;
    return true;
  }
}
