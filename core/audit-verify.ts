// Recomputes an audit log from its stored rows and checks it against every signed checkpoint and
// every checkpoint a witness holds. Names the first entry that was changed, removed, inserted or
// moved. One pass, O(log n) memory: a 1,000,000-entry log is two SHA-256 per entry plus a scan.

import { decodeAuditEntry } from './audit-entry.ts';
import { bytesEqual, utf8Encode } from './bytes.ts';
import { MerkleFrontier, type MerkleHasher } from './merkle.ts';
import { openNote, parseCheckpoint, type Checkpoint, type NoteVerifier } from './signed-note.ts';

export interface StoredAuditRow {
  index: number;
  entry: Uint8Array;
  leafHash: Uint8Array;
}

export interface StoredCheckpoint {
  size: number;
  note: string;
}

export interface AuditProblem {
  /** The first entry found wrong, or null when the problem is with a checkpoint itself. */
  index: number | null;
  what: string;
}

export interface AuditVerification {
  ok: boolean;
  size: number;
  rootHash: Uint8Array;
  checkpointsChecked: number;
  problem?: AuditProblem;
}

export interface VerifyOptions {
  hasher: MerkleHasher;
  origin: string;
  verifiers: readonly NoteVerifier[];
  /** Checkpoints of this log that a witness (the relay, for a kiosk) received earlier. */
  witnessed?: readonly StoredCheckpoint[];
}

interface ExpectedRoot {
  size: number;
  rootHash: Uint8Array;
  source: string;
}

const PREFIX = utf8Encode('{"v":1,"index":');
const PREVIOUS_KEY = utf8Encode(',"previous":"');

/** Reads index and previous straight from the canonical bytes; undefined when they are not canonical. */
function peekPosition(entry: Uint8Array): { index: number; previousStart: number } | undefined {
  for (let at = 0; at < PREFIX.length; at += 1) if (entry[at] !== PREFIX[at]) return undefined;
  let at = PREFIX.length;
  let index = 0;
  const digitsStart = at;
  while (at < entry.length && entry[at]! >= 48 && entry[at]! <= 57) {
    index = index * 10 + entry[at]! - 48;
    at += 1;
  }
  if (at === digitsStart || at - digitsStart > 15) return undefined;
  for (let offset = 0; offset < PREVIOUS_KEY.length; offset += 1) if (entry[at + offset] !== PREVIOUS_KEY[offset]) return undefined;
  return { index, previousStart: at + PREVIOUS_KEY.length };
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
  const position = peekPosition(row.entry);
  if (!position) {
    try {
      decodeAuditEntry(row.entry);
    } catch (error) {
      return { index: row.index, what: `entry ${row.index} is unreadable (${(error as Error).message})` };
    }
    return { index: row.index, what: `entry ${row.index} is not in canonical form` };
  }
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

function expectedRoots(checkpoints: readonly StoredCheckpoint[], options: VerifyOptions, source: string): ExpectedRoot[] | AuditProblem {
  const roots: ExpectedRoot[] = [];
  for (const stored of checkpoints) {
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpoint(openNote(stored.note, options.verifiers).body);
    } catch {
      return { index: null, what: `the ${source} checkpoint at size ${stored.size} does not carry a valid signature of this log's key` };
    }
    if (checkpoint.origin !== options.origin || checkpoint.size !== stored.size) {
      return { index: null, what: `the ${source} checkpoint at size ${stored.size} belongs to another log or size` };
    }
    roots.push({ size: checkpoint.size, rootHash: checkpoint.rootHash, source });
  }
  return roots;
}

/**
 * Checks a log entry by entry as its rows arrive (in index order). `push` returns false once a
 * problem is found; `finish` gives the verdict. O(log n) memory whatever the log's length.
 */
export class AuditVerifier {
  private readonly options: VerifyOptions;
  private readonly frontier: MerkleFrontier;
  private readonly expected: ExpectedRoot[] = [];
  private next = 0;
  private lastGoodSize = 0;
  private checkpointsChecked = 0;
  private previousLeaf: Uint8Array | undefined;
  /** A checkpoint mismatch only bounds where the change is; the next entry's link usually names it exactly. */
  private pendingMismatch: AuditProblem | undefined;
  private problem: AuditProblem | undefined;

  constructor(checkpoints: readonly StoredCheckpoint[], options: VerifyOptions) {
    this.options = options;
    this.frontier = new MerkleFrontier(options.hasher);
    const signed = expectedRoots(checkpoints, options, 'signed');
    const witnessed = expectedRoots(options.witnessed ?? [], options, 'witnessed');
    if (!Array.isArray(signed)) this.problem = signed;
    else if (!Array.isArray(witnessed)) this.problem = witnessed;
    else {
      this.expected = [...signed, ...witnessed].sort((left, right) => left.size - right.size);
      this.problem = this.checkRootsAtCurrentSize();
    }
  }

  private checkRootsAtCurrentSize(): AuditProblem | undefined {
    while (this.next < this.expected.length && this.expected[this.next]!.size === this.frontier.size) {
      const checkpoint = this.expected[this.next]!;
      if (!bytesEqual(this.frontier.root(), checkpoint.rootHash)) {
        const from = this.lastGoodSize;
        return {
          index: from,
          what: `entries ${from}..${checkpoint.size - 1} do not match the ${checkpoint.source} checkpoint at size ${checkpoint.size}: entry ${from} or a later one was changed`,
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
    const row = { index, entry, leafHash: storedLeafHash };
    if (this.pendingMismatch) {
      const link =
        index === expectedIndex && bytesEqual(this.options.hasher.leafHash(entry), storedLeafHash)
          ? describeEntryProblem(row, expectedIndex, this.previousLeaf)
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
    this.problem = describeEntryProblem(row, expectedIndex, this.previousLeaf);
    if (this.problem) return false;
    this.frontier.push(leafHash);
    this.previousLeaf = leafHash;
    this.pendingMismatch = this.checkRootsAtCurrentSize();
    return true;
  }

  finish(): AuditVerification {
    let problem = this.problem ?? this.pendingMismatch;
    if (!problem && this.next < this.expected.length) {
      const checkpoint = this.expected[this.next]!;
      const size = this.frontier.size;
      problem = { index: size, what: `entry ${size} is missing: the ${checkpoint.source} checkpoint at size ${checkpoint.size} covers entries up to ${checkpoint.size - 1}` };
    }
    const result = { size: this.frontier.size, rootHash: this.frontier.root(), checkpointsChecked: this.checkpointsChecked };
    return problem ? { ok: false, ...result, problem } : { ok: true, ...result };
  }
}

export function verifyAuditLog(rows: Iterable<StoredAuditRow>, checkpoints: readonly StoredCheckpoint[], options: VerifyOptions): AuditVerification {
  const verifier = new AuditVerifier(checkpoints, options);
  for (const row of rows) if (!verifier.push(row.index, row.entry, row.leafHash)) break;
  return verifier.finish();
}
