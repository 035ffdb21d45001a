// Test helper: the centre's store in memory, behaving like the SQLite one (single-use challenges,
// request ids taken once, completion notices recorded once, each serial voided once).

import type { Resident } from '../../core/resident.ts';
import type { CenterStore, CorrectionAdjustment, StoredChallenge, StoredRequest, StoredSession, VoidedSerial } from '../../core/center-ports.ts';
import type { HandlingCorrection, RecordResult } from '../../core/handling-record.ts';
import type { HandlingRecord } from '../../core/messages.ts';
import { jstMonth } from '../../core/jst.ts';
import type { OperatorNotice } from '../../core/service-notices.ts';
import type { MonthConfirmation, SettlementAdjustment, SettlementSubmission } from '../../core/settlement.ts';

type StoredAdjustment = SettlementAdjustment & { issuedAt: string; operatorId: string };

export type MemoryCenterStore = CenterStore & {
  completions: Map<string, HandlingRecord>;
  corrections: Map<string, HandlingCorrection>;
  confirmedMonths: Set<string>;
  adjustments: Map<string, StoredAdjustment>;
  correctionAdjustments: CorrectionAdjustment[];
  submissions: Array<SettlementSubmission & { operatorId: string }>;
  confirmations: MonthConfirmation[];
  voidedSerials: Map<string, VoidedSerial & { operatorId: string; kioskId: string }>;
  operatorNotices: Map<string, OperatorNotice>;
};

