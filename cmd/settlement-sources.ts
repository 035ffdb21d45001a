// Where monthly settlement reads handling records from: a CSV file in the interchange format, or a
// centre/relay database (each record goes through the same row parser, so both are validated
// alike). Also the month option, the progress line and the store-days file shared by reconcile and
// invoice.

import fs from 'node:fs';
import path from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import { previousJstMonth } from '../core/deadlines.ts';
import { AppError, inputError, usageError } from '../core/errors.ts';
import { isIsoDate } from '../core/jst.ts';
import { createRowScratch, formatHandlingRow, parseHandlingRow, parseMonth, type RowProblems, type RowScratch } from '../core/handling-csv.ts';
import type { StoreDay } from '../core/reconcile.ts';
import { fileSizeBytes, readHandlingCsv, type ReadProgress } from '../drivers/csv/handling-reader.ts';
import type { Database } from '../drivers/store/database.ts';
import { openSettlementDatabase, recordsAroundMonth, type RecordView, type SettlementRole } from '../drivers/store/settlement-store.ts';
import type { Clock } from '../core/ports.ts';
import type { Io } from './io.ts';

/** A database source may be narrowed to one operator's records (the centre holds every operator's). */
export type RecordSource = { kind: 'file'; path: string } | { kind: 'db'; path: string; role: SettlementRole; operatorId?: string };

export function describeSource(source: RecordSource): string {
  return source.kind === 'file' ? source.path : `${source.path} (${source.role} database)`;
}

/** --month, or in cron (no --month) the previous JST month. Returns YYYY-MM and its key. */
export function resolveMonth(option: string | undefined, clock: Clock): { month: string; monthKey: number } {
  const month = option ?? previousJstMonth(clock.nowMs());
  const monthKey = parseMonth(month);
  if (monthKey === undefined) throw usageError(`--month "${month}" is not YYYY-MM`);
  return { month, monthKey };
}

/** Rows a file probably holds, from the line length of its first megabyte: sizes columns once. */
export function estimateRows(source: RecordSource): number {
  if (source.kind !== 'file') return 1024;
  const size = fileSizeBytes(source.path);
  const sample = Buffer.alloc(Math.min(size, 1 << 20));
  const fd = fs.openSync(source.path, 'r');
  try {
    fs.readSync(fd, sample, 0, sample.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  let lines = 0;
  for (let index = sample.indexOf(10); index >= 0; index = sample.indexOf(10, index + 1)) lines += 1;
  return lines === 0 ? 1024 : Math.ceil((size / sample.length) * lines * 1.02);
}

export interface Progress {
  update(label: string, progress: ReadProgress): void;
  done(): void;
}

/** Rows read and rate on stderr, only for a person at a terminal (not with --json, not in cron). */
export function createProgress(io: Io, enabled: boolean): Progress {
  if (!enabled) return { update: () => undefined, done: () => undefined };
  const startedMs = performance.now();
  let lastMs = 0;
  let shown = false;
  return {
    update(label, progress) {
      const nowMs = performance.now();
      if (nowMs - lastMs < 250) return;
      lastMs = nowMs;
      shown = true;
      const percent = progress.totalBytes > 0 ? Math.floor((progress.bytesRead / progress.totalBytes) * 100) : 100;
      const rate = progress.bytesRead / 1e6 / Math.max(0.001, (nowMs - startedMs) / 1000);
      io.err(`\r${label}: ${progress.rows.toLocaleString('en-US')} rows (${percent}%), ${rate.toFixed(0)} MB/s   `);
    },
    done() {
      if (shown) io.err('\r\x1b[2K');
    },
  };
}

/** Feeds every well-formed row of the source to visit; malformed ones go to problems. */
export interface RowVisitor {
  (bytes: Uint8Array, row: RowScratch): void;
}

/** Feeds every well-formed row of the source to visit; malformed ones go to problems. */
export function readSource(source: RecordSource, month: string, visit: RowVisitor, problems: RowProblems, progress: Progress, centreView: RecordView = 'effective_handling_records'): number {
  const label = path.basename(source.path);
  if (source.kind === 'file') {
    return readHandlingCsv(source.path, { onRow: visit, problems, label: source.path, onProgress: (read) => progress.update(label, read)}).rows;
  }
  const db = openSettlementDatabase(source.path, source.role);
  try {
    return readDatabase(db, source.path, month, visit, problems, source.role === 'center' ? centreView : 'effective_handling_records', source.operatorId);
  } finally {
    db.close();
  }
}

function readDatabase(db: Database, where: string, month: string, visit: RowVisitor, problems: RowProblems, view: RecordView, operatorId: string | undefined): number {
  const encoder = new TextEncoder();
  const row = createRowScratch();
  let bytes = new Uint8Array(4096);
  let rows = 0;
  let ordinal = 0;
  for (const record of recordsAroundMonth(db, month, view)) {
    ordinal += 1;
    if (operatorId !== undefined && record.operatorId !== operatorId) continue;
    const line = formatHandlingRow(record);
    if (line.length * 3 > bytes.length) bytes = new Uint8Array(line.length * 3);
    const { written } = encoder.encodeInto(line, bytes);
    const problem = parseHandlingRow(bytes, 0, written - 1, row);
    if (problem !== undefined) problems.add(`${where}:record ${ordinal} (${record.issuanceId.slice(0, 64)})`, problem);
    else {
      rows += 1;
      visit(bytes, row);
    }
  }
  return rows;
}

/** Prints the kept problem lines and stops: no result is written from malformed input. */
export function failOnProblems(io: Io, problems: RowProblems): void {
  if (problems.count === 0) return;
  for (const line of problems.lines()) io.err(`${line}\n`);
  throw inputError('settlement.malformed_rows', `${problems.count} malformed row${problems.count === 1 ? '' : 's'}: nothing was written`);
}

/** --store-days FILE: CSV store_id,kiosk_id,business_date,cash_yen with that header. */
export function readStoreDaysFile(file: string): StoreDay[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new AppError('usage', 'store_days.unreadable', 'cannot read this file', file);
  }
  const lines = text.split(/\r?\n/);
  if (lines[0]?.replace(/^\uFEFF/, '') !== 'store_id,kiosk_id,business_date,cash_yen') {
    throw inputError('store_days.bad_header', 'expected the header store_id,kiosk_id,business_date,cash_yen', `${file}:1`);
  }
  const days: StoreDay[] = [];
  lines.slice(1).forEach((line, index) => {
    if (line === '' && index === lines.length - 2) return;
    const [storeId, kioskId, businessDate, cash, extra] = line.split(',');
    const valid = /^[A-Za-z0-9._-]{1,64}$/;
    if (extra !== undefined || !storeId || !kioskId || !valid.test(storeId) || !valid.test(kioskId) || !isIsoDate(businessDate ?? '') || !/^[0-9]{1,12}$/.test(cash ?? '')) {
      throw inputError('store_days.bad_row', 'expected store_id,kiosk_id,YYYY-MM-DD,cash_yen with a real date and whole yen', `${file}:${index + 2}`);
    }
    days.push({ storeId, kioskId, businessDate: businessDate!, cashYen: Number(cash) });
  });
  return days;
}

export function chalkFor(io: Io): ChalkInstance {
  return new Chalk({ level: io.color ? 1 : 0 });
}
