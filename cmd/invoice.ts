// `cvs-issue invoice`: settles a JST month from the centre's records (database or CSV file): fees,
// ¥115 a document, deadlines, late interest, the dedicated line's fee; JSON, CSV, a table, a PDF.
// Without --month it settles the previous month, so cron can run it on the 1st.

import fs from 'node:fs';
import { Command } from 'commander';
import { COMMANDS } from './commands.ts';
import Table from 'cli-table3';
import ratesFile from '../fixtures/interest-rates.json' with { type: 'json' };
import { CERTIFICATE_TITLES } from '../core/certificate-types.ts';
import { isIsoDate, monthDeadlines } from '../core/deadlines.ts';
import { AppError, usageError } from '../core/errors.ts';
import { RowProblems } from '../core/handling-csv.ts';
import { buildInvoice, COMMISSION_PER_DOCUMENT_YEN, createInvoiceAccumulator, dedicatedLineFee, type DedicatedLineFee, type Invoice } from '../core/invoice.ts';
import type { SettlementAdjustment } from '../core/settlement.ts';
import { adjustmentsSettledIn } from '../drivers/store/center-store.ts';
import { openSettlementDatabase, unnoticedRequests } from '../drivers/store/settlement-store.ts';
import { lateInterest, parseRatePercent, parseRateTable, rateOn, type LateInterest } from '../core/late-interest.ts';
import type { Clock } from '../core/ports.ts';
import { renderInvoicePdf } from '../drivers/pdf/invoice-pdf.ts';
import { loadConfig } from './config.ts';
import { isNationalHoliday, processClock } from './deps.ts';
import type { Io } from './io.ts';
import { chalkFor, createProgress, estimateRows, failOnProblems, readSource, resolveMonth, type RecordSource } from './settlement-sources.ts';

export interface InvoiceOptions {
  month?: string;
  dir?: string;
  records?: string;
  centerDb?: string;
  operator?: string;
  paidOn?: string;
  inspectionDays?: string;
  rate?: string;
  rates?: string;
  lineFeeYen?: string;
  lineTermEnd?: string;
  lineTermMonths?: string;
  lineReceivedOn?: string;
  linePaidOn?: string;
  json?: boolean;
  csv?: boolean;
  pdf?: string;
}


function pickSource(options: InvoiceOptions): RecordSource {
  if (options.records && options.centerDb) throw usageError('give --records or --center-db, not both');
  if (options.records) return { kind: 'file', path: options.records };
  if (options.centerDb) return { kind: 'db', role: 'center', path: options.centerDb };
  if (!options.dir) throw usageError('give --records FILE, --center-db FILE or --dir DIR of a deployment');
  const loaded = loadConfig(options.dir);
  return { kind: 'db', role: 'center', path: loaded.resolve(loaded.config.center.databaseFile) };
}

function wholeNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,12}$/.test(value)) throw usageError(`${flag} "${value}" is not a whole number ≥ 0`);
  return Number(value);
}

function readRateTable(file: string | undefined) {
  if (!file) return parseRateTable(ratesFile, 'fixtures/interest-rates.json');
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new AppError('input', 'interest.unreadable', 'cannot read this rate table as JSON', file);
  }
  return parseRateTable(json, file);
}

function interestFor(options: InvoiceOptions, amountYen: number, payBy: string): LateInterest | undefined {
  if (options.paidOn === undefined) {
    if (options.inspectionDays || ((options.rate || options.rates) && !options.linePaidOn)) throw usageError('--rate, --rates and --inspection-days need --paid-on DATE (or --line-paid-on for the line bill)');
    return undefined;
  }
  if (!isIsoDate(options.paidOn)) throw usageError(`--paid-on "${options.paidOn}" is not a YYYY-MM-DD date`);
  const milliPercent = options.rate !== undefined ? parseRatePercent(options.rate, '--rate') : rateOn(readRateTable(options.rates), options.paidOn);
  if (milliPercent === undefined) throw usageError(`the rate table has no rate for ${options.paidOn}: give --rate PERCENT`);
  return lateInterest(amountYen, payBy, options.paidOn, wholeNumber(options.inspectionDays, '--inspection-days', 0), milliPercent);
}

