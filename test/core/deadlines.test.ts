// Proves the month's deadlines on real calendars: an 8th on a Sunday, a 9th on a Saturday, a 20th inside the 2026-09-19..23 holiday run, the year end, and the two holiday definitions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import holidayJp from '@holiday-jp/holiday_jp';
import { deadlineWarnings, isBankHoliday, isJlisHoliday, monthDeadlines, previousJstMonth } from '../../core/deadlines.ts';
import { parseMonth } from '../../core/handling-csv.ts';

const holidays = holidayJp.holidays as Record<string, unknown>;
const isNationalHoliday = (dateIso: string) => holidays[dateIso] !== undefined;
const deadlinesOf = (month: string) => monthDeadlines(parseMonth(month)!, isNationalHoliday);

describe('monthDeadlines', () => {
  it('moves reconcile-by back from Sunday 2026-11-08 to Friday 2026-11-06 (October 2026)', () => {
    assert.deepEqual(deadlinesOf('2026-10'), { reconcileBy: '2026-11-06', confirmBy: '2026-11-09', invoiceBy: '2026-11-15', payBy: '2026-11-20' });
  });

  it('moves confirm-by back from Saturday 2026-05-09 to Friday 2026-05-08 (April 2026)', () => {
    assert.deepEqual(deadlinesOf('2026-04'), { reconcileBy: '2026-05-08', confirmBy: '2026-05-08', invoiceBy: '2026-05-15', payBy: '2026-05-20' });
  });

  it('moves pay-by forward over Sunday 9/20 and the holidays 9/21–23 to 2026-09-24 (August 2026)', () => {
    assert.equal(deadlinesOf('2026-08').payBy, '2026-09-24');
  });

  it('crosses the year end: December 2026 settles in January 2027, confirm-by off Saturday 1/9', () => {
    assert.deepEqual(deadlinesOf('2026-12'), { reconcileBy: '2027-01-08', confirmBy: '2027-01-08', invoiceBy: '2027-01-15', payBy: '2027-01-20' });
  });

  it('moves pay-by off a Saturday 20th to Monday (January 2027 → 2027-02-22)', () => {
    assert.equal(deadlinesOf('2027-01').payBy, '2027-02-22');
  });
});

describe('holidays', () => {
  it('J-LIS closes 12/29–1/3, banks only 12/31–1/3', () => {
    assert.equal(isJlisHoliday('2026-12-29', isNationalHoliday), true);
    assert.equal(isBankHoliday('2026-12-29', isNationalHoliday), false);
    assert.equal(isBankHoliday('2026-12-31', isNationalHoliday), true);
    assert.equal(isJlisHoliday('2027-01-04', isNationalHoliday), false);
  });

  it('counts 国民の休日 2026-09-22 as a holiday for both', () => {
    assert.equal(isJlisHoliday('2026-09-22', isNationalHoliday), true);
    assert.equal(isBankHoliday('2026-09-22', isNationalHoliday), true);
  });
});

describe('previousJstMonth', () => {
  it('uses the JST date: 2026-11-30T15:00Z is already December 1st in Japan', () => {
    assert.equal(previousJstMonth(Date.parse('2026-11-30T15:00:00Z')), '2026-11');
    assert.equal(previousJstMonth(Date.parse('2026-11-30T14:59:59Z')), '2026-10');
    assert.equal(previousJstMonth(Date.parse('2027-01-01T00:00:00+09:00')), '2026-12');
  });
});

describe('deadlineWarnings', () => {
  const deadlines = { reconcileBy: '2026-12-08', confirmBy: '2026-12-09' };
  it('says nothing on or before the reconcile-by date', () => {
    assert.deepEqual(deadlineWarnings(deadlines, '2026-12-08', false), []);
  });
  it('warns the day after each date, and when the month still does not reconcile', () => {
    assert.deepEqual(deadlineWarnings(deadlines, '2026-12-09', true), ['the reconcile-by date 2026-12-08 has passed']);
    assert.deepEqual(deadlineWarnings(deadlines, '2026-12-10', true), ['the reconcile-by date 2026-12-08 has passed', 'the confirm-by date 2026-12-09 has passed']);
    assert.deepEqual(deadlineWarnings(deadlines, '2027-01-04', false)[1], 'the confirm-by date 2026-12-09 has passed and the month does not reconcile');
  });
});
