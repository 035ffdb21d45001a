// The month's deadlines (SPEC.md §3, Spec§4, C§13-3): reconcile by the 8th and confirm by the 9th
// of the next month (moved earlier off J-LIS holidays), invoice by the 15th, pay by the 20th (moved
// later off bank holidays). National holidays come from a maintained package through the lookup.

import { AppError } from './errors.ts';
import { formatMonth } from './handling-csv.ts';
import { isIsoDate, jstParts, parseIsoDate } from './jst.ts';

export { isIsoDate };
import { isYearEndClosure, type HolidayLookup } from './service-hours.ts';

export interface Deadlines {
  reconcileBy: string;
  confirmBy: string;
  invoiceBy: string;
  payBy: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function dateOf(epochDays: number): { iso: string; weekday: number; monthDay: string } {
  const date = new Date(epochDays * DAY_MS);
  const iso = date.toISOString().slice(0, 10);
  return { iso, weekday: date.getUTCDay(), monthDay: iso.slice(5) };
}

function epochDaysOf(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** Epoch day of a YYYY-MM-DD date; callers pass validated dates, so a bad one is our bug. */
function epochDayOfIso(dateIso: string): number {
  const parsed = parseIsoDate(dateIso);
  if (!parsed) throw new AppError('internal', 'date.invalid', `"${dateIso}" is not a real YYYY-MM-DD date`);
  return parsed.epochDay;
}

/** 行政機関の休日: Saturdays, Sundays, national holidays and 12/29–1/3. */
export function isJlisHoliday(dateIso: string, isNationalHoliday: HolidayLookup): boolean {
  const { weekday } = dateOf(epochDayOfIso(dateIso));
  const [, month, day] = dateIso.split('-').map(Number) as [number, number, number];
  return weekday === 0 || weekday === 6 || isNationalHoliday(dateIso) || isYearEndClosure(month, day);
}

/** 銀行の休日: Saturdays, Sundays, national holidays and 12/31–1/3. */
export function isBankHoliday(dateIso: string, isNationalHoliday: HolidayLookup): boolean {
  const { weekday, monthDay } = dateOf(epochDayOfIso(dateIso));
  return weekday === 0 || weekday === 6 || isNationalHoliday(dateIso) || monthDay >= '12-31' || monthDay <= '01-03';
}

/** From a day, step by ±1 while the day is a holiday; ten years of holidays never make a 30-day run. */
function shiftOffHolidays(epochDays: number, step: -1 | 1, isHoliday: (dateIso: string) => boolean): string {
  let day = epochDays;
  for (let guard = 0; guard < 30 && isHoliday(dateOf(day).iso); guard += 1) day += step;
  return dateOf(day).iso;
}

/** Deadlines of month M (year × 12 + month − 1), all in month M+1. */
export function monthDeadlines(monthKey: number, isNationalHoliday: HolidayLookup): Deadlines {
  const next = monthKey + 1;
  const year = Math.floor(next / 12);
  const month = (next % 12) + 1;
  const jlis = (dateIso: string) => isJlisHoliday(dateIso, isNationalHoliday);
  const bank = (dateIso: string) => isBankHoliday(dateIso, isNationalHoliday);
  return {
    reconcileBy: shiftOffHolidays(epochDaysOf(year, month, 8), -1, jlis),
    confirmBy: shiftOffHolidays(epochDaysOf(year, month, 9), -1, jlis),
    invoiceBy: dateOf(epochDaysOf(year, month, 15)).iso,
    payBy: shiftOffHolidays(epochDaysOf(year, month, 20), 1, bank),
  };
}

/** The month before the JST month of an instant: what a cron run on the 1st settles. */
export function previousJstMonth(epochMs: number): string {
  const { year, month } = jstParts(epochMs);
  return formatMonth(year * 12 + month - 2);
}

/** Whole calendar days from one ISO date to another (positive when `to` is later). */
export function daysBetween(fromIso: string, toIso: string): number {
  return epochDayOfIso(toIso) - epochDayOfIso(fromIso);
}

/** ISO date plus a number of calendar days. */
export function addDays(dateIso: string, days: number): string {
  return dateOf(epochDayOfIso(dateIso) + days).iso;
}

/**
 * What a reconcile run on `todayIso` (JST) must warn of: the reconcile-by or confirm-by date of the
 * month has passed (C§13-3), the latter worse when the month still does not reconcile.
 */
export function deadlineWarnings(deadlines: Pick<Deadlines, 'reconcileBy' | 'confirmBy'>, todayIso: string, reconciles: boolean): string[] {
  const warnings: string[] = [];
  if (todayIso > deadlines.reconcileBy) warnings.push(`the reconcile-by date ${deadlines.reconcileBy} has passed`);
  if (todayIso > deadlines.confirmBy) warnings.push(`the confirm-by date ${deadlines.confirmBy} has passed${reconciles ? '' : ' and the month does not reconcile'}`);
  return warnings;
}
