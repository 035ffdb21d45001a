// Service hours (Spec§7, Spec§8): the centre's daily window and year-end closure, narrowed per
// municipality and certificate type. All in JST.

import { AppError } from './errors.ts';
import { jstParts, type JstParts } from './jst.ts';
import { formatClockMinutes, type DailyWindow, type TypeHours } from './municipality.ts';

export const CENTER_WINDOW: DailyWindow = { startMinute: 6 * 60 + 30, endMinute: 23 * 60 };

/** A national holiday lookup by JST date (YYYY-MM-DD); the shell backs it with a maintained package. */
export type HolidayLookup = (dateIso: string) => boolean;

export interface MaintenanceWindow {
  startMs: number;
  endMs: number;
}

/** 12/29–1/3: the year-end closure of the centre and of every 行政機関 (J-LIS and municipalities). */
export function isYearEndClosure(month: number, day: number): boolean {
  return (month === 12 && day >= 29) || (month === 1 && day <= 3);
}

function inWindow(parts: JstParts, window: DailyWindow): boolean {
  return parts.minuteOfDay >= window.startMinute && parts.minuteOfDay < window.endMinute;
}

export function windowText(window: DailyWindow): string {
  return `${formatClockMinutes(window.startMinute)}〜${formatClockMinutes(window.endMinute)}`;
}

/** Throws a refusal when the centre is closed at atMs. */
export function assertCenterOpen(atMs: number, maintenance: readonly MaintenanceWindow[] = []): void {
  const parts = jstParts(atMs);
  if (isYearEndClosure(parts.month, parts.day)) {
    throw new AppError('refused', 'hours.center_closed', 'the service is closed from 12/29 to 1/3');
  }
  if (!inWindow(parts, CENTER_WINDOW)) {
    throw new AppError('refused', 'hours.center_closed', `the service is open ${windowText(CENTER_WINDOW)} JST`);
  }
  if (maintenance.some((window) => atMs >= window.startMs && atMs < window.endMs)) {
    throw new AppError('refused', 'hours.maintenance', 'the service is stopped for maintenance');
  }
}

/** Whether the service's own hours are open at atMs: 06:30–23:00 JST, not 12/29–1/3 (windows apart). */
export function isWithinServiceHours(atMs: number): boolean {
  const parts = jstParts(atMs);
  return !isYearEndClosure(parts.month, parts.day) && inWindow(parts, CENTER_WINDOW);
}

const MINUTE_MS = 60_000;

/**
 * The first instant of [startMs, endMs) within service hours, or undefined when it lies wholly
 * outside them (Spec§7-3). The hours open and close on whole minutes (JST is a whole number of hours
 * from UTC), so the start and each whole minute after it are enough to look at.
 */
export function firstServiceInstant(startMs: number, endMs: number): number | undefined {
  if (startMs < endMs && isWithinServiceHours(startMs)) return startMs;
  for (let atMs = Math.floor(startMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS; atMs < endMs; atMs += MINUTE_MS) {
    if (isWithinServiceHours(atMs)) return atMs;
  }
  return undefined;
}

/** True when a municipality issues a type with these hours at atMs (the centre's hours apart). */
export function isTypeAvailable(hours: TypeHours | undefined, atMs: number, isHoliday: HolidayLookup): boolean {
  if (!hours) return true;
  const parts = jstParts(atMs);
  if (hours.weekdaysOnly && (parts.weekday === 0 || parts.weekday === 6)) return false;
  if (hours.closedOnHolidays && (isYearEndClosure(parts.month, parts.day) || isHoliday(parts.dateIso))) return false;
  return inWindow(parts, hours.window);
}

export function typeHoursText(hours: TypeHours | undefined): string {
  const window = hours ? hours.window : CENTER_WINDOW;
  const days = hours?.weekdaysOnly ? (hours.closedOnHolidays ? '平日' : '月〜金') : '毎日';
  return `${days} ${windowText(window)}`;
}
