// `cvs-issue invoice`: settles a JST month from the centre's records (database or CSV file): fees,
// ¥115 a document, deadlines, late interest, the dedicated line's fee; JSON, CSV, a table, a PDF.
// Without --month it settles the previous month, so cron can run it on the 1st.
// `cvs-issue invoice pay` records a payment J-LIS received against an operator's invoice; the
// invoice then shows what was received, the balance, and C§17 interest per late payment.

import fs from 'node:fs';
import { Command, Option } from 'commander';
import { COMMANDS } from './commands.ts';
import Table from 'cli-table3';
import ratesFile from '../fixtures/interest-rates.json' with { type: 'json' };
import { daysBetween, isIsoDate, monthDeadlines } from '../core/deadlines.ts';
import { AppError, usageError } from '../core/errors.ts';
import { parseMonth, RowProblems } from '../core/handling-csv.ts';
import { buildInvoice, COMMISSION_PER_DOCUMENT_YEN, createInvoiceAccumulator, dedicatedLineFee, invoiceTypeTitle, type DedicatedLineFee, type Invoice } from '../core/invoice.ts';
import type { Municipality } from '../core/municipality.ts';
import { invoiceDate, paymentRefusal, paymentStatus, type InvoicePayment, type PaymentStatus } from '../core/invoice-payments.ts';
import { formatUtcIso, jstParts } from '../core/jst.ts';
import type { SettlementAdjustment } from '../core/settlement.ts';
import { adjustmentsSettledIn } from '../drivers/store/center-store.ts';
import { auditOrigin } from '../drivers/store/audit-log.ts';
import { listInvoicePayments, monthConfirmedOn, openSettlementDatabase, recordInvoicePayment, unnoticedRequests } from '../drivers/store/settlement-store.ts';
import { lateInterest, parseRatePercent, parseRateTable, rateOn, type DatedRate, type LateInterest } from '../core/late-interest.ts';
import { renderInvoicePdf } from '../drivers/pdf/invoice-pdf.ts';
import { centerDatabase, openRoleAuditLog } from './config.ts';
import type { Factory } from './factory.ts';
import type { Io } from './io.ts';
import { chalkFor, createProgress, estimateRows, failOnProblems, readSource, resolveMonth, type RecordSource } from './settlement-sources.ts';

export interface InvoiceOptions {
  month?: string;
  dir?: string;
  records?: string;
  centerDb?: string;
  operator?: string;
  paidOn?: string;
  asOf?: string;
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


function pickSource(options: InvoiceOptions, factory: Factory): RecordSource {
  const given = [['--records', options.records], ['--center-db', options.centerDb], ['--dir', options.dir]].filter(([, value]) => value !== undefined).map(([flag]) => flag);
  if (given.length > 1) throw usageError(`give one of --records FILE, --center-db FILE or --dir DIR, not ${given.join(' and ')}`);
  if (options.records) return { kind: 'file', path: options.records };
  if (options.centerDb) return { kind: 'db', role: 'center', path: options.centerDb };
  if (!options.dir) throw usageError('give --records FILE, --center-db FILE or --dir DIR of a deployment');
  const loaded = factory.deployment(options.dir);
  return { kind: 'db', role: 'center', path: centerDatabase(loaded) };
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

/** C§17 interest at the rate in force on the payment day (or --rate), less --inspection-days. */
function interestCalculator(options: InvoiceOptions): (amountYen: number, payBy: string, paidOn: string) => LateInterest {
  const inspectionDays = wholeNumber(options.inspectionDays, '--inspection-days', 0);
  let table: DatedRate[] | undefined;
  return (amountYen, payBy, paidOn) => {
    const milliPercent = options.rate !== undefined ? parseRatePercent(options.rate, '--rate') : rateOn((table ??= readRateTable(options.rates)), paidOn);
    if (milliPercent === undefined) throw usageError(`the rate table has no rate for ${paidOn}: give --rate PERCENT`);
    return lateInterest(amountYen, payBy, paidOn, inspectionDays, milliPercent);
  };
}

/** --paid-on: the interest if the whole amount were paid on that day (no payments recorded). */
function interestFor(options: InvoiceOptions, amountYen: number, payBy: string, paymentsRecorded: boolean): LateInterest | undefined {
  if (options.paidOn === undefined) {
    if (!paymentsRecorded && options.asOf === undefined && (options.inspectionDays || ((options.rate || options.rates) && !options.linePaidOn))) {
      throw usageError('--rate, --rates and --inspection-days need --paid-on DATE, --as-of DATE or recorded payments (or --line-paid-on for the line bill)');
    }
    return undefined;
  }
  if (!isIsoDate(options.paidOn)) throw usageError(`--paid-on "${options.paidOn}" is not a YYYY-MM-DD date`);
  return interestCalculator(options)(amountYen, payBy, options.paidOn);
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
      lateInterest: options.linePaidOn === undefined ? undefined : (amountYen, dueBy) => interestCalculator({ ...options, inspectionDays: undefined })(amountYen, dueBy, options.linePaidOn!),
    },
  );
}

