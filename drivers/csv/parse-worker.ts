// A worker thread that parses handling-record files and hands the parsed rows to the main thread
// chunk by chunk, so reconciling a month uses both cores: this thread parses while the main thread
// matches. Chunks travel through a fixed ring of shared slots (no allocation per chunk, so memory
// stays flat however large the files are); a slot is reused once the main thread releases it.

import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import { FIELD_COUNT, FIELD_ISSUANCE_ID, RowProblems, typeCodeCount, typeCodesSince, type RowScratch } from '../../core/handling-csv.ts';
import { hashBytes } from '../../core/reconcile.ts';
import { readHandlingCsv } from './handling-reader.ts';

/** Per row: field starts and ends, then the six parsed numbers; each fits 32 bits (offsets within a chunk, at most 9-digit integers). */
export const ROW_VALUES = FIELD_COUNT * 2 + 7;
export const SLOT_COUNT = 3;
export const CHUNK_BYTES = 8 * 1024 * 1024;
/**
 * A well-formed row is at least 40 bytes (a 20-character issued_at, a 6-digit code, a type name,
 * eight commas and a newline besides), so a chunk holds fewer well-formed rows than this.
 */
export const MAX_ROWS_PER_CHUNK = Math.floor(CHUNK_BYTES / 40);

/** The shared ring: per slot a byte area, a row-values area, and a state word (0 free, 1 full). */
export interface SlotRing {
  bytes: SharedArrayBuffer;
  values: SharedArrayBuffer;
  state: SharedArrayBuffer;
}

export function createSlotRing(): SlotRing {
  return {
    bytes: new SharedArrayBuffer(SLOT_COUNT * CHUNK_BYTES),
    values: new SharedArrayBuffer(SLOT_COUNT * MAX_ROWS_PER_CHUNK * ROW_VALUES * 4),
    state: new SharedArrayBuffer(SLOT_COUNT * 4),
  };
}

export function slotBytes(ring: SlotRing, slot: number, length: number): Uint8Array {
  return new Uint8Array(ring.bytes, slot * CHUNK_BYTES, length);
}

export function slotValues(ring: SlotRing, slot: number, rows: number): Int32Array {
  return new Int32Array(ring.values, slot * MAX_ROWS_PER_CHUNK * ROW_VALUES * 4, rows * ROW_VALUES);
}

export interface ParseWorkerInput {
  files: { path: string; label: string }[];
  ring: SlotRing;
}

export type ParseWorkerMessage =
  /** newTypeCodes: the type codes this worker's table gained since the last chunk (core/handling-csv.ts). */
  | { type: 'chunk'; file: number; slot: number; usedBytes: number; rows: number; problems: string[]; problemCount: number; bytesRead: number; totalBytes: number; newTypeCodes: string[] }
  | { type: 'file-done'; file: number; rows: number; problems: string[]; problemCount: number }
  | { type: 'error'; kind: AppError['kind']; code: string; message: string; where?: string };

/** The worker hashes the id too: that is work the matching thread then does not do. */
export function packRow(row: RowScratch, bytes: Uint8Array, values: Int32Array, at: number): void {
  for (let field = 0; field < FIELD_COUNT; field += 1) {
    values[at + field] = row.fieldStart[field]!;
    values[at + FIELD_COUNT + field] = row.fieldEnd[field]!;
  }
  const numbers = at + FIELD_COUNT * 2;
  values[numbers] = row.monthKey;
  values[numbers + 1] = row.jstDay;
  values[numbers + 2] = row.municipalityCode;
  values[numbers + 3] = row.typeIndex;
  values[numbers + 4] = row.copies;
  values[numbers + 5] = row.feeYen;
  values[numbers + 6] = hashBytes(bytes, row.fieldStart[FIELD_ISSUANCE_ID]!, row.fieldEnd[FIELD_ISSUANCE_ID]!) | 0;
}

export function unpackRow(values: Int32Array, at: number, row: RowScratch): void {
  for (let field = 0; field < FIELD_COUNT; field += 1) {
    row.fieldStart[field] = values[at + field]!;
    row.fieldEnd[field] = values[at + FIELD_COUNT + field]!;
  }
  const numbers = at + FIELD_COUNT * 2;
  row.monthKey = values[numbers]!;
  row.jstDay = values[numbers + 1]!;
  row.municipalityCode = values[numbers + 2]!;
  row.typeIndex = values[numbers + 3]!;
  row.copies = values[numbers + 4]!;
  row.feeYen = values[numbers + 5]!;
  row.idHash = values[numbers + 6]! >>> 0;
}

export function hashAt(values: Int32Array, row: number): number {
  return values[row * ROW_VALUES + FIELD_COUNT * 2 + 6]! >>> 0;
}

function parseFiles(input: ParseWorkerInput, post: (message: ParseWorkerMessage) => void): void {
  const state = new Int32Array(input.ring.state);
  const values = new Int32Array(MAX_ROWS_PER_CHUNK * ROW_VALUES);
  let slot = 0;
  let typesReported = typeCodeCount();
  for (const [file, { path, label }] of input.files.entries()) {
    let rows = 0;
    const problems = new RowProblems(100);
    let progress = { bytesRead: 0, totalBytes: 0 };
    const summary = readHandlingCsv(path, {
      label,
      problems,
      chunkBytes: CHUNK_BYTES,
      onRow(bytes, row) {
        if (rows === MAX_ROWS_PER_CHUNK) throw new AppError('internal', 'csv.chunk_rows', 'more rows in one chunk than a well-formed file can hold');
        packRow(row, bytes, values, rows * ROW_VALUES);
        rows += 1;
      },
      onProgress(read) {
        progress = { bytesRead: read.bytesRead, totalBytes: read.totalBytes };
      },
      onChunk(bytes, usedBytes) {
        if (rows === 0 && problems.count === 0) return;
        while (Atomics.load(state, slot) !== 0) Atomics.wait(state, slot, 1, 1000);
        slotBytes(input.ring, slot, usedBytes).set(bytes.subarray(0, usedBytes));
        slotValues(input.ring, slot, rows).set(values.subarray(0, rows * ROW_VALUES));
        Atomics.store(state, slot, 1);
        const newTypeCodes = typeCodesSince(typesReported);
        typesReported += newTypeCodes.length;
        post({ type: 'chunk', file, slot, usedBytes, rows, problems: [...problems.messages], problemCount: problems.count, ...progress, newTypeCodes });
        slot = (slot + 1) % SLOT_COUNT;
        rows = 0;
        problems.messages.length = 0;
        problems.count = 0;
      },
    });
    // Whatever the reader found after its last chunk still reaches the main thread.
    post({ type: 'file-done', file, rows: summary.rows, problems: [...problems.messages], problemCount: problems.count });
  }
}

if (parentPort && workerData && (workerData as { kind?: string }).kind === 'cvs-issue-parse') {
  const port = parentPort;
  try {
    parseFiles(workerData as ParseWorkerInput, (message) => port.postMessage(message));
  } catch (error) {
    const known = error instanceof AppError ? error : new AppError('internal', 'internal', error instanceof Error ? error.message : String(error));
    port.postMessage({ type: 'error', kind: known.kind, code: known.code, message: known.message, where: known.where } satisfies ParseWorkerMessage);
  }
}
