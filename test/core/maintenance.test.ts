// Proves the maintenance lockout (S4-4): five wrong passwords lock the kiosk for thirty minutes,
// a locked kiosk refuses even the right password, and a right password clears the count.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideLogin, isLocked, LOCKOUT_MS, MAX_FAILED_LOGINS, passwordProblem, type LoginState } from '../../core/maintenance.ts';

describe('maintenance login', () => {
  const fresh: LoginState = { failures: 0, lockedUntilMs: 0 };

  it('accepts the right password and clears earlier failures', () => {
    assert.deepEqual(decideLogin({ failures: 3, lockedUntilMs: 0 }, 1000, true), { outcome: 'accepted', next: fresh });
  });

  it('counts wrong passwords down, then locks for thirty minutes', () => {
    let state = fresh;
    for (let attempt = 1; attempt < MAX_FAILED_LOGINS; attempt += 1) {
      const decision = decideLogin(state, 1000, false);
      assert.deepEqual(decision, { outcome: 'rejected', next: { failures: attempt, lockedUntilMs: 0 }, attemptsLeft: MAX_FAILED_LOGINS - attempt });
      state = decision.next;
    }
    const locked = decideLogin(state, 1000, false);
    assert.deepEqual(locked, { outcome: 'locked', next: { failures: 0, lockedUntilMs: 1000 + LOCKOUT_MS }, lockedUntilMs: 1000 + LOCKOUT_MS });
    assert.equal(isLocked(locked.next, 1000 + LOCKOUT_MS - 1), true);
    assert.equal(decideLogin(locked.next, 1000 + LOCKOUT_MS - 1, true).outcome, 'locked');
    assert.equal(decideLogin(locked.next, 1000 + LOCKOUT_MS, true).outcome, 'accepted');
  });

  it('refuses short or digits-only new passwords', () => {
    assert.match(passwordProblem('short')!, /at least 12/);
    assert.match(passwordProblem('123456789012')!, /digits only/);
    assert.equal(passwordProblem('correct horse battery'), undefined);
  });
});