interface CentreFacts {
  operatorName: string | null;
  municipalityNames: Record<string, string>;
  typeTitles: Record<string, string>;
  adjustments: SettlementAdjustment[];
  unnoticed: number;
  payments: InvoicePayment[];
  /** JST date the operator's month was confirmed; undefined when it is not, or for all operators. */
  confirmedOn: string | undefined;
}

/** What only the centre's database knows: names of both parties and municipalities, adjustments settled in the month, payments. */
function centreFacts(source: RecordSource, month: string, operatorId: string | null): CentreFacts | undefined {
  if (source.kind !== 'db') return undefined;
  const db = openSettlementDatabase(source.path, 'center');
  try {
    const operatorName = operatorId === null ? null : (db.get<{ name: string }>('SELECT name FROM operators WHERE operator_id = :operatorId', { operatorId })?.name ?? null);
    const municipalities = db.all<{ definition: string }>('SELECT definition FROM municipalities ORDER BY code').map((row) => JSON.parse(row.definition) as Municipality);
    const municipalityNames = Object.fromEntries(municipalities.map((municipality) => [municipality.code, municipality.name]));
    // A municipality's own types by their titles; the first municipality (by code) to define a code names it.
    const typeTitles: Record<string, string> = {};
    for (const offer of municipalities.flatMap((municipality) => municipality.offers)) if (offer.definition) typeTitles[offer.type] ??= offer.definition.title;
    return {
      operatorName,
      municipalityNames,
      typeTitles,
      adjustments: adjustmentsSettledIn(db, month, operatorId),
      unnoticed: unnoticedRequests(db, month, operatorId).length,
      payments: listInvoicePayments(db, month, operatorId),
      confirmedOn: operatorId === null ? undefined : monthConfirmedOn(db, month, operatorId),
    };
  } finally {
    db.close();
  }
}

/** The month's figures from the records and what the centre's database adds, before interest and payments. */
function settle(source: RecordSource, month: string, monthKey: number, operatorId: string | null, factory: Factory, showProgress: boolean) {
  const { io } = factory;
  const problems = new RowProblems();
  const accumulator = createInvoiceAccumulator(monthKey, operatorId, estimateRows(source));
  const progress = createProgress(io, showProgress);
  readSource(source, month, (bytes, row) => accumulator.add(bytes, row), problems, progress);
  progress.done();
  failOnProblems(io, problems);
  const deadlines = monthDeadlines(monthKey, factory.isHoliday);
  const facts = centreFacts(source, month, operatorId);
  for (const line of facts?.adjustments ?? []) accumulator.addAdjustment(line);
  const totals = accumulator.totals();
  const names = { operatorName: facts?.operatorName ?? null, municipalityNames: facts?.municipalityNames ?? {}, typeTitles: facts?.typeTitles ?? {} };
  return { deadlines, facts, totals, names, draft: buildInvoice(totals, deadlines, names) };
}

