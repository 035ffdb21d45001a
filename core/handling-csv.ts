// The handling-record interchange format (SPEC.md §4), parsed straight from bytes. A month can be
// 5 million rows per side, so the hot path makes no strings, no regexes and no objects per row: a
// row is read into one reused RowScratch of byte offsets and small integers. Strings are made only
// for error messages and for the few ids a report names.

import { CERTIFICATE_TYPES, formatOptions, parseOptionsText, type CertificateOptions, type CertificateType } from './certificate-types.ts';
import type { HandlingRecord } from './messages.ts';
import { createInstantParts, daysInMonth, readIsoInstant } from './jst.ts';

export const HANDLING_CSV_HEADER = 'issuance_id,issued_at,operator_id,store_id,kiosk_id,municipality_code,certificate_type,copies,fee_yen';

/**
 * A file may carry a tenth column, certificate_options (key=value;key=value, docs/certificate-types.md),
 * after the nine of SPEC.md §4: `center export --with-options` writes it, every reader takes both
 * forms (by the header) and matches on the nine only.
 */
export const HANDLING_CSV_HEADER_WITH_OPTIONS = `${HANDLING_CSV_HEADER},certificate_options`;
export const BASE_FIELD_COUNT = 9;
/** The most columns a row has: RowScratch's arrays hold this many. */
export const FIELD_COUNT = 10;
export const FIELD_OPTIONS = 9;
export const FIELD_ISSUANCE_ID = 0;
export const FIELD_ISSUED_AT = 1;
export const FIELD_OPERATOR_ID = 2;
export const FIELD_STORE_ID = 3;
export const FIELD_KIOSK_ID = 4;

const FIELD_NAMES = HANDLING_CSV_HEADER_WITH_OPTIONS.split(',');
const MAX_OPTIONS_BYTES = 300;
const OPTIONS_BYTE = new Uint8Array(256);
for (const range of ['AZ', 'az', '09']) {
  for (let code = range.charCodeAt(0); code <= range.charCodeAt(1); code += 1) OPTIONS_BYTE[code] = 1;
}
for (const symbol of '=;-') OPTIONS_BYTE[symbol.charCodeAt(0)] = 1;

/** Ids are what messages.ts accepts: 1–64 of A–Z a–z 0–9 . _ - */
export const MAX_ID_BYTES = 64;
/** Nine digits keep every sum of a month far below 2^53 and every value in a Uint32Array. */
const MAX_INTEGER_DIGITS = 9;

const COMMA = 44;
const QUOTE = 34;

const ID_BYTE = new Uint8Array(256);
for (const range of ['AZ', 'az', '09']) {
  for (let code = range.charCodeAt(0); code <= range.charCodeAt(1); code += 1) ID_BYTE[code] = 1;
}
for (const symbol of '._-') ID_BYTE[symbol.charCodeAt(0)] = 1;

const TYPE_BYTES = CERTIFICATE_TYPES.map((type) => Array.from(type, (character) => character.charCodeAt(0)));

/**
 * The certificate type codes met in this thread, by index: the seven of SPEC.md §4 first (fixed
 * indices), then any other code a municipality defined (core/certificate-types.ts), in the order
 * first read. A reconcile keeps a type in 8 bits, so one run tells at most 256 types apart. A parse
 * worker has its own table and reports what it added with each chunk (typeCodesSince), and the
 * main thread maps them onto its own (drivers/csv/parallel-reader.ts).
 */
export const MAX_TYPE_CODES = 256;
const typeCodes: string[] = [...CERTIFICATE_TYPES];
const typeIndexByCode = new Map<string, number>(typeCodes.map((code, index) => [code, index]));
const TYPE_CODE_BYTE = new Uint8Array(256);
for (let code = 97; code <= 122; code += 1) TYPE_CODE_BYTE[code] = 1;
for (let code = 48; code <= 57; code += 1) TYPE_CODE_BYTE[code] = 1;
TYPE_CODE_BYTE[45] = 1;

/** The index of a type code in this thread's table, added when new; −1 when the table is full. */
export function internTypeCode(code: string): number {
  const known = typeIndexByCode.get(code);
  if (known !== undefined) return known;
  if (typeCodes.length === MAX_TYPE_CODES) return -1;
  typeCodes.push(code);
  typeIndexByCode.set(code, typeCodes.length - 1);
  return typeCodes.length - 1;
}

/** The codes this thread's table gained from index `from` on. */
export function typeCodesSince(from: number): string[] {
  return typeCodes.slice(from);
}

export function typeCodeCount(): number {
  return typeCodes.length;
}

