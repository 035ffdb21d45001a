// Audit log entries (S4-5, P4, C§8): what happened, when, and where in the log, committing to the
// entry before. Pseudonymous ids, codes and counts only: never a name, an address, a PIN or any
// certificate content. The encoded bytes are what the Merkle tree hashes and what the store keeps.
//
// The grammar is closed (docs/audit-log.md): a fixed set of top-level fields in a fixed order, a
// known kind, and for each kind the data fields it may carry, each with its type. The writer
// refuses anything else and the verifier reads every entry against the same grammar, so an entry
// smuggled in with a name, a PIN or an extra field fails verification even if it hashes correctly.

import { bytesEqual, utf8Decode, utf8Encode } from './bytes.ts';
import { AppError } from './errors.ts';

export type AuditValue = string | number | boolean | null;

export interface AuditEvent {
  kind: string;
  data?: Record<string, AuditValue>;
}

export interface AuditEntry {
  index: number;
  /** Hex leaf hash of entry index − 1; 64 zeros for the first entry. */
  previous: string;
  /** UTC ISO time, as formatUtcIso writes it: YYYY-MM-DDTHH:MM:SS.sssZ. */
  time: string;
  kind: string;
  data: Record<string, AuditValue>;
}

export const FIRST_PREVIOUS = '0'.repeat(64);

type FieldType = 'id' | 'count' | 'yen' | 'flag' | 'code' | 'id?' | 'code?' | 'hash' | 'signature';

/**
 * Every data field an entry may carry and its type: a closed list, so personal data cannot slip
 * in by a new field. 'id' and 'code' are short strings, 'count' and 'yen' whole numbers ≥ 0,
 * 'hash' and 'signature' base64; a '?' allows null.
 */
const FIELD_TYPES: Record<string, FieldType> = {
  kioskId: 'id', storeId: 'id', operatorId: 'id', requestId: 'id', issuanceId: 'id', residentRef: 'id',
  municipalityCode: 'code?', certificateType: 'code', copies: 'count', copy: 'count', feeYen: 'yen', paidYen: 'yen',
  changeYen: 'yen', refundedYen: 'yen', outcome: 'code', code: 'code', cardKind: 'code', path: 'code', month: 'code',
  records: 'count', documents: 'count', duplicate: 'flag', reason: 'code', size: 'count', attempt: 'count',
  pending: 'count', businessDate: 'code', cashYen: 'yen', transactions: 'count', remoteAddress: 'code?', status: 'count',
  origin: 'id', rootHash: 'hash', signature: 'signature', cosignature: 'signature', witness: 'id', timestamp: 'count', fromSize: 'count',
  settleMonth: 'code', count: 'count', peers: 'count', paidOn: 'code', reference: 'id?', serialNumber: 'id',
  faultId: 'id', alertId: 'id', target: 'code', device: 'code', noticeId: 'id', emergency: 'flag', incidentId: 'id', sequence: 'count', incidentStatus: 'code', inquiryId: 'id',
};

