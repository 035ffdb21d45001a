// Proves the payment rules of an invoice: what may be recorded (confirmed month, dated from the
// invoice to today, once, not more than owing) and what is owed after (balance, C§17 interest on
// each late payment's own amount, interest on a balance still owing as of a day).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invoiceDate, paymentRefusal, paymentStatus, type InvoicePayment } from '../../core/invoice-payments.ts';
import { lateInterest } from '../../core/late-interest.ts';

const payment = (overrides: Partial<InvoicePayment> = {}): InvoicePayment => ({ month: '2026-11', operatorId: 'OP01', paidOn: '2026-12-18', amountYen: 1_000, reference: null, ...overrides });
const refusal = (overrides: Partial<Parameters<typeof paymentRefusal>[0]> = {}) =>
  paymentRefusal({ payment: payment(), todayIso: '2027-03-05', confirmedOn: '2026-12-02', amountDueYen: 10_000, invoiceBy: '2026-12-15', existing: [], ...overrides })?.code;
const atTwoAndAHalfPercent = (amountYen: number, paidOn: string) => lateInterest(amountYen, '2026-12-21', paidOn, 0, 2_500);

describe('invoice payments', () => {
  it('dates the invoice by its invoice-by date, or by the confirmation when that came later', () => {
    assert.equal(invoiceDate('2026-12-15', '2026-12-02'), '2026-12-15');
    assert.equal(invoiceDate('2026-12-15', '2026-12-17'), '2026-12-17');
  });

  it('records a payment of a confirmed month dated from the invoice to today, up to what is owing', () => {
    assert.equal(refusal(), undefined);
    assert.equal(refusal({ payment: payment({ paidOn: '2026-12-15' }) }), undefined);
    assert.equal(refusal({ payment: payment({ paidOn: '2027-03-05', amountYen: 10_000 }) }), undefined);
    assert.equal(refusal({ payment: payment({ amountYen: 4_000 }), existing: [payment({ amountYen: 6_000, paidOn: '2026-12-16' })] }), undefined);
  });

  it('refuses, each with its own code: an unconfirmed month first, nothing owed, the future, before the invoice, more than owing', () => {
    assert.equal(refusal({ confirmedOn: undefined, payment: payment({ paidOn: '2099-01-01' }) }), 'payment.month_not_invoiceable');
    assert.equal(refusal({ amountDueYen: 0 }), 'payment.nothing_owed');
    assert.equal(refusal({ amountDueYen: -30 }), 'payment.nothing_owed');
    assert.equal(refusal({ payment: payment({ paidOn: '2027-03-06' }) }), 'payment.future_date');
    assert.equal(refusal({ payment: payment({ paidOn: '2026-12-14' }) }), 'payment.before_invoice');
    assert.equal(refusal({ confirmedOn: '2026-12-17', payment: payment({ paidOn: '2026-12-16' }) }), 'payment.before_invoice');
    assert.equal(refusal({ payment: payment({ amountYen: 10_001 }) }), 'payment.overpaid');
    assert.equal(refusal({ payment: payment({ amountYen: 4_001, paidOn: '2026-12-17' }), existing: [payment({ amountYen: 6_000 })] }), 'payment.overpaid');
  });

  it('takes the same day and amount twice only as two transfers with distinct references, and a reference once', () => {
    const first = payment({ reference: 'TRF-1' });
    assert.equal(refusal({ existing: [payment()] }), 'payment.duplicate');
    assert.equal(refusal({ existing: [first] }), 'payment.duplicate');
    assert.equal(refusal({ payment: payment({ reference: 'TRF-2' }), existing: [payment()] }), 'payment.duplicate');
    assert.equal(refusal({ payment: payment({ reference: 'TRF-2' }), existing: [first] }), undefined);
    assert.equal(refusal({ payment: payment({ reference: 'TRF-1', paidOn: '2026-12-19', amountYen: 5 }), existing: [first] }), 'payment.duplicate');
    assert.equal(refusal({ payment: payment({ amountYen: 999 }), existing: [payment()] }), undefined);
  });

  it('owes C§17 interest on each late payment\'s own amount, none on what came by the pay-by date', () => {
    const status = paymentStatus({
      amountDueYen: 10_000_000,
      invoicedOn: '2026-12-15',
      payBy: '2026-12-21',
      payments: [payment({ paidOn: '2027-03-01', amountYen: 3_000_000 }), payment({ paidOn: '2026-12-21', amountYen: 4_000_000 }), payment({ paidOn: '2027-01-20', amountYen: 2_000_000 })],
      interest: atTwoAndAHalfPercent,
    });
    assert.deepEqual(status, {
      invoicedOn: '2026-12-15',
      payBy: '2026-12-21',
      amountDueYen: 10_000_000,
      receivedYen: 9_000_000,
      balanceYen: 1_000_000,
      status: 'owing',
      lines: [
        { operatorId: 'OP01', paidOn: '2026-12-21', amountYen: 4_000_000, reference: null },
        // 2,000,000 × 2.5% × 30 / 365 = 4,109.5 → 4,100; 3,000,000 × 2.5% × 70 / 365 = 14,383.6 → 14,300.
        { operatorId: 'OP01', paidOn: '2027-01-20', amountYen: 2_000_000, reference: null, lateInterest: { paidOn: '2027-01-20', daysLate: 30, ratePercent: 2.5, interestYen: 4_100 } },
        { operatorId: 'OP01', paidOn: '2027-03-01', amountYen: 3_000_000, reference: null, lateInterest: { paidOn: '2027-03-01', daysLate: 70, ratePercent: 2.5, interestYen: 14_300 } },
      ],
      lateInterestYen: 18_400,
    });
  });

  it('gives the interest a balance still owing has run up as of a day after pay-by, and none before it or once paid', () => {
    const input = { amountDueYen: 10_000_000, invoicedOn: '2026-12-15', payBy: '2026-12-21', payments: [payment({ paidOn: '2026-12-21', amountYen: 4_000_000 })], interest: atTwoAndAHalfPercent };
    // 6,000,000 × 2.5% × 365 / 365 = 150,000.
    assert.deepEqual(paymentStatus({ ...input, asOf: '2027-12-21' }).balanceInterest, { asOf: '2027-12-21', balanceYen: 6_000_000, daysLate: 365, ratePercent: 2.5, interestYen: 150_000 });
    assert.equal(paymentStatus({ ...input, asOf: '2026-12-21' }).balanceInterest, undefined);
    assert.equal(paymentStatus(input).balanceInterest, undefined);
    const paid = paymentStatus({ ...input, payments: [payment({ paidOn: '2026-12-21', amountYen: 10_000_000 })], asOf: '2027-12-21' });
    assert.deepEqual([paid.balanceYen, paid.status, paid.balanceInterest, paid.lateInterestYen], [0, 'paid', undefined, 0]);
  });
});
