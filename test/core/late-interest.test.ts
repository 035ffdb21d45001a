// Proves late-payment interest: days counted after pay-by through the payment date less inspection days, 365-day years even in leap years, truncation to whole ¥100, and the dated rate table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lateInterest, parseRatePercent, parseRateTable, rateOn } from '../../core/late-interest.ts';
import rates from '../../fixtures/interest-rates.json' with { type: 'json' };

describe('lateInterest', () => {
  it('truncates ¥684.93 to ¥600 (¥1,000,000 at 2.5% for 10 days)', () => {
    assert.deepEqual(lateInterest(1_000_000, '2026-11-20', '2026-11-30', 0, 2500), { paidOn: '2026-11-30', daysLate: 10, ratePercent: 2.5, interestYen: 600 });
  });

  it('gives ¥0 under ¥100 (¥100,000 at 2.5% for 10 days is ¥68.49)', () => {
    assert.equal(lateInterest(100_000, '2026-11-20', '2026-11-30', 0, 2500).interestYen, 0);
  });

  it('subtracts inspection days and never goes below zero days', () => {
    assert.equal(lateInterest(1_000_000, '2026-11-20', '2026-11-30', 4, 2500).daysLate, 6);
    assert.deepEqual(lateInterest(1_000_000, '2026-11-20', '2026-11-19', 0, 2500).interestYen, 0);
    assert.equal(lateInterest(1_000_000, '2026-11-20', '2026-11-22', 5, 2500).daysLate, 0);
  });

  it('divides by 365 in a leap year too (2028: ¥36,500,000 at 2.5% for 366 days → ¥915,000)', () => {
    assert.equal(lateInterest(36_500_000, '2028-01-01', '2029-01-01', 0, 2500).interestYen, 915_000);
  });

  it('stays exact on large amounts where floating point would round (¥9,007,199,254,740 at 2.7%, 1 day)', () => {
    // 9,007,199,254,740 × 0.027 / 365 = 666,285,972.27… → 666,285,900
    assert.equal(lateInterest(9_007_199_254_740, '2026-11-20', '2026-11-21', 0, 2700).interestYen, 666_285_900);
  });
});

describe('rates', () => {
  it('picks the rate in force on the payment date from the built-in table', () => {
    const table = parseRateTable(rates, 'fixtures/interest-rates.json');
    assert.equal(rateOn(table, '2021-03-31'), 2600);
    assert.equal(rateOn(table, '2021-04-01'), 2500);
    assert.equal(rateOn(table, '2018-01-01'), 2700);
    assert.equal(rateOn(table, '2017-03-31'), undefined);
  });

  it('parses percentages exactly and refuses nonsense', () => {
    assert.equal(parseRatePercent('2.5', '--rate'), 2500);
    assert.equal(parseRatePercent(2.7, '--rate'), 2700);
    assert.throws(() => parseRatePercent('-1', '--rate'), /not a percentage/);
    assert.throws(() => parseRateTable({ rates: [{ from: '2021-13-01', percent: 2 }] }, 'x.json'), /from is not a YYYY-MM-DD/);
  });
});
