// The month's invoice to an operator (SPEC.md §3, C§13, Spec§4-1): fees collected minus ¥115 per
// document, by JST month; breakdowns by municipality, certificate type and store; the deadlines;
// late interest when paid late; the dedicated line's fee at the end of its term. The same records
// always give the same invoice: a stable number, figures and order, each issuance id counted once.

import { builtInDefinition, CERTIFICATE_TYPES, type CertificateType } from './certificate-types.ts';
import { addDays, type Deadlines } from './deadlines.ts';
import { certificateTypeAt, FIELD_OPERATOR_ID, FIELD_STORE_ID, formatMonth, internTypeCode, type RowScratch } from './handling-csv.ts';
import type { PaymentStatus } from './invoice-payments.ts';
import type { LateInterest } from './late-interest.ts';
import { createIdSet, type IdSet } from './reconcile.ts';
import type { SettlementAdjustment } from './settlement.ts';

export const COMMISSION_PER_DOCUMENT_YEN = 115;
/**
 * C§14-2, Spec§15-3/4: J-LIS bears the dedicated line's fee. The operator bills J-LIS at the end of
 * the term, and J-LIS pays within 30 days counted from the day it receives the bill, that day
 * included: due on receipt + 29 days.
 */
export const LINE_FEE_DUE_DAYS = 30;

export interface Figures {
  records: number;
  documents: number;
  feesYen: number;
  commissionYen: number;
  amountDueYen: number;
}

export interface DedicatedLineTerm {
  monthlyFeeYen: number;
  termEnd: string;
  termMonths: number;
}

export interface DedicatedLineFee extends DedicatedLineTerm {
  /** The bill runs the other way from the monthly invoice: the operator bills J-LIS (Spec§15-3). */
  billedBy: string | null;
  billedTo: string;
  amountYen: number;
  billedOn: string;
  /** The day J-LIS received the bill; by default the day it was issued. */
  receivedOn: string;
  dueBy: string;
  /** C§17 late interest owed by J-LIS when it paid after dueBy. */
  lateInterest?: LateInterest;
  /** True when the term ends in the invoiced month, so the fee is billed with it. */
  billedThisMonth: boolean;
}

export interface Invoice extends Figures {
  invoiceNumber: string;
  month: string;
  /** null: every operator in the records. */
  operatorId: string | null;
  operators: string[];
  duplicateRowsIgnored: number;
  otherMonthRows: number;
  byMunicipality: Array<{ municipalityCode: string } & Figures>;
  byCertificateType: Array<{ certificateType: CertificateType } & Figures>;
  byStore: Array<{ storeId: string } & Figures>;
  deadlines: Deadlines;
  lateInterest?: LateInterest;
  dedicatedLine?: DedicatedLineFee;
  /** 交付件数: transactions of the month that issued documents (refunds excluded), adjustments besides. */
  issuances: number;
  /** 過誤調整: records of earlier, confirmed months settled here; already in the totals above. */
  adjustments?: { lines: SettlementAdjustment[] } & Figures;
  /** Who bills whom (C§13-2): J-LIS to the operator; names from the centre's database when it was read. */
  parties: { issuer: { name: string }; billTo: { operatorId: string | null; name: string | null } };
  /** Municipality names from the centre's database (empty when the records came from a file alone). */
  municipalityNames: Record<string, string>;
  /** Titles of the types municipalities defined themselves (docs/certificate-types.md), by code; the seven are built in. */
  typeTitles: Record<string, string>;
  /** Payments J-LIS received against this invoice, the balance and C§17 interest per late payment: once any is recorded (or --as-of). */
  payments?: PaymentStatus;
}

/** 甲 of the contract: the issuer of every monthly invoice. */
export const ISSUER_NAME = '地方公共団体情報システム機構';

interface Tally {
  records: number;
  documents: number;
  feesYen: number;
}

function figuresOf(tally: Tally): Figures {
  const commissionYen = COMMISSION_PER_DOCUMENT_YEN * tally.documents;
  return { records: tally.records, documents: tally.documents, feesYen: tally.feesYen, commissionYen, amountDueYen: tally.feesYen - commissionYen };
}

