// What the centre's use cases need from the outside: its store, the municipalities' directory, and the
// card certificate verifier. The SQLite store (drivers/store/center-store.ts) and the tests' in-memory
// store implement the same CenterStore.

import type { CertificateOptions, CertificateType } from './certificate-types.ts';
import type { HandlingCorrection, HandlingRecord, RecordResult } from './handling-record.ts';
import type { OperatorNotice } from './service-notices.ts';
import type { IncidentReport } from './incidents.ts';
import type { Inquiry, InquiryState } from './inquiries.ts';
import type { Municipality } from './municipality.ts';
import type { Resident } from './resident.ts';
import type { ServiceNotice } from './service-notices.ts';
import type { MonthConfirmation, MonthTotals, SettlementAdjustment, SettlementSubmission } from './settlement.ts';
import type { WitnessedCheckpoint, WitnessRecord } from './witness.ts';

export interface StoredChallenge {
  challengeId: string;
  operatorId: string;
  kioskId: string;
  challenge: Uint8Array;
  expiresAtMs: number;
}

export interface StoredSession {
  sessionToken: string;
  operatorId: string;
  kioskId: string;
  residentId: string;
  residentRef: string;
  municipalityCode: string;
  expiresAtMs: number;
  /** The challenge the session was authenticated with, and SHA-256 (hex) of the card's answer to it
   * (certificate and signature): the same answer again gets this session back, nothing else. */
  challengeId?: string;
  answerDigest?: string;
}

export interface StoredRequest {
  requestId: string;
  sessionToken: string;
  operatorId: string;
  storeId: string;
  kioskId: string;
  municipalityCode: string;
  certificateType: CertificateType;
  /** The options the certificate data was made with, every key of the type. */
  options: CertificateOptions;
  copies: number;
  unitFeeYen: number;
  contentSha256: string;
  createdAtMs: number;
}

/** A correction of a confirmed month (Spec§13-2, Spec§4-3), settled in `settleMonth` as the difference. */
export interface CorrectionAdjustment {
  correctionId: string;
  issuanceId: string;
  operatorId: string;
  kioskId: string;
  originalMonth: string;
  settleMonth: string;
  copies: number;
  feeYen: number;
  copiesDelta: number;
  feeDeltaYen: number;
  reason: string;
  correctedAt: string;
}

/** Serials voided together after a misprint or a cash fault (C§9): every serial of one issuance. */
export interface VoidedSerialsRecord {
  issuanceId: string;
  operatorId: string;
  kioskId: string;
  serials: string[];
  /** The fault that voided them. */
  code: string;
  /** When the kiosk voided them, UTC ISO. */
  voidedAt: string;
}

/** One voided serial as the centre keeps it. */
export interface VoidedSerial {
  serial: string;
  issuanceId: string;
  code: string;
  voidedAt: string;
}

