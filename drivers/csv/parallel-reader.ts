// Reads handling-record files with a parse worker (Bun: the binary and `bun test`), so parsing on
// one core overlaps matching on the other. Rows reach onRow in file order, exactly as the
// single-threaded reader gives them, with the same problems.

import { Worker } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import { CERTIFICATE_TYPES } from '../../core/certificate-types.ts';
import { createRowScratch, internTypeCode, MAX_TYPE_CODES, type RowProblems, type RowScratch } from '../../core/handling-csv.ts';
import type { ReadProgress } from './handling-reader.ts';
import { createSlotRing, hashAt, ROW_VALUES, slotBytes, slotValues, unpackRow, type ParseWorkerInput, type ParseWorkerMessage } from './parse-worker.ts';

/** Node runs TypeScript workers only through loaders that Node 20 does not apply to workers. */
/**
 * Rows whose table entries are read ahead together before they are matched one by one: the reads
 * of a batch wait on memory at the same time instead of one after another (2.9 s → 2.3 s for two
 * 5-million-row months).
 */
const AHEAD_BATCH = 64;

/** Where the look-ahead reads go: observable from outside, so no compiler may drop them. */
export let lookAheadSink = 0;

export function canParseInWorker(): boolean {
  return typeof Bun !== 'undefined';
}

/**
 * In the compiled binary the worker is a second entry point (package.json "build"), stored under
 * the bundle's root by its path in the project; elsewhere it sits beside this file.
 */
function workerLocation(): URL | string {
  return import.meta.url.includes('$bunfs') ? './drivers/csv/parse-worker.ts' : new URL('./parse-worker.ts', import.meta.url);
}

export interface ParallelReadOptions {
  files: { path: string; label: string }[];
  onRow(file: number, bytes: Uint8Array, row: RowScratch): void;
  /** Called for a batch of rows' id hashes before their onRow calls, to overlap cache misses. */
  onAhead?(file: number, idHash: number): number;
  problems: RowProblems;
  onProgress?(file: number, progress: ReadProgress): void;
}

export function readHandlingCsvFilesInWorker(options: ParallelReadOptions): Promise<number[]> {
  const ring = createSlotRing();
  const state = new Int32Array(ring.state);
  const input: ParseWorkerInput & { kind: string } = { kind: 'cvs-issue-parse', files: options.files, ring };
  const worker = new Worker(workerLocation(), { workerData: input });
  const rowsPerFile = options.files.map(() => 0);
  const rowsSeen = options.files.map(() => 0);
  const row = createRowScratch();
  /** The worker's type index (after the standard ones) → this thread's. */
  const typeIndexOf: number[] = [];
  return new Promise<number[]>((resolve, reject) => {
    let finished = 0;
    const fail = (error: unknown) => {
      void worker.terminate();
      reject(error);
    };
    worker.on('message', (message: ParseWorkerMessage) => {
      try {
        if (message.type === 'error') return fail(new AppError(message.kind, message.code, message.message, message.where));
        if (message.type === 'file-done') {
          options.problems.absorb(message.problems, message.problemCount);
          rowsPerFile[message.file] = message.rows;
          finished += 1;
          if (finished === options.files.length) {
            void worker.terminate();
            resolve(rowsPerFile);
          }
          return;
        }
        options.problems.absorb(message.problems, message.problemCount);
        for (const code of message.newTypeCodes) {
          const index = internTypeCode(code);
          if (index < 0) throw new AppError('input', 'csv.too_many_types', `one run tells at most ${MAX_TYPE_CODES} certificate types apart`, code);
          typeIndexOf.push(index);
        }
        const bytes = slotBytes(ring, message.slot, message.usedBytes);
        const values = slotValues(ring, message.slot, message.rows);
        for (let first = 0; first < message.rows; first += AHEAD_BATCH) {
          const last = Math.min(message.rows, first + AHEAD_BATCH);
          if (options.onAhead) for (let index = first; index < last; index += 1) lookAheadSink ^= options.onAhead(message.file, hashAt(values, index));
          for (let index = first; index < last; index += 1) {
            unpackRow(values, index * ROW_VALUES, row);
            // The worker's table starts as this one does (the seven standard codes); only its own additions are mapped.
            if (row.typeIndex >= CERTIFICATE_TYPES.length) row.typeIndex = typeIndexOf[row.typeIndex - CERTIFICATE_TYPES.length]!;
            options.onRow(message.file, bytes, row);
          }
        }
        Atomics.store(state, message.slot, 0);
        Atomics.notify(state, message.slot);
        rowsSeen[message.file] = rowsSeen[message.file]! + message.rows;
        options.onProgress?.(message.file, { bytesRead: message.bytesRead, totalBytes: message.totalBytes, rows: rowsSeen[message.file]! });
      } catch (error) {
        fail(error);
      }
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (finished < options.files.length) fail(new AppError('internal', 'csv.worker_exit', `the parse worker stopped early (exit ${code})`));
    });
  });
}