/** One row as offsets into the bytes it was read from, plus its parsed numbers. Reused row after row. */
export interface RowScratch {
  /** Field i is bytes [fieldStart[i], fieldEnd[i]). */
  fieldStart: Int32Array;
  fieldEnd: Int32Array;
  /** JST year × 12 + (month − 1) of issued_at. */
  monthKey: number;
  /** JST day of month, 1–31. */
  jstDay: number;
  municipalityCode: number;
  /** Index into this thread's type table (certificateTypeAt). */
  typeIndex: number;
  copies: number;
  feeYen: number;
  /** The issuance id's hash when a parse worker computed it already; 0 means "not computed". */
  idHash: number;
  /** How many columns the file's rows have (9, or 10 with certificate_options): set from its header. */
  columns: number;
}

export function createRowScratch(): RowScratch {
  return {
    fieldStart: new Int32Array(FIELD_COUNT),
    fieldEnd: new Int32Array(FIELD_COUNT),
    monthKey: 0,
    jstDay: 0,
    municipalityCode: 0,
    typeIndex: 0,
    copies: 0,
    feeYen: 0,
    idHash: 0,
    columns: BASE_FIELD_COUNT,
  };
}

/** "2026-11" → 2026 × 12 + 10; undefined unless YYYY-MM with a real month. */
export function parseMonth(text: string): number | undefined {
  const match = /^([0-9]{4})-([0-9]{2})$/.exec(text);
  if (!match) return undefined;
  const month = Number(match[2]);
  return month >= 1 && month <= 12 ? Number(match[1]) * 12 + month - 1 : undefined;
}

export function formatMonth(monthKey: number): string {
  const month = (monthKey % 12) + 1;
  return `${Math.floor(monthKey / 12)}-${month < 10 ? '0' : ''}${month}`;
}

/** The header's column count (9, or 10 with certificate_options), or 0 when it is not one of the format's; a UTF-8 BOM allowed. */
export function handlingHeaderColumns(bytes: Uint8Array, start: number, end: number): number {
  let from = start;
  if (end - from >= 3 && bytes[from] === 0xef && bytes[from + 1] === 0xbb && bytes[from + 2] === 0xbf) from += 3;
  for (const [header, columns] of [[HANDLING_CSV_HEADER, BASE_FIELD_COUNT], [HANDLING_CSV_HEADER_WITH_OPTIONS, FIELD_COUNT]] as const) {
    if (end - from !== header.length) continue;
    let same = true;
    for (let index = 0; same && index < header.length; index += 1) same = bytes[from + index] === header.charCodeAt(index);
    if (same) return columns;
  }
  return 0;
}

/** True when the header line (without its line ending) is the format's, with or without certificate_options. */
export function isHandlingHeader(bytes: Uint8Array, start: number, end: number): boolean {
  return handlingHeaderColumns(bytes, start, end) !== 0;
}

/**
 * Parses and validates one data line [start, end) (line ending already removed) into row.
 * Returns undefined when the row is well-formed, otherwise what is wrong with it, in one phrase.
 */
export function parseHandlingRow(bytes: Uint8Array, start: number, end: number, row: RowScratch): string | undefined {
  const fieldStart = row.fieldStart;
  const fieldEnd = row.fieldEnd;
  let field = 0;
  let seen = 0;
  fieldStart[0] = start;
  for (let position = start; position < end; position += 1) {
    const byte = bytes[position]!;
    seen |= byte;
    if (byte === COMMA) {
      if (field < FIELD_COUNT) fieldEnd[field] = position;
      field += 1;
      if (field < FIELD_COUNT) fieldStart[field] = position + 1;
    }
  }
  if (field < FIELD_COUNT) fieldEnd[field] = end;
  if ((seen & 0x80) !== 0 && !isValidUtf8(bytes, start, end)) return 'bad encoding: the line is not valid UTF-8';
  if (field + 1 !== row.columns) {
    if (end === start) return 'empty line';
    return `expected ${row.columns} columns, found ${field + 1}`;
  }
  if (row.columns === FIELD_COUNT) {
    const problem = checkOptions(bytes, fieldStart[FIELD_OPTIONS]!, fieldEnd[FIELD_OPTIONS]!);
    if (problem !== undefined) return problem;
  }
  const problem =
    checkId(bytes, fieldStart[FIELD_ISSUANCE_ID]!, fieldEnd[FIELD_ISSUANCE_ID]!, FIELD_ISSUANCE_ID) ??
    checkId(bytes, fieldStart[FIELD_OPERATOR_ID]!, fieldEnd[FIELD_OPERATOR_ID]!, FIELD_OPERATOR_ID) ??
    checkId(bytes, fieldStart[FIELD_STORE_ID]!, fieldEnd[FIELD_STORE_ID]!, FIELD_STORE_ID) ??
    checkId(bytes, fieldStart[FIELD_KIOSK_ID]!, fieldEnd[FIELD_KIOSK_ID]!, FIELD_KIOSK_ID);
  if (problem !== undefined) return problem;
  return parseIssuedAt(bytes, fieldStart[1]!, fieldEnd[1]!, row) ?? parseValues(bytes, row);
}

