// Audit log entries (S4-5, P4, C§8): what happened, when, and where in the log, committing to the
// entry before. Pseudonymous ids, codes and counts only: never a name, an address, a PIN or any
// certificate content. The encoded bytes are what the Merkle tree hashes and what the store keeps.

import { utf8Decode, utf8Encode } from './bytes.ts';
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
  /** UTC ISO time. */
  time: string;
  kind: string;
  data: Record<string, AuditValue>;
}

export const FIRST_PREVIOUS = '0'.repeat(64);

/** Field names an entry may carry. A closed list, so personal data cannot slip in by a new field. */
const ALLOWED_DATA_FIELDS = new Set([
  'kioskId', 'storeId', 'operatorId', 'requestId', 'issuanceId', 'residentRef', 'municipalityCode', 'certificateType',
  'copies', 'copy', 'feeYen', 'paidYen', 'changeYen', 'refundedYen', 'outcome', 'code', 'cardKind', 'path', 'month',
  'records', 'documents', 'duplicate', 'reason', 'size', 'attempt', 'pending', 'businessDate', 'cashYen', 'transactions',
  'remoteAddress', 'status',
  // Issue 8 (settlement): the month a 過誤調整 line is settled in.
  'settleMonth',
]);

const KIND = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/;

export function assertAuditEvent(event: AuditEvent): void {
  if (!KIND.test(event.kind)) throw new AppError('internal', 'audit.bad_kind', `audit kind "${event.kind}" is malformed`);
  for (const [field, value] of Object.entries(event.data ?? {})) {
    if (!ALLOWED_DATA_FIELDS.has(field)) throw new AppError('internal', 'audit.field_not_allowed', `audit field "${field}" is not on the allowed list`);
    if (typeof value === 'string' && value.length > 200) throw new AppError('internal', 'audit.value_too_long', `audit field "${field}" is too long`);
  }
}

/** Fixed key order, no whitespace: the same entry always encodes to the same bytes. */
export function encodeAuditEntry(entry: AuditEntry): Uint8Array {
  return utf8Encode(
    JSON.stringify({ v: 1, index: entry.index, previous: entry.previous, time: entry.time, kind: entry.kind, data: entry.data }),
  );
}

export function decodeAuditEntry(bytes: Uint8Array): AuditEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decode(bytes));
  } catch {
    throw new AppError('input', 'audit.entry_unreadable', 'the entry is not valid UTF-8 JSON');
  }
  const raw = parsed as Record<string, unknown>;
  const wellFormed =
    typeof raw === 'object' && raw !== null && raw.v === 1 &&
    Number.isSafeInteger(raw.index) && (raw.index as number) >= 0 &&
    typeof raw.previous === 'string' && /^[0-9a-f]{64}$/.test(raw.previous) &&
    typeof raw.time === 'string' && typeof raw.kind === 'string' &&
    typeof raw.data === 'object' && raw.data !== null && !Array.isArray(raw.data);
  if (!wellFormed) throw new AppError('input', 'audit.entry_malformed', 'the entry lacks a field or has a wrong one');
  return { index: raw.index as number, previous: raw.previous as string, time: raw.time as string, kind: raw.kind as string, data: raw.data as Record<string, AuditValue> };
}

/** Where a role's events go; each append is its own transaction with its own signed checkpoint. */
export interface AuditSink {
  append(...events: AuditEvent[]): void;
}

export const discardAudit: AuditSink = { append: () => undefined };
