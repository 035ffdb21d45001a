// The centre's SQLite store: challenges, sessions, requests, handling records, and the built-in
// municipality directory (municipalities and residents).

import type { CenterStore, CorrectionAdjustment, MunicipalityDirectory, StoredChallenge, StoredRequest, StoredSession, VoidedSerial, VoidedSerialsRecord } from '../../core/center-ports.ts';
import { parseCertificateSerial } from '../../core/certificate-serial.ts';
import type { HandlingCorrection, RecordResult } from '../../core/handling-record.ts';
import type { HandlingRecord } from '../../core/messages.ts';
import { formatOptions, parseOptionsText, type CertificateType } from '../../core/certificate-types.ts';
import type { Municipality } from '../../core/municipality.ts';
import type { Resident } from '../../core/resident.ts';
import { AppError } from '../../core/errors.ts';
import { witnessRecordData, type WitnessedCheckpoint, type WitnessRecord } from '../../core/witness.ts';
import { jstMonth } from '../../core/jst.ts';
import type { AdjustmentKind, SettlementAdjustment } from '../../core/settlement.ts';
import { recordsAroundMonth } from './settlement-store.ts';
import type { NoticeKind, OperatorNotice, ServiceNotice } from '../../core/service-notices.ts';
import { saveOperatorNotice } from './operator-notices.ts';
import { incidentEntry, saveIncidentReport } from './incidents.ts';
import { findInquiry, saveInquiry } from './inquiries.ts';
import type { IncidentReport } from '../../core/incidents.ts';
import type { AuditLog } from './audit-log.ts';
import type { Database } from './database.ts';
import { migrate } from './migrate.ts';
import { CENTER_MIGRATIONS } from './schema.ts';
import { openDatabase } from './database.ts';

export function openCenterDatabase(path: string): Database {
  const db = openDatabase(path);
  migrate(db, 'center', CENTER_MIGRATIONS);
  return db;
}

interface RequestRow {
  request_id: string;
  session_token: string;
  operator_id: string;
  store_id: string;
  kiosk_id: string;
  municipality_code: string;
  certificate_type: string;
  options: string;
  copies: number;
  unit_fee_yen: number;
  content_sha256: string;
  created_at_ms: number;
}

interface HandlingRow {
  issuance_id: string;
  issued_at: string;
  operator_id: string;
  store_id: string;
  kiosk_id: string;
  municipality_code: string;
  certificate_type: string;
  copies: number;
  fee_yen: number;
}

export function handlingRecordFromRow(row: HandlingRow): HandlingRecord {
  return {
    issuanceId: row.issuance_id,
    issuedAt: row.issued_at,
    operatorId: row.operator_id,
    storeId: row.store_id,
    kioskId: row.kiosk_id,
    municipalityCode: row.municipality_code,
    certificateType: row.certificate_type as CertificateType,
    copies: row.copies,
    feeYen: row.fee_yen,
  };
}

interface AdjustmentRow extends HandlingRow {
  kind: string;
  original_month: string;
  settle_month: string;
}

function adjustmentFromRow(row: AdjustmentRow): SettlementAdjustment & { issuedAt: string; operatorId: string } {
  return {
    issuanceId: row.issuance_id,
    kind: row.kind as AdjustmentKind,
    originalMonth: row.original_month,
    settleMonth: row.settle_month,
    issuedAt: row.issued_at,
    operatorId: row.operator_id,
    storeId: row.store_id,
    kioskId: row.kiosk_id,
    municipalityCode: row.municipality_code,
    certificateType: row.certificate_type,
    copies: row.copies,
    feeYen: row.fee_yen,
  };
}

