// `cvs-issue reconcile`: the centre's handling records against the operator's for one JST month
// (SPEC.md §4), from files or databases; with --confirm, locks a month that reconciles cleanly.
// Exit 0 agrees, 3 differs, 2 bad input; the report is printed before the exit code is decided.

import path from 'node:path';
import { Command, Option } from 'commander';
import { COMMANDS } from './commands.ts';
import Table from 'cli-table3';
import { deadlineWarnings, monthDeadlines, type Deadlines } from '../core/deadlines.ts';
import { jstParts } from '../core/jst.ts';
import { AppError, usageError } from '../core/errors.ts';
import { RowProblems } from '../core/handling-csv.ts';
import type { Clock } from '../core/ports.ts';
import { adjustmentsSettledIn } from '../drivers/store/center-store.ts';
import { unnoticedRequests } from '../drivers/store/settlement-store.ts';
import { adjustmentTotals, type SettlementAdjustment } from '../core/settlement.ts';
import { createReconciler, isClean, isConfirmable, unnoticedDifferences, type ComparedValues, type ReconcileDifference, type ReconcileResult, type StoreDay } from '../core/reconcile.ts';
import { canParseInWorker, readHandlingCsvFilesInWorker } from '../drivers/csv/parallel-reader.ts';
import { findRelayConfirmation, listStoreDays, openSettlementDatabase, saveRelayConfirmation, saveRelaySubmission } from '../drivers/store/settlement-store.ts';
import { centerDatabase, clientFor, findRelay, openRoleAuditLog, type LoadedConfig } from './config.ts';
import { confirmationRefusal, type MonthConfirmation, type SettlementSubmission } from '../core/settlement.ts';
import { formatUtcIso } from '../core/jst.ts';
import { callJson } from '../drivers/http/json-api.ts';
import { SETTLEMENT_CONFIRM_PATH } from '../core/messages.ts';
import { auditOrigin } from '../drivers/store/audit-log.ts';
import type { Factory } from './factory.ts';
import type { Io } from './io.ts';
import {
  chalkFor,
  createProgress,
  describeSource,
  estimateRows,
  failOnProblems,
  readSource,
  readStoreDaysFile,
  resolveMonth,
  type RecordSource,
} from './settlement-sources.ts';

export interface ReconcileOptions {
  month?: string;
  dir?: string;
  centerCsv?: string;
  centerDb?: string;
  operatorCsv?: string;
  operatorDb?: string;
  /** Which relay of the deployment: an operator id, as everywhere else. */
  operator?: string;
  storeDays?: string;
  confirm?: boolean;
  centerUrl?: string;
  json?: boolean;
  csv?: boolean;
}

export interface ReconcileReport extends ReconcileResult {
  /** 過誤調整: records of earlier, confirmed months settled in this one (centre database only). */
  adjustments: SettlementAdjustment[];
  /** Issued but never noticed, per kiosk (centre database only); also listed in differences. */
  unnoticed: Array<{ kioskId: string; requests: number; oldestAgeHours: number }>;
  deadlines: Pick<Deadlines, 'reconcileBy' | 'confirmBy'>;
  warnings: string[];
  sources: { center: string; operator: string };
  confirmed: MonthConfirmation | null;
}

function pickSources(options: ReconcileOptions, factory: Factory): { center: RecordSource; operator: RecordSource } {
  if (options.centerCsv && options.centerDb) throw usageError('give --center-csv or --center-db, not both');
  if (options.operatorCsv && options.operatorDb) throw usageError('give --operator-csv or --operator-db, not both');
  if (options.operator !== undefined && /[/\\]|\.(csv|db)$/i.test(options.operator)) throw usageError(`--operator takes an operator id; give the operator's file as --operator-csv FILE or --operator-db FILE`);
  if (options.operator !== undefined && !options.dir) throw usageError('--operator ID picks a relay of a deployment: give --dir DIR too');
  const loaded = options.dir ? factory.deployment(options.dir) : undefined;
  const needDir = (flag: string) => {
    if (!loaded) throw usageError(`give ${flag}-csv FILE, ${flag}-db FILE, or --dir DIR of a deployment`);
    return loaded;
  };
  // The centre holds every operator's records; a deployment's relay speaks for one operator only.
  const center: RecordSource = options.centerCsv
    ? { kind: 'file', path: options.centerCsv }
    : {
        kind: 'db',
        role: 'center',
        path: options.centerDb ?? centerDatabase(needDir('--center')),
        ...(loaded ? { operatorId: findRelay(loaded, options.operator).operatorId } : {}),
      };
  const operator: RecordSource = options.operatorCsv
    ? { kind: 'file', path: options.operatorCsv }
    : { kind: 'db', role: 'relay', path: options.operatorDb ?? needDir('--operator').resolve(findRelay(needDir('--operator'), options.operator).databaseFile) };
  // With every source given as a file, --dir would be read for nothing: say so rather than ignore it.
  if (loaded && options.centerCsv && options.operatorCsv && !options.confirm) throw usageError('--dir is not read when both sides are given as CSV files: leave it out');
  return { center, operator };
}

