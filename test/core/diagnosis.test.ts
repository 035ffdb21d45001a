// Proves the verdicts of `kiosk diagnose` (core/diagnosis.ts): each check passes inside its limit and
// fails past it, the limit itself included where it belongs, and the whole is healthy only when every check is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DIAGNOSIS_LIMITS,
  auditWitnessCheck,
  centerCheck,
  certificateCheck,
  clockCheck,
  clockSkewBounds,
  deviceCheck,
  diagnosis,
  diskCheck,
  formatDuration,
  outboxCheck,
  relayCheck,
  type OutboxBacklog,
} from '../../core/diagnosis.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const nowMs = Date.parse('2026-12-01T03:00:00.000Z');

describe('kiosk diagnosis verdicts', () => {
  it('is healthy only when every check is', () => {
    const good = { name: 'disk', ok: true, detail: '' };
    assert.deepEqual(diagnosis([good, good]), { ok: true, checks: [good, good] });
    assert.equal(diagnosis([good, { ...good, name: 'relay', ok: false }]).ok, false);
    assert.equal(diagnosis([]).ok, true);
  });

  it('says a device is simulated, passes a ready one and fails a failing one with its code', () => {
    assert.deepEqual(deviceCheck('cash-unit', { simulated: true, state: 'change stock 20000 yen' }), { name: 'cash-unit', ok: true, detail: 'simulated: change stock 20000 yen' });
    assert.deepEqual(deviceCheck('card-reader', { simulated: false, ready: true, state: 'PC/SC reader "Virtual PCD 00 00", no card on it' }), {
      name: 'card-reader',
      ok: true,
      detail: 'PC/SC reader "Virtual PCD 00 00", no card on it',
    });
    assert.deepEqual(deviceCheck('printer', { simulated: false, ready: false, code: 'printer.paper_out', message: 'the printer is out of paper' }), {
      name: 'printer',
      ok: false,
      detail: 'printer.paper_out: the printer is out of paper',
    });
  });

  it('passes a relay that answers within the round-trip limit, the limit itself included', () => {
    assert.deepEqual(relayCheck({ answered: true, roundTripMs: 12.4 }), { name: 'relay', ok: true, detail: 'heartbeat answered in 12 ms' });
    assert.equal(relayCheck({ answered: true, roundTripMs: DIAGNOSIS_LIMITS.maxRoundTripMs }).ok, true);
    assert.deepEqual(relayCheck({ answered: true, roundTripMs: 2_500 }), { name: 'relay', ok: false, detail: 'heartbeat answered in 2500 ms, slower than 2000 ms' });
    assert.deepEqual(relayCheck({ answered: false, code: 'transport.unreachable', message: 'cannot reach 127.0.0.1:9443 (ECONNREFUSED)' }), {
      name: 'relay',
      ok: false,
      detail: 'transport.unreachable: cannot reach 127.0.0.1:9443 (ECONNREFUSED)',
    });
  });

  it('says the centre was not reached when the relay did not answer, and names the centre\'s own failure otherwise', () => {
    const down = { answered: false as const, code: 'transport.unreachable', message: 'cannot reach' };
    assert.deepEqual(centerCheck(down, down), { name: 'center', ok: false, detail: 'not reached: the relay did not answer (transport.unreachable)' });
    const up = { answered: true as const, roundTripMs: 20 };
    assert.deepEqual(centerCheck({ answered: false, code: 'transport.timeout', message: 'no answer from the centre in time' }, up), {
      name: 'center',
      ok: false,
      detail: 'through the relay: transport.timeout: no answer from the centre in time',
    });
    assert.deepEqual(centerCheck({ answered: true, roundTripMs: 30 }, up), { name: 'center', ok: true, detail: 'service notices through the relay answered in 30 ms' });
  });

  it('bounds the skew by the exchange and the Date header\'s whole seconds', () => {
    // Sent at .200, answered at .400, the relay wrote 12:00:00: its clock read between .000 and .999.
    const sample = { sentAtMs: nowMs + 200, receivedAtMs: nowMs + 400, relayDateMs: nowMs, resolutionMs: 1000 };
    assert.deepEqual(clockSkewBounds(sample), { lowMs: -800, highMs: 400 });
    assert.deepEqual(clockCheck(sample), { name: 'clock', ok: true, detail: "kiosk -0.2 s against the relay's Date header (±0.6 s)" });
  });

  it('fails the clock only when every skew the reading allows is past the limit', () => {
    const limit = DIAGNOSIS_LIMITS.maxClockSkewMs;
    // The kiosk ahead: the smallest skew possible is exactly the limit, then just past it.
    const ahead = (lowMs: number) => ({ sentAtMs: nowMs + lowMs + 1000, receivedAtMs: nowMs + lowMs + 1000, relayDateMs: nowMs, resolutionMs: 1000 });
    assert.equal(clockCheck(ahead(limit)).ok, true);
    assert.equal(clockCheck(ahead(limit + 1)).ok, false);
    assert.match(clockCheck(ahead(limit + 1)).detail, /^kiosk \+60\.5 s .*, more than 60 s off$/);
    // The kiosk behind by two minutes.
    const behind = { sentAtMs: nowMs - 120_000, receivedAtMs: nowMs - 120_000, relayDateMs: nowMs, resolutionMs: 1000 };
    assert.equal(clockCheck(behind).ok, false);
    // A slow answer widens the interval: a good clock is not blamed for it.
    assert.equal(clockCheck({ sentAtMs: nowMs - 90_000, receivedAtMs: nowMs + 90_000, relayDateMs: nowMs, resolutionMs: 1000 }).ok, true);
    assert.deepEqual(clockCheck(undefined), { name: 'clock', ok: false, detail: 'not compared: no answer with a Date header from the relay' });
  });

  it('counts certificate days down, and fails expired, not yet valid and soon expiring ones', () => {
    const valid = (days: number) => ({ validFromMs: nowMs - DAY_MS, validToMs: nowMs + days * DAY_MS });
    assert.deepEqual(certificateCheck('certificate-ca', 'pki/ca.pem', valid(400), nowMs), { name: 'certificate-ca', ok: true, detail: 'pki/ca.pem: 400 days left (until 2028-01-05)' });
    assert.equal(certificateCheck('certificate-ca', 'ca.pem', valid(DIAGNOSIS_LIMITS.minCertificateDays), nowMs).ok, true);
    assert.deepEqual(certificateCheck('certificate-relay', 'relay.pem', valid(10.5), nowMs), {
      name: 'certificate-relay',
      ok: false,
      detail: 'relay.pem: expires in 10 day(s) (2026-12-12), renew it (at least 30 wanted)',
    });
    assert.deepEqual(certificateCheck('certificate-kiosk', 'k.pem', { validFromMs: nowMs - 400 * DAY_MS, validToMs: nowMs - 2.5 * DAY_MS }, nowMs), {
      name: 'certificate-kiosk',
      ok: false,
      detail: 'k.pem: expired 3 day(s) ago (2026-11-29)',
    });
    assert.deepEqual(certificateCheck('certificate-kiosk', 'k.pem', { validFromMs: nowMs, validToMs: nowMs }, nowMs).ok, false);
    assert.deepEqual(certificateCheck('certificate-kiosk', 'k.pem', { validFromMs: nowMs + DAY_MS, validToMs: nowMs + 400 * DAY_MS }, nowMs), {
      name: 'certificate-kiosk',
      ok: false,
      detail: 'k.pem: not valid before 2026-12-02',
    });
    assert.deepEqual(certificateCheck('certificate-kiosk', 'k.pem', { problem: 'missing' }, nowMs), { name: 'certificate-kiosk', ok: false, detail: 'k.pem: missing' });
  });

  it('fails an outbox whose oldest notice or day close waited past the limit, or that holds a refused notice', () => {
    const empty: OutboxBacklog = { pending: 0, oldestPendingAtMs: null, rejected: 0, unsentDayCloses: 0, oldestDayCloseAtMs: null };
    assert.deepEqual(outboxCheck(empty, nowMs), { name: 'outbox', ok: true, detail: 'no notice pending; no day close unsent' });
    const limit = DIAGNOSIS_LIMITS.maxOutboxAgeMs;
    assert.deepEqual(outboxCheck({ ...empty, pending: 2, oldestPendingAtMs: nowMs - limit }, nowMs), { name: 'outbox', ok: true, detail: '2 notice(s) pending, the oldest for 15 min; no day close unsent' });
    assert.deepEqual(outboxCheck({ ...empty, pending: 2, oldestPendingAtMs: nowMs - 3_900_000 }, nowMs), {
      name: 'outbox',
      ok: false,
      detail: '2 notice(s) pending, the oldest for 1 h 5 min; no day close unsent (limit 15 min)',
    });
    assert.equal(outboxCheck({ ...empty, unsentDayCloses: 1, oldestDayCloseAtMs: nowMs - limit - 1000 }, nowMs).ok, false);
    assert.deepEqual(outboxCheck({ ...empty, rejected: 1 }, nowMs), {
      name: 'outbox',
      ok: false,
      detail: 'no notice pending; 1 refused by the centre (see kiosk maintenance); no day close unsent (limit 15 min)',
    });
  });

  it('reads a wait as a person would', () => {
    assert.deepEqual([0, 59_999, 60_000, 3_599_999, 3_600_000, 47 * 3_600_000 + 59 * 60_000, 48 * 3_600_000, -5].map(formatDuration), ['0 s', '59 s', '1 min', '59 min', '1 h 0 min', '47 h 59 min', '2 days', '0 s']);
  });

  it('passes the audit log only when the relay holds every entry after the offer', () => {
    assert.deepEqual(auditWitnessCheck({ offer: 'witnessed', logSize: 12, witnessedSize: 12 }), { name: 'audit-witness', ok: true, detail: '12 entries here, 12 witnessed by the relay' });
    assert.equal(auditWitnessCheck({ offer: 'nothing', logSize: 12, witnessedSize: 12 }).ok, true);
    assert.deepEqual(auditWitnessCheck({ offer: 'witnessed', logSize: 12, witnessedSize: 11 }), { name: 'audit-witness', ok: false, detail: '12 entries here, 11 witnessed by the relay: 1 entry unwitnessed' });
    assert.deepEqual(auditWitnessCheck({ offer: 'unavailable', logSize: 12, witnessedSize: 9 }), {
      name: 'audit-witness',
      ok: false,
      detail: '12 entries here, 9 witnessed by the relay: the relay could not be reached, 3 entries unwitnessed',
    });
    assert.equal(auditWitnessCheck({ offer: 'refused', logSize: 12, witnessedSize: 12 }).ok, false);
  });

  it('fails a disk with less free space than wanted, the amount itself passing', () => {
    const mib = 1024 * 1024;
    assert.deepEqual(diskCheck(512 * mib), { name: 'disk', ok: true, detail: '512 MiB free' });
    assert.deepEqual(diskCheck(512 * mib - 1), { name: 'disk', ok: false, detail: '511 MiB free, less than the 512 MiB wanted' });
    assert.equal(diskCheck(10 * mib, 10 * mib).ok, true);
  });
});
