// Proves the one ISO date and instant grammar (core/jst.ts) takes real dates and times only: 02-30,
// day 77, hour 24 and a missing offset are refused, never rolled into another day as Date.parse does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { epochDayOf, isIsoDate, parseIsoDate, parseIsoInstant } from '../../core/jst.ts';

describe('parseIsoDate', () => {
  it('takes real calendar days, leap days included', () => {
    assert.deepEqual(parseIsoDate('2028-02-29'), { year: 2028, month: 2, day: 29, epochDay: Date.UTC(2028, 1, 29) / 86_400_000 });
    assert.equal(isIsoDate('2026-11-30'), true);
  });

  it('refuses days that do not exist and anything not YYYY-MM-DD', () => {
    for (const text of ['2026-11-77', '2026-02-30', '2026-02-29', '1900-02-29', '2026-13-01', '2026-00-10', '2026-11-00', '2026-1-01', '2026-11-01 ', '２０２６-11-01', '']) {
      assert.equal(parseIsoDate(text), undefined, text);
    }
  });

  it('counts days exactly in every era', () => {
    assert.equal(epochDayOf(1970, 1, 1), 0);
    assert.equal(epochDayOf(2000, 3, 1), Date.UTC(2000, 2, 1) / 86_400_000);
    assert.equal(epochDayOf(50, 1, 1), -701_265);
  });
});

describe('parseIsoInstant', () => {
  it('reads offsets, Z, seconds and milliseconds as the instant they name', () => {
    assert.equal(parseIsoInstant('2026-11-02T10:15:00+09:00'), Date.UTC(2026, 10, 2, 1, 15));
    assert.equal(parseIsoInstant('2026-10-31T22:00Z'), Date.UTC(2026, 9, 31, 22));
    assert.equal(parseIsoInstant('2026-11-02T10:15:07.5-03:30'), Date.UTC(2026, 10, 2, 13, 45, 7, 500));
  });

  it('refuses what Date.parse would roll or guess', () => {
    for (const text of ['2026-02-30T10:00:00+09:00', '2026-11-77T10:00:00Z', '2026-11-02T24:00:00Z', '2026-11-02T10:60Z', '2026-11-02T10:00:00', '2026-11-02', '2026-11-02T10:00:00.1234Z', '2026-11-02T10:00:00+0900', 'tomorrow']) {
      assert.equal(parseIsoInstant(text), undefined, text);
    }
  });
});
