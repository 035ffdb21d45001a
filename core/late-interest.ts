// Late-payment interest (C§17, 支払遅延防止法 §8): amount × annual rate × days late / 365 (365 in
// leap years too), days late counted after the pay-by date up to and including the payment date,
// less the inspection days; truncated to whole ¥100, so under ¥100 is ¥0. Integer arithmetic only:
// rates are held in thousandths of a percent and the product in BigInt.

import { inputError } from './errors.ts';
import { daysBetween, isIsoDate } from './deadlines.ts';

/** A rate in force from a date on; the table is sorted by `from`. */
export interface DatedRate {
  from: string;
  /** Thousandths of a percent: 2.5% is 2500. */
  milliPercent: number;
}

export interface LateInterest {
  paidOn: string;
  daysLate: number;
  ratePercent: number;
  interestYen: number;
}

/** "2.5" or 2.5 → 2500; at most three decimals, 0–100%. */
export function parseRatePercent(value: unknown, where: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^([0-9]{1,3})(?:\.([0-9]{1,3}))?$/.exec(text);
  const milliPercent = match ? Number(match[1]) * 1000 + Number((match[2] ?? '').padEnd(3, '0')) : NaN;
  if (!match || milliPercent > 100_000) throw inputError('interest.bad_rate', `rate ${JSON.stringify(text)} is not a percentage such as 2.5`, where);
  return milliPercent;
}

/** Reads {"rates":[{"from":"2021-04-01","percent":2.5},…]} (already JSON-parsed). */
export function parseRateTable(json: unknown, where: string): DatedRate[] {
  const rates = (json as { rates?: unknown } | null)?.rates;
  if (!Array.isArray(rates) || rates.length === 0) throw inputError('interest.bad_table', 'expected {"rates":[{"from":"YYYY-MM-DD","percent":2.5},…]}', where);
  const table = rates.map((entry: unknown, index) => {
    const { from, percent } = (entry ?? {}) as { from?: unknown; percent?: unknown };
    if (typeof from !== 'string' || !isIsoDate(from)) throw inputError('interest.bad_table', `rates[${index}].from is not a YYYY-MM-DD date`, where);
    return { from, milliPercent: parseRatePercent(percent, `${where} rates[${index}].percent`) };
  });
  return table.sort((left, right) => (left.from < right.from ? -1 : 1));
}

/** The rate in force on a date, or undefined before the table starts. */
export function rateOn(table: readonly DatedRate[], dateIso: string): number | undefined {
  let found: number | undefined;
  for (const rate of table) if (rate.from <= dateIso) found = rate.milliPercent;
  return found;
}

export function lateInterest(amountYen: number, payBy: string, paidOn: string, inspectionDays: number, milliPercent: number): LateInterest {
  const daysLate = Math.max(0, daysBetween(payBy, paidOn) - inspectionDays);
  const base = amountYen > 0 ? (BigInt(amountYen) * BigInt(milliPercent) * BigInt(daysLate)) / (365n * 100n * 1000n) : 0n;
  const interestYen = Number((base / 100n) * 100n);
  return { paidOn, daysLate, ratePercent: milliPercent / 1000, interestYen };
}
