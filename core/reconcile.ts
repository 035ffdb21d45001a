// Reconciliation of a month (SPEC.md §4): the centre's records against the operator's, by issuance
// id, plus the kiosks' cash per store business day. Built for 5 million rows a side in bounded
// memory: the centre's rows go into typed-array columns with an open-addressing hash table over a
// byte arena of ids; the operator's rows are then streamed against it and kept only when the centre
// does not have them. No per-row objects or strings; ids become strings only for the differences.

import type { HandlingRecord } from './messages.ts';
import { certificateTypeAt, FIELD_ISSUANCE_ID, FIELD_KIOSK_ID, FIELD_STORE_ID, formatMonth, textOf, type RowScratch } from './handling-csv.ts';
import { AppError } from './errors.ts';
import { parseIsoDate } from './jst.ts';

/**
 * issued-unnoticed: the centre issued certificate data for a request but no completion notice (nor
 * a supplied record) ever arrived: paid and printed, or abandoned, nobody can say without asking.
 */
export type DifferenceKind = 'missing-at-center' | 'missing-at-operator' | 'mismatch' | 'duplicate' | 'issued-unnoticed';

export type Side = 'center' | 'operator';

export type ComparedField = Extract<keyof HandlingRecord, 'municipalityCode' | 'certificateType' | 'copies' | 'feeYen' | 'storeId' | 'kioskId'>;

const COMPARED_FIELDS: readonly ComparedField[] = ['municipalityCode', 'certificateType', 'copies', 'feeYen', 'storeId', 'kioskId'];

export interface ReconcileDifference {
  issuanceId: string;
  kind: DifferenceKind;
  /** For a duplicate: the side that repeats the id. */
  side?: Side;
  /** For a mismatch: what differs. */
  fields?: ComparedField[];
  /** For a mismatch: the differing fields' values on each side, so a person can see who is right. */
  center?: ComparedValues;
  operator?: ComparedValues;
  /** For issued-unnoticed: the kiosk that asked, when, what was issued, and how long ago. */
  kioskId?: string;
  issuedAt?: string;
  copies?: number;
  feeYen?: number;
  ageHours?: number;
}

/** A request the centre issued certificate data for, with no completion notice yet. */
export interface UnnoticedRequest {
  issuanceId: string;
  storeId: string;
  kioskId: string;
  issuedAt: string;
  copies: number;
  feeYen: number;
}

/** Unnoticed requests as differences: per kiosk, oldest first, with their age in whole hours. */
export function unnoticedDifferences(requests: readonly UnnoticedRequest[], nowMs: number): ReconcileDifference[] {
  return [...requests]
    .sort((left, right) => (left.kioskId + left.issuedAt < right.kioskId + right.issuedAt ? -1 : 1))
    .map((request) => ({
      issuanceId: request.issuanceId,
      kind: 'issued-unnoticed' as const,
      kioskId: request.kioskId,
      issuedAt: request.issuedAt,
      copies: request.copies,
      feeYen: request.feeYen,
      ageHours: Math.max(0, Math.floor((nowMs - Date.parse(request.issuedAt)) / 3_600_000)),
    }));
}

/** Field → value as the side recorded it: municipalityCode, certificateType, storeId, kioskId as text, copies and feeYen in integers. */
export type ComparedValues = Partial<Record<ComparedField, string | number>>;

export interface SideTotals {
  /** Distinct issuance ids of the month. */
  records: number;
  documents: number;
  feesYen: number;
  /** Well-formed rows of other months, not reconciled. */
  otherMonthRows: number;
}

/** The cash one kiosk took on one store business day (Spec§3-7). */
export interface StoreDay {
  storeId: string;
  kioskId: string;
  businessDate: string;
  cashYen: number;
}

export interface StoreDayDifference {
  storeId: string;
  kioskId: string;
  businessDate: string;
  /** null: the kiosk issued that day but no day close was reported. */
  cashYen: number | null;
  feesYen: number;
  differenceYen: number;
}

export interface StoreDayCheck {
  days: number;
  differences: StoreDayDifference[];
}

