// The kiosk's SQLite store: its own transaction records and the completion-notice outbox. The
// outbox is written in the same transaction as the record, so a notice can never be lost.

import { faultReport, type ConditionMemory, type FaultReport } from '../../core/alerts.ts';
import { formatUtcIso } from '../../core/jst.ts';
import type { KioskLedger, KioskTransactionRecord } from '../../core/kiosk-transaction.ts';
import type { LoginState } from '../../core/maintenance.ts';
import type { CompletionNotice, CorrectionNotice } from '../../core/messages.ts';
import type { Outbox } from '../../core/outbox.ts';
import { witnessedSizesIn, type AuditLog, type WitnessedSizes } from './audit-log.ts';
import { openDatabase, type Database } from './database.ts';
import { migrate } from './migrate.ts';
import { KIOSK_MIGRATIONS } from './schema.ts';

export function openKioskDatabase(path: string): Database {
  const db = openDatabase(path);
  migrate(db, 'kiosk', KIOSK_MIGRATIONS);
  return db;
}

export interface PendingNotice {
  notice: CompletionNotice | CorrectionNotice;
  attempts: number;
}

export interface KioskStore extends KioskLedger, WitnessedSizes, Outbox {
  pendingNotices(limit: number): PendingNotice[];
  /** How many notices wait for the centre, and since when the oldest has (UTC ISO; null when none): for `kiosk diagnose`. */
  outboxBacklog(): { pending: number; oldestCreatedAt: string | null };
  /** Queues a correction notice (Spec§13-2) in the outbox, with its audit entry. */
  queueCorrection(notice: CorrectionNotice): void;
  rejectedNotices(): { notice: CompletionNotice | CorrectionNotice; errorCode: string }[];
  transactions(): KioskTransactionRecord[];
  /** Closes a store business day (JST date) with what the cash unit kept that day; idempotent. */
  closeDay(businessDate: string, atMs: number): DayClose;
  /** JST dates before `today` with transactions and no close yet. */
  unclosedDaysBefore(today: string): string[];
  unacknowledgedDayCloses(): DayClose[];
  markDayCloseAcknowledged(businessDate: string, atMs: number): void;
  maintenanceCredential(): MaintenanceCredential | undefined;
  /** Records a login attempt's outcome and the lockout state it leaves, with its audit entry. */
  recordMaintenanceLogin(outcome: 'accepted' | 'rejected' | 'locked', state: LoginState): void;
  setMaintenancePassword(passwordHash: string, atMs: number): void;
  /**
   * A fault, in the audit log; a device fault (core/alerts.ts faultDevice) also into the fault
   * outbox in the same transaction, so it reaches the relay after an outage or a restart.
   */
  recordFault(fault: { faultId: string; kioskId: string; code: string; requestId?: string; atMs: number }): void;
  /** Device faults the relay has not yet taken, oldest first. */
  pendingFaults(limit: number): FaultReport[];
  markFaultReported(faultId: string, atMs: number): void;
  markFaultAttemptFailed(faultId: string, errorCode: string): void;
  /** The relay refused the report for good (HTTP 400/409): it leaves the queue, kept with its reason. */
  markFaultRejected(faultId: string, errorCode: string, atMs: number): void;
  /** The watched conditions (disk, clock) reported failing and not yet seen cleared. */
  conditions(atMs: () => number): ConditionMemory;
}

export interface MaintenanceCredential extends LoginState {
  passwordHash: string;
}

export interface DayClose {
  businessDate: string;
  cashYen: number;
  transactions: number;
  documents: number;
  closedAt: string;
}

/** UTC ISO bounds of a JST calendar date, comparable with the stored issued_at text. */
function jstDayBounds(businessDate: string): { startIso: string; endIso: string } {
  const startMs = Date.parse(`${businessDate}T00:00:00+09:00`);
  return { startIso: new Date(startMs).toISOString(), endIso: new Date(startMs + 24 * 60 * 60 * 1000).toISOString() };
}

