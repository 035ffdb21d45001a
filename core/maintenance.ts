// Maintenance mode (S4-4): a technician unlocks a kiosk with the maintenance password. Repeated
// failures lock it for a while; every attempt is audited. The password itself is checked by the
// shell with a slow salted hash; this file decides what an attempt means.

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 30 * 60 * 1000;
export const MINIMUM_PASSWORD_LENGTH = 12;

export interface LoginState {
  failures: number;
  lockedUntilMs: number;
}

export type LoginDecision =
  | { outcome: 'accepted'; next: LoginState }
  | { outcome: 'rejected'; next: LoginState; attemptsLeft: number }
  | { outcome: 'locked'; next: LoginState; lockedUntilMs: number };

/** An empty answer (a technician pressing Enter, or no input at all) is not a try: it counts for nothing. */
export function isPasswordAttempt(password: string | undefined): password is string {
  return password !== undefined && password !== '';
}

/** Before the password is even checked: a locked kiosk does not look at it. */
export function isLocked(state: LoginState, nowMs: number): boolean {
  return nowMs < state.lockedUntilMs;
}

export function decideLogin(state: LoginState, nowMs: number, passwordMatches: boolean): LoginDecision {
  if (isLocked(state, nowMs)) return { outcome: 'locked', next: state, lockedUntilMs: state.lockedUntilMs };
  if (passwordMatches) return { outcome: 'accepted', next: { failures: 0, lockedUntilMs: 0 } };
  const failures = state.failures + 1;
  if (failures >= MAX_FAILED_LOGINS) {
    const lockedUntilMs = nowMs + LOCKOUT_MS;
    return { outcome: 'locked', next: { failures: 0, lockedUntilMs }, lockedUntilMs };
  }
  return { outcome: 'rejected', next: { failures, lockedUntilMs: 0 }, attemptsLeft: MAX_FAILED_LOGINS - failures };
}

/** A new maintenance password: long enough, and not all one character class of digits. */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < MINIMUM_PASSWORD_LENGTH) return `the maintenance password needs at least ${MINIMUM_PASSWORD_LENGTH} characters`;
  if (/^[0-9]+$/.test(password)) return 'the maintenance password must not be digits only';
  return undefined;
}
