// The relay's SQLite store: registered kiosks and the operator's own handling records, built from
// the completion notices its kiosks send.

import { operatorNoticesFrom, saveOperatorNotice } from './operator-notices.ts';
import { alertTargets, type Alert, type AlertTarget, type DeliveryStep, type FaultDevice, type FaultReport } from '../../core/alerts.ts';
import type { HandlingCorrection, RecordResult } from '../../core/handling-record.ts';
import type { OperatorNotice } from '../../core/service-notices.ts';
import type { IncidentReport } from '../../core/incidents.ts';
import { incidentEntry, incidentReports, saveIncidentReport } from './incidents.ts';
export { incidentReports };
import type { HandlingRecord } from '../../core/messages.ts';
import { formatUtcIso } from '../../core/jst.ts';
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
    operatorNotices: (fromMs) => operatorNoticesFrom(db, fromMs),
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
      db.run('UPDATE kiosks SET witness_failure = :code, witness_failures = witness_failures + 1 WHERE kiosk_id = :kioskId', { kioskId, code });
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
    revocationOf(fingerprint256: string): KioskRevocation | undefined {
      const row = db.get<{ serial_number: string; kiosk_id: string; final_size: number; revoked_at: string; store_id: string }>(
        'SELECT r.serial_number, r.kiosk_id, r.final_size, r.revoked_at, k.store_id FROM revoked_certificates r JOIN kiosks k ON k.kiosk_id = r.kiosk_id WHERE r.fingerprint256 = :fingerprint256',
        { fingerprint256 },
      );
      return row && { kioskId: row.kiosk_id, storeId: row.store_id, serialNumber: row.serial_number, fingerprint256, finalSize: row.final_size, revokedAtIso: row.revoked_at };
    },
    saveFault(fault: FaultReport & { storeId: string }, receivedAtIso: string): RecordResult {
      const received = (result: RecordResult) =>
        result === 'conflict' ? [] : [{ kind: 'fault.received', data: { faultId: fault.faultId, kioskId: fault.kioskId, storeId: fault.storeId, device: fault.device, code: fault.code, duplicate: result === 'duplicate' } }];
      return audit.transaction(received, () => {
        const existing = db.get<{ kiosk_id: string; device: string; code: string; request_id: string | null; occurred_at: string }>('SELECT kiosk_id, device, code, request_id, occurred_at FROM faults WHERE fault_id = :faultId', { faultId: fault.faultId });
        if (existing) {
          const same = existing.kiosk_id === fault.kioskId && existing.device === fault.device && existing.code === fault.code && existing.request_id === fault.requestId && existing.occurred_at === fault.occurredAt;
          return same ? 'duplicate' : 'conflict';
        }
        db.run(
          `INSERT INTO faults (fault_id, kiosk_id, store_id, device, code, request_id, occurred_at, received_at)
           VALUES (:faultId, :kioskId, :storeId, :device, :code, :requestId, :occurredAt, :receivedAtIso)`,
          { faultId: fault.faultId, kioskId: fault.kioskId, storeId: fault.storeId, device: fault.device, code: fault.code, requestId: fault.requestId, occurredAt: fault.occurredAt, receivedAtIso },
        );
        return 'inserted';
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
  /** Offers of its checkpoint the relay refused, counted over its life. */
  witnessFailures: number;
}

/** Every registered kiosk with when it was last heard from: what a technician looks at first. */
export function kioskStatuses(db: Database): KioskStatusRow[] {
  return db
    .all<{ kiosk_id: string; store_id: string; store_name: string; active: number; last_seen_at: string | null; witnessed: number | null; witnessed_at: string | null; witness_failure: string | null; witness_failures: number; closed: string | null }>(
      `SELECT k.kiosk_id, k.store_id, k.store_name, k.active, k.last_seen_at, k.witnessed_at, k.witness_failure, k.witness_failures,
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
      witnessFailures: row.witness_failures,
    }));
}

/** The last checkpoint of `origin` (the centre's log) this relay cosigned. */
export function latestCosigned(db: Database, origin: string): WitnessedCheckpoint | undefined {
  return db.get<WitnessedCheckpoint>('SELECT size, note FROM cosigned_checkpoints WHERE origin = :origin ORDER BY size DESC LIMIT 1', { origin });
}

export function saveCosigned(db: Database, origin: string, size: number, note: string, cosignedAtIso: string): void {
  db.run('INSERT OR IGNORE INTO cosigned_checkpoints (origin, size, note, cosigned_at) VALUES (:origin, :size, :note, :cosignedAtIso)', { origin, size, note, cosignedAtIso });
}

// The alert queue (docs/alerts.md): faults and outages become one delivery per target, each tried
// until delivered or given up, each attempt in the relay's audit log.

/** An open fault as `relay status` shows it (not yet cleared by a technician): the kiosk's report. */
export type OpenFault = FaultReport;

export function openFaults(db: Database): OpenFault[] {
  return db
    .all<{ fault_id: string; kiosk_id: string; device: string; code: string; request_id: string | null; occurred_at: string }>(
      'SELECT fault_id, kiosk_id, device, code, request_id, occurred_at FROM faults WHERE cleared_at IS NULL ORDER BY occurred_at, fault_id',
    )
    .map((row) => ({ faultId: row.fault_id, kioskId: row.kiosk_id, device: row.device as FaultDevice, code: row.code, requestId: row.request_id, occurredAt: row.occurred_at }));
}

/** A technician cleared the kiosk's open faults (the device is repaired); says how many. */
export function clearFaults(db: Database, audit: AuditLog, kioskId: string, atIso: string): number {
  return audit.transaction(
    (count: number) => (count > 0 ? [{ kind: 'fault.cleared', data: { kioskId, count } }] : []),
    () => db.run('UPDATE faults SET cleared_at = :atIso WHERE kiosk_id = :kioskId AND cleared_at IS NULL', { kioskId, atIso }).changes,
  );
}

/** Where alerts go: the targets that have an endpoint for this store. */
export type AlertRouting = (storeId: string) => readonly AlertTarget[];

function queueDeliveries(db: Database, alert: Alert, targets: readonly AlertTarget[], atIso: string): void {
  for (const target of targets) {
    db.run(
      `INSERT OR IGNORE INTO alert_deliveries (alert_id, target, store_id, kiosk_id, body, created_at, next_attempt_at)
       VALUES (:alertId, :target, :storeId, :kioskId, :body, :atIso, :atIso)`,
      { alertId: alert.alertId, target, storeId: alert.storeId, kioskId: alert.kioskId, body: JSON.stringify(alert), atIso },
    );
  }
}

/** Faults received and not yet queued, each turned into its deliveries (in one transaction each); says how many. */
export function queueFaultAlerts(db: Database, toAlert: (fault: FaultReport & { storeId: string }) => Alert, routing: AlertRouting, atIso: string): number {
  const faults = db.all<{ fault_id: string; kiosk_id: string; store_id: string; device: string; code: string; request_id: string | null; occurred_at: string }>(
    'SELECT fault_id, kiosk_id, store_id, device, code, request_id, occurred_at FROM faults WHERE alerts_queued_at IS NULL ORDER BY received_at, fault_id LIMIT 100',
  );
  for (const row of faults) {
    const alert = toAlert({ faultId: row.fault_id, kioskId: row.kiosk_id, storeId: row.store_id, device: row.device as FaultDevice, code: row.code, requestId: row.request_id, occurredAt: row.occurred_at });
    const targets = routing(row.store_id).filter((target) => alertTargets('fault').includes(target));
    db.transaction(() => {
      queueDeliveries(db, alert, targets, atIso);
      db.run('UPDATE faults SET alerts_queued_at = :atIso WHERE fault_id = :faultId', { faultId: row.fault_id, atIso });
    });
  }
  return faults.length;
}

/** Outages raised and not yet ended, by kiosk: the last contact that names each. */
export function openOutages(db: Database): Map<string, string> {
  return new Map(db.all<{ kiosk_id: string; silent_since: string }>('SELECT kiosk_id, silent_since FROM kiosk_outages WHERE recovered_at IS NULL').map((row) => [row.kiosk_id, row.silent_since]));
}

/** Raises a kiosk's outage once: a second raise of the same outage changes nothing. */
export function raiseOutage(db: Database, audit: AuditLog, alert: Alert, silentSince: string, routing: AlertRouting, atIso: string): void {
  const targets = routing(alert.storeId).filter((target) => alertTargets(alert.kind).includes(target));
  audit.transaction(
    (raised: boolean) => (raised ? [{ kind: 'kiosk.down', data: { kioskId: alert.kioskId, storeId: alert.storeId } }] : []),
    () => {
      const raised = db.run('INSERT OR IGNORE INTO kiosk_outages (kiosk_id, silent_since, raised_at) VALUES (:kioskId, :silentSince, :atIso)', { kioskId: alert.kioskId, silentSince, atIso }).changes > 0;
      if (raised) queueDeliveries(db, alert, targets, atIso);
      return raised;
    },
  );
}

/** Ends a kiosk's outage, with a recovery alert unless `alert` is undefined (a decommissioned kiosk). */
export function endOutage(db: Database, audit: AuditLog, kiosk: { kioskId: string; storeId: string }, silentSince: string, alert: Alert | undefined, routing: AlertRouting, atIso: string): void {
  audit.transaction([{ kind: 'kiosk.recovered', data: { kioskId: kiosk.kioskId, storeId: kiosk.storeId } }], () => {
    db.run('UPDATE kiosk_outages SET recovered_at = :atIso WHERE kiosk_id = :kioskId AND silent_since = :silentSince', { kioskId: kiosk.kioskId, silentSince, atIso });
    if (alert) queueDeliveries(db, alert, routing(alert.storeId).filter((target) => alertTargets(alert.kind).includes(target)), atIso);
  });
}

export interface DueDelivery {
  alertId: string;
  target: AlertTarget;
  storeId: string;
  kioskId: string;
  /** The alert JSON as queued: every attempt sends the same bytes. */
  body: string;
  attempts: number;
}

/** Deliveries whose next attempt is due, oldest first, at most `limit`. */
export function dueDeliveries(db: Database, atIso: string, limit: number): DueDelivery[] {
  return db
    .all<{ alert_id: string; target: string; store_id: string; kiosk_id: string; body: string; attempts: number }>(
      `SELECT alert_id, target, store_id, kiosk_id, body, attempts FROM alert_deliveries
       WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= :atIso ORDER BY next_attempt_at, alert_id, target LIMIT :limit`,
      { atIso, limit },
    )
    .map((row) => ({ alertId: row.alert_id, target: row.target as AlertTarget, storeId: row.store_id, kioskId: row.kiosk_id, body: row.body, attempts: row.attempts }));
}

/** When the next queued delivery is due (UTC ISO), undefined when none waits. */
export function nextDeliveryAt(db: Database): string | undefined {
  return db.get<{ at: string | null }>('SELECT MIN(next_attempt_at) AS at FROM alert_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL')?.at ?? undefined;
}

/** Records one attempt's outcome with its audit entry: alert.delivered, alert.retrying or alert.failed. */
export function recordDeliveryStep(db: Database, audit: AuditLog, delivery: DueDelivery, step: DeliveryStep, status: number | undefined, atIso: string): void {
  const key = { alertId: delivery.alertId, target: delivery.target };
  const about = { ...key, kioskId: delivery.kioskId, attempt: step.attempts };
  if (step.state === 'delivered') {
    audit.transaction([{ kind: 'alert.delivered', data: { ...about, status: status ?? 0 } }], () =>
      db.run('UPDATE alert_deliveries SET attempts = :attempts, delivered_at = :atIso, last_error = NULL WHERE alert_id = :alertId AND target = :target', { ...key, attempts: step.attempts, atIso }),
    );
  } else if (step.state === 'retry') {
    audit.transaction([{ kind: 'alert.retrying', data: { ...about, code: step.reason } }], () =>
      db.run('UPDATE alert_deliveries SET attempts = :attempts, last_error = :reason, next_attempt_at = :next WHERE alert_id = :alertId AND target = :target', {
        ...key,
        attempts: step.attempts,
        reason: step.reason,
        next: formatUtcIso(step.nextAttemptAtMs),
      }),
    );
  } else {
    audit.transaction([{ kind: 'alert.failed', data: { ...about, code: step.reason } }], () =>
      db.run('UPDATE alert_deliveries SET attempts = :attempts, last_error = :reason, failed_at = :atIso WHERE alert_id = :alertId AND target = :target', { ...key, attempts: step.attempts, reason: step.reason, atIso }),
    );
  }
}

/** Deliveries still waiting and given up, for `relay status`. */
export function alertBacklog(db: Database): { pending: number; failed: number } {
  const row = db.get<{ pending: number | null; failed: number | null }>(
    'SELECT SUM(delivered_at IS NULL AND failed_at IS NULL) AS pending, SUM(failed_at IS NOT NULL) AS failed FROM alert_deliveries',
  );
  return { pending: row?.pending ?? 0, failed: row?.failed ?? 0 };
}

/**
 * Keeps the operator's own notice once the centre has it (relay notice, Spec§7-4), with its audit
 * entry; from then on it is in every kiosk's notices. The same notice again is a duplicate.
 */
export function announceOperatorNotice(db: Database, audit: AuditLog, notice: OperatorNotice, atIso: string): RecordResult {
  return saveOperatorNotice(db, audit, notice, atIso, (result) =>
    result === 'inserted' ? [{ kind: 'operator-notice.announced', data: { noticeId: notice.noticeId, code: notice.kind, emergency: notice.emergency } }] : [],
  );
}

/** Keeps the operator's accident report once the centre has it (relay incident, C§15), with its audit entry. */
/** Keeps a report the centre acknowledged, and takes it out of the outbox, in one transaction. */
export function keepIncidentReport(db: Database, audit: AuditLog, report: IncidentReport, atIso: string): RecordResult {
  return db.transaction(() => {
    const result = saveIncidentReport(db, audit, report, atIso, (saved) => (saved === 'inserted' ? [{ kind: 'incident.reported', data: incidentEntry(report) }] : []));
    dropQueuedIncidentReport(db, report);
    return result;
  });
}

/** A report about to be sent: kept until the centre acknowledges it (keepIncidentReport). */
export function queueIncidentReport(db: Database, report: IncidentReport, atIso: string): void {
  db.run('INSERT INTO incident_outbox (incident_id, sequence, report, created_at) VALUES (:incidentId, :sequence, :report, :atIso)', { incidentId: report.incidentId, sequence: report.sequence, report: JSON.stringify(report), atIso });
}

/** A queued report the centre refused: it will not be sent again (the refusal said why). */
export function dropQueuedIncidentReport(db: Database, report: IncidentReport): void {
  db.run('DELETE FROM incident_outbox WHERE incident_id = :incidentId AND sequence = :sequence', { incidentId: report.incidentId, sequence: report.sequence });
}

/** Reports sent and not acknowledged, oldest first: each to be sent again exactly as it was. */
export function unacknowledgedIncidentReports(db: Database): IncidentReport[] {
  return db.all<{ report: string }>('SELECT report FROM incident_outbox ORDER BY created_at, incident_id, sequence').map((row) => JSON.parse(row.report) as IncidentReport);
}