/** Adjustment lines settled in a month (for one operator, or all), in issuance order. */
export function adjustmentsSettledIn(db: Database, month: string, operatorId?: string | null): SettlementAdjustment[] {
  // Late notices and supplied records add a line; corrections after the lock take off the difference.
  return db
    .all<AdjustmentRow>(
      `SELECT issuance_id, kind, original_month, settle_month, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen
         FROM settlement_adjustments WHERE settle_month = :month AND (:operatorId IS NULL OR operator_id = :operatorId)
       UNION ALL
       SELECT c.issuance_id, 'correction', c.original_month, c.settle_month, h.issued_at, c.operator_id, h.store_id, h.kiosk_id, h.municipality_code, h.certificate_type, c.copies_delta, c.fee_delta_yen
         FROM correction_adjustments c JOIN handling_records h ON h.issuance_id = c.issuance_id
        WHERE c.settle_month = :month AND (:operatorId IS NULL OR c.operator_id = :operatorId)
       ORDER BY issued_at, issuance_id`,
      { month, operatorId: operatorId ?? null },
    )
    .map(adjustmentFromRow);
}

function insertCorrectionAdjustment(db: Database, line: CorrectionAdjustment, recordedAtIso: string): RecordResult | 'refused' {
  return db.transaction(() => {
    const existing = db.get<{ issuance_id: string; copies: number; fee_yen: number; reason: string; corrected_at: string }>(
      'SELECT issuance_id, copies, fee_yen, reason, corrected_at FROM correction_adjustments WHERE correction_id = :id',
      { id: line.correctionId },
    );
    if (existing) {
      const same = existing.issuance_id === line.issuanceId && existing.copies === line.copies && existing.fee_yen === line.feeYen && existing.reason === line.reason && existing.corrected_at === line.correctedAt;
      return same ? 'duplicate' : 'conflict';
    }
    if (line.copiesDelta > 0 || line.feeDeltaYen > 0) return 'refused';
    db.run(
      `INSERT INTO correction_adjustments (correction_id, issuance_id, original_month, settle_month, operator_id, copies, fee_yen, copies_delta, fee_delta_yen, reason, corrected_at, recorded_at)
       VALUES (:correctionId, :issuanceId, :originalMonth, :settleMonth, :operatorId, :copies, :feeYen, :copiesDelta, :feeDeltaYen, :reason, :correctedAt, :recordedAtIso)`,
      { ...line, recordedAtIso },
    );
    return 'inserted';
  });
}

function insertAdjustment(db: Database, adjustment: SettlementAdjustment & { issuedAt: string; operatorId: string }, recordedAtIso: string): RecordResult {
  return db.transaction(() => {
    const existing = db.get<AdjustmentRow>('SELECT * FROM settlement_adjustments WHERE issuance_id = :id', { id: adjustment.issuanceId });
    if (existing) {
      const before = adjustmentFromRow(existing);
      const same = (['issuedAt', 'operatorId', 'storeId', 'kioskId', 'municipalityCode', 'certificateType', 'copies', 'feeYen'] as const).every((field) => before[field] === adjustment[field]);
      return same ? 'duplicate' : 'conflict';
    }
    db.run(
      `INSERT INTO settlement_adjustments (issuance_id, kind, original_month, settle_month, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen, recorded_at)
       VALUES (:issuanceId, :kind, :originalMonth, :settleMonth, :issuedAt, :operatorId, :storeId, :kioskId, :municipalityCode, :certificateType, :copies, :feeYen, :recordedAtIso)`,
      { ...adjustment, recordedAtIso },
    );
    return 'inserted';
  });
}

function sameRecord(left: HandlingRecord, right: HandlingRecord): boolean {
  return (Object.keys(left) as (keyof HandlingRecord)[]).every((key) => left[key] === right[key]);
}

/** Inserts a handling record once; a repeat of the same record is a duplicate, a different one a conflict. */
export function insertHandlingRecord(db: Database, record: HandlingRecord, extra: Record<string, string> = {}): RecordResult {
  return db.transaction(() => {
    const existing = db.get<HandlingRow>(`SELECT * FROM handling_records WHERE issuance_id = :id`, { id: record.issuanceId });
    if (existing) return sameRecord(handlingRecordFromRow(existing), record) ? 'duplicate' : 'conflict';
    const extraColumns = Object.keys(extra);
    db.run(
      `INSERT INTO handling_records (issuance_id, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen${extraColumns.map((c) => `, ${c}`).join('')})
       VALUES (:issuanceId, :issuedAt, :operatorId, :storeId, :kioskId, :municipalityCode, :certificateType, :copies, :feeYen${extraColumns.map((c) => `, :${c}`).join('')})`,
      { ...record, ...extra },
    );
    return 'inserted';
  });
}

