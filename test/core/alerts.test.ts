// Proves the rules faults travel by (docs/alerts.md): which codes are device faults, what a kiosk
// reports and the relay accepts, the retry schedule and when a delivery is given up, the
// idempotency key, one down alert per outage with its recovery, and the kiosk's fault outbox.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALERT_RETRY,
  afterAttempt,
  alertTargets,
  conditionWatch,
  faultAlert,
  faultDevice,
  faultReport,
  idempotencyKey,
  outageAlert,
  outageStep,
  parseFaultReport,
  retryDelayMs,
  sendPendingFaults,
  silentPastBound,
  type FaultOutbox,
  type FaultReport,
} from '../../core/alerts.ts';
import { AppError } from '../../core/errors.ts';

const FAULT_ID = '0123456789abcdef0123456789abcdef';
const AT_MS = Date.parse('2026-11-02T01:00:00.000Z');

describe('fault codes and reports', () => {
  it('names the device of each fault code, and no device for codes that are not device faults', () => {
    const codes = ['printer.jam', 'printer.paper_out', 'cash.fault', 'cash.no_change', 'cash.rejected', 'card.reader_missing', 'card.vpcd_unreachable', 'card.expired', 'reader.unavailable', 'disk.full', 'clock.skewed', 'internal', 'witness.behind'];
    assert.deepEqual(
      codes.map((code) => [code, faultDevice(code) ?? null]),
      [
        ['printer.jam', 'printer'],
        ['printer.paper_out', 'printer'],
        ['cash.fault', 'cash'],
        ['cash.no_change', 'cash'],
        ['cash.rejected', null],
        ['card.reader_missing', 'reader'],
        ['card.vpcd_unreachable', 'reader'],
        ['card.expired', null],
        ['reader.unavailable', 'reader'],
        ['disk.full', 'disk'],
        ['clock.skewed', 'clock'],
        ['internal', null],
        ['witness.behind', null],
      ],
    );
  });

  it('makes a report only of a device fault, and the relay parses it back as sent', () => {
    assert.equal(faultReport({ faultId: FAULT_ID, kioskId: 'K0001', code: 'internal', atMs: AT_MS }), undefined);
    const report = faultReport({ faultId: FAULT_ID, kioskId: 'K0001', code: 'printer.jam', requestId: 'abc123', atMs: AT_MS })!;
    assert.deepEqual(report, { faultId: FAULT_ID, kioskId: 'K0001', device: 'printer', code: 'printer.jam', requestId: 'abc123', occurredAt: '2026-11-02T01:00:00.000Z' });
    assert.deepEqual(parseFaultReport(JSON.parse(JSON.stringify(report))), report);
  });

  it('refuses a report whose code is not of its device, or with a malformed field, naming the field', () => {
    const good = { faultId: FAULT_ID, kioskId: 'K0001', device: 'printer', code: 'printer.jam', requestId: null, occurredAt: '2026-11-02T01:00:00.000Z' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, device: 'cash' }, 'code'],
      [{ ...good, device: 'toaster' }, 'device'],
      [{ ...good, faultId: 'short' }, 'faultId'],
      [{ ...good, occurredAt: '2026-02-30T01:00:00.000Z' }, 'occurredAt'],
      [{ ...good, requestId: 'Tanaka Taro' }, 'requestId'],
    ];
    for (const [body, field] of cases) {
      assert.throws(() => parseFaultReport(body), (error: unknown) => error instanceof AppError && error.code === 'request.bad_field' && error.where === field, field);
    }
  });

  it('sends a fault to the register and maintenance, an outage to maintenance only, with the same key on every attempt', () => {
    const report = faultReport({ faultId: FAULT_ID, kioskId: 'K0001', code: 'cash.fault', atMs: AT_MS })!;
    const alert = faultAlert(report, { operatorId: 'OP01', storeId: 'S0001' });
    assert.deepEqual(alert, { alertId: FAULT_ID, kind: 'fault', operatorId: 'OP01', storeId: 'S0001', kioskId: 'K0001', device: 'cash', code: 'cash.fault', requestId: null, occurredAt: '2026-11-02T01:00:00.000Z' });
    assert.deepEqual([alertTargets('fault'), alertTargets('kiosk.down'), alertTargets('kiosk.recovered')], [['register', 'maintenance'], ['maintenance'], ['maintenance']]);
    assert.equal(idempotencyKey(alert.alertId, 'register'), `${FAULT_ID}/register`);
  });

  it('names an outage by the last contact before it: raising it twice makes the same alert id', () => {
    const where = { operatorId: 'OP01', storeId: 'S0001', kioskId: 'K0001' };
    const first = outageAlert('kiosk.down', where, '2026-11-02T01:00:00.000Z', '2026-11-02T01:00:00.000Z');
    assert.equal(first.alertId, outageAlert('kiosk.down', where, '2026-11-02T01:00:00.000Z', '2026-11-02T01:00:00.000Z').alertId);
    assert.notEqual(first.alertId, outageAlert('kiosk.down', where, '2026-11-02T02:00:00.000Z', '2026-11-02T02:00:00.000Z').alertId);
    assert.notEqual(first.alertId, outageAlert('kiosk.recovered', where, '2026-11-02T01:00:00.000Z', '2026-11-02T01:30:00.000Z').alertId);
  });
});

