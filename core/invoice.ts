// The month's invoice to an operator (SPEC.md §3, C§13, Spec§4-1): fees collected minus ¥115 per
// document, by JST month; breakdowns by municipality, certificate type and store; the deadlines;
// late interest when paid late; the dedicated line's fee at the end of its term. The same records
// always give the same invoice: a stable number, figures and order, each issuance id counted once.

import { CERTIFICATE_TYPES, type CertificateType } from './certificate-types.ts';
import { addDays, type Deadlines } from './deadlines.ts';
import { FIELD_OPERATOR_ID, FIELD_STORE_ID, formatMonth, type RowScratch } from './handling-csv.ts';
import type { LateInterest } from './late-interest.ts';
import { createIdSet, type IdSet } from './reconcile.ts';

export const COMMISSION_PER_DOCUMENT_YEN = 115;
/** The operator pays the dedicated line's fee within 30 days of the end of the term (C§14). */
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
  amountYen: number;
  billedOn: string;
  dueBy: string;
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
}

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
  totals(): InvoiceTotals;
}

export interface InvoiceTotals {
  month: string;
  operatorId: string | null;
  operators: string[];
  total: Tally;
  duplicateRowsIgnored: number;
  otherMonthRows: number;
  byMunicipality: Map<number, Tally>;
  byType: Tally[];
  byStore: Map<string, Tally>;
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
    duplicateRowsIgnored: 0,
    otherMonthRows: 0,
    byMunicipality: new Map(),
    byType: CERTIFICATE_TYPES.map(emptyTally),
    byStore: new Map(),
  };
  return {
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
      count(totals.total, row);
      let municipality = totals.byMunicipality.get(row.municipalityCode);
      if (!municipality) totals.byMunicipality.set(row.municipalityCode, (municipality = emptyTally()));
      count(municipality, row);
      count(totals.byType[row.typeIndex]!, row);
      const storeId = asciiOf(bytes, row.fieldStart[FIELD_STORE_ID]!, row.fieldEnd[FIELD_STORE_ID]!);
      let store = totals.byStore.get(storeId);
      if (!store) totals.byStore.set(storeId, (store = emptyTally()));
      count(store, row);
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

export function dedicatedLineFee(term: DedicatedLineTerm, month: string): DedicatedLineFee {
  return {
    ...term,
    amountYen: term.monthlyFeeYen * term.termMonths,
    billedOn: term.termEnd,
    dueBy: addDays(term.termEnd, LINE_FEE_DUE_DAYS),
    billedThisMonth: term.termEnd.startsWith(`${month}-`),
  };
}

export function buildInvoice(totals: InvoiceTotals, deadlines: Deadlines, extras: { lateInterest?: LateInterest; dedicatedLine?: DedicatedLineFee } = {}): Invoice {
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
    byCertificateType: CERTIFICATE_TYPES.map((certificateType, index) => ({ certificateType, ...figuresOf(totals.byType[index]!) })).filter((entry) => entry.records > 0),
    byStore: byStore.map(([storeId, tally]) => ({ storeId, ...figuresOf(tally) })),
    deadlines,
    ...(extras.lateInterest ? { lateInterest: extras.lateInterest } : {}),
    ...(extras.dedicatedLine ? { dedicatedLine: extras.dedicatedLine } : {}),
  };
}
