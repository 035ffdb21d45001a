// What monthly settlement reads from and writes to the role databases: the handling records of a
// JST month (centre or relay), the kiosks' store business days (relay), and confirmed months
// (centre), whose insert the schema's trigger turns into a lock on that month's records.

import type { HandlingRecord } from '../../core/messages.ts';
import { AppError } from '../../core/errors.ts';
import { parseMonth } from '../../core/handling-csv.ts';
import type { InvoicePayment } from '../../core/invoice-payments.ts';
import { isIsoDate, jstParts } from '../../core/jst.ts';
import type { StoreDay, UnnoticedRequest } from '../../core/reconcile.ts';
import type { MonthConfirmation, SettlementSubmission } from '../../core/settlement.ts';
import type { AuditLog } from './audit-log.ts';
import { handlingRecordFromRow, openCenterDatabase } from './center-store.ts';
import { databaseExists, type Database } from './database.ts';
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
  if (!databaseExists(path)) throw new AppError('usage', 'settlement.no_database', `no ${role} database here`, path);
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

/**
 * effective_handling_records: what was settled in the record's own month (invoice).
 * settlement_records (centre): those plus the records that came after the month was confirmed and
 * were settled later as adjustments: every record the month really had (reconcile).
 */
export type RecordView = 'effective_handling_records' | 'settlement_records';