describe('watched conditions', () => {
  it('reports a condition when it starts failing, not while it goes on, and again after it cleared; each code on its own', () => {
    const reported: string[] = [];
    const watch = conditionWatch({ report: ({ code }) => reported.push(code) });
    watch('disk.low_space', false);
    watch('disk.low_space', true);
    watch('disk.low_space', true);
    watch('clock.skew', true);
    watch('disk.low_space', false);
    watch('clock.skew', true);
    watch('disk.low_space', true);
    assert.deepEqual(reported, ['disk.low_space', 'clock.skew', 'disk.low_space']);
  });
});

describe('retries', () => {
  it('waits 5 s after the first failure, doubling to at most 15 minutes', () => {
    assert.deepEqual([1, 2, 3, 4, 8, 9, 10, 19, 100].map(retryDelayMs), [5_000, 10_000, 20_000, 40_000, 640_000, 900_000, 900_000, 900_000, 900_000]);
    assert.throws(() => retryDelayMs(0), AppError);
  });

  it('delivers on 2xx and 409, retries 408, 429, 5xx and no answer, fails at once on other statuses', () => {
    const step = (answer: Parameters<typeof afterAttempt>[1]) => afterAttempt(0, answer, AT_MS);
    assert.deepEqual(
      [step({ status: 200 }), step({ status: 204 }), step({ status: 409 }), step({ status: 503 }), step({ status: 429 }), step({ status: 408 }), step({ transportError: 'transport.timeout' }), step({ status: 400 }), step({ status: 401 })],
      [
        { state: 'delivered', attempts: 1 },
        { state: 'delivered', attempts: 1 },
        { state: 'delivered', attempts: 1 },
        { state: 'retry', attempts: 1, nextAttemptAtMs: AT_MS + 5_000, reason: 'http.503' },
        { state: 'retry', attempts: 1, nextAttemptAtMs: AT_MS + 5_000, reason: 'http.429' },
        { state: 'retry', attempts: 1, nextAttemptAtMs: AT_MS + 5_000, reason: 'http.408' },
        { state: 'retry', attempts: 1, nextAttemptAtMs: AT_MS + 5_000, reason: 'transport.timeout' },
        { state: 'failed', attempts: 1, reason: 'http.400' },
        { state: 'failed', attempts: 1, reason: 'http.401' },
      ],
    );
  });

  it('gives up after the last allowed attempt, and not one before', () => {
    assert.equal(afterAttempt(ALERT_RETRY.maxAttempts - 2, { status: 500 }, AT_MS).state, 'retry');
    assert.deepEqual(afterAttempt(ALERT_RETRY.maxAttempts - 1, { status: 500 }, AT_MS), { state: 'failed', attempts: ALERT_RETRY.maxAttempts, reason: 'http.500' });
  });
});

