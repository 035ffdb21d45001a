// Business rules run on the JST calendar; storage and the wire use UTC. Japan has had no daylight
// saving since 1951, so JST is a fixed +09:00 and plain arithmetic is exact.

export const JST_OFFSET_MS = 9 * 60 * 60 * 1000;

export interface JstParts {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  weekday: number; // 0 = Sunday
  dateIso: string; // YYYY-MM-DD
  minuteOfDay: number;
}

export function jstParts(epochMs: number): JstParts {
  const shifted = new Date(epochMs + JST_OFFSET_MS);
  const year = shifted.getUTCFullYear();
  const month = shifted.getUTCMonth() + 1;
  const day = shifted.getUTCDate();
  const hour = shifted.getUTCHours();
  const minute = shifted.getUTCMinutes();
  return {
    year,
    month,
    day,
    hour,
    minute,
    weekday: shifted.getUTCDay(),
    dateIso: `${year}-${pad2(month)}-${pad2(day)}`,
    minuteOfDay: hour * 60 + minute,
  };
}

/** YYYY-MM of the JST date: the month a record belongs to (Spec§4). */
export function jstMonth(epochMs: number): string {
  return jstParts(epochMs).dateIso.slice(0, 7);
}

/** "2026-11-27T10:15:00+09:00": the way a person in Japan reads a time. */
export function formatJstIso(epochMs: number): string {
  const parts = jstParts(epochMs);
  const seconds = new Date(epochMs + JST_OFFSET_MS).getUTCSeconds();
  return `${parts.dateIso}T${pad2(parts.hour)}:${pad2(parts.minute)}:${pad2(seconds)}+09:00`;
}

/** UTC ISO with milliseconds, as stored and sent. */
export function formatUtcIso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** Eras by their first JST day, newest first: 令和 began 2019-05-01, so 2019-04-30 is still 平成31年. */
const ERAS = [
  { name: '令和', firstDateIso: '2019-05-01', firstYear: 2019 },
  { name: '平成', firstDateIso: '1989-01-08', firstYear: 1989 },
] as const;

/** 令和8年11月27日: how certificates and receipts print the date. */
export function formatWarekiDate(epochMs: number): string {
  const { year, month, day, dateIso } = jstParts(epochMs);
  const era = ERAS.find((candidate) => dateIso >= candidate.firstDateIso);
  if (era) {
    const eraYear = year - era.firstYear + 1;
    return `${era.name}${eraYear === 1 ? '元' : eraYear}年${month}月${day}日`;
  }
  return `${year}年${month}月${day}日`;
}

/** 2026年11月27日 10:15 */
export function formatJstDateTime(epochMs: number): string {
  const { year, month, day, hour, minute } = jstParts(epochMs);
  return `${year}年${month}月${day}日 ${pad2(hour)}:${pad2(minute)}`;
}

export function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** The fields of an ISO 8601 instant, as written (before its offset is applied). */
export interface InstantParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** The written offset east of UTC, in minutes (Z is 0). */
  offsetMinutes: number;
}