function lineFeeFor(options: InvoiceOptions, month: string): DedicatedLineFee | undefined {
  if (options.lineFeeYen === undefined) {
    if (options.lineTermEnd || options.lineTermMonths || options.lineReceivedOn || options.linePaidOn) throw usageError('--line-term-end, --line-term-months, --line-received-on and --line-paid-on need --line-fee-yen N');
    return undefined;
  }
  if (!options.lineTermEnd || !isIsoDate(options.lineTermEnd)) throw usageError('--line-fee-yen needs --line-term-end YYYY-MM-DD (the end of the contract term)');
  for (const [flag, value] of [['--line-received-on', options.lineReceivedOn], ['--line-paid-on', options.linePaidOn]] as const) {
    if (value !== undefined && !isIsoDate(value)) throw usageError(`${flag} "${value}" is not a YYYY-MM-DD date`);
  }
  if (options.lineReceivedOn !== undefined && options.lineReceivedOn < options.lineTermEnd) throw usageError('--line-received-on is before the bill was issued at --line-term-end');
  return dedicatedLineFee(
    { monthlyFeeYen: wholeNumber(options.lineFeeYen, '--line-fee-yen', 0), termEnd: options.lineTermEnd, termMonths: wholeNumber(options.lineTermMonths, '--line-term-months', 12) },
    month,
    {
      operatorId: options.operator ?? null,
      receivedOn: options.lineReceivedOn,
      // C§17 in J-LIS's direction: it pays the operator late.
      lateInterest: options.linePaidOn === undefined ? undefined : (amountYen, dueBy) => {
        const milliPercent = options.rate !== undefined ? parseRatePercent(options.rate, '--rate') : rateOn(readRateTable(options.rates), options.linePaidOn!);
        if (milliPercent === undefined) throw usageError(`the rate table has no rate for ${options.linePaidOn}: give --rate PERCENT`);
        return lateInterest(amountYen, dueBy, options.linePaidOn!, 0, milliPercent);
      },
    },
  );
}

/** What only the centre's database knows: names of both parties and municipalities, adjustments settled in the month. */
function centreFacts(source: RecordSource, month: string, operatorId: string | null) {
  if (source.kind !== 'db') return { operatorName: null, municipalityNames: {}, adjustments: [] as SettlementAdjustment[], unnoticed: 0 };
  const db = openSettlementDatabase(source.path, 'center');
  try {
    const operatorName = operatorId === null ? null : (db.get<{ name: string }>('SELECT name FROM operators WHERE operator_id = :operatorId', { operatorId })?.name ?? null);
    const municipalityNames = Object.fromEntries(
      db.all<{ code: string; definition: string }>('SELECT code, definition FROM municipalities ORDER BY code').map((row) => [row.code, (JSON.parse(row.definition) as { name: string }).name]),
    );
    return { operatorName, municipalityNames, adjustments: adjustmentsSettledIn(db, month, operatorId), unnoticed: unnoticedRequests(db, month, operatorId).length };
  } finally {
    db.close();
  }
}

export function runInvoice(options: InvoiceOptions, io: Io, clock: Clock): Invoice & { unnoticedRequests?: number } {
  if (options.json && options.csv) throw usageError('give --json or --csv, not both');
  const { month, monthKey } = resolveMonth(options.month, clock);
  const source = pickSource(options);
  const problems = new RowProblems();
  const accumulator = createInvoiceAccumulator(monthKey, options.operator ?? null, estimateRows(source));
  const progress = createProgress(io, io.stdoutIsTty && !options.json && !options.csv);
  readSource(source, month, (bytes, row) => accumulator.add(bytes, row), problems, progress);
  progress.done();
  failOnProblems(io, problems);
  const deadlines = monthDeadlines(monthKey, isNationalHoliday);
  const facts = centreFacts(source, month, options.operator ?? null);
  for (const line of facts.adjustments) accumulator.addAdjustment(line);
  const totals = accumulator.totals();
  const names = { operatorName: facts.operatorName, municipalityNames: facts.municipalityNames };
  const draft = buildInvoice(totals, deadlines, names);
  const invoice = buildInvoice(totals, deadlines, { ...names, lateInterest: interestFor(options, draft.amountDueYen, deadlines.payBy), dedicatedLine: lineFeeFor(options, month) });
  if (facts.unnoticed > 0) io.err(`cvs-issue: warning: ${facts.unnoticed} request(s) of ${month} were issued but never noticed (see reconcile)\n`);
  return invoice;
}