export interface ReconcileResult {
  month: string;
  matched: number;
  missingAtCenter: number;
  missingAtOperator: number;
  mismatched: number;
  duplicates: number;
  differences: ReconcileDifference[];
  center: SideTotals;
  operator: SideTotals;
  /** null when no store-day cash was given for the month. */
  storeDays: StoreDayCheck | null;
}

export function isClean(result: ReconcileResult): boolean {
  return result.differences.length === 0 && (result.storeDays === null || result.storeDays.differences.length === 0);
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Whether the operator may submit the month for confirmation (Spec§4-3): nothing differs but requests
 * issued and not yet noticed, and every store day agrees. Such a request does not hold the month back:
 * both sides see it, and its notice, when it comes, is settled as an adjustment of the next open month.
 */
export function isConfirmable(result: Pick<ReconcileResult, 'differences' | 'storeDays'>): boolean {
  return result.differences.every((difference) => difference.kind === 'issued-unnoticed') && (result.storeDays === null || result.storeDays.differences.length === 0);
}

export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = FNV_OFFSET;
  let position = start;
  // Four bytes a round: a quarter of the multiplications of byte-wise FNV on ~20-byte ids.
  for (; position + 4 <= end; position += 4) {
    const word = bytes[position]! | (bytes[position + 1]! << 8) | (bytes[position + 2]! << 16) | (bytes[position + 3]! << 24);
    hash = Math.imul(hash ^ word, FNV_PRIME);
    hash ^= hash >>> 15;
  }
  for (; position < end; position += 1) hash = Math.imul(hash ^ bytes[position]!, FNV_PRIME);
  // murmur3's finaliser spreads FNV's weak low bits over the table index.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

function tableSizeFor(entries: number): number {
  let size = 1024;
  while (size < entries * 2) size *= 2;
  return size;
}

function grown<T extends Uint8Array | Uint32Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (length: number) => T)(capacity);
  next.set(array);
  return next;
}

/** Store and kiosk names, shared by both sides so equal names get equal indexes. */
class NameTable {
  count = 0;
  private hash = new Uint32Array(4096);
  private start = new Uint32Array(4096);
  private length = new Uint8Array(4096);
  private arena = new Uint8Array(65536);
  private arenaUsed = 0;
  private slots = new Int32Array(8192);

  intern(bytes: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(bytes, start, end);
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (let entry = slots[slot]!; entry !== 0; entry = slots[slot]!) {
      const index = entry - 1;
      if (this.hash[index] === hash && this.equals(index, bytes, start, end)) return index;
      slot = (slot + 1) & mask;
    }
    return this.add(bytes, start, end, hash, slot);
  }

  /** True when name `index` is exactly these bytes. */
  equals(index: number, bytes: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (this.length[index] !== length) return false;
    const arena = this.arena;
    const from = this.start[index]!;
    for (let offset = 0; offset < length; offset += 1) if (arena[from + offset] !== bytes[start + offset]) return false;
    return true;
  }

  text(index: number): string {
    const start = this.start[index]!;
    return textOf(this.arena, start, start + this.length[index]!);
  }

  private add(bytes: Uint8Array, start: number, end: number, hash: number, slot: number): number {
    const index = this.count;
    const length = end - start;
    if (index === this.hash.length) {
      this.hash = grown(this.hash, index * 2);
      this.start = grown(this.start, index * 2);
      this.length = grown(this.length, index * 2);
    }
    if (this.arenaUsed + length > this.arena.length) this.arena = grown(this.arena, this.arena.length * 2 + length);
    this.arena.set(bytes.subarray(start, end), this.arenaUsed);
    this.hash[index] = hash;
    this.start[index] = this.arenaUsed;
    this.length[index] = length;
    this.arenaUsed += length;
    this.slots[slot] = index + 1;
    this.count = index + 1;
    if (this.count * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      const mask = this.slots.length - 1;
      for (let entry = 0; entry < this.count; entry += 1) {
        let free = this.hash[entry]! & mask;
        while (this.slots[free] !== 0) free = (free + 1) & mask;
        this.slots[free] = entry + 1;
      }
    }
    return index;
  }
}

