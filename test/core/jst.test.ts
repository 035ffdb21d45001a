// Proves UTC instants land on the right JST calendar day, print as JST ISO times, and print 和暦 dates with 令和元年 from 2019-05-01.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatJstDateTime, formatJstIso, formatUtcIso, formatWarekiDate, jstParts } from '../../core/jst.ts';

const at = (iso: string) => Date.parse(iso);

describe('jstParts', () => {
  it('puts 2026-10-31T15:00:00Z on 2026-11-01 at midnight JST, a Sunday', () => {
    assert.deepEqual(jstParts(at('2026-10-31T15:00:00Z')), {
      year: 2026,
      month: 11,
      day: 1,
      hour: 0,
      minute: 0,
      weekday: 0,
      dateIso: '2026-11-01',
      minuteOfDay: 0,
    });
  });

  it('keeps 2026-10-31T14:59:59.999Z on 10-31 at 23:59 JST', () => {
    assert.deepEqual(jstParts(at('2026-10-31T14:59:59.999Z')), {
      year: 2026,
      month: 10,
      day: 31,
      hour: 23,
      minute: 59,
      weekday: 6,
      dateIso: '2026-10-31',
      minuteOfDay: 23 * 60 + 59,
    });
  });

  it('crosses the year in JST nine hours before UTC does', () => {
    assert.equal(jstParts(at('2026-12-31T15:00:00Z')).dateIso, '2027-01-01');
    assert.equal(jstParts(at('2026-12-31T14:59:59Z')).dateIso, '2026-12-31');
  });
});

describe('formatJstIso and formatUtcIso', () => {
  it('prints the JST wall time with +09:00', () => {
    assert.equal(formatJstIso(at('2026-11-27T01:15:07Z')), '2026-11-27T10:15:07+09:00');
    assert.equal(formatJstIso(at('2026-10-31T15:00:00Z')), '2026-11-01T00:00:00+09:00');
  });

  it('round-trips: the JST form parses back to the same instant (seconds precision)', () => {
    const instant = at('2026-02-28T20:30:45Z');
    assert.equal(Date.parse(formatJstIso(instant)), instant);
  });

  it('prints UTC with milliseconds as stored', () => {
    assert.equal(formatUtcIso(at('2026-11-02T10:15:00+09:00')), '2026-11-02T01:15:00.000Z');
  });
});

describe('formatWarekiDate', () => {
  it('prints 令和8年 for 2026 by the JST date', () => {
    assert.equal(formatWarekiDate(at('2026-11-27T01:00:00Z')), '令和8年11月27日');
    assert.equal(formatWarekiDate(at('2026-10-31T15:00:00Z')), '令和8年11月1日');
  });

  it('prints 令和元年 on 2019-05-01 JST, the first day of the era', () => {
    assert.equal(formatWarekiDate(at('2019-04-30T15:00:00Z')), '令和元年5月1日');
    assert.equal(formatWarekiDate(at('2019-12-31T14:59:59Z')), '令和元年12月31日');
    assert.equal(formatWarekiDate(at('2020-01-01T00:00:00+09:00')), '令和2年1月1日');
  });

  it('prints 平成31年 for the last day before 令和', () => {
    assert.equal(formatWarekiDate(at('2019-04-30T14:59:59Z')), '平成31年4月30日');
    assert.equal(formatWarekiDate(at('2019-01-01T00:00:00+09:00')), '平成31年1月1日');
  });
});

describe('formatJstDateTime', () => {
  it('prints the date and 24-hour time in JST', () => {
    assert.equal(formatJstDateTime(at('2026-11-27T01:05:00Z')), '2026年11月27日 10:05');
  });
});