const CSV_HEADER = 'section,key,records,documents,fees_yen,commission_yen,amount_due_yen';

export function formatInvoiceCsv(invoice: Invoice): string {
  const line = (section: string, key: string, figures: Pick<Invoice, 'records' | 'documents' | 'feesYen' | 'commissionYen' | 'amountDueYen'>) =>
    [section, key, figures.records, figures.documents, figures.feesYen, figures.commissionYen, figures.amountDueYen].join(',');
  return `${[
    CSV_HEADER,
    line('total', invoice.invoiceNumber, invoice),
    ...invoice.byMunicipality.map((entry) => line('municipality', entry.municipalityCode, entry)),
    ...invoice.byCertificateType.map((entry) => line('certificate_type', entry.certificateType, entry)),
    ...invoice.byStore.map((entry) => line('store', entry.storeId, entry)),
    ...(invoice.adjustments?.lines ?? []).map((entry) => line('adjustment', `${entry.issuanceId}@${entry.originalMonth}`, figuresOfLine(entry))),
  ].join('\n')}\n`;
}

function figuresOfLine(line: SettlementAdjustment) {
  const commissionYen = COMMISSION_PER_DOCUMENT_YEN * line.copies;
  return { records: 1, documents: line.copies, feesYen: line.feeYen, commissionYen, amountDueYen: line.feeYen - commissionYen };
}

function formatInvoiceText(invoice: Invoice, io: Io): string {
  const chalk = chalkFor(io);
  const out = [
    chalk.bold(`Invoice ${invoice.invoiceNumber} for ${invoice.month} (${invoice.operatorId ?? 'all operators'})`),
    `  from ${invoice.parties.issuer.name} to ${invoice.parties.billTo.name ?? invoice.operatorId ?? 'every operator'}`,
  ];
  const figures: Array<[string, string]> = [
    ['issuances (refunds excluded)', String(invoice.issuances)],
    ['documents', String(invoice.documents)],
    ['fees', `¥${invoice.feesYen}`],
    ['commission (¥115 × documents)', `¥${invoice.commissionYen}`],
    ['amount due', `¥${invoice.amountDueYen}`],
    ['reconcile by', invoice.deadlines.reconcileBy],
    ['confirm by', invoice.deadlines.confirmBy],
    ['invoice by', invoice.deadlines.invoiceBy],
    ['pay by', invoice.deadlines.payBy],
  ];
  if (invoice.lateInterest) figures.push([`late interest (${invoice.lateInterest.daysLate} days at ${invoice.lateInterest.ratePercent}%)`, `¥${invoice.lateInterest.interestYen}`]);
  if (invoice.adjustments) {
    const adjustments = invoice.adjustments;
    figures.push([`of which adjustments (過誤調整) of confirmed months: ${adjustments.records} records, ${adjustments.documents} documents`, `¥${adjustments.amountDueYen}`]);
    for (const line of adjustments.lines) figures.push([`  ${line.kind} ${line.issuanceId} of ${line.originalMonth}`, `¥${line.feeYen - COMMISSION_PER_DOCUMENT_YEN * line.copies}`]);
  }
  if (invoice.dedicatedLine) {
    const line = invoice.dedicatedLine;
    figures.push([`dedicated line: a separate bill from ${line.billedBy ?? 'the operator'} to ${line.billedTo} (term ending ${line.termEnd}, received ${line.receivedOn})`, `¥${line.amountYen}, due ${line.dueBy}`]);
    if (line.lateInterest) figures.push([`  J-LIS's late interest (${line.lateInterest.daysLate} days at ${line.lateInterest.ratePercent}%)`, `¥${line.lateInterest.interestYen}`]);
  }
  const breakdown = [
    ...invoice.byMunicipality.map((entry) => [`${entry.municipalityCode} ${invoice.municipalityNames[entry.municipalityCode] ?? ''}`.trim(), entry]),
    ...invoice.byCertificateType.map((entry) => [CERTIFICATE_TITLES[entry.certificateType], entry]),
  ] as Array<[string, Invoice]>;
  if (io.stdoutIsTty) {
    const table = new Table({ style: { head: io.color ? ['cyan'] : [] } });
    for (const row of figures) table.push(row);
    out.push(table.toString());
    const detail = new Table({ head: ['', 'documents', 'fees', 'amount due'], style: { head: io.color ? ['cyan'] : [] } });
    for (const [label, entry] of breakdown) detail.push([label, entry.documents, `¥${entry.feesYen}`, `¥${entry.amountDueYen}`]);
    out.push(detail.toString(), `${invoice.byStore.length} stores (per store with --json or --csv)`);
  } else {
    for (const [label, value] of figures) out.push(`  ${label}: ${value}`);
    for (const [label, entry] of breakdown) out.push(`  ${label}: ${entry.documents} documents, ¥${entry.feesYen}, due ¥${entry.amountDueYen}`);
    out.push(`  ${invoice.byStore.length} stores (per store with --json or --csv)`);
  }
  return `${out.join('\n')}\n`;
}