// One record is eight 32-bit words and its id, store and kiosk bytes sit side by side in the arena,
// so finding and comparing a pair touches a few cache lines, with no name lookups per row.
const STRIDE = 8;
const R_HASH = 0;
const R_BYTES_START = 1;
/** id length (bits 0–7), certificate type (8–15), flags (16–23) */
const R_PACKED = 2;
const R_MUNICIPALITY = 3;
const R_COPIES = 4;
const R_FEE = 5;
/** store id length (bits 0–7), kiosk id length (8–15) */
const R_NAME_LENGTHS = 6;

const FLAG_DUPLICATE_REPORTED = 1 << 16;
const FLAG_SEEN_BY_OPERATOR = 2 << 16;
const FLAG_OPERATOR_DUPLICATE_REPORTED = 4 << 16;

/** One side's records of the month by issuance id: an open-addressing table over a byte arena. */
class RecordTable {
  count = 0;
  records: Uint32Array;
  private arena: Uint8Array;
  private arenaUsed = 0;
  private slots: Int32Array;

  constructor(expected: number) {
    this.records = new Uint32Array(expected * STRIDE);
    this.arena = new Uint8Array(Math.max(4096, expected * 40));
    this.slots = new Int32Array(tableSizeFor(expected));
  }

  /**
   * Reads the slot and record an id with this hash would use, and returns a value derived from
   * them: a batch of these issued ahead lets the CPU wait for many cache misses at once.
   */
  touch(hash: number): number {
    const entry = this.slots[hash & (this.slots.length - 1)]!;
    return entry === 0 ? 0 : this.arena[this.records[(entry - 1) * STRIDE + R_BYTES_START]!]!;
  }

