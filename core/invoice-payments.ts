// Payments of a month's invoice. The invoice runs from J-LIS (甲) to the operator (乙): J-LIS bills
// fees less commission by the 15th (C§13-2, Spec§4-4) and the operator transfers that amount into
// J-LIS's account by the 20th, moved to the next bank business day off a bank holiday (C§13-3,
// Spec§4-5). So a payment is money J-LIS received from the operator, and J-LIS records it.
//
// C§17: when the operator pays late, interest is owed on "その入金された金額", the amount that
// was paid in, for the days it was late. So each payment after the pay-by date carries its own
// interest (its amount × rate × days late / 365, truncated to ¥100 by lateInterest), and an
// on-time part of the money carries none. Interest is a separate debt paid by a date J-LIS names;
// payments are applied to the invoice's amount only.

import { AppError } from './errors.ts';
import type { LateInterest } from './late-interest.ts';

/** One payment J-LIS received against an operator's month. */
export interface InvoicePayment {
  month: string;
  operatorId: string;
  /** JST date the money reached J-LIS's account. */
  paidOn: string;
  amountYen: number;
  /** The transfer's reference (振込番号) when given: what tells two equal payments of one day apart. */
  reference: string | null;
}

export interface PaymentLine {
  operatorId: string;
  paidOn: string;
  amountYen: number;
  reference: string | null;
  /** Present when the payment came after the pay-by date: C§17 interest on this payment's amount. */
  lateInterest?: LateInterest;
}

export interface PaymentStatus {
  /** The invoice's date (see invoiceDate): no payment of this invoice is dated before it. */
  invoicedOn: string;
  payBy: string;
  amountDueYen: number;
  receivedYen: number;
  /** What is still owing; never below zero, because an overpayment is refused when recorded. */
  balanceYen: number;
  status: 'paid' | 'owing';
  lines: PaymentLine[];
  /** Σ of the payments' own C§17 interest. */
  lateInterestYen: number;
  /**
   * With --as-of, on a balance still owing after pay-by: the interest it has run up by that day,
   * as if paid then. Without --as-of the balance is owing and its interest keeps accruing.
   */
  balanceInterest?: { asOf: string; balanceYen: number; daysLate: number; ratePercent: number; interestYen: number };
}

/**
 * The invoice's date: its 発行日, the invoice-by date the PDF carries, or the day both parties
 * confirmed the month if that came later (the amount does not exist before it, Spec§4-3).
 */
export function invoiceDate(invoiceBy: string, confirmedOn: string): string {
  return confirmedOn > invoiceBy ? confirmedOn : invoiceBy;
}

/**
 * Why this payment may not be recorded, or undefined when it may. The month must be confirmed
 * (only then is the amount fixed), the payment dated on or after the invoice and not after today,
 * not the same payment twice, and not more than is still owing.
 */
export function paymentRefusal(input: {
  payment: InvoicePayment;
  /** JST date of today. */
  todayIso: string;
  /** JST date the month was confirmed for this operator; undefined when it is not. */
  confirmedOn: string | undefined;
  amountDueYen: number;
  invoiceBy: string;
  existing: readonly InvoicePayment[];
}): AppError | undefined {
  const { payment, existing } = input;
  const refuse = (code: string, message: string) => new AppError('input', `payment.${code}`, message);
  if (input.confirmedOn === undefined) {
    return refuse('month_not_invoiceable', `--month ${payment.month} is not yet invoiceable for ${payment.operatorId}: the amount is fixed when both parties confirm the month (Spec§4-3), and it is not confirmed`);
  }
  if (input.amountDueYen <= 0) return refuse('nothing_owed', `the invoice of ${payment.month} for ${payment.operatorId} asks for ¥${input.amountDueYen}: there is nothing to pay`);
  if (payment.paidOn > input.todayIso) return refuse('future_date', `--paid-on ${payment.paidOn} is in the future (today is ${input.todayIso} in JST)`);
  const invoicedOn = invoiceDate(input.invoiceBy, input.confirmedOn);
  if (payment.paidOn < invoicedOn) return refuse('before_invoice', `--paid-on ${payment.paidOn} is before the invoice of ${payment.month}, dated ${invoicedOn}: a payment answers an invoice (C§13-3)`);
  const reused = payment.reference !== null && existing.find((earlier) => earlier.reference === payment.reference);
  if (reused) return refuse('duplicate', `--reference ${payment.reference} is already recorded (¥${reused.amountYen} paid on ${reused.paidOn}): a transfer is recorded once`);
  const twin = existing.find((earlier) => earlier.paidOn === payment.paidOn && earlier.amountYen === payment.amountYen && (earlier.reference === null || payment.reference === null));
  if (twin) {
    return refuse('duplicate', `a payment of ¥${payment.amountYen} on ${payment.paidOn} is already recorded for ${payment.operatorId} ${payment.month}: if this is a second transfer, record both with distinct --reference values`);
  }
  const owingYen = input.amountDueYen - existing.reduce((sum, earlier) => sum + earlier.amountYen, 0);
  if (payment.amountYen > owingYen) {
    return refuse('overpaid', `--amount ${payment.amountYen} is more than the ¥${owingYen} still owing on the invoice of ${payment.month} for ${payment.operatorId}: an overpayment is not recorded`);
  }
  return undefined;
}

/**
 * Where an invoice stands after its payments: received, the balance, and C§17 interest per late
 * payment. `interest` is lateInterest with the rate in force and the inspection days bound in.
 */
export function paymentStatus(input: {
  amountDueYen: number;
  invoicedOn: string;
  payBy: string;
  payments: readonly InvoicePayment[];
  interest: (amountYen: number, paidOn: string) => LateInterest;
  asOf?: string;
}): PaymentStatus {
  const lines: PaymentLine[] = [...input.payments]
    .sort((left, right) => (left.paidOn < right.paidOn ? -1 : left.paidOn > right.paidOn ? 1 : 0))
    .map((payment) => ({
      operatorId: payment.operatorId,
      paidOn: payment.paidOn,
      amountYen: payment.amountYen,
      reference: payment.reference,
      ...(payment.paidOn > input.payBy ? { lateInterest: input.interest(payment.amountYen, payment.paidOn) } : {}),
    }));
  const receivedYen = lines.reduce((sum, line) => sum + line.amountYen, 0);
  const balanceYen = Math.max(0, input.amountDueYen - receivedYen);
  const status: PaymentStatus = {
    invoicedOn: input.invoicedOn,
    payBy: input.payBy,
    amountDueYen: input.amountDueYen,
    receivedYen,
    balanceYen,
    status: balanceYen === 0 ? 'paid' : 'owing',
    lines,
    lateInterestYen: lines.reduce((sum, line) => sum + (line.lateInterest?.interestYen ?? 0), 0),
  };
  if (input.asOf !== undefined && balanceYen > 0 && input.asOf > input.payBy) {
    const accrued = input.interest(balanceYen, input.asOf);
    status.balanceInterest = { asOf: input.asOf, balanceYen, daysLate: accrued.daysLate, ratePercent: accrued.ratePercent, interestYen: accrued.interestYen };
  }
  return status;
}