export function makeInvoiceCommand(io: Io, clock: Clock = processClock()): Command {
  return new Command('invoice')
    .description(COMMANDS.invoice.description)
    .option('--month <YYYY-MM>', 'JST month to settle (default: the previous month, for cron)')
    .option('--dir <dir>', 'deployment made by "cvs-issue init": reads its centre database')
    .option('--records <file>', 'handling-record CSV instead of the centre database')
    .option('--center-db <file>', "the centre's database (center.db)")
    .option('--operator <id>', 'invoice one operator (default: all records)')
    .option('--paid-on <YYYY-MM-DD>', 'payment date: adds late interest when after the pay-by date')
    .option('--inspection-days <n>', 'days of inspection not counted as late (C§17-2)')
    .option('--rate <percent>', 'annual late-interest rate, overriding the dated table')
    .option('--rates <file>', 'dated rate table JSON (default: the built-in fixtures/interest-rates.json)')
    .option('--line-fee-yen <n>', "the dedicated line's monthly fee: a separate bill from the operator to J-LIS (C§14-2, Spec§15)")
    .option('--line-term-end <YYYY-MM-DD>', "end of the line contract's term: the operator bills J-LIS then")
    .option('--line-received-on <YYYY-MM-DD>', 'the day J-LIS received the line bill (default: the term end); due 30 days counting that day')
    .option('--line-paid-on <YYYY-MM-DD>', "the day J-LIS paid the line bill: C§17 interest in J-LIS's direction when late")
    .option('--line-term-months <n>', 'months in the term (default 12)')
    .option('--json', 'print the invoice as JSON')
    .option('--csv', 'print totals and breakdowns as CSV')
    .option('--pdf <file>', 'also write the invoice as a PDF in Japanese')
    .action(async (options: InvoiceOptions) => {
      const invoice = runInvoice(options, io, clock);
      if (invoice.operatorId !== null && !invoice.operators.includes(invoice.operatorId)) {
        io.err(`cvs-issue: warning: no records of operator ${invoice.operatorId} in ${invoice.month} (operators present: ${invoice.operators.join(', ') || 'none'})\n`);
      }
      if (options.pdf) {
        const pdf = await renderInvoicePdf(invoice);
        fs.writeFileSync(options.pdf, pdf);
      }
      if (options.json) io.out(`${JSON.stringify(invoice, null, 2)}\n`);
      else if (options.csv) io.out(formatInvoiceCsv(invoice));
      else io.out(formatInvoiceText(invoice, io));
    });
}