  /** Record index of the id; when absent, −1 − the free slot where add() will put it. */
  find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    const records = this.records;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot]!;
      if (entry === 0) return -1 - slot;
      const base = (entry - 1) * STRIDE;
      if (records[base + R_HASH] === hash && (records[base + R_PACKED]! & 0xff) === length && this.same(records[base + R_BYTES_START]!, bytes, start, length)) {
        return entry - 1;
      }
    }
  }

  /** Adds a row whose id find() just reported absent (`missing` is what it returned); returns its record index. */
  add(bytes: Uint8Array, row: RowScratch, hash: number, missing: number): number {
    const index = this.count;
    if ((index + 1) * STRIDE > this.records.length) this.records = grown(this.records, Math.max(1024, index * 2) * STRIDE);
    const idLength = this.copy(bytes, row.fieldStart[FIELD_ISSUANCE_ID]!, row.fieldEnd[FIELD_ISSUANCE_ID]!);
    const storeLength = this.copy(bytes, row.fieldStart[FIELD_STORE_ID]!, row.fieldEnd[FIELD_STORE_ID]!);
    const kioskLength = this.copy(bytes, row.fieldStart[FIELD_KIOSK_ID]!, row.fieldEnd[FIELD_KIOSK_ID]!);
    const records = this.records;
    const base = index * STRIDE;
    records[base + R_HASH] = hash;
    records[base + R_BYTES_START] = this.arenaUsed - idLength - storeLength - kioskLength;
    records[base + R_PACKED] = idLength | (row.typeIndex << 8);
    records[base + R_MUNICIPALITY] = row.municipalityCode;
    records[base + R_COPIES] = row.copies;
    records[base + R_FEE] = row.feeYen;
    records[base + R_NAME_LENGTHS] = storeLength | (kioskLength << 8);
    this.count = index + 1;
    this.slots[-1 - missing] = index + 1;
    if (this.count * 10 > this.slots.length * 7) this.rehash();
    return index;
  }

  flags(index: number): number {
    return this.records[index * STRIDE + R_PACKED]! & 0xff0000;
  }

  setFlag(index: number, flag: number): void {
    this.records[index * STRIDE + R_PACKED] = this.records[index * STRIDE + R_PACKED]! | flag;
  }

  /** Which compared fields differ from the row, as a bit mask in COMPARED_FIELDS order. */
  differingFields(index: number, bytes: Uint8Array, row: RowScratch): number {
    const records = this.records;
    const base = index * STRIDE;
    const storeFrom = records[base + R_BYTES_START]! + (records[base + R_PACKED]! & 0xff);
    const storeLength = records[base + R_NAME_LENGTHS]! & 0xff;
    const kioskLength = (records[base + R_NAME_LENGTHS]! >>> 8) & 0xff;
    const storeStart = row.fieldStart[FIELD_STORE_ID]!;
    const kioskStart = row.fieldStart[FIELD_KIOSK_ID]!;
    const sameStore = row.fieldEnd[FIELD_STORE_ID]! - storeStart === storeLength && this.same(storeFrom, bytes, storeStart, storeLength);
    const sameKiosk = row.fieldEnd[FIELD_KIOSK_ID]! - kioskStart === kioskLength && this.same(storeFrom + storeLength, bytes, kioskStart, kioskLength);
    return (
      (records[base + R_MUNICIPALITY] !== row.municipalityCode ? 1 : 0) |
      (((records[base + R_PACKED]! >>> 8) & 0xff) !== row.typeIndex ? 2 : 0) |
      (records[base + R_COPIES] !== row.copies ? 4 : 0) |
      (records[base + R_FEE] !== row.feeYen ? 8 : 0) |
      (sameStore ? 0 : 16) |
      (sameKiosk ? 0 : 32)
    );
  }

  /** The record's values of these fields, for a mismatch report. */
  values(index: number, fields: readonly ComparedField[]): ComparedValues {
    const records = this.records;
    const base = index * STRIDE;
    const storeFrom = records[base + R_BYTES_START]! + (records[base + R_PACKED]! & 0xff);
    const storeLength = records[base + R_NAME_LENGTHS]! & 0xff;
    const kioskLength = (records[base + R_NAME_LENGTHS]! >>> 8) & 0xff;
    const all: Record<ComparedField, string | number> = {
      municipalityCode: String(records[base + R_MUNICIPALITY]!).padStart(6, '0'),
      certificateType: certificateTypeAt((records[base + R_PACKED]! >>> 8) & 0xff),
      copies: records[base + R_COPIES]!,
      feeYen: records[base + R_FEE]!,
      storeId: textOf(this.arena, storeFrom, storeFrom + storeLength),
      kioskId: textOf(this.arena, storeFrom + storeLength, storeFrom + storeLength + kioskLength),
    };
    return Object.fromEntries(fields.map((field) => [field, all[field]]));
  }

  idText(index: number): string {
    const start = this.records[index * STRIDE + R_BYTES_START]!;
    return textOf(this.arena, start, start + (this.records[index * STRIDE + R_PACKED]! & 0xff));
  }

  private same(from: number, bytes: Uint8Array, start: number, length: number): boolean {
    const arena = this.arena;
    let offset = 0;
    while (offset < length && arena[from + offset] === bytes[start + offset]) offset += 1;
    return offset === length;
  }

  private copy(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    if (this.arenaUsed + length > this.arena.length) this.arena = grown(this.arena, this.arena.length * 2 + length);
    const arena = this.arena;
    const to = this.arenaUsed;
    let offset = 0;
    // Four bytes a round: measured under Bun, this copies ids a third faster than one byte a round.
    for (; offset + 4 <= length; offset += 4) {
      arena[to + offset] = bytes[start + offset]!;
      arena[to + offset + 1] = bytes[start + offset + 1]!;
      arena[to + offset + 2] = bytes[start + offset + 2]!;
      arena[to + offset + 3] = bytes[start + offset + 3]!;
    }
    for (; offset < length; offset += 1) arena[to + offset] = bytes[start + offset]!;
    this.arenaUsed = to + length;
    return length;
  }

  private place(index: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = this.records[index * STRIDE + R_HASH]! & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = index + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let index = 0; index < this.count; index += 1) this.place(index);
  }
}

const KIND_MISSING_AT_CENTER = 0;
const KIND_MISSING_AT_OPERATOR = 1;
const KIND_MISMATCH = 2;
const KIND_DUPLICATE_CENTER = 3;
const KIND_DUPLICATE_OPERATOR = 4;