/** Each kind and the data fields it may carry (any subset, in any order, each at most once). */
export const AUDIT_KINDS: Readonly<Record<string, readonly string[]>> = {
  // kiosk
  'card.read': ['cardKind'],
  // an operator's own notice (Spec§7-3, Spec§7-4): received at the centre, then announced by the relay
  'operator-notice.received': ['operatorId', 'noticeId', 'code', 'emergency', 'duplicate'],
  'operator-notice.announced': ['noticeId', 'code', 'emergency'],
  // an operator's accident report (C§15): received at the centre, then kept by the relay
  'incident.received': ['operatorId', 'incidentId', 'sequence', 'code', 'incidentStatus', 'kioskId', 'requestId', 'duplicate'],
  'incident.reported': ['incidentId', 'sequence', 'code', 'incidentStatus', 'kioskId', 'requestId'],
  // a municipality joins, is suspended or resumed (C§23; center municipality)
  'municipality.joined': ['municipalityCode', 'count'],
  'municipality.updated': ['municipalityCode', 'count'],
  'municipality.suspended': ['municipalityCode'],
  'municipality.resumed': ['municipalityCode'],
  // a JPKI card linked to a resident of a municipality with its own system (center card issue)
  'card.linked': ['municipalityCode'],
  // an operator joins, with how many kiosks (C§24; center operator add)
  'operator.joined': ['operatorId', 'count'],
  // an inquiry or complaint (C§16): sent by the relay, received and routed by the centre, answered through it
  'inquiry.sent': ['inquiryId', 'requestId'],
  'inquiry.received': ['inquiryId', 'operatorId', 'requestId', 'municipalityCode', 'duplicate'],
  'inquiry.answered': ['inquiryId', 'operatorId', 'requestId', 'municipalityCode', 'code'],
  'pin.wrong': ['attempt'],
  'auth.accepted': ['residentRef', 'municipalityCode', 'attempt', 'operatorId', 'kioskId'],
  'certificate.requested': ['requestId', 'residentRef', 'certificateType', 'copies'],
  'certificate.printed': ['requestId', 'copy'],
  'certificate.erased': [],
  'payment.taken': ['requestId', 'feeYen', 'paidYen', 'changeYen'],
  'payment.refunded': ['requestId', 'refundedYen', 'copies'],
  'misprint.voided': ['requestId', 'copies'],
  // kiosk (requestId: the voids queued in the outbox) and centre (issuanceId: the voids recorded)
  'serials.voided': ['requestId', 'issuanceId', 'operatorId', 'kioskId', 'code', 'count', 'duplicate'],
  'receipt.printed': ['requestId'],
  'transaction.cancelled': ['attempt'],
  'transaction.refused': ['code'],
  'transaction.recorded': ['requestId', 'outcome', 'copies', 'feeYen'],
  'notice.sent': ['issuanceId'],
  'notice.acknowledged': ['issuanceId'],
  'notice.failed': ['issuanceId', 'code'],
  'notice.rejected': ['issuanceId', 'code'],
  'correction.queued': ['issuanceId', 'copies', 'feeYen', 'reason'],
  'day.closed': ['businessDate', 'cashYen', 'transactions', 'documents'],
  'maintenance.login': ['outcome'],
  'maintenance.password-changed': [],
  fault: ['code', 'requestId', 'businessDate', 'kioskId', 'faultId'],
  // device faults travel (docs/alerts.md): the relay took the kiosk's report, or refused it for good
  'fault.reported': ['faultId'],
  'fault.rejected': ['faultId', 'code'],
  // disposal (C§9-2, P5): the kiosk's last entry, which its relay witnesses before it revokes the certificate
  'kiosk.decommissioned': ['kioskId', 'storeId'],
  // relay
  'kiosk.refused': ['kioskId', 'storeId', 'code'],
  'connection.refused': ['reason', 'remoteAddress', 'count', 'peers'],
  'request.forwarded': ['kioskId', 'path', 'status'],
  // kiosks' fetches of the public notices, counted per interval (core/relay-service.ts NoticeReadTally)
  'notices.read': ['count', 'peers', 'kioskId'],
  'relay.fault': ['kioskId', 'path', 'code'],
  'completion.received': ['issuanceId', 'kioskId', 'copies', 'feeYen', 'duplicate'],
  'correction.received': ['issuanceId', 'copies', 'feeYen', 'reason', 'duplicate'],
  'store-day.received': ['kioskId', 'storeId', 'businessDate', 'cashYen'],
  // the kiosk was decommissioned: its final log size witnessed, its certificate refused from now on
  'kiosk.revoked': ['kioskId', 'storeId', 'size', 'serialNumber'],
  // faults and outages to the store register and the maintenance centre (S4-7, S4-8; docs/alerts.md)
  'fault.received': ['faultId', 'kioskId', 'storeId', 'device', 'code', 'duplicate'],
  'fault.cleared': ['kioskId', 'count'],
  'kiosk.down': ['kioskId', 'storeId'],
  'kiosk.recovered': ['kioskId', 'storeId'],
  'alert.delivered': ['alertId', 'target', 'kioskId', 'attempt', 'status'],
  'alert.retrying': ['alertId', 'target', 'kioskId', 'attempt', 'code'],
  'alert.failed': ['alertId', 'target', 'kioskId', 'attempt', 'code'],
  // centre
  'auth.refused': ['operatorId', 'kioskId', 'code'],
  'certificate.issued': ['requestId', 'operatorId', 'kioskId', 'municipalityCode', 'certificateType', 'copies'],
  'certificate.repeated': ['requestId', 'operatorId', 'kioskId'],
  'auth.repeated': ['residentRef', 'municipalityCode', 'operatorId', 'kioskId'],
  'crl.ignored': ['code'],
  'certificate.refused': ['operatorId', 'kioskId', 'code'],
  'completion.recorded': ['issuanceId', 'operatorId', 'kioskId', 'copies', 'feeYen', 'duplicate'],
  'completion.refused': ['operatorId', 'kioskId', 'code'],
  'correction.recorded': ['issuanceId', 'copies', 'feeYen', 'reason', 'duplicate'],
  'correction.refused': ['operatorId', 'kioskId', 'code'],
  'notice.announced': ['code', 'municipalityCode'],
  'month.confirmed': ['month', 'operatorId', 'records', 'documents', 'feeYen'],
  // settlement (Spec§4-3): the operator's submission, refusals, 過誤調整 lines, supplied records
  'settlement.submitted': ['month', 'operatorId', 'records', 'documents', 'feeYen'],
  'confirm.refused': ['month', 'operatorId', 'code'],
  'adjustment.recorded': ['issuanceId', 'operatorId', 'kioskId', 'code', 'month', 'settleMonth', 'copies', 'feeYen'],
  'record.supplied': ['issuanceId', 'operatorId', 'kioskId', 'copies', 'feeYen', 'duplicate'],
  'supply.refused': ['issuanceId', 'operatorId', 'code'],
  // payments J-LIS received against a month's invoice (C§13-3): amount, day, transfer reference
  'payment.recorded': ['month', 'operatorId', 'paidOn', 'paidYen', 'reference'],
  // witnessing (docs/audit-log.md): what a witness accepted, enough to rebuild the signed note
  'witness.checkpoint': ['kioskId', 'operatorId', 'origin', 'size', 'rootHash', 'signature'],
  'witness.cosigned': ['origin', 'size', 'rootHash', 'signature', 'witness', 'timestamp', 'cosignature'],
  'witness.inconsistent': ['kioskId', 'operatorId', 'origin', 'code', 'size'],
  'cosignature.received': ['witness', 'size', 'timestamp'],
};

