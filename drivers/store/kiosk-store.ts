// The kiosk's SQLite store: its own transaction records and the completion-notice outbox. The
// outbox is written in the same transaction as the record, so a notice can never be lost.

import { formatUtcIso } from '../../core/jst.ts';
import type { KioskLedger, KioskTransactionRecord } from '../../core/kiosk-transaction.ts';
import type { CompletionNotice } from '../../core/messages.ts';
import type { AuditLog } from './audit-log.ts';
import { openDatabase, type Database } from './database.ts';
import { migrate } from './migrate.ts';
import { KIOSK_MIGRATIONS } from './schema.ts';

export function openKioskDatabase(path: string): Database {
  const db = openDatabase(path);
  migrate(db, 'kiosk', KIOSK_MIGRATIONS);
  return db;
}

export interface PendingNotice {
  notice: CompletionNotice;
  attempts: number;
}

export interface KioskStore extends KioskLedger {
  pendingNotices(limit: number): PendingNotice[];
  markAcknowledged(issuanceId: string, atMs: number): void;
  markAttemptFailed(issuanceId: string, errorCode: string): void;
  transactions(): KioskTransactionRecord[];
  /** Largest checkpoint size the relay acknowledged as witnessed; 0 before the first. */
  lastWitnessedSize(): number;
  markWitnessed(size: number, atMs: number): void;
}

export function createKioskStore(db: Database, audit: AuditLog): KioskStore {
  return {
    recordTransaction(record: KioskTransactionRecord, notice: CompletionNotice): void {
      const recorded = [{ kind: 'transaction.recorded', data: { requestId: record.requestId, outcome: record.outcome, copies: record.copies, feeYen: record.feeYen } }];
      audit.transaction(recorded, () => {
        db.run(
          `INSERT INTO transactions (request_id, issued_at, municipality_code, certificate_type, copies, fee_yen, outcome)
           VALUES (:requestId, :issuedAt, :municipalityCode, :certificateType, :copies, :feeYen, :outcome)`,
          {
            requestId: record.requestId,
            issuedAt: formatUtcIso(record.issuedAtMs),
            municipalityCode: record.municipalityCode,
            certificateType: record.certificateType,
            copies: record.copies,
            feeYen: record.feeYen,
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
          'SELECT notice, attempts FROM outbox WHERE acknowledged_at IS NULL ORDER BY created_at, issuance_id LIMIT :limit',
          { limit },
        )
        .map((row) => ({ notice: JSON.parse(row.notice) as CompletionNotice, attempts: row.attempts }));
    },
    markAcknowledged(issuanceId: string, atMs: number): void {
      audit.transaction([{ kind: 'notice.acknowledged', data: { issuanceId } }], () => db.run('UPDATE outbox SET acknowledged_at = :at, attempts = attempts + 1, last_error = NULL WHERE issuance_id = :issuanceId', {
        issuanceId,
        at: formatUtcIso(atMs),
      }));
    },
    markAttemptFailed(issuanceId: string, errorCode: string): void {
      audit.transaction([{ kind: 'notice.failed', data: { issuanceId, code: errorCode } }], () =>
        db.run('UPDATE outbox SET attempts = attempts + 1, last_error = :errorCode WHERE issuance_id = :issuanceId', { issuanceId, errorCode }),
      );
    },
    lastWitnessedSize(): number {
      return db.get<{ size: number }>('SELECT MAX(size) AS size FROM audit_witnessed')?.size ?? 0;
    },
    markWitnessed(size: number, atMs: number): void {
      db.run('INSERT OR IGNORE INTO audit_witnessed (size, acknowledged_at) VALUES (:size, :at)', { size, at: formatUtcIso(atMs) });
    },
    transactions(): KioskTransactionRecord[] {
      return db
        .all<{ request_id: string; issued_at: string; municipality_code: string; certificate_type: string; copies: number; fee_yen: number; outcome: string }>(
          'SELECT * FROM transactions ORDER BY issued_at, request_id',
        )
        .map((row) => ({
          requestId: row.request_id,
          issuedAtMs: Date.parse(row.issued_at),
          municipalityCode: row.municipality_code,
          certificateType: row.certificate_type as KioskTransactionRecord['certificateType'],
          copies: row.copies,
          feeYen: row.fee_yen,
          outcome: row.outcome as KioskTransactionRecord['outcome'],
        }));
    },
  };
}
