// Proves how announced notices work (Spec§7-4): a whole-service window closes the centre, a stop
// refuses one municipality only, and kiosks are told what is in force or still to come.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { outcomeOf } from '../app-error.ts';
import { assertCenterOpen } from '../../core/service-hours.ts';
import { assertMunicipalityNotStopped, currentAndComing, inForce, maintenanceWindows, operatorNoticeBody, operatorNoticeFrom, parseOperatorNotice, serviceNoticeFrom, type ServiceNotice } from '../../core/service-notices.ts';

const TEN_AM_JST = Date.parse('2026-11-30T10:00:00+09:00');
const HOUR_MS = 60 * 60 * 1000;

const maintenance: ServiceNotice = { noticeId: 'm1', kind: 'maintenance', startsAtMs: TEN_AM_JST, endsAtMs: TEN_AM_JST + HOUR_MS, message: 'システムメンテナンス' };
const stop: ServiceNotice = { noticeId: 's1', kind: 'stop', startsAtMs: TEN_AM_JST - HOUR_MS, endsAtMs: TEN_AM_JST + 2 * HOUR_MS, municipalityCode: '131016', message: '千代田区は停止中' };

function refusedWith(action: () => void, code: string): void {
  assert.throws(action, (error: unknown) => error instanceof AppError && error.code === code);
}

describe('service notices', () => {
  it('closes the whole service during a maintenance window, start inclusive, end exclusive', () => {
    const windows = maintenanceWindows([maintenance, stop]);
    assert.deepEqual(windows, [{ startMs: TEN_AM_JST, endMs: TEN_AM_JST + HOUR_MS }]);
    assert.doesNotThrow(() => assertCenterOpen(TEN_AM_JST - 1, windows));
    refusedWith(() => assertCenterOpen(TEN_AM_JST, windows), 'hours.maintenance');
    assert.doesNotThrow(() => assertCenterOpen(TEN_AM_JST + HOUR_MS, windows));
  });

  it('stops one municipality and no other', () => {
    refusedWith(() => assertMunicipalityNotStopped([stop], TEN_AM_JST, '131016'), 'municipality.stopped');
    assert.doesNotThrow(() => assertMunicipalityNotStopped([stop], TEN_AM_JST, '141003'));
    assert.doesNotThrow(() => assertMunicipalityNotStopped([stop], TEN_AM_JST + 2 * HOUR_MS, '131016'));
  });

  it('tells kiosks what is in force or coming, soonest first, and nothing that is over', () => {
    assert.deepEqual(currentAndComing([maintenance, stop], TEN_AM_JST - 30 * 60 * 1000).map((notice) => notice.noticeId), ['s1', 'm1']);
    assert.deepEqual(currentAndComing([maintenance, stop], TEN_AM_JST + HOUR_MS).map((notice) => notice.noticeId), ['s1']);
    assert.equal(inForce(stop, TEN_AM_JST), true);
  });
});

describe('serviceNoticeFrom (what an announced notice may be)', () => {
  const from = Date.parse('2026-12-05T01:00:00+09:00');
  const to = from + 3_600_000;
  const maintenance = { kind: 'maintenance', startsAtMs: from, endsAtMs: to, message: ' 定期保守のため停止します ' };
  const refused = (proposal: Parameters<typeof serviceNoticeFrom>[0], pattern: RegExp) =>
    assert.throws(() => serviceNoticeFrom(proposal, 'N1'), (error: unknown) => error instanceof AppError && error.kind === 'input' && pattern.test(error.message));

  it('makes a whole-service window and a one-municipality stop, the message trimmed', () => {
    assert.deepEqual(serviceNoticeFrom(maintenance, 'N1'), { noticeId: 'N1', kind: 'maintenance', startsAtMs: from, endsAtMs: to, message: '定期保守のため停止します' });
    assert.equal(serviceNoticeFrom({ ...maintenance, kind: 'stop', municipalityCode: '131016' }, 'N2').municipalityCode, '131016');
  });

  it('refuses a wrong kind, a stop without a municipality, a window with one, and a bad check digit', () => {
    refused({ ...maintenance, kind: 'outage' }, /kind must be maintenance or stop/);
    refused({ ...maintenance, kind: 'stop' }, /a stop needs municipality/);
    refused({ ...maintenance, municipalityCode: '131016' }, /covers the whole service/);
    refused({ ...maintenance, kind: 'stop', municipalityCode: '131017' }, /valid check digit/);
  });

  it('refuses times that are not times, an empty or reversed window, and an empty or overlong message', () => {
    refused({ ...maintenance, startsAtMs: undefined }, /must be ISO times/);
    refused({ ...maintenance, endsAtMs: from }, /to must be after from/);
    refused({ ...maintenance, message: '   ' }, /1 to 200 characters/);
    refused({ ...maintenance, message: 'あ'.repeat(201) }, /1 to 200 characters/);
  });

  it('names the fields as the caller does', () => {
    assert.throws(() => serviceNoticeFrom({ ...maintenance, kind: 'x' }, 'N1', { kind: '--kind', from: '--from', to: '--to', municipality: '--municipality', message: '--message' }), /--kind must be/);
  });
});