const KIND = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/;
const MAX_TEXT_LENGTH = 200;
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function valueProblem(field: string, value: unknown): string | undefined {
  const type = FIELD_TYPES[field];
  if (type === undefined) return `field "${field}" is not on the allowed list`;
  if (value === null) return type.endsWith('?') ? undefined : `field "${field}" may not be null`;
  switch (type) {
    case 'count':
    case 'yen':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0) ? undefined : `field "${field}" must be a whole number ≥ 0`;
    case 'flag':
      return typeof value === 'boolean' ? undefined : `field "${field}" must be true or false`;
    case 'hash':
    case 'signature':
      return typeof value === 'string' && value.length <= MAX_TEXT_LENGTH && BASE64.test(value) ? undefined : `field "${field}" must be base64`;
    default:
      return typeof value === 'string' && value.length <= MAX_TEXT_LENGTH ? undefined : `field "${field}" must be text of at most ${MAX_TEXT_LENGTH} characters`;
  }
}

/** Why an event does not fit the grammar, or undefined. */
export function auditEventProblem(kind: unknown, data: unknown): string | undefined {
  if (typeof kind !== 'string' || !KIND.test(kind)) return `kind "${String(kind)}" is malformed`;
  const allowed = AUDIT_KINDS[kind];
  if (!allowed) return `kind "${kind}" is not a known kind`;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'data must be an object';
  for (const [field, value] of Object.entries(data)) {
    if (!allowed.includes(field)) return `field "${field}" is not allowed in a ${kind} entry`;
    const problem = valueProblem(field, value);
    if (problem) return problem;
  }
  return undefined;
}