export function createInstantParts(): InstantParts {
  return { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millisecond: 0, offsetMinutes: 0 };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function digitsAt(bytes: ArrayLike<number>, position: number, count: number): number {
  let value = 0;
  for (let index = 0; index < count; index += 1) {
    const digit = bytes[position + index]! - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const HYPHEN = 45;
const COLON = 58;
const LETTER_T = 84;
const PERIOD = 46;
const PLUS = 43;

/**
 * THE date grammar of the program (STYLE.md "one parser per format"): YYYY-MM-DD naming a real
 * calendar day. 2026-11-77 and 2026-02-30 are refused here, never rolled into another day the way
 * Date.parse rolls 02-30 into 2 March. Works on bytes, so the CSV hot path and strings share it.
 */
export function readIsoDate(bytes: ArrayLike<number>, start: number, end: number, out: InstantParts): boolean {
  if (end - start < 10 || bytes[start + 4] !== HYPHEN || bytes[start + 7] !== HYPHEN) return false;
  const year = digitsAt(bytes, start, 4);
  const month = digitsAt(bytes, start + 5, 2);
  const day = digitsAt(bytes, start + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  out.year = year;
  out.month = month;
  out.day = day;
  return true;
}

/**
 * THE instant grammar: YYYY-MM-DDTHH:MM[:SS[.f{1,3}]] then Z, z or ±HH:MM, a real calendar time.
 * Used for CSV rows (core/handling-csv.ts), notices and messages, flags and CVS_ISSUE_TIME alike.
 */
export function readIsoInstant(bytes: ArrayLike<number>, start: number, end: number, out: InstantParts): boolean {
  if (end - start < 17 || !readIsoDate(bytes, start, start + 10, out) || bytes[start + 10] !== LETTER_T || bytes[start + 13] !== COLON) return false;
  const hour = digitsAt(bytes, start + 11, 2);
  const minute = digitsAt(bytes, start + 14, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
  let position = start + 16;
  let second = 0;
  let millisecond = 0;
  if (bytes[position] === COLON) {
    if (position + 3 > end) return false;
    second = digitsAt(bytes, position + 1, 2);
    if (second < 0 || second > 59) return false;
    position += 3;
    if (bytes[position] === PERIOD) {
      let digits = 0;
      position += 1;
      while (position < end && bytes[position]! >= 48 && bytes[position]! <= 57) {
        if (digits < 3) millisecond = millisecond * 10 + (bytes[position]! - 48);
        position += 1;
        digits += 1;
      }
      if (digits < 1 || digits > 3) return false;
      for (let pad = digits; pad < 3; pad += 1) millisecond *= 10;
    }
  }
  const zone = bytes[position];
  let offsetMinutes = 0;
  if (zone === 90 || zone === 122) {
    if (position + 1 !== end) return false;
  } else if ((zone === PLUS || zone === HYPHEN) && position + 6 === end && bytes[position + 3] === COLON) {
    const offsetHour = digitsAt(bytes, position + 1, 2);
    const offsetMinute = digitsAt(bytes, position + 4, 2);
    if (offsetHour < 0 || offsetHour > 23 || offsetMinute < 0 || offsetMinute > 59) return false;
    offsetMinutes = (zone === PLUS ? 1 : -1) * (offsetHour * 60 + offsetMinute);
  } else {
    return false;
  }
  out.hour = hour;
  out.minute = minute;
  out.second = second;
  out.millisecond = millisecond;
  out.offsetMinutes = offsetMinutes;
  return true;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): exact for every year. */
export function epochDayOf(year: number, month: number, day: number): number {
  const shiftedYear = month <= 2 ? year - 1 : year;
  const era = Math.floor(shiftedYear / 400);
  const yearOfEra = shiftedYear - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** Text as the byte codes the readers take; a non-ASCII character becomes 0, which no grammar accepts. */
function asciiCodes(text: string): number[] {
  const codes = new Array<number>(text.length);
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    codes[index] = code < 128 ? code : 0;
  }
  return codes;
}

/** Epoch ms of an ISO 8601 time that carries its offset and names a real time; undefined for anything else. */
export function parseIsoInstant(text: string): number | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  const parts = createInstantParts();
  if (!readIsoInstant(asciiCodes(text), 0, text.length, parts)) return undefined;
  const dayMs = epochDayOf(parts.year, parts.month, parts.day) * 86_400_000;
  return dayMs + ((parts.hour * 60 + parts.minute - parts.offsetMinutes) * 60 + parts.second) * 1000 + parts.millisecond;
}

/** A real calendar date written YYYY-MM-DD, as its parts; undefined for anything else (2026-11-77, 2026-02-30). */
export function parseIsoDate(text: string): { year: number; month: number; day: number; epochDay: number } | undefined {
  if (typeof text !== 'string' || text.length !== 10) return undefined;
  const parts = createInstantParts();
  if (!readIsoDate(asciiCodes(text), 0, 10, parts)) return undefined;
  return { year: parts.year, month: parts.month, day: parts.day, epochDay: epochDayOf(parts.year, parts.month, parts.day) };
}

export function isIsoDate(text: string): boolean {
  return parseIsoDate(text) !== undefined;
}