/** Appends a correction once: a repeat is a duplicate, a different one under the same id a conflict. */
export function insertCorrection(db: Database, correction: HandlingCorrection): RecordResult {
  return db.transaction(() => {
    const existing = db.get<{ issuance_id: string; corrected_at: string; copies: number; fee_yen: number; reason: string }>(
      'SELECT * FROM handling_corrections WHERE correction_id = :correctionId',
      { correctionId: correction.correctionId },
    );
    if (!db.get('SELECT 1 AS found FROM handling_records WHERE issuance_id = :issuanceId', { issuanceId: correction.issuanceId })) {
      throw new AppError('refused', 'correction.unknown_record', 'no completion notice was recorded for this id', correction.issuanceId);
    }
    if (existing) {
      const same = existing.issuance_id === correction.issuanceId && existing.corrected_at === correction.correctedAt && existing.copies === correction.copies && existing.fee_yen === correction.feeYen && existing.reason === correction.reason;
      return same ? 'duplicate' : 'conflict';
    }
    db.run(
      `INSERT INTO handling_corrections (correction_id, issuance_id, corrected_at, copies, fee_yen, reason)
       VALUES (:correctionId, :issuanceId, :correctedAt, :copies, :feeYen, :reason)`,
      { ...correction },
    );
    return 'inserted';
  });
}

export function listHandlingRecords(db: Database): HandlingRecord[] {
  return db.all<HandlingRow>('SELECT * FROM effective_handling_records ORDER BY issued_at, issuance_id').map(handlingRecordFromRow);
}

/**
 * What the centre knows of a serial (C§9, docs/documents.md): its request, its record or
 * adjustment, its void. Reads only: `center serial` and `verify-document --dir` open the store
 * read-only, without the audit key.
 */
export type SerialLookups = Pick<CenterStore, 'findRequest' | 'findHandlingRecord' | 'findAdjustment' | 'findVoidedSerial'>;

export function centerSerialLookups(db: Database): SerialLookups {
  return {
    findRequest(requestId: string): StoredRequest | undefined {
      const row = db.get<RequestRow>('SELECT * FROM requests WHERE request_id = :requestId', { requestId });
      if (!row) return undefined;
      return {
        requestId: row.request_id,
        sessionToken: row.session_token,
        operatorId: row.operator_id,
        storeId: row.store_id,
        kioskId: row.kiosk_id,
        municipalityCode: row.municipality_code,
        certificateType: row.certificate_type as CertificateType,
        options: parseOptionsText(row.options) ?? {},
        copies: row.copies,
        unitFeeYen: row.unit_fee_yen,
        contentSha256: row.content_sha256,
        createdAtMs: row.created_at_ms,
      };
    },
    findHandlingRecord(issuanceId: string): HandlingRecord | undefined {
      const row = db.get<HandlingRow>('SELECT * FROM handling_records WHERE issuance_id = :issuanceId', { issuanceId });
      return row ? handlingRecordFromRow(row) : undefined;
    },
    findAdjustment(issuanceId: string): (SettlementAdjustment & { issuedAt: string; operatorId: string }) | undefined {
      const row = db.get<AdjustmentRow>('SELECT * FROM settlement_adjustments WHERE issuance_id = :issuanceId', { issuanceId });
      return row ? adjustmentFromRow(row) : undefined;
    },
    findVoidedSerial(serial: string): VoidedSerial | undefined {
      const row = db.get<{ serial: string; issuance_id: string; code: string; voided_at: string }>('SELECT serial, issuance_id, code, voided_at FROM voided_serials WHERE serial = :serial', { serial });
      return row && { serial: row.serial, issuanceId: row.issuance_id, code: row.code, voidedAt: row.voided_at };
    },
  };
}