export function assertAuditEvent(event: AuditEvent): void {
  const problem = auditEventProblem(event.kind, event.data ?? {});
  if (problem) throw new AppError('internal', 'audit.bad_event', `audit event refused: ${problem}`);
}

/** Fixed key order, no whitespace: the same entry always encodes to the same bytes. */
export function encodeAuditEntry(entry: AuditEntry): Uint8Array {
  return utf8Encode(
    JSON.stringify({ v: 1, index: entry.index, previous: entry.previous, time: entry.time, kind: entry.kind, data: entry.data }),
  );
}

function isCalendarTime(time: string): boolean {
  const match = TIME.exec(time);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59;
}

const TOP_LEVEL_FIELDS = ['v', 'index', 'previous', 'time', 'kind', 'data'];

/** Decodes and checks an entry against the whole grammar; throws naming what is wrong. */
export function decodeAuditEntry(bytes: Uint8Array): AuditEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decode(bytes));
  } catch {
    throw new AppError('input', 'audit.entry_unreadable', 'the entry is not valid UTF-8 JSON');
  }
  const raw = parsed as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed('the entry is not a JSON object');
  const fields = Object.keys(raw);
  if (fields.join() !== TOP_LEVEL_FIELDS.join()) throw malformed(`the entry has fields ${fields.join(', ')}; exactly ${TOP_LEVEL_FIELDS.join(', ')} are allowed`);
  if (raw.v !== 1) throw malformed('field "v" must be 1');
  if (!Number.isSafeInteger(raw.index) || (raw.index as number) < 0) throw malformed('field "index" must be a whole number ≥ 0');
  if (typeof raw.previous !== 'string' || !/^[0-9a-f]{64}$/.test(raw.previous)) throw malformed('field "previous" must be 64 lowercase hex digits');
  if (typeof raw.time !== 'string' || !isCalendarTime(raw.time)) throw malformed('field "time" must be a UTC time YYYY-MM-DDTHH:MM:SS.sssZ');
  const problem = auditEventProblem(raw.kind, raw.data);
  if (problem) throw malformed(problem);
  const entry = { index: raw.index as number, previous: raw.previous, time: raw.time, kind: raw.kind as string, data: raw.data as Record<string, AuditValue> };
  if (!bytesEqual(encodeAuditEntry(entry), bytes)) throw malformed('the entry is not in canonical form (spacing, escapes or number spelling)');
  return entry;
}

function malformed(what: string): AppError {
  return new AppError('input', 'audit.entry_malformed', what);
}

// The fast path of the check above. Verifying a million entries cannot afford a JSON parse each,
// so entries are read byte by byte. It is sound, never complete: it accepts only entries it can
// prove canonical (ASCII text without escapes) and hands everything else to decodeAuditEntry.

const PREFIX = utf8Encode('{"v":1,"index":');
const PREVIOUS_KEY = utf8Encode(',"previous":"');
const TIME_KEY = utf8Encode('","time":"');
const KIND_KEY = utf8Encode('","kind":"');
const DATA_KEY = utf8Encode('","data":{');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const CLOSE = 0x7d;
const TIME_LENGTH = 24;

interface CompiledField {
  name: Uint8Array;
  type: FieldType;
  /** This field's bit in the mask of fields seen, so each appears at most once. */
  bit: number;
}

interface CompiledKind {
  name: Uint8Array;
  fields: CompiledField[];
}

/** Kinds grouped by the byte length of their name: the scanner compares bytes, never makes strings. */
const KINDS_BY_LENGTH: CompiledKind[][] = [];
for (const [kind, fields] of Object.entries(AUDIT_KINDS)) {
  const name = utf8Encode(kind);
  (KINDS_BY_LENGTH[name.length] ??= []).push({ name, fields: fields.map((field, position) => ({ name: utf8Encode(field), type: FIELD_TYPES[field]!, bit: 2 ** position })) });
}

function sameBytesAt(entry: Uint8Array, at: number, literal: Uint8Array): boolean {
  for (let offset = 0; offset < literal.length; offset += 1) if (entry[at + offset] !== literal[offset]) return false;
  return true;
}