function storeDaysFor(options: ReconcileOptions, operator: RecordSource, month: string): StoreDay[] {
  if (options.storeDays) return readStoreDaysFile(options.storeDays);
  if (operator.kind !== 'db') return [];
  const db = openSettlementDatabase(operator.path, 'relay');
  try {
    return listStoreDays(db, month);
  } finally {
    db.close();
  }
}

/** What only the centre's database knows: adjustments settled in the month, requests never noticed. */
function centreOnlyFacts(options: ReconcileOptions, center: RecordSource, month: string, factory: Factory): { adjustments: SettlementAdjustment[]; unnoticed: ReconcileDifference[] } {
  if (center.kind !== 'db') return { adjustments: [], unnoticed: [] };
  const operatorId = options.dir ? findRelay(factory.deployment(options.dir), options.operator).operatorId : null;
  const db = openSettlementDatabase(center.path, 'center');
  try {
    return { adjustments: adjustmentsSettledIn(db, month, operatorId), unnoticed: unnoticedDifferences(unnoticedRequests(db, month, operatorId), factory.clock.nowMs()) };
  } finally {
    db.close();
  }
}

function perKiosk(unnoticed: readonly ReconcileDifference[]): ReconcileReport['unnoticed'] {
  const byKiosk = new Map<string, { kioskId: string; requests: number; oldestAgeHours: number }>();
  for (const difference of unnoticed) {
    const kioskId = difference.kioskId ?? '';
    const entry = byKiosk.get(kioskId) ?? { kioskId, requests: 0, oldestAgeHours: 0 };
    entry.requests += 1;
    entry.oldestAgeHours = Math.max(entry.oldestAgeHours, difference.ageHours ?? 0);
    byKiosk.set(kioskId, entry);
  }
  return [...byKiosk.values()];
}

export async function runReconcile(options: ReconcileOptions, factory: Factory): Promise<ReconcileReport> {
  const { io, clock } = factory;
  if (options.json && options.csv) throw usageError('give --json or --csv, not both');
  const { month, monthKey } = resolveMonth(options.month, clock);
  const sources = pickSources(options, factory);
  if (options.confirm && (sources.center.kind !== 'db' || !options.dir || options.centerDb)) {
    throw usageError("--confirm submits the operator's result through its relay and the centre agrees: give --dir, not --center or --center-db");
  }
  const progress = createProgress(io, io.stdoutIsTty && !options.json && !options.csv);
  const problems = new RowProblems();
  const reconciler = createReconciler({ monthKey, expectedRows: estimateRows(sources.center), storeDays: storeDaysFor(options, sources.operator, month) });
  if (sources.center.kind === 'file' && sources.operator.kind === 'file' && canParseInWorker()) {
    // Two files: one core parses while the other matches (the rows arrive in the same order).
    const files = [sources.center.path, sources.operator.path];
    await readHandlingCsvFilesInWorker({
      files: files.map((file) => ({ path: file, label: file })),
      onRow: (file, bytes, row) => (file === 0 ? reconciler.addCenter(bytes, row) : reconciler.addOperator(bytes, row)),
      onAhead: (_file, idHash) => reconciler.touchCenter(idHash),
      problems,
      onProgress: (file, read) => progress.update(path.basename(files[file]!), read),
    });
  } else {
    // Every record the month really had, late ones settled as adjustments included (Spec§4-3).
    readSource(sources.center, month, (bytes, row) => reconciler.addCenter(bytes, row), problems, progress, 'settlement_records');
    readSource(sources.operator, month, (bytes, row) => reconciler.addOperator(bytes, row), problems, progress);
  }
  progress.done();
  failOnProblems(io, problems);
  const reconciled = reconciler.finish();
  const { adjustments, unnoticed } = centreOnlyFacts(options, sources.center, month, factory);
  const result = { ...reconciled, differences: [...reconciled.differences, ...unnoticed] };
  const deadlines = monthDeadlines(monthKey, factory.isHoliday);
  const clean = isClean(result);
  const report: ReconcileReport = {
    ...result,
    deadlines: { reconcileBy: deadlines.reconcileBy, confirmBy: deadlines.confirmBy },
    warnings: deadlineWarnings(deadlines, jstParts(clock.nowMs()).dateIso, clean),
    sources: { center: describeSource(sources.center), operator: describeSource(sources.operator) },
    adjustments,
    unnoticed: perKiosk(unnoticed),
    confirmed: null,
  };
  if (options.confirm && isConfirmable(report) && options.dir) report.confirmed = await confirm(factory.deployment(options.dir), report, options, clock);
  return report;
}