export interface CenterStore {
  /** Saves a challenge and ends the kiosk's earlier unused ones: one live challenge per kiosk reader. */
  saveChallenge(challenge: StoredChallenge): void;
  /** Returns the challenge and marks it used in one step; undefined when unknown or already used. */
  takeChallenge(challengeId: string): StoredChallenge | undefined;
  /** Saves the session and ends any other of the same kiosk: one live session per kiosk reader. */
  saveSession(session: StoredSession): void;
  findSession(sessionToken: string): StoredSession | undefined;
  /** The live session authenticated with this challenge, if any. */
  findSessionByChallenge(challengeId: string): StoredSession | undefined;
  /** Deletes challenges used or expired and sessions expired before `nowMs`; says how many. */
  purgeExpired(nowMs: number): { challenges: number; sessions: number };
  /** Saves a request; false when requestId is already taken. */
  saveRequest(request: StoredRequest): boolean;
  findRequest(requestId: string): StoredRequest | undefined;
  recordCompletion(record: HandlingRecord): RecordResult;
  findHandlingRecord(issuanceId: string): HandlingRecord | undefined;
  /** Appends a correction once; a repeat is a duplicate, another with the same id a conflict. */
  recordCorrection(correction: HandlingCorrection): RecordResult;
  /**
   * Appends each serial as void once, with one audit entry (serials.voided) in the same transaction;
   * a serial voided before is left as it was (a repeated notice). Says how many were new.
   */
  recordVoidedSerials(voided: VoidedSerialsRecord, recordedAtIso: string): { inserted: number };
  findVoidedSerial(serial: string): VoidedSerial | undefined;
  isOperatorRegistered(operatorId: string): boolean;
  relayAuditKey(operatorId: string): string | undefined;
  latestWitnessedRelay(operatorId: string): WitnessedCheckpoint | undefined;
  saveWitnessedRelay(operatorId: string, checkpoint: WitnessedCheckpoint & { record: WitnessRecord }, receivedAtIso: string): void;
  /** Announced windows and stops that end after this instant. */
  serviceNotices(fromMs: number): ServiceNotice[];
  /** An operator's own notice (Spec§7-4: 甲に通知), kept once with its audit entry. */
  saveOperatorNotice(notice: OperatorNotice, receivedAtIso: string): RecordResult;
  /** An operator's inquiry (C§16), kept once with its audit entry, routed to this municipality. */
  saveInquiry(inquiry: Inquiry, municipalityCode: string, receivedAtIso: string): RecordResult;
  findInquiry(inquiryId: string): InquiryState | undefined;
  /** An operator's accident report (C§15), kept once and in turn with its audit entry. */
  saveIncidentReport(report: IncidentReport, receivedAtIso: string): RecordResult;
  /** True once the month (YYYY-MM, JST) is locked for this operator (or, before issue 8, for everyone). */
  isMonthConfirmed(month: string, operatorId: string): boolean;
  findAdjustment(issuanceId: string): (SettlementAdjustment & { issuedAt: string; operatorId: string }) | undefined;
  /** Appends a 過誤調整 line once, with its audit entry; a repeat is a duplicate, a different one a conflict. */
  recordAdjustment(adjustment: SettlementAdjustment & { issuedAt: string; operatorId: string }, recordedAtIso: string): RecordResult;
  /** Copies and fee of an issuance as settled so far: its record, corrections and correction adjustments applied. */
  settledFigures(issuanceId: string): { copies: number; feeYen: number } | undefined;
  /** Appends a correction that came after the lock as an adjustment line, once, with its audit entry. */
  recordCorrectionAdjustment(line: CorrectionAdjustment, recordedAtIso: string): RecordResult | 'refused';
  /** The centre's own totals of an operator's month, as reconcile counts them. */
  monthTotals(month: string, operatorId: string): MonthTotals;
  /** Keeps what the operator submitted (append-only), with its audit entry. */
  saveSubmission(operatorId: string, submission: SettlementSubmission, receivedAtIso: string): void;
  latestSubmission(month: string, operatorId: string): SettlementSubmission | undefined;
  findConfirmation(month: string, operatorId: string): MonthConfirmation | undefined;
  /** Locks the month for the operator, in the same transaction as its audit entry. */
  confirm(confirmation: MonthConfirmation): void;
}

/** The municipalities' side: residents by card, and their certificates (built-in or remote). */
export interface MunicipalityDirectory {
  findMunicipality(code: string): Municipality | undefined;
  /** The resident the card belongs to, from the centre's own table or the municipality's back end. */
  findResidentByCardSerial(serialHex: string): Promise<Resident | undefined>;
  findResident(residentId: string): Promise<Resident | undefined>;
}

export type CardProblem = 'malformed' | 'untrusted' | 'not-yet-valid' | 'expired' | 'revoked' | 'crl-stale' | 'wrong-usage';

export interface CardCertificateVerifier {
  check(certificateDer: Uint8Array, atMs: number): { ok: true; certificate: { serialHex: string } } | { ok: false; problem: CardProblem };
  verifySignature(certificateDer: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
}