describe('operatorNoticeFrom (an operator\'s own notice, Spec§7-3 and Spec§7-4)', () => {
  const at = (jst: string) => Date.parse(jst);
  const proposal = (kind: string, from: string, to: string, emergency = false) => ({ operatorId: 'OP01', kind, startsAtMs: at(from), endsAtMs: at(to), message: '保守のため停止します', emergency });
  const refusedCode = outcomeOf;

  it('takes a maintenance window wholly outside 06:30–23:00 JST, ends and starts included as the hours are', () => {
    assert.equal(refusedCode(() => operatorNoticeFrom(proposal('maintenance', '2027-01-12T23:00:00+09:00', '2027-01-13T06:30:00+09:00'), 'a'.repeat(32))), 'accepted');
    // 12/29–1/3 the service is closed all day.
    assert.equal(refusedCode(() => operatorNoticeFrom(proposal('maintenance', '2026-12-30T10:00:00+09:00', '2026-12-30T15:00:00+09:00'), 'a'.repeat(32))), 'accepted');
  });

  it('refuses one that reaches into the hours by a minute, either end, or spans a whole day, unless an emergency', () => {
    for (const [from, to] of [
      ['2027-01-12T22:59:00+09:00', '2027-01-12T23:30:00+09:00'],
      ['2027-01-13T03:00:00+09:00', '2027-01-13T06:31:00+09:00'],
      ['2027-01-12T23:30:00+09:00', '2027-01-13T23:30:00+09:00'],
      ['2027-01-03T20:00:00+09:00', '2027-01-04T07:00:00+09:00'],
    ] as const) {
      assert.equal(refusedCode(() => operatorNoticeFrom(proposal('maintenance', from, to), 'a'.repeat(32))), 'notice.inside_service_hours', `${from}–${to}`);
      assert.equal(refusedCode(() => operatorNoticeFrom(proposal('maintenance', from, to, true), 'a'.repeat(32))), 'accepted', `${from}–${to} as an emergency`);
    }
    assert.throws(() => operatorNoticeFrom(proposal('maintenance', '2027-01-12T22:59:00+09:00', '2027-01-12T23:30:00+09:00'), 'a'.repeat(32)), /2027-01-12T22:59:00\+09:00 is inside them/);
  });

  it('takes a stop at any time, and refuses what no notice may be', () => {
    assert.equal(refusedCode(() => operatorNoticeFrom(proposal('stop', '2027-01-12T10:00:00+09:00', '2027-01-12T12:00:00+09:00'), 'a'.repeat(32))), 'accepted');
    assert.equal(refusedCode(() => operatorNoticeFrom(proposal('outage', '2027-01-12T10:00:00+09:00', '2027-01-12T12:00:00+09:00'), 'a'.repeat(32))), 'notice.invalid');
    assert.equal(refusedCode(() => operatorNoticeFrom(proposal('stop', '2027-01-12T12:00:00+09:00', '2027-01-12T10:00:00+09:00'), 'a'.repeat(32))), 'notice.invalid');
    assert.equal(refusedCode(() => operatorNoticeFrom(proposal('stop', '2027-01-01T00:00:00+09:00', '2027-01-20T00:00:00+09:00'), 'a'.repeat(32))), 'notice.invalid');
    assert.equal(refusedCode(() => operatorNoticeFrom({ ...proposal('stop', '2027-01-12T10:00:00+09:00', '2027-01-12T12:00:00+09:00'), message: ' ' }, 'a'.repeat(32))), 'notice.invalid');
  });

  it('travels to the centre as UTC times and is read there by the same rules', () => {
    const notice = operatorNoticeFrom(proposal('maintenance', '2027-01-12T23:30:00+09:00', '2027-01-13T05:30:00+09:00'), 'b'.repeat(32));
    const body = operatorNoticeBody(notice);
    assert.deepEqual(body, { noticeId: 'b'.repeat(32), kind: 'maintenance', startsAt: '2027-01-12T14:30:00.000Z', endsAt: '2027-01-12T20:30:00.000Z', message: '保守のため停止します', emergency: false });
    assert.deepEqual(parseOperatorNotice(body, 'OP01'), notice);
    assert.equal(refusedCode(() => parseOperatorNotice({ ...body, startsAt: '2027-01-12T01:00:00.000Z' }, 'OP01')), 'notice.inside_service_hours');
    assert.equal(refusedCode(() => parseOperatorNotice({ ...body, emergency: 'yes' }, 'OP01')), 'request.bad_field');
    assert.equal(refusedCode(() => parseOperatorNotice({ ...body, noticeId: 'x' }, 'OP01')), 'request.bad_field');
  });
});