function kindAt(entry: Uint8Array, start: number, end: number): CompiledKind | undefined {
  const candidates = KINDS_BY_LENGTH[end - start];
  if (candidates) for (const kind of candidates) if (sameBytesAt(entry, start, kind.name)) return kind;
  return undefined;
}

function fieldAt(kind: CompiledKind, entry: Uint8Array, start: number, end: number): CompiledField | undefined {
  for (const field of kind.fields) if (field.name.length === end - start && sameBytesAt(entry, start, field.name)) return field;
  return undefined;
}

function expectBytes(entry: Uint8Array, at: number, literal: Uint8Array): boolean {
  if (at + literal.length > entry.length) return false;
  for (let offset = 0; offset < literal.length; offset += 1) if (entry[at + offset] !== literal[offset]) return false;
  return true;
}

function asciiText(entry: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let at = start; at < end; at += 1) text += String.fromCharCode(entry[at]!);
  return text;
}

export interface EntryPosition {
  index: number;
  /** Where the 64 hex digits of "previous" start in the entry's bytes. */
  previousStart: number;
}

/**
 * The entry's index and where its "previous" hash is, when the entry is canonical and fits the
 * grammar; otherwise a description of what is wrong.
 */
export function checkEntryBytes(entry: Uint8Array): EntryPosition | { problem: string } {
  const fast = scanCanonical(entry);
  if (fast) return fast;
  try {
    decodeAuditEntry(entry);
  } catch (error) {
    return { problem: (error as Error).message };
  }
  // Canonical after all (text with escapes or non-ASCII characters): find the positions by hand.
  let index = 0;
  let at = PREFIX.length;
  while (entry[at]! >= 48 && entry[at]! <= 57) index = index * 10 + entry[at++]! - 48;
  return { index, previousStart: at + PREVIOUS_KEY.length };
}

function scanCanonical(entry: Uint8Array): EntryPosition | undefined {
  const end = scanEntryAt(entry, 0);
  return end === entry.length ? { index: scanned.index, previousStart: scanned.previousStart } : undefined;
}

/** What the last successful `scanEntryAt` found (a reused object: the bulk path scans millions). */
export const scanned: EntryPosition = { index: 0, previousStart: 0 };

/**
 * Scans one canonical entry that fits the grammar, starting at `start` in `bytes` (which may hold
 * more after it), and returns the offset just past its end, or −1. Never reads across a byte below
 * 0x20 inside the entry, so entries joined by a 0x00 separator cannot run into each other.
 */
export function scanEntryAt(entry: Uint8Array, start: number): number {
  if (!expectBytes(entry, start, PREFIX)) return -1;
  let at = start + PREFIX.length;
  const digitsStart = at;
  let index = 0;
  while (at < entry.length && entry[at]! >= 48 && entry[at]! <= 57) index = index * 10 + entry[at++]! - 48;
  const digits = at - digitsStart;
  if (digits === 0 || digits > 15 || (digits > 1 && entry[digitsStart] === 48)) return -1;
  if (!expectBytes(entry, at, PREVIOUS_KEY)) return -1;
  at += PREVIOUS_KEY.length;
  const previousStart = at;
  if (at + 64 > entry.length) return -1;
  for (const end = at + 64; at < end; at += 1) if (LOWER_HEX[entry[at]!] === 0) return -1;
  if (!expectBytes(entry, at, TIME_KEY)) return -1;
  at += TIME_KEY.length;
  if (!isCalendarTimeAt(entry, at)) return -1;
  at += TIME_LENGTH;
  if (!expectBytes(entry, at, KIND_KEY)) return -1;
  at += KIND_KEY.length;
  const kindStart = at;
  while (at < entry.length && entry[at] !== QUOTE) at += 1;
  const kind = kindAt(entry, kindStart, at);
  if (!kind) return -1;
  if (!expectBytes(entry, at, DATA_KEY)) return -1;
  at += DATA_KEY.length;
  let seen = 0;
  if (entry[at] !== CLOSE) {
    for (;;) {
      if (entry[at] !== QUOTE) return -1;
      const nameStart = at + 1;
      at = nameStart;
      while (at < entry.length && entry[at] !== QUOTE) at += 1;
      const field = fieldAt(kind, entry, nameStart, at);
      if (field === undefined || (seen & field.bit) !== 0) return -1;
      seen |= field.bit;
      if (entry[at + 1] !== COLON) return -1;
      at = scanValue(entry, at + 2, field.type);
      if (at < 0) return -1;
      if (entry[at] === COMMA) {
        at += 1;
        continue;
      }
      if (entry[at] === CLOSE) break;
      return -1;
    }
  }
  if (entry[at + 1] !== CLOSE) return -1;
  scanned.index = index;
  scanned.previousStart = previousStart;
  return at + 2;
}

