// Proves the centre opens 06:30–23:00 JST outside 12/29–1/3 and maintenance, and that a type's own hours close it on weekends, national holidays and at the end of its window.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../core/errors.ts';
import { assertCenterOpen, isTypeAvailable, typeHoursText, type HolidayLookup } from '../../core/service-hours.ts';
import type { TypeHours } from '../../core/municipality.ts';

const at = (iso: string) => Date.parse(iso);

function closedCode(atMs: number, maintenance: { startMs: number; endMs: number }[] = []): string | undefined {
  try {
    assertCenterOpen(atMs, maintenance);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.equal(error.kind, 'refused');
    return error.code;
  }
}

describe('assertCenterOpen', () => {
  it('opens at 06:30 JST (21:30Z the day before), not a second earlier', () => {
    assert.equal(closedCode(at('2026-11-01T21:30:00Z')), undefined);
    assert.equal(closedCode(at('2026-11-01T21:29:59Z')), 'hours.center_closed');
  });

  it('closes at 23:00 JST (14:00Z): 22:59:59 is open, 23:00 is not', () => {
    assert.equal(closedCode(at('2026-11-02T13:59:59Z')), undefined);
    assert.equal(closedCode(at('2026-11-02T14:00:00Z')), 'hours.center_closed');
    assert.equal(closedCode(at('2026-11-02T14:30:00Z')), 'hours.center_closed');
  });

  const yearEnd: [string, string | undefined][] = [
    ['2026-12-28', undefined],
    ['2026-12-29', 'hours.center_closed'],
    ['2026-12-31', 'hours.center_closed'],
    ['2027-01-01', 'hours.center_closed'],
    ['2027-01-03', 'hours.center_closed'],
    ['2027-01-04', undefined],
  ];
  for (const [date, expected] of yearEnd) {
    it(`is ${expected ? 'closed' : 'open'} at noon JST on ${date}`, () => {
      assert.equal(closedCode(at(`${date}T12:00:00+09:00`)), expected);
    });
  }

  it('judges the year-end closure by the JST date: 12/28 21:30Z is 06:30 on 12/29 in Japan', () => {
    assert.equal(closedCode(at('2026-12-28T21:30:00Z')), 'hours.center_closed');
    assert.equal(closedCode(at('2027-01-03T21:30:00Z')), undefined); // 06:30 JST on 1/4
  });

  it('refuses inside a maintenance window [start, end) and opens again at its end', () => {
    const window = { startMs: at('2026-11-02T01:00:00Z'), endMs: at('2026-11-02T02:00:00Z') };
    assert.equal(closedCode(window.startMs - 1, [window]), undefined);
    assert.equal(closedCode(window.startMs, [window]), 'hours.maintenance');
    assert.equal(closedCode(window.endMs - 1, [window]), 'hours.maintenance');
    assert.equal(closedCode(window.endMs, [window]), undefined);
  });
});

describe('isTypeAvailable', () => {
  const weekdaysNineToFive: TypeHours = { window: { startMinute: 9 * 60, endMinute: 17 * 60 }, weekdaysOnly: true, closedOnHolidays: true };
  // 国民の休日: a Tuesday between 敬老の日 and 秋分の日.
  const isHoliday: HolidayLookup = (dateIso) => dateIso === '2026-09-22';

  it('is open on a weekday at 09:00 JST and until 16:59', () => {
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-09-24T09:00:00+09:00'), isHoliday), true);
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-09-24T16:59:59+09:00'), isHoliday), true);
  });

  it('is closed at 08:59 and at 17:00 JST on a weekday', () => {
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-09-24T08:59:59+09:00'), isHoliday), false);
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-09-24T17:00:00+09:00'), isHoliday), false);
  });

  it('is closed on a Saturday and a Sunday', () => {
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-09-19T10:00:00+09:00'), isHoliday), false);
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-09-20T10:00:00+09:00'), isHoliday), false);
  });

  it('is closed on a national holiday that falls on a weekday (2026-09-22)', () => {
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-09-22T10:00:00+09:00'), isHoliday), false);
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-09-23T10:00:00+09:00'), () => false), true);
  });

  it('asks the holiday lookup with the JST date, not the UTC one', () => {
    const asked: string[] = [];
    isTypeAvailable(weekdaysNineToFive, at('2026-09-22T00:30:00Z'), (dateIso) => (asked.push(dateIso), false));
    assert.deepEqual(asked, ['2026-09-22']);
  });

  it('is closed on a weekday in the municipality year-end holidays (Tue 12/29)', () => {
    assert.equal(isTypeAvailable(weekdaysNineToFive, at('2026-12-29T10:00:00+09:00'), () => false), false);
  });

  it('ignores holidays when the type stays open on them', () => {
    const everyWeekday: TypeHours = { ...weekdaysNineToFive, closedOnHolidays: false };
    assert.equal(isTypeAvailable(everyWeekday, at('2026-09-22T10:00:00+09:00'), isHoliday), true);
  });

  it('is always available when the type has no hours of its own', () => {
    assert.equal(isTypeAvailable(undefined, at('2026-09-19T03:00:00+09:00'), isHoliday), true);
  });
});

describe('typeHoursText', () => {
  it('names the days and window a resident reads on screen', () => {
    assert.equal(typeHoursText(undefined), '毎日 06:30〜23:00');
    assert.equal(
      typeHoursText({ window: { startMinute: 540, endMinute: 1020 }, weekdaysOnly: true, closedOnHolidays: true }),
      '平日 09:00〜17:00',
    );
    assert.equal(
      typeHoursText({ window: { startMinute: 540, endMinute: 1020 }, weekdaysOnly: true, closedOnHolidays: false }),
      '月〜金 09:00〜17:00',
    );
  });
});
