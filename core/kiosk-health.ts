// Whether a kiosk is in service, as its relay sees it (S4-7, S4-8): down when it has not been heard
// from for a while, and in trouble when its audit log has gone unwitnessed as long or its last offer
// failed the witness check. `relay status` shows this; one place decides it.

/** What the relay knows of a kiosk: when it last called, and when its log was last witnessed. */
export interface KioskContact {
  active: boolean;
  /** UTC ISO times, null when never. */
  lastSeenAt: string | null;
  witnessedAt: string | null;
  /** Why the last offer of its checkpoint failed the witness check, null when it did not. */
  witnessFailure: string | null;
}

export interface KioskHealth {
  down: boolean;
  /** What is wrong with its audit log, null when nothing is (or the kiosk is inactive). */
  auditProblem: string | null;
}

/** Fifteen minutes without a heartbeat (the kiosk sends one every flush, at least once a minute). */
export const DEFAULT_DOWN_AFTER_MS = 15 * 60_000;

export function kioskHealth(contact: KioskContact, nowMs: number, downAfterMs: number = DEFAULT_DOWN_AFTER_MS): KioskHealth {
  if (!contact.active) return { down: false, auditProblem: null };
  const silentTooLong = (at: string | null): boolean => at === null || nowMs - Date.parse(at) > downAfterMs;
  const down = silentTooLong(contact.lastSeenAt);
  const auditProblem = contact.witnessFailure ? `witness check failed (${contact.witnessFailure})` : silentTooLong(contact.witnessedAt) ? 'log unwitnessed' : null;
  return { down, auditProblem };
}

/** The one word a technician reads first. */
export function kioskStateLabel(contact: Pick<KioskContact, 'active'>, health: KioskHealth): string {
  if (!contact.active) return 'inactive';
  if (health.down) return 'DOWN';
  return health.auditProblem ? `PROBLEM: ${health.auditProblem}` : 'up';
}