function dateOption(value: string | undefined, flag: string): string | undefined {
  if (value !== undefined && !isIsoDate(value)) throw usageError(`${flag} "${value}" is not a YYYY-MM-DD date`);
  return value;
}

/** Received, balance and interest, once a payment is recorded or --as-of asks for the balance's interest. */
function paymentsFor(options: InvoiceOptions, facts: CentreFacts | undefined, amountDueYen: number, invoiceBy: string, payBy: string): PaymentStatus | undefined {
  const asOf = dateOption(options.asOf, '--as-of');
  if (!facts) {
    if (asOf !== undefined) throw usageError("--as-of needs the centre's database (--dir or --center-db): payments are recorded there");
    return undefined;
  }
  if (facts.payments.length === 0 && asOf === undefined) return undefined;
  if (facts.payments.length > 0 && options.paidOn !== undefined) {
    throw usageError(`payments of this invoice are recorded: late interest comes from them; leave out --paid-on (--as-of DATE gives the interest on a balance still owing)`);
  }
  const latest = facts.payments.reduce((last, payment) => (payment.paidOn > last ? payment.paidOn : last), '');
  if (asOf !== undefined && asOf < latest) throw usageError(`--as-of ${asOf} is before the payment recorded on ${latest}`);
  const interest = interestCalculator(options);
  return paymentStatus({
    amountDueYen,
    invoicedOn: facts.confirmedOn === undefined ? invoiceBy : invoiceDate(invoiceBy, facts.confirmedOn),
    payBy,
    payments: facts.payments,
    interest: (amountYen, paidOn) => interest(amountYen, payBy, paidOn),
    ...(asOf === undefined ? {} : { asOf }),
  });
}

export function runInvoice(options: InvoiceOptions, factory: Factory): Invoice & { unnoticedRequests?: number } {
  const { io, clock } = factory;
  if (options.json && options.csv) throw usageError('give --json or --csv, not both');
  const { month, monthKey } = resolveMonth(options.month, clock);
  const source = pickSource(options, factory);
  const { deadlines, facts, totals, names, draft } = settle(source, month, monthKey, options.operator ?? null, factory, io.stdoutIsTty && !options.json && !options.csv);
  const payments = paymentsFor(options, facts, draft.amountDueYen, deadlines.invoiceBy, deadlines.payBy);
  const invoice = buildInvoice(totals, deadlines, {
    ...names,
    lateInterest: interestFor(options, draft.amountDueYen, deadlines.payBy, payments !== undefined),
    dedicatedLine: lineFeeFor(options, month),
    ...(payments ? { payments } : {}),
  });
  if (facts && facts.unnoticed > 0) io.err(`cvs-issue: warning: ${facts.unnoticed} request(s) of ${month} were issued but never noticed (see reconcile)\n`);
  return invoice;
}

export interface InvoicePayOptions {
  dir?: string;
  centerDb?: string;
  operator: string;
  month: string;
  paidOn: string;
  amount: string;
  reference?: string;
  json?: boolean;
}

export interface RecordedPayment {
  invoiceNumber: string;
  payment: InvoicePayment;
  /** Days after the pay-by date (0 when on time): C§17 interest is owed on this payment for them. */
  daysAfterPayBy: number;
  amountDueYen: number;
  receivedYen: number;
  balanceYen: number;
  status: PaymentStatus['status'];
  payBy: string;
}

const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/** Checks every flag before anything is read, so bad input never touches the database. */
function paymentFromOptions(options: InvoicePayOptions): InvoicePayment {
  if (parseMonth(options.month) === undefined) throw usageError(`--month "${options.month}" is not YYYY-MM`);
  if (!/^[1-9][0-9]{0,11}$/.test(options.amount)) throw usageError(`--amount "${options.amount}" is not a whole number of yen above 0`);
  if (!isIsoDate(options.paidOn)) throw usageError(`--paid-on "${options.paidOn}" is not a YYYY-MM-DD date`);
  if (options.reference !== undefined && !REFERENCE.test(options.reference)) throw usageError(`--reference "${options.reference.slice(0, 50)}" is not 1–40 letters, digits, '.', '_' or '-'`);
  return { month: options.month, operatorId: options.operator, paidOn: options.paidOn, amountYen: Number(options.amount), reference: options.reference ?? null };
}