/**
 * Spec§4-3, C§3(3): the operator submits its result through its relay, signed into the relay's
 * audit log; the centre agrees (or refuses with the reason) and the relay keeps the lock too. The
 * month's end is checked here first, so a cron job run too early says why without the network.
 */
async function confirm(loaded: LoadedConfig, report: ReconcileReport, options: ReconcileOptions, clock: Clock): Promise<MonthConfirmation> {
  const relay = findRelay(loaded, options.operator);
  const nowMs = clock.nowMs();
  const submission: SettlementSubmission = { month: report.month, submittedAt: formatUtcIso(nowMs), records: report.operator.records, documents: report.operator.documents, feesYen: report.operator.feesYen };
  const early = confirmationRefusal({ month: report.month, nowMs, operatorId: relay.operatorId, submission, center: submission });
  if (early) throw early;
  const db = openSettlementDatabase(loaded.resolve(relay.databaseFile), 'relay');
  const client = clientFor(loaded, relay.centerTls, options.centerUrl ?? relay.centerUrl, 15_000);
  try {
    const existing = findRelayConfirmation(db, report.month);
    if (existing) return { ...existing, operatorId: relay.operatorId };
    const audit = openRoleAuditLog(db, loaded, relay, auditOrigin('relay', relay.operatorId), clock);
    saveRelaySubmission(db, audit, relay.operatorId, submission);
    const confirmation = await callJson<MonthConfirmation>(client, SETTLEMENT_CONFIRM_PATH, submission);
    saveRelayConfirmation(db, audit, confirmation);
    return confirmation;
  } finally {
    await client.close();
    db.close();
  }
}

const CSV_HEADER = 'kind,issuance_id,side,fields,store_id,kiosk_id,business_date,cash_yen,fees_yen,center_values,operator_values';

/** "copies=2;feeYen=400": ids, codes and integers only, so nothing needs quoting. */
function valuesText(values: ComparedValues | undefined): string {
  return Object.entries(values ?? {}).map(([field, value]) => `${field}=${value}`).join(';');
}

/** "copies: centre 2, operator 1; feeYen: centre 400, operator 200" */
function mismatchText(difference: ReconcileDifference): string {
  return (difference.fields ?? []).map((field) => `${field}: centre ${difference.center?.[field] ?? ''}, operator ${difference.operator?.[field] ?? ''}`).join('; ');
}

export function formatReconcileCsv(report: ReconcileReport): string {
  const lines = [CSV_HEADER];
  for (const difference of report.differences) {
    lines.push([difference.kind, difference.issuanceId, difference.side ?? '', (difference.fields ?? []).join(';'), '', '', '', '', '', valuesText(difference.center), valuesText(difference.operator)].join(','));
  }
  for (const day of report.storeDays?.differences ?? []) {
    lines.push(['store-day', '', '', '', day.storeId, day.kioskId, day.businessDate, day.cashYen ?? '', day.feesYen, '', ''].join(','));
  }
  return `${lines.join('\n')}\n`;
}

const SHOWN_DIFFERENCES = 100;