const TIME_SHAPE = utf8Encode('0000-00-00T00:00:00.000Z');
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function twoDigits(entry: Uint8Array, at: number): number {
  return (entry[at]! - 48) * 10 + entry[at + 1]! - 48;
}

/** Byte tables: 1 where the byte may appear (lowercase hex digits; printable ASCII but \ and "). */
const LOWER_HEX = new Uint8Array(256);
for (const byte of utf8Encode('0123456789abcdef')) LOWER_HEX[byte] = 1;
const PLAIN_TEXT = new Uint8Array(256);
for (let byte = 0x20; byte <= 0x7e; byte += 1) if (byte !== BACKSLASH && byte !== QUOTE) PLAIN_TEXT[byte] = 1;

/** isCalendarTime on the bytes at `at`, without making a string. */
function isCalendarTimeAt(entry: Uint8Array, at: number): boolean {
  if (at + TIME_LENGTH > entry.length) return false;
  for (let offset = 0; offset < TIME_LENGTH; offset += 1) {
    const byte = entry[at + offset]!;
    const shape = TIME_SHAPE[offset]!;
    if (shape === 48 ? byte < 48 || byte > 57 : byte !== shape) return false;
  }
  const year = (entry[at]! - 48) * 1000 + (entry[at + 1]! - 48) * 100 + twoDigits(entry, at + 2);
  const month = twoDigits(entry, at + 5);
  const day = twoDigits(entry, at + 8);
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month]!) return false;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return false;
  return twoDigits(entry, at + 11) <= 23 && twoDigits(entry, at + 14) <= 59 && twoDigits(entry, at + 17) <= 59;
}

/** Position after a canonical value of this type, or −1 (which sends the entry to the slow path). */
function scanValue(entry: Uint8Array, start: number, type: FieldType): number {
  const first = entry[start];
  if (first === 0x6e /* n */) return type.endsWith('?') && expectBytes(entry, start, NULL) ? start + 4 : -1;
  if (type === 'flag') {
    if (expectBytes(entry, start, TRUE)) return start + 4;
    return expectBytes(entry, start, FALSE) ? start + 5 : -1;
  }
  if (type === 'count' || type === 'yen') {
    let at = start;
    while (at < entry.length && entry[at]! >= 48 && entry[at]! <= 57) at += 1;
    const digits = at - start;
    return digits === 0 || digits > 15 || (digits > 1 && first === 48) ? -1 : at;
  }
  if (first !== QUOTE) return -1;
  let at = start + 1;
  // Printable ASCII only; anything else (escapes, non-ASCII) is judged by the slow path.
  while (PLAIN_TEXT[entry[at]!] === 1) at += 1;
  const length = at - start - 1;
  if (entry[at] !== QUOTE || length > MAX_TEXT_LENGTH) return -1;
  if ((type === 'hash' || type === 'signature') && !BASE64.test(asciiText(entry, start + 1, at))) return -1;
  return at + 1;
}

const NULL = utf8Encode('null');
const TRUE = utf8Encode('true');
const FALSE = utf8Encode('false');

/** Where a role's events go; each append is its own transaction with its own signed checkpoint. */
export interface AuditSink {
  append(...events: AuditEvent[]): void;
}

export const discardAudit: AuditSink = { append: () => undefined };