function parseValues(bytes: Uint8Array, row: RowScratch): string | undefined {
  const { fieldStart, fieldEnd } = row;
  const code = parseDigits(bytes, fieldStart[5]!, fieldEnd[5]!);
  if (fieldEnd[5]! - fieldStart[5]! !== 6 || code < 0) return `municipality_code ${quoted(bytes, fieldStart[5]!, fieldEnd[5]!)} is not 6 digits`;
  if (checkDigitOf(bytes, fieldStart[5]!) !== code % 10) {
    return `municipality_code ${quoted(bytes, fieldStart[5]!, fieldEnd[5]!)} has a wrong check digit`;
  }
  row.municipalityCode = code;
  const typeIndex = findType(bytes, fieldStart[6]!, fieldEnd[6]!);
  if (typeIndex === -1) return `certificate_type ${quoted(bytes, fieldStart[6]!, fieldEnd[6]!)} is not a type code (1–32 of a–z 0–9 -, starting with a letter)`;
  if (typeIndex === -2) return `certificate_type ${quoted(bytes, fieldStart[6]!, fieldEnd[6]!)} is one type too many: one run tells at most ${MAX_TYPE_CODES} types apart`;
  row.typeIndex = typeIndex;
  const copies = parseDigits(bytes, fieldStart[7]!, fieldEnd[7]!);
  if (copies < 0) return `copies ${quoted(bytes, fieldStart[7]!, fieldEnd[7]!)} is not a whole number ≥ 0 of at most ${MAX_INTEGER_DIGITS} digits`;
  row.copies = copies;
  const feeYen = parseDigits(bytes, fieldStart[8]!, fieldEnd[8]!);
  if (feeYen < 0) return `fee_yen ${quoted(bytes, fieldStart[8]!, fieldEnd[8]!)} is not a whole number of yen ≥ 0 of at most ${MAX_INTEGER_DIGITS} digits`;
  row.feeYen = feeYen;
  return undefined;
}

/** certificate_options: empty, or key=value pairs separated by ';' (core/certificate-types.ts parseOptionsText). */
function checkOptions(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (start === end) return undefined;
  let ok = end - start <= MAX_OPTIONS_BYTES;
  for (let position = start; ok && position < end; position += 1) ok = OPTIONS_BYTE[bytes[position]!] === 1;
  if (ok && parseOptionsText(textOf(bytes, start, end)) !== undefined) return undefined;
  return `certificate_options ${quoted(bytes, start, end)} is not key=value pairs separated by ";"`;
}

/** Same rule as municipalityCheckDigit, on bytes: no string per row. */
function checkDigitOf(bytes: Uint8Array, start: number): number {
  let sum = 0;
  for (let index = 0; index < 5; index += 1) sum += (bytes[start + index]! - 48) * (6 - index);
  return (11 - (sum % 11)) % 10;
}

function checkId(bytes: Uint8Array, start: number, end: number, index: number): string | undefined {
  const length = end - start;
  let ok = length > 0 && length <= MAX_ID_BYTES;
  for (let position = start; ok && position < end; position += 1) ok = ID_BYTE[bytes[position]!] === 1;
  if (ok) return undefined;
  if (length === 0) return `${FIELD_NAMES[index]} is empty`;
  if (bytes[start] === QUOTE) return `${FIELD_NAMES[index]} is quoted: the format has no quoted fields`;
  return `${FIELD_NAMES[index]} ${quoted(bytes, start, end)} is not 1–${MAX_ID_BYTES} of A–Z a–z 0–9 . _ -`;
}

