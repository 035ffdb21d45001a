// Confirming a month (Spec§4-2, 4-3; C§3(3)) and settling what surfaces after it (過誤調整). Both
// parties must agree: the operator submits its reconciliation through its relay, and the centre
// agrees only when the month has ended in JST and the operator's totals equal its own. A record that
// arrives for a confirmed month is never dropped: it is settled in the next open month.

import { AppError } from './errors.ts';
import { formatMonth, parseMonth } from './handling-csv.ts';
import { jstMonth } from './jst.ts';
import type { SettlementSubmission } from './messages.ts';

/** Totals of one operator's month as one side counts them: records, documents, fees. */
export interface MonthTotals {
  records: number;
  documents: number;
  feesYen: number;
}

export type { SettlementSubmission } from './messages.ts';

export interface MonthConfirmation extends MonthTotals {
  month: string;
  operatorId: string;
  submittedAt: string;
  confirmedAt: string;
}

/** A late notice, a record supplied from the operator's side, or a correction after the lock (copies and fee then ≤ 0: what comes off). */
export type AdjustmentKind = 'late-notice' | 'supplied' | 'correction';

/** One 過誤調整 line: a record of `originalMonth` settled in `settleMonth`. */
export interface SettlementAdjustment {
  issuanceId: string;
  operatorId: string;
  kind: AdjustmentKind;
  originalMonth: string;
  settleMonth: string;
  storeId: string;
  kioskId: string;
  municipalityCode: string;
  certificateType: string;
  copies: number;
  feeYen: number;
}

/**
 * Why the centre may not lock this month now, or undefined when it may. Order matters: a future
 * month is refused as future even if someone also got the totals wrong.
 */
export function confirmationRefusal(input: { month: string; nowMs: number; submission: SettlementSubmission | undefined; center: MonthTotals; operatorId: string }): AppError | undefined {
  const monthKey = parseMonth(input.month);
  if (monthKey === undefined) return new AppError('input', 'confirm.bad_month', `"${input.month}" is not YYYY-MM`);
  const currentKey = parseMonth(jstMonth(input.nowMs))!;
  if (monthKey > currentKey) return new AppError('input', 'confirm.future_month', `${input.month} is in the future: a month is confirmed after it has ended (Spec§4-3)`);
  if (monthKey === currentKey) return new AppError('input', 'confirm.month_not_ended', `${input.month} has not ended in JST: it can be confirmed from ${formatMonth(monthKey + 1)}-01 (Spec§4-3)`);
  const submission = input.submission;
  if (!submission || submission.month !== input.month) {
    return new AppError('input', 'confirm.not_submitted', `operator ${input.operatorId} has not submitted its reconciliation of ${input.month}: a month is confirmed by both parties (Spec§4-3)`);
  }
  const differs = (['records', 'documents', 'feesYen'] as const).filter((field) => submission[field] !== input.center[field]);
  if (differs.length > 0) {
    const detail = differs.map((field) => `${field} operator ${submission[field]}, centre ${input.center[field]}`).join('; ');
    return new AppError('input', 'confirm.totals_differ', `the totals of ${input.month} differ (${detail}): reconcile and correct first`);
  }
  return undefined;
}

/** The first month after `month` that is not yet confirmed: where a late record is settled. */
export function nextOpenMonth(month: string, isConfirmed: (candidate: string) => boolean): string {
  const monthKey = parseMonth(month);
  if (monthKey === undefined) throw new AppError('internal', 'settlement.bad_month', `"${month}" is not YYYY-MM`);
  // Months are confirmed one after another, so a handful of steps finds the open one; the bound
  // is a safety net against a corrupt table, not a limit anyone reaches.
  for (let next = monthKey + 1; next <= monthKey + 240; next += 1) {
    const candidate = formatMonth(next);
    if (!isConfirmed(candidate)) return candidate;
  }
  throw new AppError('internal', 'settlement.no_open_month', `no open month within 20 years after ${month}`);
}

/** Totals of adjustment lines. */
export function adjustmentTotals(lines: readonly SettlementAdjustment[]): MonthTotals {
  return lines.reduce((sum, line) => ({ records: sum.records + 1, documents: sum.documents + line.copies, feesYen: sum.feesYen + line.feeYen }), { records: 0, documents: 0, feesYen: 0 });
}
