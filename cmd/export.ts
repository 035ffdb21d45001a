// `cvs-issue center export` and `cvs-issue relay export`: each side writes its own handling records
// in the interchange format (SPEC.md §4), so the two can be reconciled from files.

import fs from 'node:fs';
import type { Command } from 'commander';
import { parseOptionsText } from '../core/certificate-types.ts';
import { HANDLING_CSV_HEADER, HANDLING_CSV_HEADER_WITH_OPTIONS, formatHandlingRow, formatHandlingRowWithOptions, parseMonth } from '../core/handling-csv.ts';
import type { HandlingRecord } from '../core/messages.ts';
import type { Database } from '../drivers/store/database.ts';
import { usageError } from '../core/errors.ts';
import { jstParts, parseIsoInstant } from '../core/jst.ts';
import { allRecords, openSettlementDatabase, recordsAroundMonth } from '../drivers/store/settlement-store.ts';
import { centerDatabase, findRelay } from './config.ts';
import type { Factory } from './factory.ts';

const FLUSH_CHARACTERS = 1 << 20;

interface ExportOptions {
  dir?: string;
  db?: string;
  operator?: string;
  month?: string;
  out?: string;
  /** Centre only: a tenth column, certificate_options, from each issuance's request (docs/certificate-types.md). */
  withOptions?: boolean;
}

function databaseOf(role: 'center' | 'relay', options: ExportOptions, factory: Factory): string {
  if (options.db) return options.db;
  if (!options.dir) throw usageError('give --dir DIR of a deployment or --db FILE');
  const loaded = factory.deployment(options.dir);
  return role === 'center' ? centerDatabase(loaded) : loaded.resolve(findRelay(loaded, options.operator).databaseFile);
}

/** Writes the records (of the JST month when given) as CSV; returns how many rows were written. */
export function runExport(role: 'center' | 'relay', options: ExportOptions, factory: Factory): number {
  const { io } = factory;
  if (options.month !== undefined && parseMonth(options.month) === undefined) throw usageError(`--month "${options.month}" is not YYYY-MM`);
  const db = openSettlementDatabase(databaseOf(role, options, factory), role);
  // Written to a temporary name and renamed at the end, so a failed export leaves no half file.
  const temporary = options.out ? `${options.out}.partial` : undefined;
  const fd = temporary ? fs.openSync(temporary, 'w', 0o600) : undefined;
  const format = options.withOptions ? rowWithOptions(db) : formatHandlingRow;
  let pending = `${options.withOptions ? HANDLING_CSV_HEADER_WITH_OPTIONS : HANDLING_CSV_HEADER}\n`;
  const flush = () => {
    if (fd !== undefined) fs.writeSync(fd, pending);
    else io.out(pending);
    pending = '';
  };
  let rows = 0;
  try {
    const records = options.month ? recordsAroundMonth(db, options.month) : allRecords(db);
    for (const record of records) {
      if (options.month) {
        const epochMs = parseIsoInstant(record.issuedAt);
        const parts = epochMs === undefined ? undefined : jstParts(epochMs);
        if (!parts || parts.dateIso.slice(0, 7) !== options.month) continue;
      }
      pending += format(record);
      rows += 1;
      if (pending.length > FLUSH_CHARACTERS) flush();
    }
    flush();
  } finally {
    db.close();
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (temporary && options.out) fs.renameSync(temporary, options.out);
  return rows;
}

/** A record's row with the options its request was made with; a supplied record with no request has none. */
function rowWithOptions(db: Database): (record: HandlingRecord) => string {
  return (record) => {
    const request = db.get<{ options: string }>('SELECT options FROM requests WHERE request_id = :requestId', { requestId: record.issuanceId });
    return formatHandlingRowWithOptions(record, request ? parseOptionsText(request.options) : undefined);
  };
}

export function addExportSubcommand(parent: Command, role: 'center' | 'relay', factory: Factory): void {
  const command = parent
    .command('export')
    .description(`write the ${role === 'center' ? "centre's" : "operator's"} handling records as CSV (issuance_id,issued_at,…,fee_yen)`)
    .option('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--db <file>', `the ${role} database instead of the deployment's`)
    .option('--month <YYYY-MM>', 'only records of this JST month')
    .option('--out <file>', 'write to this file instead of stdout')
    .action((options: ExportOptions) => {
      const rows = runExport(role, options, factory);
      if (options.out) factory.io.err(`${rows} records written to ${options.out}\n`);
    });
  if (role === 'relay') command.option('--operator <id>', 'which relay of the deployment (default: the first)');
  if (role === 'center') command.option('--with-options', 'add a tenth column, certificate_options (household=all;honseki=shown …), from each request; reconcile reads both forms');
}
