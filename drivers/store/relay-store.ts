// The relay's SQLite store: registered kiosks and the operator's own handling records, built from
// the completion notices its kiosks send.

import type { HandlingCorrection, RecordResult } from '../../core/handling-record.ts';
import type { HandlingRecord } from '../../core/messages.ts';
import type { KioskRevocation, RegisteredKiosk, RelayStore, StoreDay, WitnessedCheckpoint } from '../../core/relay-service.ts';
import type { AuditLog } from './audit-log.ts';
import { witnessRecordData, type WitnessRecord } from '../../core/witness.ts';
import { insertCorrection, insertHandlingRecord } from './center-store.ts';
import { openDatabase, type Database } from './database.ts';
import { migrate } from './migrate.ts';
import { RELAY_MIGRATIONS } from './schema.ts';

export function openRelayDatabase(path: string): Database {
  const db = openDatabase(path);
  migrate(db, 'relay', RELAY_MIGRATIONS);
  return db;
}

export function saveKiosk(db: Database, kiosk: RegisteredKiosk & { storeName: string; auditKey: string }): void {
  db.run(
    `INSERT INTO kiosks (kiosk_id, store_id, store_name, active, audit_key) VALUES (:kioskId, :storeId, :storeName, :active, :auditKey)
     ON CONFLICT (kiosk_id) DO UPDATE SET store_id = excluded.store_id, store_name = excluded.store_name, active = excluded.active, audit_key = excluded.audit_key`,
    { kioskId: kiosk.kioskId, storeId: kiosk.storeId, storeName: kiosk.storeName, active: kiosk.active ? 1 : 0, auditKey: kiosk.auditKey },
  );
}

export function createRelayStore(db: Database, audit: AuditLog): RelayStore {
  return {
    findKiosk(kioskId: string): RegisteredKiosk | undefined {
      const row = db.get<{ kiosk_id: string; store_id: string; active: number; audit_key: string | null }>(
        'SELECT kiosk_id, store_id, active, audit_key FROM kiosks WHERE kiosk_id = :kioskId',
        { kioskId },
      );
      return row ? { kioskId: row.kiosk_id, storeId: row.store_id, active: row.active === 1, auditKey: row.audit_key ?? undefined } : undefined;
    },
    latestWitnessed(kioskId: string): WitnessedCheckpoint | undefined {
      return db.get<WitnessedCheckpoint>('SELECT size, note FROM witnessed_checkpoints WHERE kiosk_id = :kioskId ORDER BY size DESC LIMIT 1', { kioskId });
    },
    recordOperatorCorrection(correction: HandlingCorrection): RecordResult {
      const recorded = (result: RecordResult) =>
        result === 'conflict' ? [] : [{ kind: 'correction.received', data: { issuanceId: correction.issuanceId, copies: correction.copies, feeYen: correction.feeYen, reason: correction.reason, duplicate: result === 'duplicate' } }];
      return audit.transaction(recorded, () => insertCorrection(db, correction));
    },
    saveStoreDay(day: StoreDay, receivedAtIso: string): RecordResult {
      const received = (result: RecordResult) =>
        result === 'inserted' ? [{ kind: 'store-day.received', data: { kioskId: day.kioskId, storeId: day.storeId, businessDate: day.businessDate, cashYen: day.cashYen } }] : [];
      return audit.transaction(received, () => {
        const existing = db.get<{ cash_yen: number; transactions: number; documents: number }>(
          'SELECT cash_yen, transactions, documents FROM store_days WHERE kiosk_id = :kioskId AND business_date = :businessDate',
          { kioskId: day.kioskId, businessDate: day.businessDate },
        );
        if (existing) {
          const same = existing.cash_yen === day.cashYen && existing.transactions === day.transactions && existing.documents === day.documents;
          return same ? 'duplicate' : 'conflict';
        }
        db.run(
          `INSERT INTO store_days (kiosk_id, store_id, business_date, cash_yen, transactions, documents, closed_at, received_at)
           VALUES (:kioskId, :storeId, :businessDate, :cashYen, :transactions, :documents, :closedAt, :receivedAtIso)`,
          { ...day, receivedAtIso },
        );
        return 'inserted';
      });
    },
    saveWitnessed(kioskId: string, checkpoint: WitnessedCheckpoint & { record: WitnessRecord }, receivedAtIso: string): void {
      audit.transaction([{ kind: 'witness.checkpoint', data: { kioskId, ...witnessRecordData(checkpoint.record) } }], () => {
        db.run('INSERT OR IGNORE INTO witnessed_checkpoints (kiosk_id, size, note, received_at) VALUES (:kioskId, :size, :note, :receivedAtIso)', {
          kioskId,
          size: checkpoint.size,
          note: checkpoint.note,
          receivedAtIso,
        });
        db.run('UPDATE kiosks SET witnessed_at = :receivedAtIso, witness_failure = NULL WHERE kiosk_id = :kioskId', { kioskId, receivedAtIso });
      });
    },
    noteWitnessed(kioskId: string, atIso: string): void {
      db.run('UPDATE kiosks SET witnessed_at = :atIso, witness_failure = NULL WHERE kiosk_id = :kioskId', { kioskId, atIso });
    },
    noteWitnessFailure(kioskId: string, code: string): void {
      db.run('UPDATE kiosks SET witness_failure = :code WHERE kiosk_id = :kioskId', { kioskId, code });
    },
    revokeKiosk(revocation: KioskRevocation): void {
      const { kioskId, storeId, serialNumber, finalSize } = revocation;
      audit.transaction([{ kind: 'kiosk.revoked', data: { kioskId, storeId, size: finalSize, serialNumber } }], () => {
        db.run(
          `INSERT INTO revoked_certificates (fingerprint256, serial_number, kiosk_id, final_size, revoked_at)
           VALUES (:fingerprint256, :serialNumber, :kioskId, :finalSize, :revokedAtIso)`,
          { fingerprint256: revocation.fingerprint256, serialNumber, kioskId, finalSize, revokedAtIso: revocation.revokedAtIso },
        );
        db.run('UPDATE kiosks SET active = 0 WHERE kiosk_id = :kioskId', { kioskId });
      });
    },
    noteKioskSeen(kioskId: string, atIso: string): void {
      db.run('UPDATE kiosks SET last_seen_at = :atIso WHERE kiosk_id = :kioskId', { kioskId, atIso });
    },
    recordOperatorRecord(record: HandlingRecord, receivedAtIso: string): RecordResult {
      const recorded = (result: RecordResult) =>
        result === 'conflict'
          ? []
          : [{ kind: 'completion.received', data: { issuanceId: record.issuanceId, kioskId: record.kioskId, copies: record.copies, feeYen: record.feeYen, duplicate: result === 'duplicate' } }];
      return audit.transaction(recorded, () => insertHandlingRecord(db, record, { received_at: receivedAtIso }));
    },
  };
}