/** Differences as three growable int columns; they become objects only in the result. */
class DifferenceLog {
  count = 0;
  kind = new Uint8Array(256);
  /** Row in the centre's columns, or in the operator-only columns for missing-at-center. */
  index = new Uint32Array(256);
  fields = new Uint8Array(256);
  /** For a mismatch: the operator's row in the mismatch columns. */
  other = new Uint32Array(256);

  push(kind: number, index: number, fields = 0, other = 0): void {
    if (this.count === this.kind.length) {
      this.kind = grown(this.kind, this.count * 2);
      this.index = grown(this.index, this.count * 2);
      this.fields = grown(this.fields, this.count * 2);
      this.other = grown(this.other, this.count * 2);
    }
    this.kind[this.count] = kind;
    this.index[this.count] = index;
    this.fields[this.count] = fields;
    this.other[this.count] = other;
    this.count += 1;
  }
}

export interface Reconciler {
  /** A well-formed centre row; rows of other months are counted and ignored. Add all centre rows first. */
  addCenter(bytes: Uint8Array, row: RowScratch): void;
  addOperator(bytes: Uint8Array, row: RowScratch): void;
  /** Warms the centre table for an operator row with this id hash (see RecordTable.touch). */
  touchCenter(hash: number): number;
  finish(): ReconcileResult;
}

export interface ReconcilerOptions {
  monthKey: number;
  /** The centre's row count if known: sizes the columns once instead of growing them. */
  expectedRows?: number;
  /** The kiosks' cash per store business day; operator fees per kiosk-day are summed only when given. */
  storeDays?: readonly StoreDay[];
}

function emptyTotals(): SideTotals {
  return { records: 0, documents: 0, feesYen: 0, otherMonthRows: 0 };
}

