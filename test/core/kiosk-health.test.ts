// Proves when the relay shows a kiosk as down or in trouble (core/kiosk-health.ts): silent past the
// bound is down, a log unwitnessed as long or a failed witness check is a problem, an inactive kiosk is neither.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DOWN_AFTER_MS, kioskHealth, kioskStateLabel, type KioskContact } from '../../core/kiosk-health.ts';

const nowMs = Date.parse('2026-12-01T03:00:00.000Z');
const ago = (ms: number): string => new Date(nowMs - ms).toISOString();
const healthy: KioskContact = { active: true, lastSeenAt: ago(60_000), witnessedAt: ago(60_000), witnessFailure: null };

describe('kiosk health at the relay', () => {
  it('is up when heard from and witnessed within the bound, the bound itself included', () => {
    assert.deepEqual(kioskHealth(healthy, nowMs), { down: false, auditProblem: null });
    const atBound = { ...healthy, lastSeenAt: ago(DEFAULT_DOWN_AFTER_MS), witnessedAt: ago(DEFAULT_DOWN_AFTER_MS) };
    assert.equal(kioskStateLabel(atBound, kioskHealth(atBound, nowMs)), 'up');
  });

  it('is down when silent past the bound or never heard from', () => {
    for (const lastSeenAt of [ago(DEFAULT_DOWN_AFTER_MS + 1), null]) {
      const contact = { ...healthy, lastSeenAt };
      assert.equal(kioskHealth(contact, nowMs).down, true);
      assert.equal(kioskStateLabel(contact, kioskHealth(contact, nowMs)), 'DOWN');
    }
    assert.equal(kioskHealth({ ...healthy, lastSeenAt: ago(120_000) }, nowMs, 60_000).down, true);
  });

  it('has a problem when its log is unwitnessed as long, or its last offer failed the witness check', () => {
    assert.equal(kioskHealth({ ...healthy, witnessedAt: null }, nowMs).auditProblem, 'log unwitnessed');
    assert.equal(kioskHealth({ ...healthy, witnessedAt: ago(DEFAULT_DOWN_AFTER_MS + 1) }, nowMs).auditProblem, 'log unwitnessed');
    const failed = { ...healthy, witnessFailure: 'witness.inconsistent' };
    assert.equal(kioskStateLabel(failed, kioskHealth(failed, nowMs)), 'PROBLEM: witness check failed (witness.inconsistent)');
  });

  it('shows an inactive kiosk as inactive, never down', () => {
    const inactive = { active: false, lastSeenAt: null, witnessedAt: null, witnessFailure: 'x' };
    assert.deepEqual(kioskHealth(inactive, nowMs), { down: false, auditProblem: null });
    assert.equal(kioskStateLabel(inactive, kioskHealth(inactive, nowMs)), 'inactive');
  });
});