export function createCenterStore(db: Database, audit: AuditLog): CenterStore {
  function insertRequest(request: StoredRequest): boolean {
    const result = db.run(
      `INSERT OR IGNORE INTO requests (request_id, session_token, operator_id, store_id, kiosk_id, municipality_code, certificate_type, options, copies, unit_fee_yen, content_sha256, created_at_ms)
       VALUES (:requestId, :sessionToken, :operatorId, :storeId, :kioskId, :municipalityCode, :certificateType, :options, :copies, :unitFeeYen, :contentSha256, :createdAtMs)`,
      { ...request, options: formatOptions(request.options) },
    );
    return result.changes === 1;
  }

  // The session's own writes go through the audit log's transactions without entries of their
  // own: in a server's group commit they share the turn's commit (docs/audit-log.md).
  return {
    ...centerSerialLookups(db),
    saveChallenge(challenge: StoredChallenge): void {
      audit.transaction([], () => {
        // One live challenge per kiosk reader: an authenticate held up on the network past the
        // kiosk's deadline must not open a session over the resident now at the kiosk
        // (docs/simulation.md, "Findings").
        db.run('UPDATE challenges SET used = 1 WHERE kiosk_id = :kioskId AND operator_id = :operatorId AND used = 0', { kioskId: challenge.kioskId, operatorId: challenge.operatorId });
        db.run(
          `INSERT INTO challenges (challenge_id, operator_id, kiosk_id, challenge, expires_at_ms)
           VALUES (:challengeId, :operatorId, :kioskId, :challenge, :expiresAtMs)`,
          { ...challenge },
        );
      });
    },
    takeChallenge(challengeId: string): StoredChallenge | undefined {
      return audit.transaction([], () => {
        const row = db.get<{ challenge_id: string; operator_id: string; kiosk_id: string; challenge: Uint8Array; expires_at_ms: number }>(
          'SELECT * FROM challenges WHERE challenge_id = :challengeId AND used = 0',
          { challengeId },
        );
        if (!row) return undefined;
        db.run('UPDATE challenges SET used = 1 WHERE challenge_id = :challengeId', { challengeId });
        return {
          challengeId: row.challenge_id,
          operatorId: row.operator_id,
          kioskId: row.kiosk_id,
          challenge: new Uint8Array(row.challenge),
          expiresAtMs: row.expires_at_ms,
        };
      });
    },
    saveSession(session: StoredSession): void {
      audit.transaction([], () => {
        db.run('DELETE FROM sessions WHERE operator_id = :operatorId AND kiosk_id = :kioskId', { operatorId: session.operatorId, kioskId: session.kioskId });
        db.run(
          `INSERT INTO sessions (session_token, operator_id, kiosk_id, resident_id, resident_ref, municipality_code, expires_at_ms, challenge_id, answer_digest)
           VALUES (:sessionToken, :operatorId, :kioskId, :residentId, :residentRef, :municipalityCode, :expiresAtMs, :challengeId, :answerDigest)`,
          { ...session, challengeId: session.challengeId ?? null, answerDigest: session.answerDigest ?? null },
        );
      });
    },
    purgeExpired(nowMs: number) {
      return db.transaction(() => ({
        challenges: db.run('DELETE FROM challenges WHERE used = 1 OR expires_at_ms < :nowMs', { nowMs }).changes,
        sessions: db.run('DELETE FROM sessions WHERE expires_at_ms < :nowMs', { nowMs }).changes,
      }));
    },
    findSession(sessionToken: string): StoredSession | undefined {
      return sessionFromRow(db.get<Record<string, string | number | null>>('SELECT * FROM sessions WHERE session_token = :sessionToken', { sessionToken }));
    },
    findSessionByChallenge(challengeId: string): StoredSession | undefined {
      return sessionFromRow(db.get<Record<string, string | number | null>>('SELECT * FROM sessions WHERE challenge_id = :challengeId', { challengeId }));
    },
    saveRequest(request: StoredRequest): boolean {
      const certificateIssued = (saved: boolean) =>
        saved
          ? [{ kind: 'certificate.issued', data: { requestId: request.requestId, operatorId: request.operatorId, kioskId: request.kioskId, municipalityCode: request.municipalityCode, certificateType: request.certificateType, copies: request.copies } }]
          : [];
      return audit.transaction(certificateIssued, () => insertRequest(request));
    },

    recordCompletion(record: HandlingRecord): RecordResult {
      const noticeEvents = (result: RecordResult) =>
        result === 'conflict'
          ? []
          : [{ kind: 'completion.recorded', data: { issuanceId: record.issuanceId, operatorId: record.operatorId, kioskId: record.kioskId, copies: record.copies, feeYen: record.feeYen, duplicate: result === 'duplicate' } }];
      return audit.transaction(noticeEvents, () => insertHandlingRecord(db, record));
    },
    recordCorrection(correction: HandlingCorrection): RecordResult {
      const recorded = (result: RecordResult) =>
        result === 'conflict'
          ? []
          : [{ kind: 'correction.recorded', data: { issuanceId: correction.issuanceId, copies: correction.copies, feeYen: correction.feeYen, reason: correction.reason, duplicate: result === 'duplicate' } }];
      return audit.transaction(recorded, () => insertCorrection(db, correction));
    },
    saveInquiry: (inquiry, municipalityCode, receivedAtIso) => saveInquiry(db, audit, inquiry, municipalityCode, receivedAtIso),
    findInquiry: (inquiryId) => findInquiry(db, inquiryId),
    saveIncidentReport(report: IncidentReport, receivedAtIso: string): RecordResult {
      return saveIncidentReport(db, audit, report, receivedAtIso, (result) =>
        result === 'conflict' ? [] : [{ kind: 'incident.received', data: incidentEntry(report, { operatorId: report.operatorId, duplicate: result === 'duplicate' }) }],
      );
    },
    saveOperatorNotice(notice: OperatorNotice, receivedAtIso: string): RecordResult {
      return saveOperatorNotice(db, audit, notice, receivedAtIso, (result) =>
        result === 'conflict' ? [] : [{ kind: 'operator-notice.received', data: { operatorId: notice.operatorId, noticeId: notice.noticeId, code: notice.kind, emergency: notice.emergency, duplicate: result === 'duplicate' } }],
      );
    },
    serviceNotices(fromMs: number): ServiceNotice[] {
      return db
        .all<{ notice_id: string; kind: NoticeKind; starts_at_ms: number; ends_at_ms: number; municipality_code: string | null; message: string }>(
          'SELECT * FROM service_notices WHERE ends_at_ms > :fromMs ORDER BY starts_at_ms',
          { fromMs },
        )
        .map((row) => ({
          noticeId: row.notice_id,
          kind: row.kind,
          startsAtMs: row.starts_at_ms,
          endsAtMs: row.ends_at_ms,
          ...(row.municipality_code === null ? {} : { municipalityCode: row.municipality_code }),
          message: row.message,
        }));
    },
    relayAuditKey(operatorId: string): string | undefined {
      return db.get<{ audit_key: string | null }>('SELECT audit_key FROM operators WHERE operator_id = :operatorId', { operatorId })?.audit_key ?? undefined;
    },
    latestWitnessedRelay(operatorId: string): WitnessedCheckpoint | undefined {
      return db.get<WitnessedCheckpoint>('SELECT size, note FROM witnessed_relay_checkpoints WHERE operator_id = :operatorId ORDER BY size DESC LIMIT 1', { operatorId });
    },
    saveWitnessedRelay(operatorId: string, checkpoint: WitnessedCheckpoint & { record: WitnessRecord }, receivedAtIso: string): void {
      audit.transaction([{ kind: 'witness.checkpoint', data: { operatorId, ...witnessRecordData(checkpoint.record) } }], () =>
        db.run('INSERT OR IGNORE INTO witnessed_relay_checkpoints (operator_id, size, note, received_at) VALUES (:operatorId, :size, :note, :receivedAtIso)', {
          operatorId,
          size: checkpoint.size,
          note: checkpoint.note,
          receivedAtIso,
        }),
      );
    },
    isMonthConfirmed(month: string, operatorId: string): boolean {
      return (
        db.get('SELECT 1 AS found FROM confirmed_months WHERE month = :month', { month }) !== undefined ||
        db.get('SELECT 1 AS found FROM month_confirmations WHERE month = :month AND operator_id = :operatorId', { month, operatorId }) !== undefined
      );
    },
    recordAdjustment(adjustment, recordedAtIso) {
      const events = (result: RecordResult) =>
        result === 'inserted'
          ? [{ kind: 'adjustment.recorded', data: { issuanceId: adjustment.issuanceId, operatorId: adjustment.operatorId, kioskId: adjustment.kioskId, code: adjustment.kind, month: adjustment.originalMonth, settleMonth: adjustment.settleMonth, copies: adjustment.copies, feeYen: adjustment.feeYen } }]
          : [];
      return audit.transaction(events, () => insertAdjustment(db, adjustment, recordedAtIso));
    },
    settledFigures(issuanceId) {
      const row = db.get<{ copies: number; fee_yen: number }>('SELECT copies, fee_yen FROM settlement_records WHERE issuance_id = :issuanceId', { issuanceId });
      return row ? { copies: row.copies, feeYen: row.fee_yen } : undefined;
    },
    recordCorrectionAdjustment(line, recordedAtIso) {
      const events = (result: RecordResult | 'refused') =>
        result === 'inserted'
          ? [{ kind: 'adjustment.recorded', data: { issuanceId: line.issuanceId, operatorId: line.operatorId, kioskId: line.kioskId, code: 'correction', month: line.originalMonth, settleMonth: line.settleMonth, copies: line.copies, feeYen: line.feeYen } }]
          : [];
      return audit.transaction(events, () => insertCorrectionAdjustment(db, line, recordedAtIso));
    },
    monthTotals(month, operatorId) {
      let totals = { records: 0, documents: 0, feesYen: 0 };
      for (const record of recordsAroundMonth(db, month, 'settlement_records')) {
        if (record.operatorId !== operatorId || jstMonth(Date.parse(record.issuedAt)) !== month) continue;
        totals = { records: totals.records + 1, documents: totals.documents + record.copies, feesYen: totals.feesYen + record.feeYen };
      }
      return totals;
    },
    saveSubmission(operatorId, submission, receivedAtIso) {
      const event = { kind: 'settlement.submitted', data: { month: submission.month, operatorId, records: submission.records, documents: submission.documents, feeYen: submission.feesYen } };
      audit.transaction([event], () =>
        db.run(
          `INSERT INTO settlement_submissions (month, operator_id, submitted_at, records, documents, fees_yen, received_at)
           VALUES (:month, :operatorId, :submittedAt, :records, :documents, :feesYen, :receivedAtIso)`,
          { ...submission, operatorId, receivedAtIso },
        ),
      );
    },
    latestSubmission(month, operatorId) {
      const row = db.get<{ month: string; submitted_at: string; records: number; documents: number; fees_yen: number }>(
        'SELECT * FROM settlement_submissions WHERE month = :month AND operator_id = :operatorId ORDER BY received_at DESC LIMIT 1',
        { month, operatorId },
      );
      return row ? { month: row.month, submittedAt: row.submitted_at, records: row.records, documents: row.documents, feesYen: row.fees_yen } : undefined;
    },
    findConfirmation(month, operatorId) {
      const row = db.get<{ month: string; operator_id: string; submitted_at: string; confirmed_at: string; records: number; documents: number; fees_yen: number }>(
        'SELECT * FROM month_confirmations WHERE month = :month AND operator_id = :operatorId',
        { month, operatorId },
      );
      return row
        ? { month: row.month, operatorId: row.operator_id, submittedAt: row.submitted_at, confirmedAt: row.confirmed_at, records: row.records, documents: row.documents, feesYen: row.fees_yen }
        : undefined;
    },
    confirm(confirmation) {
      const event = { kind: 'month.confirmed', data: { month: confirmation.month, operatorId: confirmation.operatorId, records: confirmation.records, documents: confirmation.documents, feeYen: confirmation.feesYen } };
      audit.transaction([event], () =>
        db.run(
          `INSERT INTO month_confirmations (month, operator_id, submitted_at, confirmed_at, records, documents, fees_yen)
           VALUES (:month, :operatorId, :submittedAt, :confirmedAt, :records, :documents, :feesYen)`,
          { ...confirmation },
        ),
      );
    },
    recordVoidedSerials(voided: VoidedSerialsRecord, recordedAtIso: string): { inserted: number } {
      const recorded = ({ inserted }: { inserted: number }) => [
        { kind: 'serials.voided', data: { issuanceId: voided.issuanceId, operatorId: voided.operatorId, kioskId: voided.kioskId, code: voided.code, count: voided.serials.length, duplicate: inserted === 0 } },
      ];
      return audit.transaction(recorded, () => {
        let inserted = 0;
        for (const serial of voided.serials) {
          const copy = parseCertificateSerial(serial);
          if (copy?.requestId !== voided.issuanceId) throw new AppError('internal', 'serial.not_of_issuance', 'a voided serial is not one of its issuance', voided.issuanceId);
          inserted += db.run(
            `INSERT INTO voided_serials (serial, issuance_id, copy, operator_id, kiosk_id, code, voided_at, recorded_at)
             VALUES (:serial, :issuanceId, :copy, :operatorId, :kioskId, :code, :voidedAt, :recordedAtIso)
             ON CONFLICT (serial) DO NOTHING`,
            { serial, issuanceId: voided.issuanceId, copy: copy.copy, operatorId: voided.operatorId, kioskId: voided.kioskId, code: voided.code, voidedAt: voided.voidedAt, recordedAtIso },
          ).changes;
        }
        return { inserted };
      });
    },
    isOperatorRegistered(operatorId: string): boolean {
      return db.get('SELECT 1 AS found FROM operators WHERE operator_id = :operatorId', { operatorId }) !== undefined;
    },
  };
}

