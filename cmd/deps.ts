// The one place that picks real drivers: clock, randomness, hashing, holidays, PDF rendering.

import { createHash, randomBytes } from 'node:crypto';
import holidayJp from '@holiday-jp/holiday_jp';
import type { Clock, RandomSource } from '../core/ports.ts';
import type { HolidayLookup } from '../core/service-hours.ts';

export const systemClock: Clock = { nowMs: () => Date.now() };

export const systemRandom: RandomSource = { bytes: (length) => new Uint8Array(randomBytes(length)) };

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const holidays = holidayJp.holidays as Record<string, unknown>;

/** National holidays (振替休日 and 国民の休日 included) from the maintained @holiday-jp data. */
export const isNationalHoliday: HolidayLookup = (dateIso) => holidays[dateIso] !== undefined;

/** A clock fixed at, or offset from, a given instant: for demos and tests that must not depend on today. */
export function offsetClock(startMs: number, realClock: Clock = systemClock): Clock {
  const offsetMs = startMs - realClock.nowMs();
  return { nowMs: () => realClock.nowMs() + offsetMs };
}