export function memoryCenterStore(operators: string[]): MemoryCenterStore {
  const challenges = new Map<string, StoredChallenge & { used: boolean }>();
  const sessions = new Map<string, StoredSession>();
  const requests = new Map<string, StoredRequest>();
  const completions = new Map<string, HandlingRecord>();
  const confirmedMonths = new Set<string>();
  const corrections = new Map<string, HandlingCorrection>();
  const adjustments = new Map<string, StoredAdjustment>();
  const correctionAdjustments: CorrectionAdjustment[] = [];
  const submissions: Array<SettlementSubmission & { operatorId: string }> = [];
  const confirmations: MonthConfirmation[] = [];
  const voidedSerials = new Map<string, VoidedSerial & { operatorId: string; kioskId: string }>();
  const operatorNotices = new Map<string, OperatorNotice>();
  return {
    voidedSerials,
    operatorNotices,
    saveIncidentReport: () => 'inserted',
    saveInquiry: () => 'inserted',
    findInquiry: () => undefined,
    saveOperatorNotice(notice: OperatorNotice): RecordResult {
      const existing = operatorNotices.get(notice.noticeId);
      if (existing) return JSON.stringify(existing) === JSON.stringify(notice) ? 'duplicate' : 'conflict';
      operatorNotices.set(notice.noticeId, notice);
      return 'inserted';
    },
    recordVoidedSerials(voided) {
      let inserted = 0;
      for (const serial of voided.serials) {
        if (voidedSerials.has(serial)) continue;
        voidedSerials.set(serial, { serial, issuanceId: voided.issuanceId, code: voided.code, voidedAt: voided.voidedAt, operatorId: voided.operatorId, kioskId: voided.kioskId });
        inserted += 1;
      }
      return { inserted };
    },
    findVoidedSerial(serial) {
      const found = voidedSerials.get(serial);
      return found && { serial: found.serial, issuanceId: found.issuanceId, code: found.code, voidedAt: found.voidedAt };
    },
    completions,
    corrections,
    adjustments,
    correctionAdjustments,
    submissions,
    confirmations,
    findAdjustment: (issuanceId) => adjustments.get(issuanceId),
    recordAdjustment(adjustment) {
      const existing = adjustments.get(adjustment.issuanceId);
      if (!existing) {
        adjustments.set(adjustment.issuanceId, adjustment);
        return 'inserted';
      }
      return JSON.stringify(existing) === JSON.stringify(adjustment) ? 'duplicate' : 'conflict';
    },
    settledFigures(issuanceId) {
      const later = correctionAdjustments.filter((line) => line.issuanceId === issuanceId).at(-1);
      if (later) return { copies: later.copies, feeYen: later.feeYen };
      const corrected = [...corrections.values()].filter((correction) => correction.issuanceId === issuanceId).at(-1);
      const record = completions.get(issuanceId) ?? adjustments.get(issuanceId);
      if (!record) return undefined;
      return corrected ? { copies: corrected.copies, feeYen: corrected.feeYen } : { copies: record.copies, feeYen: record.feeYen };
    },
    recordCorrectionAdjustment(line) {
      const existing = correctionAdjustments.find((entry) => entry.correctionId === line.correctionId);
      if (existing) return JSON.stringify({ ...existing, settleMonth: '', copiesDelta: 0, feeDeltaYen: 0 }) === JSON.stringify({ ...line, settleMonth: '', copiesDelta: 0, feeDeltaYen: 0 }) ? 'duplicate' : 'conflict';
      if (line.copiesDelta > 0 || line.feeDeltaYen > 0) return 'refused';
      correctionAdjustments.push(line);
      return 'inserted';
    },
    monthTotals(month, operatorId) {
      const records = [...completions.values(), ...adjustments.values()].filter((record) => record.operatorId === operatorId && jstMonth(Date.parse(record.issuedAt)) === month);
      return { records: records.length, documents: records.reduce((sum, record) => sum + record.copies, 0), feesYen: records.reduce((sum, record) => sum + record.feeYen, 0) };
    },
    saveSubmission: (operatorId, submission) => void submissions.push({ ...submission, operatorId }),
    latestSubmission: (month, operatorId) => submissions.filter((entry) => entry.month === month && entry.operatorId === operatorId).at(-1),
    findConfirmation: (month, operatorId) => confirmations.find((entry) => entry.month === month && entry.operatorId === operatorId),
    confirm(confirmation) {
      confirmations.push(confirmation);
      confirmedMonths.add(`${confirmation.operatorId}/${confirmation.month}`);
    },
    findHandlingRecord: (issuanceId) => completions.get(issuanceId),
    recordCorrection(correction): RecordResult {
      const existing = corrections.get(correction.correctionId);
      if (!existing) {
        corrections.set(correction.correctionId, correction);
        return 'inserted';
      }
      return JSON.stringify(existing) === JSON.stringify(correction) ? 'duplicate' : 'conflict';
    },
    confirmedMonths,
    isMonthConfirmed: (month, operatorId) => confirmedMonths.has(month) || confirmedMonths.has(`${operatorId}/${month}`),
    saveChallenge(challenge) {
      for (const live of challenges.values()) if (live.operatorId === challenge.operatorId && live.kioskId === challenge.kioskId) live.used = true;
      challenges.set(challenge.challengeId, { ...challenge, used: false });
    },
    takeChallenge(challengeId) {
      const found = challenges.get(challengeId);
      if (!found || found.used) return undefined;
      found.used = true;
      const { used: _used, ...challenge } = found;
      return challenge;
    },
    saveSession(session) {
      for (const [token, live] of sessions) if (live.operatorId === session.operatorId && live.kioskId === session.kioskId) sessions.delete(token);
      sessions.set(session.sessionToken, session);
    },
    purgeExpired(nowMs) {
      const purged = { challenges: 0, sessions: 0 };
      for (const [id, challenge] of challenges) {
        if (!challenge.used && challenge.expiresAtMs >= nowMs) continue;
        challenges.delete(id);
        purged.challenges += 1;
      }
      for (const [token, session] of sessions) {
        if (session.expiresAtMs >= nowMs) continue;
        sessions.delete(token);
        purged.sessions += 1;
      }
      return purged;
    },
    findSession: (sessionToken) => sessions.get(sessionToken),
    findSessionByChallenge: (challengeId) => [...sessions.values()].find((session) => session.challengeId === challengeId),
    saveRequest(request) {
      if (requests.has(request.requestId)) return false;
      requests.set(request.requestId, request);
      return true;
    },
    findRequest: (requestId) => requests.get(requestId),
    recordCompletion(record): RecordResult {
      const existing = completions.get(record.issuanceId);
      if (!existing) {
        completions.set(record.issuanceId, record);
        return 'inserted';
      }
      return JSON.stringify(existing) === JSON.stringify(record) ? 'duplicate' : 'conflict';
    },
    isOperatorRegistered: (operatorId) => operators.includes(operatorId),
    relayAuditKey: () => undefined,
    serviceNotices: () => [],
    latestWitnessedRelay: () => undefined,
    saveWitnessedRelay: () => undefined,
  };
}

/** A resident of 千代田区 with a name that needs the full font; override what a test is about. */
export function testResident(residentId: string, overrides: Partial<Resident> = {}): Resident {
  return {
    residentId,
    municipalityCode: '131016',
    status: 'active',
    supportMeasure: false,
    name: '髙橋 一郎',
    kana: 'たかはし いちろう',
    birthDate: '1980-04-01',
    sex: '男',
    address: '東京都千代田区一番町1番地',
    householder: '髙橋 一郎',
    relationship: '世帯主',
    residentSince: '2010-04-01',
    ...overrides,
  };
}