/** A municipality's own system, asked for one of its residents (drivers/municipality/backend-client.ts). */
export interface RemoteResidents {
  find(municipality: Municipality, residentId: string): Promise<Resident | undefined>;
}

/**
 * The municipalities and their residents: the centre's own tables, and for a municipality with a
 * back end, its own system, asked for the resident a linked card belongs to.
 */
export function createBuiltInDirectory(db: Database, remote?: RemoteResidents): MunicipalityDirectory {
  const parseResident = (row: { record: string } | undefined): Resident | undefined =>
    row ? (JSON.parse(row.record) as Resident) : undefined;
  const findMunicipality = (code: string): Municipality | undefined => {
    const row = db.get<{ definition: string }>('SELECT definition FROM municipalities WHERE code = :code', { code });
    return row ? (JSON.parse(row.definition) as Municipality) : undefined;
  };
  const fromBackend = async (link: { resident_id: string; municipality_code: string } | undefined): Promise<Resident | undefined> => {
    if (link === undefined) return undefined;
    const municipality = findMunicipality(link.municipality_code);
    if (municipality?.backend === undefined || remote === undefined) return undefined;
    return remote.find(municipality, link.resident_id);
  };
  const linkBy = (column: 'card_serial_hex' | 'resident_id', value: string) =>
    db.get<{ resident_id: string; municipality_code: string }>(`SELECT resident_id, municipality_code FROM resident_links WHERE ${column} = :value`, { value });
  return {
    findMunicipality,
    async findResidentByCardSerial(serialHex: string): Promise<Resident | undefined> {
      return parseResident(db.get('SELECT record FROM residents WHERE card_serial_hex = :serialHex', { serialHex })) ?? fromBackend(linkBy('card_serial_hex', serialHex));
    },
    async findResident(residentId: string): Promise<Resident | undefined> {
      return parseResident(db.get('SELECT record FROM residents WHERE resident_id = :residentId', { residentId })) ?? fromBackend(linkBy('resident_id', residentId));
    },
  };
}