/** True when a decommissioned kiosk's certificate has this fingerprint: the handshake is refused. */
export function isCertificateRevoked(db: Database, fingerprint256: string): boolean {
  return db.get('SELECT 1 AS revoked FROM revoked_certificates WHERE fingerprint256 = :fingerprint256', { fingerprint256 }) !== undefined;
}

/** The checkpoints the relay witnessed for one kiosk, oldest first: evidence against a rewritten kiosk log. */
export function witnessedCheckpoints(db: Database, kioskId: string): WitnessedCheckpoint[] {
  return db.all<WitnessedCheckpoint>('SELECT size, note FROM witnessed_checkpoints WHERE kiosk_id = :kioskId ORDER BY size', { kioskId });
}

export interface KioskStatusRow {
  kioskId: string;
  storeId: string;
  storeName: string;
  active: boolean;
  lastSeenAt: string | null;
  witnessedSize: number | null;
  /** When the relay last accepted (or re-confirmed) the kiosk's checkpoint. */
  witnessedAt: string | null;
  /** Why the relay refused the kiosk's last offer (witness.inconsistent, witness.bad_signature …). */
  witnessFailure: string | null;
  lastClosedDay: string | null;
}

/** Every registered kiosk with when it was last heard from: what a technician looks at first. */
export function kioskStatuses(db: Database): KioskStatusRow[] {
  return db
    .all<{ kiosk_id: string; store_id: string; store_name: string; active: number; last_seen_at: string | null; witnessed: number | null; witnessed_at: string | null; witness_failure: string | null; closed: string | null }>(
      `SELECT k.kiosk_id, k.store_id, k.store_name, k.active, k.last_seen_at, k.witnessed_at, k.witness_failure,
              (SELECT MAX(size) FROM witnessed_checkpoints w WHERE w.kiosk_id = k.kiosk_id) AS witnessed,
              (SELECT MAX(business_date) FROM store_days d WHERE d.kiosk_id = k.kiosk_id) AS closed
       FROM kiosks k ORDER BY k.store_id, k.kiosk_id`,
    )
    .map((row) => ({
      kioskId: row.kiosk_id,
      storeId: row.store_id,
      storeName: row.store_name,
      active: row.active === 1,
      lastSeenAt: row.last_seen_at,
      witnessedSize: row.witnessed,
      witnessedAt: row.witnessed_at,
      witnessFailure: row.witness_failure,
      lastClosedDay: row.closed,
    }));
}

/** The last checkpoint of `origin` (the centre's log) this relay cosigned. */
export function latestCosigned(db: Database, origin: string): WitnessedCheckpoint | undefined {
  return db.get<WitnessedCheckpoint>('SELECT size, note FROM cosigned_checkpoints WHERE origin = :origin ORDER BY size DESC LIMIT 1', { origin });
}

export function saveCosigned(db: Database, origin: string, size: number, note: string, cosignedAtIso: string): void {
  db.run('INSERT OR IGNORE INTO cosigned_checkpoints (origin, size, note, cosigned_at) VALUES (:origin, :size, :note, :cosignedAtIso)', { origin, size, note, cosignedAtIso });
}