describe('outages', () => {
  const seen = '2026-11-02T01:00:00.000Z';
  it('raises a silent kiosk once, ends the outage when it is heard again, and never raises one never seen or inactive', () => {
    assert.deepEqual(outageStep({ active: true, down: true, lastSeenAt: seen, openOutage: undefined }), { raise: { silentSince: seen } });
    assert.equal(outageStep({ active: true, down: true, lastSeenAt: seen, openOutage: { silentSince: seen } }), undefined);
    assert.deepEqual(outageStep({ active: true, down: false, lastSeenAt: '2026-11-02T02:00:00.000Z', openOutage: { silentSince: seen } }), { recover: { silentSince: seen }, announce: true });
    assert.equal(outageStep({ active: true, down: false, lastSeenAt: seen, openOutage: undefined }), undefined);
    assert.equal(outageStep({ active: true, down: true, lastSeenAt: null, openOutage: undefined }), undefined);
    assert.equal(outageStep({ active: false, down: false, lastSeenAt: seen, openOutage: undefined }), undefined);
    assert.deepEqual(outageStep({ active: false, down: false, lastSeenAt: seen, openOutage: { silentSince: seen } }), { recover: { silentSince: seen }, announce: false });
  });
});

describe('silence', () => {
  const minute = 60_000;
  const seen = '2026-11-02T01:00:00.000Z';
  const seenMs = Date.parse(seen);
  it('counts from the last contact, or from the relay\'s own start when that is later, and never for a kiosk never heard from', () => {
    assert.deepEqual(
      [
        silentPastBound(seen, seenMs - 60 * minute, seenMs + 15 * minute, 15 * minute),
        silentPastBound(seen, seenMs - 60 * minute, seenMs + 15 * minute + 1, 15 * minute),
        silentPastBound(seen, seenMs + 10 * minute, seenMs + 16 * minute, 15 * minute),
        silentPastBound(seen, seenMs + 10 * minute, seenMs + 25 * minute + 1, 15 * minute),
        silentPastBound(null, seenMs, seenMs + 60 * minute, 15 * minute),
      ],
      [false, true, false, true, false],
    );
  });
});

describe('the kiosk fault outbox', () => {
  function outbox(reports: FaultReport[]) {
    const log: string[] = [];
    const pending = [...reports];
    const box: FaultOutbox = {
      pendingFaults: () => pending.filter((report) => !log.some((line) => line.startsWith(`ok ${report.faultId}`) || line.startsWith(`rejected ${report.faultId}`))),
      markFaultReported: (faultId) => void log.push(`ok ${faultId}`),
      markFaultAttemptFailed: (faultId, code) => void log.push(`failed ${faultId} ${code}`),
      markFaultRejected: (faultId, code) => void log.push(`rejected ${faultId} ${code}`),
    };
    return { box, log };
  }
  const report = (n: number): FaultReport => ({ faultId: `${n}`.padStart(32, '0'), kioskId: 'K0001', device: 'printer', code: 'printer.jam', requestId: null, occurredAt: '2026-11-02T01:00:00.000Z' });
  const clock = { nowMs: () => AT_MS };

  it('stops at an unreachable relay, keeping every report; drops one refused for good; retries one refused otherwise', async () => {
    const down = outbox([report(1), report(2)]);
    assert.equal(await sendPendingFaults({ outbox: down.box, clock, send: async () => { throw new AppError('unavailable', 'transport.unreachable', 'away'); } }), 0);
    assert.deepEqual(down.log, [`failed ${report(1).faultId} transport.unreachable`]);

    const mixed = outbox([report(1), report(2), report(3)]);
    const answers = [new AppError('input', 'request.bad_field', 'bad'), new AppError('refused', 'relay.busy', 'later'), undefined];
    assert.equal(await sendPendingFaults({ outbox: mixed.box, clock, send: async () => { const answer = answers.shift(); if (answer) throw answer; } }), 1);
    assert.deepEqual(mixed.log, [`rejected ${report(1).faultId} request.bad_field`, `failed ${report(2).faultId} relay.busy`, `ok ${report(3).faultId}`]);
  });
});