/** Links a card to a resident of a municipality with a back end (center card issue). */
export function saveResidentLink(db: Database, link: { cardSerialHex: string; residentId: string; municipalityCode: string }, atIso: string): void {
  if (db.get('SELECT 1 AS found FROM residents WHERE resident_id = :residentId', link)) {
    throw new AppError('usage', 'resident.in_centre_table', 'this resident is in the centre\'s own table, not a back end\'s', link.residentId);
  }
  db.run('INSERT OR REPLACE INTO resident_links (card_serial_hex, resident_id, municipality_code, linked_at) VALUES (:cardSerialHex, :residentId, :municipalityCode, :atIso)', { ...link, atIso });
}

export function saveMunicipality(db: Database, municipality: Municipality): void {
  db.run('INSERT OR REPLACE INTO municipalities (code, definition) VALUES (:code, :definition)', {
    code: municipality.code,
    definition: JSON.stringify(municipality),
  });
}

export function saveResident(db: Database, resident: Resident, cardSerialHex: string | null): void {
  db.run(
    'INSERT OR REPLACE INTO residents (resident_id, municipality_code, card_serial_hex, record) VALUES (:residentId, :municipalityCode, :cardSerialHex, :record)',
    { residentId: resident.residentId, municipalityCode: resident.municipalityCode, cardSerialHex, record: JSON.stringify(resident) },
  );
}

