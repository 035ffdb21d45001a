// Streams a handling-record CSV file (SPEC.md §4) through the byte-level row parser: the file is
// read in large chunks into one reused buffer and split at newlines natively (Buffer.indexOf), so
// a 5-million-row file never exists in memory as a whole or as strings.

import fs from 'node:fs';
import { AppError } from '../../core/errors.ts';
import { createRowScratch, handlingHeaderColumns, parseHandlingRow, type RowProblems, type RowScratch } from '../../core/handling-csv.ts';

const CHUNK_BYTES = 8 * 1024 * 1024;
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

export interface ReadProgress {
  bytesRead: number;
  totalBytes: number;
  rows: number;
}

export interface ReadOptions {
  /** Called with every well-formed row; row and bytes are reused, so copy what must be kept. */
  onRow(bytes: Uint8Array, row: RowScratch): void;
  problems: RowProblems;
  /** Name used in "FILE:LINE" messages; defaults to the path. */
  label?: string;
  onProgress?(progress: ReadProgress): void;
  /**
   * Called when the rows given to onRow since the last call are complete: they all lie in
   * bytes[0, usedBytes), which is overwritten right after (a parse worker copies it out here).
   */
  onChunk?(bytes: Uint8Array, usedBytes: number): void;
  /** Read size; tests make it small to cross chunk boundaries. */
  chunkBytes?: number;
}

export interface ReadSummary {
  rows: number;
  bytes: number;
}

export function fileSizeBytes(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    throw new AppError('usage', 'csv.unreadable', 'cannot read this file', path);
  }
}

export function readHandlingCsv(path: string, options: ReadOptions): ReadSummary {
  const label = options.label ?? path;
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    throw new AppError('usage', 'csv.unreadable', 'cannot read this file', path);
  }
  try {
    return readLines(fd, fileSizeBytes(path), label, options);
  } finally {
    fs.closeSync(fd);
  }
}

function readLines(fd: number, totalBytes: number, label: string, options: ReadOptions): ReadSummary {
  const { onRow, problems } = options;
  const row = createRowScratch();
  // A plain Uint8Array, not a Buffer: the JIT keeps byte access on it fast in every callee (a Buffer
  // reaching code that also sees plain arrays made the tables several times slower under Bun).
  const buffer = new Uint8Array(options.chunkBytes ?? CHUNK_BYTES);
  let carried = 0;
  let lineNumber = 0;
  let rows = 0;
  let bytesRead = 0;
  let sawHeader = false;
  const handleLine = (start: number, newline: number): void => {
    const end = newline > start && buffer[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
    lineNumber += 1;
    if (!sawHeader) {
      sawHeader = true;
      const columns = handlingHeaderColumns(buffer, start, end);
      if (columns === 0) problems.add(`${label}:1`, 'the header is not the handling-record header (issuance_id,issued_at,…,fee_yen[,certificate_options])');
      else row.columns = columns;
      return;
    }
    const problem = parseHandlingRow(buffer, start, end, row);
    if (problem !== undefined) problems.add(`${label}:${lineNumber}`, problem);
    else {
      rows += 1;
      onRow(buffer, row);
    }
  };
  for (;;) {
    const read = fs.readSync(fd, buffer, carried, buffer.length - carried, null);
    const end = carried + read;
    bytesRead += read;
    if (read === 0) {
      if (carried > 0) handleLine(0, carried);
      // Found at end of file, so it must be reported before the last chunk goes out: a parse
      // worker forwards problems with its chunks (finding 4 of issue 8: it dropped this one).
      if (!sawHeader) problems.add(`${label}:1`, 'the file is empty: no header');
      options.onChunk?.(buffer, carried);
      break;
    }
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(NEWLINE, start);
      if (newline < 0 || newline >= end) break;
      handleLine(start, newline);
      start = newline + 1;
    }
    options.onChunk?.(buffer, start);
    carried = end - start;
    if (carried === buffer.length) throw new AppError('input', 'csv.line_too_long', `a line is longer than ${buffer.length} bytes`, `${label}:${lineNumber + 1}`);
    buffer.copyWithin(0, start, end);
    options.onProgress?.({ bytesRead, totalBytes, rows });
  }
  return { rows, bytes: bytesRead };
}