function asciiOf(bytes: Uint8Array, start: number, end: number): string {
  // Ids are validated ASCII; this is cheaper than a TextDecoder for a few bytes.
  let text = '';
  for (let position = start; position < end; position += 1) text += String.fromCharCode(bytes[position]!);
  return text;
}

export interface InvoiceAccumulator {
  add(bytes: Uint8Array, row: RowScratch): void;
  /** A 過誤調整 line of an earlier, confirmed month settled in this one (Spec§4-3). */
  addAdjustment(line: SettlementAdjustment): void;
  totals(): InvoiceTotals;
}

export interface InvoiceTotals {
  month: string;
  operatorId: string | null;
  operators: string[];
  total: Tally;
  /** 交付件数: transactions that issued documents (a refund issued nothing and is not counted). */
  issuances: number;
  duplicateRowsIgnored: number;
  otherMonthRows: number;
  byMunicipality: Map<number, Tally>;
  /** By index in the type table (core/handling-csv.ts certificateTypeAt). */
  byType: Map<number, Tally>;
  byStore: Map<string, Tally>;
  adjustments: SettlementAdjustment[];
}

const emptyTally = (): Tally => ({ records: 0, documents: 0, feesYen: 0 });

function count(tally: Tally, row: RowScratch): void {
  tally.records += 1;
  tally.documents += row.copies;
  tally.feesYen += row.feeYen;
}

/** Sums well-formed rows of the month (of one operator when given), each issuance id once. */
export function createInvoiceAccumulator(monthKey: number, operatorId: string | null, expectedRows = 1024): InvoiceAccumulator {
  const seen: IdSet = createIdSet(expectedRows);
  const operators = new Set<string>();
  const totals: InvoiceTotals = {
    month: formatMonth(monthKey),
    operatorId,
    operators: [],
    total: emptyTally(),
    issuances: 0,
    duplicateRowsIgnored: 0,
    otherMonthRows: 0,
    byMunicipality: new Map(),
    byType: new Map(),
    byStore: new Map(),
    adjustments: [],
  };
  const countInto = (municipalityCode: number, typeIndex: number, storeId: string, tally: (target: Tally) => void) => {
    tally(totals.total);
    let municipality = totals.byMunicipality.get(municipalityCode);
    if (!municipality) totals.byMunicipality.set(municipalityCode, (municipality = emptyTally()));
    tally(municipality);
    let type = totals.byType.get(typeIndex);
    if (!type) totals.byType.set(typeIndex, (type = emptyTally()));
    tally(type);
    let store = totals.byStore.get(storeId);
    if (!store) totals.byStore.set(storeId, (store = emptyTally()));
    tally(store);
  };
  return {
    addAdjustment(line) {
      operators.add(line.operatorId);
      if (operatorId !== null && line.operatorId !== operatorId) return;
      totals.adjustments.push(line);
      const typeIndex = internTypeCode(line.certificateType);
      countInto(Number(line.municipalityCode), typeIndex, line.storeId, (tally) => {
        tally.records += 1;
        tally.documents += line.copies;
        tally.feesYen += line.feeYen;
      });
    },
    add(bytes, row) {
      if (row.monthKey !== monthKey) {
        totals.otherMonthRows += 1;
        return;
      }
      const operator = asciiOf(bytes, row.fieldStart[FIELD_OPERATOR_ID]!, row.fieldEnd[FIELD_OPERATOR_ID]!);
      operators.add(operator);
      if (operatorId !== null && operator !== operatorId) return;
      if (!seen.addIfAbsent(bytes, row)) {
        totals.duplicateRowsIgnored += 1;
        return;
      }
      if (row.copies > 0) totals.issuances += 1;
      countInto(row.municipalityCode, row.typeIndex, asciiOf(bytes, row.fieldStart[FIELD_STORE_ID]!, row.fieldEnd[FIELD_STORE_ID]!), (tally) => count(tally, row));
    },
    totals() {
      return { ...totals, operators: [...operators].sort() };
    },
  };
}