export function createKioskStore(db: Database, audit: AuditLog): KioskStore {
  return {
    recordTransaction(record: KioskTransactionRecord, notice: CompletionNotice): void {
      const recorded = [{ kind: 'transaction.recorded', data: { requestId: record.requestId, outcome: record.outcome, copies: record.copies, feeYen: record.feeYen } }];
      audit.transaction(recorded, () => {
        db.run(
          `INSERT INTO transactions (request_id, issued_at, municipality_code, certificate_type, copies, fee_yen, cash_kept_yen, outcome)
           VALUES (:requestId, :issuedAt, :municipalityCode, :certificateType, :copies, :feeYen, :cashKeptYen, :outcome)`,
          {
            requestId: record.requestId,
            issuedAt: formatUtcIso(record.issuedAtMs),
            municipalityCode: record.municipalityCode,
            certificateType: record.certificateType,
            copies: record.copies,
            feeYen: record.feeYen,
            cashKeptYen: record.cashKeptYen,
            outcome: record.outcome,
          },
        );
        db.run('INSERT INTO outbox (issuance_id, notice, created_at) VALUES (:issuanceId, :notice, :createdAt)', {
          issuanceId: notice.issuanceId,
          notice: JSON.stringify(notice),
          createdAt: formatUtcIso(record.issuedAtMs),
        });
      });
    },
    pendingNotices(limit: number): PendingNotice[] {
      return db
        .all<{ notice: string; attempts: number }>(
          'SELECT notice, attempts FROM outbox WHERE acknowledged_at IS NULL AND rejected_at IS NULL ORDER BY created_at, issuance_id LIMIT :limit',
          { limit },
        )
        .map((row) => ({ notice: JSON.parse(row.notice) as CompletionNotice | CorrectionNotice, attempts: row.attempts }));
    },
    outboxBacklog() {
      const row = db.get<{ pending: number; oldest: string | null }>('SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox WHERE acknowledged_at IS NULL AND rejected_at IS NULL');
      return { pending: row?.pending ?? 0, oldestCreatedAt: row?.oldest ?? null };
    },
    queueCorrection(notice: CorrectionNotice): void {
      audit.transaction([{ kind: 'correction.queued', data: { issuanceId: notice.issuanceId, copies: notice.copies, feeYen: notice.feeYen, reason: notice.reason } }], () =>
        db.run('INSERT INTO outbox (issuance_id, notice, created_at) VALUES (:key, :notice, :createdAt)', {
          key: notice.correctionId,
          notice: JSON.stringify(notice),
          createdAt: formatUtcIso(Date.parse(notice.correctedAt)),
        }),
      );
    },
    markAcknowledged(key: string, atMs: number): void {
      audit.transaction([{ kind: 'notice.acknowledged', data: { issuanceId: key } }], () =>
        db.run('UPDATE outbox SET acknowledged_at = :at, attempts = attempts + 1, last_error = NULL WHERE issuance_id = :key', { key, at: formatUtcIso(atMs) }),
      );
    },
    markAttemptFailed(key: string, errorCode: string): void {
      audit.transaction([{ kind: 'notice.failed', data: { issuanceId: key, code: errorCode } }], () =>
        db.run('UPDATE outbox SET attempts = attempts + 1, last_error = :errorCode WHERE issuance_id = :key', { key, errorCode }),
      );
    },
    markRejected(key: string, errorCode: string, atMs: number): void {
      audit.transaction([{ kind: 'notice.rejected', data: { issuanceId: key, code: errorCode } }], () =>
        db.run('UPDATE outbox SET attempts = attempts + 1, last_error = :errorCode, rejected_at = :at WHERE issuance_id = :key', { key, errorCode, at: formatUtcIso(atMs) }),
      );
    },
    rejectedNotices() {
      return db
        .all<{ notice: string; last_error: string }>('SELECT notice, last_error FROM outbox WHERE rejected_at IS NOT NULL ORDER BY created_at, issuance_id')
        .map((row) => ({ notice: JSON.parse(row.notice) as CompletionNotice | CorrectionNotice, errorCode: row.last_error }));
    },
    ...witnessedSizesIn(db),
    closeDay(businessDate: string, atMs: number): DayClose {
      const existing = db.get<{ business_date: string; cash_yen: number; transactions: number; documents: number; closed_at: string }>(
        'SELECT * FROM day_closes WHERE business_date = :businessDate',
        { businessDate },
      );
      if (existing) {
        return { businessDate, cashYen: existing.cash_yen, transactions: existing.transactions, documents: existing.documents, closedAt: existing.closed_at };
      }
      const totals = db.get<{ cash: number | null; transactions: number; documents: number | null }>(
        `SELECT SUM(cash_kept_yen) AS cash, SUM(outcome = 'issued') AS transactions, SUM(copies) AS documents
         FROM transactions WHERE issued_at >= :startIso AND issued_at < :endIso`,
        jstDayBounds(businessDate),
      )!;
      const close: DayClose = { businessDate, cashYen: totals.cash ?? 0, transactions: totals.transactions ?? 0, documents: totals.documents ?? 0, closedAt: formatUtcIso(atMs) };
      audit.transaction([{ kind: 'day.closed', data: { businessDate, cashYen: close.cashYen, transactions: close.transactions, documents: close.documents } }], () =>
        db.run(
          'INSERT INTO day_closes (business_date, cash_yen, transactions, documents, closed_at) VALUES (:businessDate, :cashYen, :transactions, :documents, :closedAt)',
          { ...close },
        ),
      );
      return close;
    },
    unclosedDaysBefore(today: string): string[] {
      return db
        .all<{ business_date: string }>(
          `SELECT DISTINCT substr(datetime(issued_at, '+9 hours'), 1, 10) AS business_date FROM transactions
           WHERE business_date < :today AND business_date NOT IN (SELECT business_date FROM day_closes) ORDER BY business_date`,
          { today },
        )
        .map((row) => row.business_date);
    },
    unacknowledgedDayCloses(): DayClose[] {
      return db
        .all<{ business_date: string; cash_yen: number; transactions: number; documents: number; closed_at: string }>(
          'SELECT * FROM day_closes WHERE acknowledged_at IS NULL ORDER BY business_date',
        )
        .map((row) => ({ businessDate: row.business_date, cashYen: row.cash_yen, transactions: row.transactions, documents: row.documents, closedAt: row.closed_at }));
    },
    markDayCloseAcknowledged(businessDate: string, atMs: number): void {
      db.run('UPDATE day_closes SET acknowledged_at = :at WHERE business_date = :businessDate', { businessDate, at: formatUtcIso(atMs) });
    },
    maintenanceCredential(): MaintenanceCredential | undefined {
      const row = db.get<{ password_hash: string; failures: number; locked_until_ms: number }>('SELECT * FROM maintenance_credential WHERE id = 1');
      return row ? { passwordHash: row.password_hash, failures: row.failures, lockedUntilMs: row.locked_until_ms } : undefined;
    },
    recordMaintenanceLogin(outcome, state): void {
      audit.transaction([{ kind: 'maintenance.login', data: { outcome } }], () =>
        db.run('UPDATE maintenance_credential SET failures = :failures, locked_until_ms = :lockedUntilMs WHERE id = 1', { ...state }),
      );
    },
    setMaintenancePassword(passwordHash: string, atMs: number): void {
      audit.transaction([{ kind: 'maintenance.password-changed' }], () =>
        db.run(
          `INSERT INTO maintenance_credential (id, password_hash, changed_at) VALUES (1, :passwordHash, :changedAt)
           ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, failures = 0, locked_until_ms = 0, changed_at = excluded.changed_at`,
          { passwordHash, changedAt: formatUtcIso(atMs) },
        ),
      );
    },
    conditions(atMs) {
      return {
        isFailing: (code) => db.get('SELECT 1 AS failing FROM failing_conditions WHERE code = :code', { code }) !== undefined,
        markFailing: (code) => void db.run('INSERT OR IGNORE INTO failing_conditions (code, since) VALUES (:code, :since)', { code, since: formatUtcIso(atMs()) }),
        markCleared: (code) => void db.run('DELETE FROM failing_conditions WHERE code = :code', { code }),
      };
    },
    recordFault(fault): void {
      const report = faultReport(fault);
      const data = { code: fault.code, ...(fault.requestId === undefined ? {} : { requestId: fault.requestId }), ...(report ? { faultId: report.faultId } : {}) };
      audit.transaction([{ kind: 'fault', data }], () => {
        if (!report) return;
        db.run('INSERT INTO fault_outbox (fault_id, report, created_at) VALUES (:faultId, :report, :createdAt)', { faultId: report.faultId, report: JSON.stringify(report), createdAt: report.occurredAt });
      });
    },
    pendingFaults(limit: number): FaultReport[] {
      return db
        .all<{ report: string }>('SELECT report FROM fault_outbox WHERE acknowledged_at IS NULL AND rejected_at IS NULL ORDER BY created_at, fault_id LIMIT :limit', { limit })
        .map((row) => JSON.parse(row.report) as FaultReport);
    },
    markFaultReported(faultId: string, atMs: number): void {
      audit.transaction([{ kind: 'fault.reported', data: { faultId } }], () =>
        db.run('UPDATE fault_outbox SET acknowledged_at = :at, attempts = attempts + 1, last_error = NULL WHERE fault_id = :faultId', { faultId, at: formatUtcIso(atMs) }),
      );
    },
    markFaultAttemptFailed(faultId: string, errorCode: string): void {
      db.run('UPDATE fault_outbox SET attempts = attempts + 1, last_error = :errorCode WHERE fault_id = :faultId', { faultId, errorCode });
    },
    markFaultRejected(faultId: string, errorCode: string, atMs: number): void {
      audit.transaction([{ kind: 'fault.rejected', data: { faultId, code: errorCode } }], () =>
        db.run('UPDATE fault_outbox SET attempts = attempts + 1, last_error = :errorCode, rejected_at = :at WHERE fault_id = :faultId', { faultId, errorCode, at: formatUtcIso(atMs) }),
      );
    },
    transactions(): KioskTransactionRecord[] {
      return db
        .all<{ request_id: string; issued_at: string; municipality_code: string; certificate_type: string; copies: number; fee_yen: number; cash_kept_yen: number; outcome: string }>(
          'SELECT * FROM transactions ORDER BY issued_at, request_id',
        )
        .map((row) => ({
          requestId: row.request_id,
          issuedAtMs: Date.parse(row.issued_at),
          municipalityCode: row.municipality_code,
          certificateType: row.certificate_type as KioskTransactionRecord['certificateType'],
          copies: row.copies,
          feeYen: row.fee_yen,
          cashKeptYen: row.cash_kept_yen,
          outcome: row.outcome as KioskTransactionRecord['outcome'],
        }));
    },
  };
}