export function createReconciler(options: ReconcilerOptions): Reconciler {
  const monthKey = options.monthKey;
  const center = new RecordTable(Math.max(1024, options.expectedRows ?? 0));
  const operatorOnly = new RecordTable(1024);
  /** The operator's side of each mismatch, kept so the report can show both values. */
  const operatorMismatched = new RecordTable(1024);
  const names = new NameTable();
  const log = new DifferenceLog();
  const centerTotals = emptyTotals();
  const operatorTotals = emptyTotals();
  const storeDays = (options.storeDays ?? []).filter((day) => day.businessDate.startsWith(`${formatMonth(monthKey)}-`));
  const trackKioskDays = storeDays.length > 0;
  /** Operator-side fees per kiosk (name index) × 32 + JST day: the third view's other half. */
  let kioskDayFees = new Float64Array(32 * 1024);
  /** Per kiosk name index: 1 + its store's name index. */
  let storeOfKiosk = new Uint32Array(1024);
  let matched = 0;

  /** The third view: only when store days were given, so plain reconciliation pays nothing for it. */
  const addKioskDayFees = (bytes: Uint8Array, row: RowScratch): void => {
    if (!trackKioskDays || row.copies === 0) return;
    const kiosk = names.intern(bytes, row.fieldStart[FIELD_KIOSK_ID]!, row.fieldEnd[FIELD_KIOSK_ID]!);
    const slot = kiosk * 32 + row.jstDay;
    if (slot >= kioskDayFees.length) {
      const next = new Float64Array(Math.max(kioskDayFees.length * 2, (kiosk + 1) * 32));
      next.set(kioskDayFees);
      kioskDayFees = next;
      storeOfKiosk = grown(storeOfKiosk, next.length / 32);
    }
    kioskDayFees[slot] = kioskDayFees[slot]! + row.feeYen;
    if (storeOfKiosk[kiosk] === 0) storeOfKiosk[kiosk] = 1 + names.intern(bytes, row.fieldStart[FIELD_STORE_ID]!, row.fieldEnd[FIELD_STORE_ID]!);
  };

  const count = (totals: SideTotals, row: RowScratch): void => {
    totals.records += 1;
    totals.documents += row.copies;
    totals.feesYen += row.feeYen;
  };

  return {
    addCenter(bytes, row) {
      if (row.monthKey !== monthKey) {
        centerTotals.otherMonthRows += 1;
        return;
      }
      const idStart = row.fieldStart[FIELD_ISSUANCE_ID]!;
      const idEnd = row.fieldEnd[FIELD_ISSUANCE_ID]!;
      const hash = row.idHash !== 0 ? row.idHash : hashBytes(bytes, idStart, idEnd);
      const existing = center.find(bytes, idStart, idEnd, hash);
      if (existing >= 0) {
        if ((center.flags(existing) & FLAG_DUPLICATE_REPORTED) === 0) {
          center.setFlag(existing, FLAG_DUPLICATE_REPORTED);
          log.push(KIND_DUPLICATE_CENTER, existing);
        }
        return;
      }
      center.add(bytes, row, hash, existing);
      count(centerTotals, row);
    },

    touchCenter(hash) {
      return center.touch(hash);
    },

    addOperator(bytes, row) {
      if (row.monthKey !== monthKey) {
        operatorTotals.otherMonthRows += 1;
        return;
      }
      const idStart = row.fieldStart[FIELD_ISSUANCE_ID]!;
      const idEnd = row.fieldEnd[FIELD_ISSUANCE_ID]!;
      const hash = row.idHash !== 0 ? row.idHash : hashBytes(bytes, idStart, idEnd);
      const index = center.find(bytes, idStart, idEnd, hash);
      if (index >= 0) {
        const flags = center.flags(index);
        if ((flags & FLAG_SEEN_BY_OPERATOR) !== 0) {
          if ((flags & FLAG_OPERATOR_DUPLICATE_REPORTED) === 0) {
            center.setFlag(index, FLAG_OPERATOR_DUPLICATE_REPORTED);
            log.push(KIND_DUPLICATE_OPERATOR, index);
          }
          return;
        }
        center.setFlag(index, FLAG_SEEN_BY_OPERATOR);
        const fields = center.differingFields(index, bytes, row);
        if (fields === 0) matched += 1;
        else {
          const missing = operatorMismatched.find(bytes, idStart, idEnd, hash);
          log.push(KIND_MISMATCH, index, fields, missing >= 0 ? missing : operatorMismatched.add(bytes, row, hash, missing));
        }
        count(operatorTotals, row);
        addKioskDayFees(bytes, row);
        return;
      }
      const existing = operatorOnly.find(bytes, idStart, idEnd, hash);
      if (existing >= 0) {
        if ((operatorOnly.flags(existing) & FLAG_DUPLICATE_REPORTED) === 0) {
          operatorOnly.setFlag(existing, FLAG_DUPLICATE_REPORTED);
          log.push(KIND_DUPLICATE_OPERATOR, existing | 0x80000000);
        }
        return;
      }
      const added = operatorOnly.add(bytes, row, hash, existing);
      log.push(KIND_MISSING_AT_CENTER, added);
      count(operatorTotals, row);
      addKioskDayFees(bytes, row);
    },

    finish() {
      for (let index = 0; index < center.count; index += 1) {
        if ((center.flags(index) & FLAG_SEEN_BY_OPERATOR) === 0) log.push(KIND_MISSING_AT_OPERATOR, index);
      }
      const differences = materialize(log, center, operatorOnly, operatorMismatched);
      const tally = (kind: DifferenceKind) => differences.filter((difference) => difference.kind === kind).length;
      return {
        month: formatMonth(monthKey),
        matched,
        missingAtCenter: tally('missing-at-center'),
        missingAtOperator: tally('missing-at-operator'),
        mismatched: tally('mismatch'),
        duplicates: tally('duplicate'),
        differences,
        center: centerTotals,
        operator: operatorTotals,
        storeDays: trackKioskDays ? checkStoreDays(storeDays, monthKey, names, kioskDayFees, storeOfKiosk) : null,
      };
    },
  };
}

