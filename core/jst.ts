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

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?([zZ]|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an ISO 8601 time that carries its offset; undefined for anything else. */
export function parseIsoInstant(text: string): number | undefined {
  if (!ISO_INSTANT.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