export function runInvoicePay(options: InvoicePayOptions, factory: Factory): RecordedPayment {
  const { clock } = factory;
  if (options.centerDb !== undefined || options.dir === undefined) {
    throw usageError("invoice pay needs --dir DIR of the deployment (not --center-db): the payment's audit entry is signed with the centre's audit key, which the deployment holds");
  }
  const payment = paymentFromOptions(options);
  const loaded = factory.deployment(options.dir);
  const centre = loaded.config.center;
  const path = centerDatabase(loaded);
  const db = openSettlementDatabase(path, 'center');
  try {
    if (!db.get('SELECT 1 AS found FROM operators WHERE operator_id = :operatorId', { operatorId: payment.operatorId })) {
      throw usageError(`--operator ${payment.operatorId.slice(0, 40)} is not an operator registered at the centre`);
    }
    // The amount the payment answers: the operator's invoice of the month, as `invoice` shows it.
    const { deadlines, draft } = settle({ kind: 'db', role: 'center', path }, payment.month, parseMonth(payment.month)!, payment.operatorId, factory, false);
    const nowMs = clock.nowMs();
    const audit = openRoleAuditLog(db, loaded, centre, auditOrigin('center'), clock);
    recordInvoicePayment(db, audit, payment, formatUtcIso(nowMs), (existing) =>
      paymentRefusal({
        payment,
        todayIso: jstParts(nowMs).dateIso,
        confirmedOn: monthConfirmedOn(db, payment.month, payment.operatorId),
        amountDueYen: draft.amountDueYen,
        invoiceBy: deadlines.invoiceBy,
        existing,
      }),
    );
    const receivedYen = listInvoicePayments(db, payment.month, payment.operatorId).reduce((sum, entry) => sum + entry.amountYen, 0);
    const balanceYen = draft.amountDueYen - receivedYen;
    return {
      invoiceNumber: draft.invoiceNumber,
      payment,
      daysAfterPayBy: Math.max(0, daysBetween(deadlines.payBy, payment.paidOn)),
      amountDueYen: draft.amountDueYen,
      receivedYen,
      balanceYen,
      status: balanceYen === 0 ? 'paid' : 'owing',
      payBy: deadlines.payBy,
    };
  } finally {
    db.close();
  }
}

