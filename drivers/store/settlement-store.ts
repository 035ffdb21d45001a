// What monthly settlement reads from and writes to the role databases: the handling records of a
// JST month (centre or relay), the kiosks' store business days (relay), and confirmed months
// (centre), whose insert the schema's trigger turns into a lock on that month's records.

import fs from 'node:fs';
import type { HandlingRecord } from '../../core/center-service.ts';
import { AppError } from '../../core/errors.ts';
import { parseMonth } from '../../core/handling-csv.ts';
import { isIsoDate } from '../../core/jst.ts';
import type { StoreDay } from '../../core/reconcile.ts';
import { handlingRecordFromRow, openCenterDatabase } from './center-store.ts';
import type { Database } from './database.ts';
import { openRelayDatabase } from './relay-store.ts';

export type SettlementRole = 'center' | 'relay';

export interface ConfirmedMonth {
  month: string;
  confirmedAt: string;
  records: number;
  documents: number;
  feesYen: number;
}

/** Opens an existing centre or relay database (never creates one from a mistyped path). */
export function openSettlementDatabase(path: string, role: SettlementRole): Database {
  if (!fs.existsSync(path)) throw new AppError('usage', 'settlement.no_database', `no ${role} database here`, path);
  return role === 'center' ? openCenterDatabase(path) : openRelayDatabase(path);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The UTC range that surely holds the JST month, a day wider on each side: stored times are UTC
 * ISO text, but an offset written by another system can move a row by up to a day. Callers keep
 * only the rows whose JST date is in the month.
 */
function widenedRange(month: string): { from: string; to: string } {
  const monthKey = parseMonth(month);
  if (monthKey === undefined) throw new AppError('usage', 'settlement.bad_month', `"${month}" is not YYYY-MM`);
  const startMs = Date.UTC(Math.floor(monthKey / 12), monthKey % 12, 1);
  const endMs = Date.UTC(Math.floor((monthKey + 1) / 12), (monthKey + 1) % 12, 1);
  return { from: new Date(startMs - 2 * DAY_MS).toISOString(), to: new Date(endMs + DAY_MS).toISOString() };
}

/** Every handling record that may belong to the month (see widenedRange), as corrected, in issued_at order. */
export function* recordsAroundMonth(db: Database, month: string): Generator<HandlingRecord> {
  const { from, to } = widenedRange(month);
  const rows = db.iterate<Parameters<typeof handlingRecordFromRow>[0]>(
    'SELECT * FROM effective_handling_records WHERE issued_at >= :from AND issued_at < :to ORDER BY issued_at, issuance_id',
    { from, to },
  );
  for (const row of rows) yield handlingRecordFromRow(row);
}

/** All handling records, as corrected, in issued_at order: for an export without --month. */
export function* allRecords(db: Database): Generator<HandlingRecord> {
  for (const row of db.iterate<Parameters<typeof handlingRecordFromRow>[0]>('SELECT * FROM effective_handling_records ORDER BY issued_at, issuance_id')) {
    yield handlingRecordFromRow(row);
  }
}

/** The store business days the kiosks closed in the month (relay v2 schema). */
export function listStoreDays(db: Database, month: string): StoreDay[] {
  const rows = db.all<{ store_id: string; kiosk_id: string; business_date: string; cash_yen: number }>(
    `SELECT store_id, kiosk_id, business_date, cash_yen FROM store_days WHERE business_date LIKE :pattern ORDER BY business_date, kiosk_id`,
    { pattern: `${month}-%` },
  );
  return rows.map((row) => {
    // A hand-edited row must not land on another day or kiosk (core/reconcile.ts indexes by day).
    if (!isIsoDate(row.business_date)) throw new AppError('input', 'store_days.bad_date', `business_date "${row.business_date.slice(0, 20)}" of kiosk ${row.kiosk_id} is not a real date`, `${db.path}:store_days`);
    return { storeId: row.store_id, kioskId: row.kiosk_id, businessDate: row.business_date, cashYen: row.cash_yen };
  });
}

export function findConfirmedMonth(db: Database, month: string): ConfirmedMonth | undefined {
  const row = db.get<{ month: string; confirmed_at: string; records: number; documents: number; fees_yen: number }>(
    'SELECT * FROM confirmed_months WHERE month = :month',
    { month },
  );
  return row ? { month: row.month, confirmedAt: row.confirmed_at, records: row.records, documents: row.documents, feesYen: row.fees_yen } : undefined;
}

/** Locks the month: from now on the database refuses handling records dated in it. */
export function confirmMonth(db: Database, confirmed: ConfirmedMonth): void {
  db.run(
    'INSERT INTO confirmed_months (month, confirmed_at, records, documents, fees_yen) VALUES (:month, :confirmedAt, :records, :documents, :feesYen)',
    { ...confirmed },
  );
}