export function saveOperator(db: Database, operatorId: string, name: string, auditKey: string): void {
  db.run('INSERT OR REPLACE INTO operators (operator_id, name, audit_key) VALUES (:operatorId, :name, :auditKey)', { operatorId, name, auditKey });
}

/** The checkpoints the centre witnessed for one operator's relay log, oldest first. */
export function witnessedRelayCheckpoints(db: Database, operatorId: string): WitnessedCheckpoint[] {
  return db.all<WitnessedCheckpoint>('SELECT size, note FROM witnessed_relay_checkpoints WHERE operator_id = :operatorId ORDER BY size', { operatorId });
}

/** Announces a maintenance window or a stop, with its audit entry in the centre's log. */
export function announceNotice(db: Database, audit: AuditLog, notice: ServiceNotice, atIso: string): void {
  const event = { kind: 'notice.announced', data: { code: notice.kind, municipalityCode: notice.municipalityCode ?? null } };
  audit.transaction([event], () =>
    db.run(
      `INSERT INTO service_notices (notice_id, kind, starts_at_ms, ends_at_ms, municipality_code, message, created_at)
       VALUES (:noticeId, :kind, :startsAtMs, :endsAtMs, :municipalityCode, :message, :createdAt)`,
      { noticeId: notice.noticeId, kind: notice.kind, startsAtMs: notice.startsAtMs, endsAtMs: notice.endsAtMs, municipalityCode: notice.municipalityCode ?? null, message: notice.message, createdAt: atIso },
    ),
  );
}

function sessionFromRow(row: Record<string, string | number | null> | undefined): StoredSession | undefined {
  if (!row) return undefined;
  return {
    sessionToken: String(row.session_token),
    operatorId: String(row.operator_id),
    kioskId: String(row.kiosk_id),
    residentId: String(row.resident_id),
    residentRef: String(row.resident_ref),
    municipalityCode: String(row.municipality_code),
    expiresAtMs: Number(row.expires_at_ms),
    ...(row.challenge_id === null || row.challenge_id === undefined ? {} : { challengeId: String(row.challenge_id) }),
    ...(row.answer_digest === null || row.answer_digest === undefined ? {} : { answerDigest: String(row.answer_digest) }),
  };
}