function formatRecordedPayment(result: RecordedPayment): string {
  const { payment } = result;
  const lines = [
    `recorded ¥${payment.amountYen} from ${payment.operatorId} paid on ${payment.paidOn}${payment.reference ? ` (${payment.reference})` : ''} against ${result.invoiceNumber}`,
    `  received ¥${result.receivedYen} of ¥${result.amountDueYen}: ${result.balanceYen === 0 ? 'paid in full' : `¥${result.balanceYen} still owing (pay by ${result.payBy})`}`,
  ];
  if (result.daysAfterPayBy > 0) lines.push(`  paid ${result.daysAfterPayBy} days after the pay-by date ${result.payBy}: C§17 interest is owed on this payment (see "cvs-issue invoice")`);
  return `${lines.join('\n')}\n`;
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

function paymentFigures(payments: PaymentStatus, everyOperator: boolean): Array<[string, string]> {
  const figures: Array<[string, string]> = [];
  for (const line of payments.lines) {
    figures.push([`received on ${line.paidOn}${everyOperator ? ` from ${line.operatorId}` : ''}${line.reference ? ` (${line.reference})` : ''}`, `¥${line.amountYen}`]);
    if (line.lateInterest) figures.push([`  late: C§17 interest on it (${line.lateInterest.daysLate} days at ${line.lateInterest.ratePercent}%)`, `¥${line.lateInterest.interestYen}`]);
  }
  figures.push(['received in all', `¥${payments.receivedYen}`]);
  figures.push(['balance owing', payments.balanceYen === 0 ? '¥0 (paid in full)' : `¥${payments.balanceYen}`]);
  if (payments.lines.some((line) => line.lateInterest)) figures.push(['late interest on late payments (C§17, owed separately)', `¥${payments.lateInterestYen}`]);
  const accrued = payments.balanceInterest;
  if (accrued) figures.push([`interest on the balance as of ${accrued.asOf} (${accrued.daysLate} days at ${accrued.ratePercent}%)`, `¥${accrued.interestYen}`]);
  else if (payments.balanceYen > 0) figures.push(['after the pay-by date C§17 interest accrues on the balance until it is paid', '(--as-of DATE gives the figure)']);
  return figures;
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
  if (invoice.payments) figures.push(...paymentFigures(invoice.payments, invoice.operatorId === null));
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
    ...invoice.byCertificateType.map((entry) => [invoiceTypeTitle(invoice, entry.certificateType), entry]),
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

export function makeInvoiceCommand(factory: Factory): Command {
  const { io } = factory;
  const invoice = new Command('invoice')
    .description(COMMANDS.invoice.description)
    // `invoice pay --month …` must give --month to pay, not to invoice.
    .enablePositionalOptions()
    .option('--month <YYYY-MM>', 'JST month to settle (default: the previous month, for cron)')
    .option('--dir <dir>', 'deployment made by "cvs-issue init": reads its centre database')
    .option('--records <file>', 'handling-record CSV instead of the centre database')
    .option('--center-db <file>', "the centre's database (center.db)")
    .option('--operator <id>', 'invoice one operator (default: all records)')
    .option('--paid-on <YYYY-MM-DD>', 'payment date: adds late interest when after the pay-by date (no payments recorded)')
    .option('--as-of <YYYY-MM-DD>', "with the centre's database: interest on a balance still owing after the pay-by date, as of this day")
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
      const invoice = runInvoice(options, factory);
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
    })
    .addHelpText('after', '\nExit codes: 0 done, 1 unexpected failure, 2 bad input (a flag, a malformed record, a missing database).');
  invoice
    .command('pay')
    .description("record a payment J-LIS received from the operator against the operator's monthly invoice (C§13-3, Spec§4-5)")
    .option('--dir <dir>', 'deployment made by "cvs-issue init" (required): the payment goes into its centre database and audit log')
    // Refused with the reason: the payment's audit entry needs the centre's audit key.
    .addOption(new Option('--center-db <file>').hideHelp())
    .requiredOption('--operator <id>', 'the operator who paid')
    .requiredOption('--month <YYYY-MM>', 'the invoiced JST month; it must be confirmed by both parties')
    .requiredOption('--paid-on <YYYY-MM-DD>', "the JST day the money reached J-LIS's account")
    .requiredOption('--amount <yen>', 'whole yen received, at most what is still owing')
    .option('--reference <ref>', "the transfer's reference (振込番号): needed to record two equal payments of one day")
    .option('--json', 'print the recorded payment and the balance as JSON')
    .addHelpText(
      'after',
      [
        '',
        'A payment dated after the pay-by date owes C§17 interest on its own amount; "cvs-issue invoice" shows it.',
        'Refused (nothing is written): a month not yet confirmed, a day before the invoice or after today,',
        'the same payment twice (same day and amount without distinct --reference, or a --reference again),',
        'more than is still owing.',
        '',
        'Exit codes: 0 recorded, 2 bad input or refused (one line naming the flag), 1 unexpected failure.',
      ].join('\n'),
    )
    .action((options: InvoicePayOptions) => {
      const result = runInvoicePay(options, factory);
      io.out(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatRecordedPayment(result));
    });
  return invoice;
}