/** Digits only, 1–9 of them; −1 for anything else (a sign, a point, a space, nothing). */
function parseDigits(bytes: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > MAX_INTEGER_DIGITS) return -1;
  let value = 0;
  for (let position = start; position < end; position += 1) {
    const digit = bytes[position]! - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The seven standard codes by bytes (no string); any other well-formed code through the table; −1 malformed, −2 table full. */
function findType(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  for (let typeIndex = 0; typeIndex < TYPE_BYTES.length; typeIndex += 1) {
    const expected = TYPE_BYTES[typeIndex]!;
    if (expected.length !== length) continue;
    let same = true;
    for (let index = 0; same && index < length; index += 1) same = bytes[start + index] === expected[index];
    if (same) return typeIndex;
  }
  if (length < 1 || length > 32 || bytes[start]! < 97 || bytes[start]! > 122) return -1;
  for (let position = start; position < end; position += 1) if (TYPE_CODE_BYTE[bytes[position]!] !== 1) return -1;
  const index = internTypeCode(textOf(bytes, start, end));
  return index < 0 ? -2 : index;
}

export { daysInMonth } from './jst.ts';

/** Reused by every row: the instant parser writes its fields here (no object per row). */
const instant = createInstantParts();

/**
 * issued_at, by the one instant grammar (core/jst.ts readIsoInstant). Sets the JST month and day:
 * the instant is moved from its own offset to +09:00 by whole minutes, at most two days.
 */
function parseIssuedAt(bytes: Uint8Array, start: number, end: number, row: RowScratch): string | undefined {
  if (!readIsoInstant(bytes, start, end, instant)) return `issued_at ${quoted(bytes, start, end)} is not an ISO 8601 time with an offset (2026-11-02T10:15:00+09:00)`;
  const { year, month, hour, minute, offsetMinutes } = instant;
  let day = instant.day;
  let jstYear = year;
  let jstMonth = month;
  if (offsetMinutes !== 9 * 60) {
    const jstMinute = hour * 60 + minute - offsetMinutes + 9 * 60;
    day += Math.floor(jstMinute / 1440);
    if (day > daysInMonth(year, month)) {
      day -= daysInMonth(year, month);
      jstMonth += 1;
      if (jstMonth > 12) {
        jstMonth = 1;
        jstYear += 1;
      }
    } else if (day < 1) {
      jstMonth -= 1;
      if (jstMonth < 1) {
        jstMonth = 12;
        jstYear -= 1;
      }
      day += daysInMonth(jstYear, jstMonth);
    }
  }
  row.monthKey = jstYear * 12 + jstMonth - 1;
  row.jstDay = day;
  return undefined;
}

/** Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
export function isValidUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  let position = start;
  while (position < end) {
    const byte = bytes[position]!;
    if (byte < 0x80) {
      position += 1;
      continue;
    }
    let need: number;
    let minimum: number;
    let value: number;
    if (byte >= 0xc2 && byte <= 0xdf) [need, minimum, value] = [1, 0x80, byte & 0x1f];
    else if (byte >= 0xe0 && byte <= 0xef) [need, minimum, value] = [2, 0x800, byte & 0x0f];
    else if (byte >= 0xf0 && byte <= 0xf4) [need, minimum, value] = [3, 0x10000, byte & 0x07];
    else return false;
    if (position + need >= end) return false;
    for (let index = 1; index <= need; index += 1) {
      const next = bytes[position + index]!;
      if ((next & 0xc0) !== 0x80) return false;
      value = (value << 6) | (next & 0x3f);
    }
    if (value < minimum || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return false;
    position += need + 1;
  }
  return true;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The bytes as text, for messages and reports. */
export function textOf(bytes: Uint8Array, start: number, end: number): string {
  return decoder.decode(bytes.subarray(start, end));
}

/** A field value for an error message: quoted, and cut short so one bad row cannot flood the report. */
function quoted(bytes: Uint8Array, start: number, end: number): string {
  const text = textOf(bytes, start, Math.min(end, start + 40));
  return JSON.stringify(end - start > 40 ? `${text}…` : text);
}

/** One record as a CSV line (with its newline). Every field is an id, a time, a code or a number: nothing needs quoting. */
export function formatHandlingRow(record: HandlingRecord): string {
  return `${record.issuanceId},${record.issuedAt},${record.operatorId},${record.storeId},${record.kioskId},${record.municipalityCode},${record.certificateType},${record.copies},${record.feeYen}\n`;
}

/** The same with the tenth column, certificate_options (HANDLING_CSV_HEADER_WITH_OPTIONS). */
export function formatHandlingRowWithOptions(record: HandlingRecord, options: CertificateOptions | undefined): string {
  return `${formatHandlingRow(record).slice(0, -1)},${formatOptions(options)}\n`;
}

export function certificateTypeAt(typeIndex: number): CertificateType {
  return typeCodes[typeIndex]!;
}

/** Malformed rows as "FILE:LINE: what is wrong": every one is counted, the first `limit` are kept. */
export class RowProblems {
  readonly messages: string[] = [];
  count = 0;

  constructor(readonly limit = 50) {}

  add(where: string, problem: string): void {
    this.count += 1;
    if (this.messages.length < this.limit) this.messages.push(`${where}: ${problem}`);
  }

  /** Takes in what another reader found (a parse worker's), keeping the same limit. */
  absorb(messages: readonly string[], count: number): void {
    for (const message of messages) if (this.messages.length < this.limit) this.messages.push(message);
    this.count += count;
  }

  /** The kept lines, and how many more there were. */
  lines(): string[] {
    const more = this.count - this.messages.length;
    return more > 0 ? [...this.messages, `… and ${more} more malformed rows`] : [...this.messages];
  }
}