function formatReconcileText(report: ReconcileReport, io: Io): string {
  const chalk = chalkFor(io);
  const clean = isClean(report);
  const out: string[] = [];
  const title = `Reconciliation ${report.month}: ${clean ? chalk.green('all records agree') : chalk.red(`${report.differences.length + (report.storeDays?.differences.length ?? 0)} differences`)}`;
  out.push(title);
  const counts: Array<[string, number]> = [
    ['matched', report.matched],
    ['missing at centre', report.missingAtCenter],
    ['missing at operator', report.missingAtOperator],
    ['mismatched', report.mismatched],
    ['duplicated ids', report.duplicates],
    ['issued but unnoticed', report.differences.filter((difference) => difference.kind === 'issued-unnoticed').length],
  ];
  if (io.stdoutIsTty) {
    const table = new Table({ head: ['', 'records'], style: { head: io.color ? ['cyan'] : [] } });
    for (const [label, value] of counts) table.push([label, value === 0 || label === 'matched' ? String(value) : chalk.red(String(value))]);
    out.push(table.toString());
  } else {
    for (const [label, value] of counts) out.push(`  ${label}: ${value}`);
  }
  out.push(`centre: ${report.center.records} records, ${report.center.documents} documents, ¥${report.center.feesYen}; operator: ${report.operator.records} records, ${report.operator.documents} documents, ¥${report.operator.feesYen}`);
  if (report.differences.length > 0) {
    const shown = report.differences.slice(0, SHOWN_DIFFERENCES);
    if (io.stdoutIsTty) {
      const table = new Table({ head: ['issuance id', 'difference', 'detail'], style: { head: io.color ? ['cyan'] : [] } });
      for (const difference of shown) table.push([difference.issuanceId, difference.kind, difference.fields ? mismatchText(difference) : difference.side ?? '']);
      out.push(table.toString());
    } else {
      for (const difference of shown) out.push(`  ${difference.kind} ${difference.issuanceId}${difference.fields ? ` (${mismatchText(difference)})` : difference.side ? ` (${difference.side})` : ''}`);
    }
    if (report.differences.length > shown.length) out.push(`  … ${report.differences.length - shown.length} more (use --json or --csv for all)`);
  }
  for (const kiosk of report.unnoticed) out.push(`issued but unnoticed at ${kiosk.kioskId}: ${kiosk.requests} request(s), the oldest ${kiosk.oldestAgeHours} h ago`);
  if (report.adjustments.length > 0) {
    const total = adjustmentTotals(report.adjustments);
    out.push(`adjustments (過誤調整) settled in ${report.month}: ${total.records} records, ${total.documents} documents, ¥${total.feesYen}`);
    for (const line of report.adjustments.slice(0, SHOWN_DIFFERENCES)) out.push(`  ${line.kind} ${line.issuanceId} of ${line.originalMonth} (${line.kioskId}): ${line.copies} documents, ¥${line.feeYen}`);
  }
  if (report.storeDays) {
    out.push(`store business days: ${report.storeDays.days} closes, ${report.storeDays.differences.length} where cash ≠ fees`);
    for (const day of report.storeDays.differences.slice(0, SHOWN_DIFFERENCES)) {
      out.push(`  ${day.businessDate} ${day.storeId}/${day.kioskId}: cash ${day.cashYen === null ? 'not reported' : `¥${day.cashYen}`}, fees ¥${day.feesYen}`);
    }
  }
  out.push(`reconcile by ${report.deadlines.reconcileBy}, confirm by ${report.deadlines.confirmBy}`);
  for (const warning of report.warnings) out.push(chalk.yellow(`warning: ${warning}`));
  if (report.confirmed) out.push(chalk.green(`month ${report.confirmed.month} confirmed at ${report.confirmed.confirmedAt}: its records can no longer change`));
  return `${out.join('\n')}\n`;
}

/** A flag of earlier versions: refused with its new name, never taken with another meaning. */
function renamed(old: string, now: string): () => never {
  return () => {
    throw usageError(`${old} is now ${now}`);
  };
}

export function makeReconcileCommand(factory: Factory): Command {
  const { io } = factory;
  return new Command('reconcile')
    .description(COMMANDS.reconcile.description)
    .option('--month <YYYY-MM>', 'JST month to reconcile (default: the previous month, for cron)')
    .option('--dir <dir>', 'deployment made by "cvs-issue init": default source of both databases')
    .option('--center-csv <file>', "the centre's records as handling-record CSV")
    .option('--center-db <file>', "the centre's database (center.db)")
    .option('--operator-csv <file>', "the operator's records as handling-record CSV")
    .option('--operator-db <file>', "the operator's relay database (relay.db)")
    .option('--operator <id>', 'which relay of the deployment, by operator id (with --dir; default the first)')
    .addOption(new Option('--center <file>').hideHelp().argParser(renamed('--center', '--center-csv')))
    .addOption(new Option('--operator-id <id>').hideHelp().argParser(renamed('--operator-id', '--operator')))
    .option('--store-days <file>', 'cash per store business day: CSV store_id,kiosk_id,business_date,cash_yen')
    .option('--confirm', "submit a clean month to the centre through the operator's relay: both parties' agreement locks it (Spec§4-3)")
    .option('--center-url <url>', 'with --confirm: the centre, e.g. https://127.0.0.1:8443; default from the deployment')
    .option('--json', 'print the report as JSON')
    .option('--csv', 'print the differences as CSV')
    .addHelpText('after', '\nExit codes: 0 everything agrees, 3 differences found, 2 bad input (each malformed row as FILE:LINE: problem).')
    .action(async (options: ReconcileOptions) => {
      const report = await runReconcile(options, factory);
      if (options.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
      else if (options.csv) io.out(formatReconcileCsv(report));
      else io.out(formatReconcileText(report, io));
      if (options.csv) for (const warning of report.warnings) io.err(`cvs-issue: warning: ${warning}\n`);
      if (!isClean(report)) {
        const notConfirmed = !options.confirm ? '' : report.confirmed ? '; the month was confirmed: a late notice is settled as an adjustment' : '; the month was not confirmed';
        throw new AppError('differences', 'reconcile.differences', `${report.month} does not reconcile${notConfirmed}`);
      }
    });
}
