// The one place that picks real drivers: clock, randomness, timers, hashing, holidays. Commands get
// the clock, randomness, timers and holidays through the factory (cmd/factory.ts).

import { randomBytes } from 'node:crypto';
import holidayJp from '@holiday-jp/holiday_jp';
import { usageError } from '../core/errors.ts';
import { parseIsoInstant } from '../core/jst.ts';
import type { Clock, RandomSource, Timers } from '../core/ports.ts';
import type { HolidayLookup } from '../core/service-hours.ts';

export const systemClock: Clock = { nowMs: () => Date.now() };

/** Real timers that never keep the process alive on their own (witness offers, retries). */
export const systemTimers: Timers = {
  nowMs: () => Date.now(),
  set: (run, delayMs) => {
    const handle = setTimeout(run, delayMs);
    handle.unref?.();
    return handle;
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const systemRandom: RandomSource = { bytes: (length) => new Uint8Array(randomBytes(length)) };

export { sha256, sha256Hex } from '../drivers/crypto/sha256.ts';
export { base64Encode } from '../drivers/bytes/base64.ts';

const holidays = holidayJp.holidays as Record<string, unknown>;

/** National holidays (振替休日 and 国民の休日 included) from the maintained @holiday-jp data. */
export const isNationalHoliday: HolidayLookup = (dateIso) => holidays[dateIso] !== undefined;

/** A clock fixed at, or offset from, a given instant: for demos and tests that must not depend on today. */
export function offsetClock(startMs: number, realClock: Clock = systemClock): Clock {
  const offsetMs = startMs - realClock.nowMs();
  return { nowMs: () => realClock.nowMs() + offsetMs };
}

/**
 * The services' clock. CVS_ISSUE_TIME=2026-11-30T10:00:00+09:00 starts it at that instant (it then
 * runs at the real rate): for demos, field tests and end-to-end tests outside service hours. A
 * malformed value is a usage error (exit 2, one line), raised when a command first reads the clock,
 * so `init --help` or `audit-log verify` never trip over it.
 */
export function processClock(environment: NodeJS.ProcessEnv = process.env): Clock {
  let clock: Clock | undefined;
  return {
    nowMs: () => {
      clock ??= clockFromEnvironment(environment);
      return clock.nowMs();
    },
  };
}

function clockFromEnvironment(environment: NodeJS.ProcessEnv): Clock {
  const start = environment.CVS_ISSUE_TIME;
  if (start === undefined || start === '') return systemClock;
  const startMs = parseIsoInstant(start);
  if (startMs === undefined) {
    throw usageError(`CVS_ISSUE_TIME="${start.slice(0, 40)}" is not a real ISO 8601 time with an offset (2026-11-30T10:00:00+09:00)`);
  }
  return offsetClock(startMs);
}