function materialize(log: DifferenceLog, center: RecordTable, operatorOnly: RecordTable, operatorMismatched: RecordTable): ReconcileDifference[] {
  const differences: ReconcileDifference[] = [];
  for (let entry = 0; entry < log.count; entry += 1) {
    const kind = log.kind[entry]!;
    const index = log.index[entry]!;
    if (kind === KIND_MISSING_AT_CENTER) differences.push({ issuanceId: operatorOnly.idText(index), kind: 'missing-at-center' });
    else if (kind === KIND_MISSING_AT_OPERATOR) differences.push({ issuanceId: center.idText(index), kind: 'missing-at-operator' });
    else if (kind === KIND_MISMATCH) {
      const mask = log.fields[entry]!;
      const fields = COMPARED_FIELDS.filter((_, bit) => (mask & (1 << bit)) !== 0);
      differences.push({ issuanceId: center.idText(index), kind: 'mismatch', fields, center: center.values(index, fields), operator: operatorMismatched.values(log.other[entry]!, fields) });
    } else {
      const issuanceId = index >= 0x80000000 ? operatorOnly.idText(index - 0x80000000) : center.idText(index);
      differences.push({ issuanceId, kind: 'duplicate', side: kind === KIND_DUPLICATE_CENTER ? 'center' : 'operator' });
    }
  }
  return differences.sort((left, right) => (left.issuanceId < right.issuanceId ? -1 : left.issuanceId > right.issuanceId ? 1 : left.kind < right.kind ? -1 : left.kind > right.kind ? 1 : 0));
}

const encoder = new TextEncoder();

/** Cash per kiosk-day against the operator's fees of non-refunded issuances on that JST day. */
function checkStoreDays(
  storeDays: readonly StoreDay[],
  monthKey: number,
  names: NameTable,
  kioskDayFees: Float64Array,
  storeOfKiosk: Uint32Array,
): StoreDayCheck {
  const month = formatMonth(monthKey);
  const ofMonth = storeDays;
  const differences: StoreDayDifference[] = [];
  const closed = new Set<number>();
  for (const day of ofMonth) {
    const bytes = encoder.encode(day.kioskId);
    const kiosk = names.intern(bytes, 0, bytes.length);
    const date = parseIsoDate(day.businessDate);
    // Bounds-checked: a day 77 would otherwise index into another kiosk's slots.
    if (!date || day.businessDate.slice(0, 7) !== month) throw new AppError('input', 'store_days.bad_date', `business_date "${day.businessDate}" of kiosk ${day.kioskId} is not a real date of ${month}`);
    const slot = kiosk * 32 + date.day;
    closed.add(slot);
    const feesYen = kioskDayFees[slot] ?? 0;
    if (feesYen !== day.cashYen) differences.push({ ...day, feesYen, differenceYen: day.cashYen - feesYen });
  }
  for (let slot = 0; slot < Math.min(kioskDayFees.length, names.count * 32); slot += 1) {
    const feesYen = kioskDayFees[slot]!;
    if (feesYen === 0 || closed.has(slot)) continue;
    const kiosk = Math.floor(slot / 32);
    const day = slot % 32;
    differences.push({
      storeId: storeOfKiosk[kiosk] ? names.text(storeOfKiosk[kiosk]! - 1) : '',
      kioskId: names.text(kiosk),
      businessDate: `${month}-${day < 10 ? '0' : ''}${day}`,
      cashYen: null,
      feesYen,
      differenceYen: -feesYen,
    });
  }
  differences.sort((left, right) => (left.businessDate + left.kioskId < right.businessDate + right.kioskId ? -1 : 1));
  return { days: ofMonth.length, differences };
}

/** Issuance ids seen so far, for counting each id once (invoice totals from a file). */
export interface IdSet {
  /** True the first time the row's id is seen. */
  addIfAbsent(bytes: Uint8Array, row: RowScratch): boolean;
}

export function createIdSet(expected = 1024): IdSet {
  const table = new RecordTable(Math.max(1024, expected));
  return {
    addIfAbsent(bytes, row) {
      const start = row.fieldStart[FIELD_ISSUANCE_ID]!;
      const end = row.fieldEnd[FIELD_ISSUANCE_ID]!;
      const hash = hashBytes(bytes, start, end);
      const found = table.find(bytes, start, end, hash);
      if (found >= 0) return false;
      table.add(bytes, row, hash, found);
      return true;
    },
  };
}