/** Every handling record that may belong to the month (see widenedRange), as corrected, in issued_at order. */
export function* recordsAroundMonth(db: Database, month: string, view: RecordView = 'effective_handling_records'): Generator<HandlingRecord> {
  const { from, to } = widenedRange(month);
  const rows = db.iterate<Parameters<typeof handlingRecordFromRow>[0]>(
    `SELECT * FROM ${view} WHERE issued_at >= :from AND issued_at < :to ORDER BY issued_at, issuance_id`,
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

/**
 * Requests of the month (JST, by when the centre issued the data) with no handling record and no
 * adjustment: issued but never noticed.
 */
export function unnoticedRequests(db: Database, month: string, operatorId: string | null): UnnoticedRequest[] {
  const monthKey = parseMonth(month)!;
  const startMs = Date.UTC(Math.floor(monthKey / 12), monthKey % 12, 1) - 9 * 3_600_000;
  const endMs = Date.UTC(Math.floor((monthKey + 1) / 12), (monthKey + 1) % 12, 1) - 9 * 3_600_000;
  return db
    .all<{ request_id: string; store_id: string; kiosk_id: string; created_at_ms: number; copies: number; unit_fee_yen: number }>(
      `SELECT r.request_id, r.store_id, r.kiosk_id, r.created_at_ms, r.copies, r.unit_fee_yen FROM requests r
       WHERE r.created_at_ms >= :startMs AND r.created_at_ms < :endMs AND (:operatorId IS NULL OR r.operator_id = :operatorId)
         AND NOT EXISTS (SELECT 1 FROM handling_records h WHERE h.issuance_id = r.request_id)
         AND NOT EXISTS (SELECT 1 FROM settlement_adjustments a WHERE a.issuance_id = r.request_id)
       ORDER BY r.kiosk_id, r.created_at_ms`,
      { startMs, endMs, operatorId },
    )
    .map((row) => ({ issuanceId: row.request_id, storeId: row.store_id, kioskId: row.kiosk_id, issuedAt: new Date(row.created_at_ms).toISOString(), copies: row.copies, feeYen: row.copies * row.unit_fee_yen }));
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

/** The relay's copy of a confirmation the centre agreed (Spec§4-3: the lock is in both logs). */
export function findRelayConfirmation(db: Database, month: string): MonthConfirmation | undefined {
  const row = db.get<{ month: string; submitted_at: string; confirmed_at: string; records: number; documents: number; fees_yen: number }>(
    'SELECT * FROM month_confirmations WHERE month = :month',
    { month },
  );
  return row ? { month: row.month, operatorId: '', submittedAt: row.submitted_at, confirmedAt: row.confirmed_at, records: row.records, documents: row.documents, feesYen: row.fees_yen } : undefined;
}

/** What the operator submitted, in the relay's database and its audit log, before it is sent. */
export function saveRelaySubmission(db: Database, audit: AuditLog, operatorId: string, submission: SettlementSubmission): void {
  const event = { kind: 'settlement.submitted', data: { month: submission.month, operatorId, records: submission.records, documents: submission.documents, feeYen: submission.feesYen } };
  audit.transaction([event], () =>
    db.run('INSERT INTO settlement_submissions (month, submitted_at, records, documents, fees_yen) VALUES (:month, :submittedAt, :records, :documents, :feesYen)', { ...submission }),
  );
}

/** The centre agreed: the relay keeps the lock too, with both parties and the time in its log. */
export function saveRelayConfirmation(db: Database, audit: AuditLog, confirmation: MonthConfirmation): void {
  const event = { kind: 'month.confirmed', data: { month: confirmation.month, operatorId: confirmation.operatorId, records: confirmation.records, documents: confirmation.documents, feeYen: confirmation.feesYen } };
  audit.transaction([event], () =>
    db.run(
      `INSERT OR IGNORE INTO month_confirmations (month, submitted_at, confirmed_at, records, documents, fees_yen)
       VALUES (:month, :submittedAt, :confirmedAt, :records, :documents, :feesYen)`,
      { month: confirmation.month, submittedAt: confirmation.submittedAt, confirmedAt: confirmation.confirmedAt, records: confirmation.records, documents: confirmation.documents, feesYen: confirmation.feesYen },
    ),
  );
}

/** Locks the month: from now on the database refuses handling records dated in it. */
export function confirmMonth(db: Database, confirmed: ConfirmedMonth): void {
  db.run(
    'INSERT INTO confirmed_months (month, confirmed_at, records, documents, fees_yen) VALUES (:month, :confirmedAt, :records, :documents, :feesYen)',
    { ...confirmed },
  );
}

/** JST date both parties confirmed the operator's month (or the whole month was locked), or undefined. */
export function monthConfirmedOn(db: Database, month: string, operatorId: string): string | undefined {
  const row =
    db.get<{ confirmed_at: string }>('SELECT confirmed_at FROM month_confirmations WHERE month = :month AND operator_id = :operatorId', { month, operatorId }) ??
    db.get<{ confirmed_at: string }>('SELECT confirmed_at FROM confirmed_months WHERE month = :month', { month });
  return row ? jstParts(Date.parse(row.confirmed_at)).dateIso : undefined;
}

interface PaymentRow {
  month: string;
  operator_id: string;
  paid_on: string;
  amount_yen: number;
  reference: string | null;
}

/** The payments recorded against a month's invoice (one operator's, or every operator's), in recording order. */
export function listInvoicePayments(db: Database, month: string, operatorId: string | null): InvoicePayment[] {
  return db
    .all<PaymentRow>(
      'SELECT month, operator_id, paid_on, amount_yen, reference FROM invoice_payments WHERE month = :month AND (:operatorId IS NULL OR operator_id = :operatorId) ORDER BY payment_id',
      { month, operatorId },
    )
    .map((row) => ({ month: row.month, operatorId: row.operator_id, paidOn: row.paid_on, amountYen: row.amount_yen, reference: row.reference }));
}

/**
 * Records a payment and its audit entry in one transaction. `refusal` sees the payments already
 * recorded inside that transaction, so two runs at once cannot both pass the duplicate and
 * overpayment checks; when it returns an error nothing is written.
 */
export function recordInvoicePayment(db: Database, audit: AuditLog, payment: InvoicePayment, recordedAtIso: string, refusal: (existing: InvoicePayment[]) => AppError | undefined): void {
  const event = { kind: 'payment.recorded', data: { month: payment.month, operatorId: payment.operatorId, paidOn: payment.paidOn, paidYen: payment.amountYen, reference: payment.reference } };
  audit.transaction([event], () => {
    const refused = refusal(listInvoicePayments(db, payment.month, payment.operatorId));
    if (refused) throw refused;
    db.run(
      `INSERT INTO invoice_payments (month, operator_id, paid_on, amount_yen, reference, recorded_at)
       VALUES (:month, :operatorId, :paidOn, :amountYen, :reference, :recordedAtIso)`,
      { ...payment, recordedAtIso },
    );
  });
}