/** Same month and operator, same number: a cron job that runs twice issues one invoice. */
export function invoiceNumber(month: string, operatorId: string | null): string {
  return `CVS-${month.replace('-', '')}-${operatorId ?? 'ALL'}`;
}

export function dedicatedLineFee(term: DedicatedLineTerm, month: string, bill: { operatorId: string | null; receivedOn?: string; lateInterest?: (amountYen: number, dueBy: string) => LateInterest | undefined }): DedicatedLineFee {
  const amountYen = term.monthlyFeeYen * term.termMonths;
  const receivedOn = bill.receivedOn ?? term.termEnd;
  const dueBy = addDays(receivedOn, LINE_FEE_DUE_DAYS - 1);
  const lateInterest = bill.lateInterest?.(amountYen, dueBy);
  return {
    ...term,
    billedBy: bill.operatorId,
    billedTo: ISSUER_NAME,
    amountYen,
    billedOn: term.termEnd,
    receivedOn,
    dueBy,
    ...(lateInterest ? { lateInterest } : {}),
    billedThisMonth: term.termEnd.startsWith(`${month}-`),
  };
}

export function buildInvoice(
  totals: InvoiceTotals,
  deadlines: Deadlines,
  extras: { lateInterest?: LateInterest; dedicatedLine?: DedicatedLineFee; operatorName?: string | null; municipalityNames?: Record<string, string>; typeTitles?: Record<string, string>; payments?: PaymentStatus } = {},
): Invoice {
  const adjustment = totals.adjustments.reduce((sum, line) => ({ records: sum.records + 1, documents: sum.documents + line.copies, feesYen: sum.feesYen + line.feeYen }), emptyTally());
  const byCode = [...totals.byMunicipality.entries()].sort(([left], [right]) => left - right);
  const byStore = [...totals.byStore.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return {
    invoiceNumber: invoiceNumber(totals.month, totals.operatorId),
    month: totals.month,
    operatorId: totals.operatorId,
    operators: totals.operators,
    ...figuresOf(totals.total),
    duplicateRowsIgnored: totals.duplicateRowsIgnored,
    otherMonthRows: totals.otherMonthRows,
    byMunicipality: byCode.map(([code, tally]) => ({ municipalityCode: String(code).padStart(6, '0'), ...figuresOf(tally) })),
    byCertificateType: [...totals.byType.entries()].sort(([a], [b]) => typeOrder(a, b)).map(([index, tally]) => ({ certificateType: certificateTypeAt(index), ...figuresOf(tally) })).filter((entry) => entry.records > 0),
    byStore: byStore.map(([storeId, tally]) => ({ storeId, ...figuresOf(tally) })),
    deadlines,
    ...(extras.lateInterest ? { lateInterest: extras.lateInterest } : {}),
    ...(extras.dedicatedLine ? { dedicatedLine: extras.dedicatedLine } : {}),
    issuances: totals.issuances + totals.adjustments.filter((line) => line.copies > 0).length,
    ...(totals.adjustments.length > 0 ? { adjustments: { lines: totals.adjustments, ...figuresOf(adjustment) } } : {}),
    parties: { issuer: { name: ISSUER_NAME }, billTo: { operatorId: totals.operatorId, name: extras.operatorName ?? null } },
    municipalityNames: extras.municipalityNames ?? {},
    typeTitles: extras.typeTitles ?? {},
    ...(extras.payments ? { payments: extras.payments } : {}),
  };
}

/** The seven types of SPEC.md §4 in their order, then a municipality's own types by code. */
function typeOrder(a: number, b: number): number {
  const standard = CERTIFICATE_TYPES.length;
  if (a < standard || b < standard) return a - b;
  return certificateTypeAt(a) < certificateTypeAt(b) ? -1 : 1;
}

/** The title an invoice prints for a type: the built-in one, a municipality's own, or the code. */
export function invoiceTypeTitle(invoice: Pick<Invoice, 'typeTitles'>, type: CertificateType): string {
  return builtInDefinition(type)?.title ?? invoice.typeTitles[type] ?? type;
}
