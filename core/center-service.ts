// The national centre's use cases: challenges, card authentication, certificate data bound to one
// request, and completion notices recorded exactly once. Transport-free: the HTTP adapter calls these.

import { builtInDefinition, offeredOptions, resolveOptions, type CertificateOptions, type CertificateType } from './certificate-types.ts';
import { certificateSerials, parseCertificateSerial, type SerialStatus } from './certificate-serial.ts';
import type { AuditSink } from './audit-entry.ts';
import type { MerkleHasher } from './merkle.ts';
import type { NoteVerifier } from './signed-note.ts';
import { witness, type CheckpointOffer, type RelayHeartbeat, type RelayHeartbeatAnswer } from './witness.ts';
import type { IncidentReport } from './incidents.ts';
import type { Inquiry } from './inquiries.ts';
import { assertMunicipalityNotStopped, currentAndComing, maintenanceWindows, type OperatorNotice, type ServiceNotice } from './service-notices.ts';
import { AppError } from './errors.ts';
import { confirmationRefusal, nextOpenMonth, type AdjustmentKind, type MonthConfirmation, type SettlementSubmission } from './settlement.ts';
import { formatUtcIso, formatWarekiDate, jstMonth } from './jst.ts';
import type { CallerIdentity } from './caller.ts';
import type { CardCertificateVerifier, CardProblem, CenterStore, CorrectionAdjustment, MunicipalityDirectory, StoredChallenge, StoredRequest, StoredSession } from './center-ports.ts';
import { handlingCorrectionOf, handlingRecordOf, instantOf } from './handling-record.ts';
import type {
  AuthenticateRequest,
  AuthenticateResponse,
  CertificateData,
  CertificateRequest,
  ChallengeRequest,
  ChallengeResponse,
  CompletionAck,
  CompletionNotice,
  CorrectionNotice,
  HandlingRecord,
  MenuItem,
} from './messages.ts';
import { certificateDigestInput, signedChallengeBytes } from './messages.ts';
import { DEFAULT_MAX_COPIES_PER_TYPE, findOffer, offerDefinition, type CertificateOffer, type Municipality } from './municipality.ts';
import type { Clock, RandomSource } from './ports.ts';
import { assertEligible, certificateContent, type CertificateContent, type Resident } from './resident.ts';
import { assertCenterOpen, isTypeAvailable, typeHoursText, type HolidayLookup } from './service-hours.ts';
import { base64Decode, base64Encode, hexDecode, hexEncode, utf8Encode } from './bytes.ts';

/** The centre's answer about one serial: pseudonymous ids and codes only, never what the sheet says. */
export interface SerialAnswer {
  serial: string;
  status: SerialStatus;
  requestId?: string;
  copy?: number;
  copies?: number;
  kioskId?: string;
  /** For a void serial: the fault that voided it and when (UTC). */
  code?: string;
  voidedAt?: string;
}

export const CHALLENGE_BYTES = 32;
export const CHALLENGE_TTL_MS = 60_000;
export const SESSION_TTL_MS = 5 * 60_000;
const PURGE_INTERVAL_MS = 60_000;

export interface CenterDependencies {
  clock: Clock;
  /** Checks relays' signed checkpoints (S4-5): the centre witnesses every relay's audit log. */
  witness: { hasher: MerkleHasher; noteVerifierFor(verifierKey: string): NoteVerifier };
  /** The centre's own latest checkpoint with a proof from `fromSize`, for the relays to cosign. */
  ownCheckpoint?(fromSize: number): CheckpointOffer | undefined;
  /** Decisions that change no other table (refusals, accepted logins); the store logs its own writes. */
  audit: AuditSink;
  random: RandomSource;
  store: CenterStore;
  directory: MunicipalityDirectory;
  verifier: CardCertificateVerifier;
  isHoliday: HolidayLookup;
  /** One PDF per copy (content.serials), in copy order. */
  renderCertificate(content: CertificateContent): Promise<Uint8Array[]>;
  sha256Hex(data: Uint8Array): string;
  /**
   * Base64 of each PDF in the answer; core/bytes.ts's pure one by default. The centre passes the
   * runtime's (drivers/bytes/base64.ts): about 18× faster.
   */
  base64Encode?(bytes: Uint8Array): string;
}

const CARD_REFUSALS: Record<CardProblem, [string, string]> = {
  malformed: ['card.unreadable', 'the card certificate could not be read'],
  untrusted: ['card.untrusted', 'the card certificate is not from the JPKI authority'],
  'not-yet-valid': ['card.not_yet_valid', 'the card certificate is not valid yet'],
  expired: ['card.expired', 'the card certificate has expired'],
  revoked: ['card.revoked', 'the card certificate has been revoked'],
  'crl-stale': ['center.crl_stale', 'the revocation list is out of date'],
  'wrong-usage': ['card.wrong_usage', 'the card certificate is not one for user authentication'],
};

function randomId(random: RandomSource, byteLength = 16): string {
  return hexEncode(random.bytes(byteLength));
}

export function createCenterService(deps: CenterDependencies) {
  const { clock, store, directory } = deps;

  function assertOperator(operatorId: string): void {
    if (!store.isOperatorRegistered(operatorId)) {
      throw new AppError('unauthorized', 'center.operator_unknown', 'the operator is not registered at the centre');
    }
  }

  /** Challenges and sessions hold who was at which kiosk: none outlives its use (once a minute). */
  let purgedAtMs = -Infinity;
  function purgeNowAndThen(nowMs: number): void {
    if (nowMs - purgedAtMs < PURGE_INTERVAL_MS) return;
    purgedAtMs = nowMs;
    store.purgeExpired(nowMs);
  }

  function assertKiosk(caller: CallerIdentity, kioskId: string): void {
    if (caller.kioskId !== kioskId) {
      throw new AppError('unauthorized', 'center.kiosk_mismatch', 'the kiosk id does not match the relayed kiosk certificate');
    }
    if (!store.isOperatorRegistered(caller.operatorId)) {
      throw new AppError('unauthorized', 'center.operator_unknown', 'the operator is not registered at the centre');
    }
  }

  function liveSession(caller: CallerIdentity, sessionToken: string, nowMs: number): StoredSession {
    const session = store.findSession(sessionToken);
    if (!session || session.kioskId !== caller.kioskId || session.operatorId !== caller.operatorId) {
      throw new AppError('refused', 'session.unknown', 'the session is unknown; authenticate again');
    }
    if (nowMs >= session.expiresAtMs) {
      throw new AppError('refused', 'session.expired', 'the session has expired; authenticate again');
    }
    return session;
  }

  function menuItems(municipality: Municipality, nowMs: number, issuedBy: 'residence' | 'honseki' | 'either'): MenuItem[] {
    return municipality.offers
      .filter((offer) => issuedBy === 'either' || offerDefinition(offer).issuedBy === issuedBy)
      .map((offer) => {
        const definition = offerDefinition(offer);
        return {
          certificateType: offer.type,
          title: definition.title,
          unitFeeYen: offer.unitFeeYen,
          maxCopies: municipality.maxCopiesPerType || DEFAULT_MAX_COPIES_PER_TYPE,
          available: isTypeAvailable(offer.hours, nowMs, deps.isHoliday),
          hoursText: typeHoursText(offer.hours),
          options: offeredOptions(definition, offer.limits, nowMs),
        };
      });
  }

  /** 戸籍 and 附票 come from the 本籍地 when it is elsewhere: its offers, fees, limits and hours. */
  function menuFor(resident: Resident, residence: Municipality, nowMs: number): MenuItem[] {
    const honsekiCode = resident.honsekiCode ?? residence.code;
    if (honsekiCode === residence.code) return menuItems(residence, nowMs, 'either');
    const honseki = directory.findMunicipality(honsekiCode);
    return [...menuItems(residence, nowMs, 'residence'), ...(honseki?.participating ? menuItems(honseki, nowMs, 'honseki') : [])];
  }

  /**
   * Who issues a type for this resident, and under which offer: the 住所地, or the 本籍地 for a type
   * its definition says the 本籍地 issues (戸籍, 附票), when the 本籍地 is elsewhere.
   */
  function issuingOffer(resident: Resident, type: CertificateType, residenceCode: string): { municipality: Municipality; offer: CertificateOffer } {
    const honsekiCode = resident.honsekiCode ?? residenceCode;
    const atResidence = findOffer(participatingMunicipality(residenceCode), type);
    let issuedBy = atResidence ? offerDefinition(atResidence).issuedBy : undefined;
    if (issuedBy === undefined && honsekiCode !== residenceCode) {
      const atHonseki = directory.findMunicipality(honsekiCode)?.offers.find((offer) => offer.type === type);
      issuedBy = atHonseki ? offerDefinition(atHonseki).issuedBy : builtInDefinition(type)?.issuedBy;
    }
    const municipality = participatingMunicipality(issuedBy === 'honseki' ? honsekiCode : residenceCode);
    const offer = findOffer(municipality, type);
    if (!offer || offerDefinition(offer).issuedBy !== (issuedBy ?? 'residence')) {
      throw new AppError('refused', 'request.type_not_offered', 'the municipality does not issue this certificate at kiosks');
    }
    return { municipality, offer };
  }

  function participatingMunicipality(code: string): Municipality {
    const municipality = directory.findMunicipality(code);
    if (!municipality || !municipality.participating) {
      throw new AppError('refused', 'municipality.not_participating', 'the municipality does not offer kiosk issuance');
    }
    return municipality;
  }

  return {
    issueChallenge(caller: CallerIdentity, request: ChallengeRequest): ChallengeResponse {
      assertKiosk(caller, request.kioskId);
      const nowMs = clock.nowMs();
      assertCenterOpen(nowMs, maintenanceWindows(store.serviceNotices(nowMs)));
      const challenge: StoredChallenge = {
        challengeId: randomId(deps.random),
        operatorId: caller.operatorId,
        kioskId: caller.kioskId,
        challenge: deps.random.bytes(CHALLENGE_BYTES),
        expiresAtMs: nowMs + CHALLENGE_TTL_MS,
      };
      store.saveChallenge(challenge);
      purgeNowAndThen(nowMs);
      return {
        challengeId: challenge.challengeId,
        challengeBase64: base64Encode(challenge.challenge),
        expiresAt: formatUtcIso(challenge.expiresAtMs),
      };
    },

    async authenticate(caller: CallerIdentity, request: AuthenticateRequest): Promise<AuthenticateResponse> {
      let answer: { response: AuthenticateResponse; repeated: boolean };
      try {
        answer = await authenticate(caller, request);
      } catch (error) {
        throw auditRefusal('auth.refused', caller, error);
      }
      const { response, repeated } = answer;
      deps.audit.append({ kind: repeated ? 'auth.repeated' : 'auth.accepted', data: { operatorId: caller.operatorId, kioskId: caller.kioskId, residentRef: response.residentRef, municipalityCode: response.municipality.code } });
      return response;
    },

    async requestCertificate(caller: CallerIdentity, request: CertificateRequest): Promise<CertificateData> {
      try {
        return await requestCertificate(caller, request);
      } catch (error) {
        throw auditRefusal('certificate.refused', caller, error);
      }
    },

    recordCompletion(caller: CallerIdentity, notice: CompletionNotice): CompletionAck {
      return auditingRefusals('completion.refused', caller, () => recordCompletion(caller, notice));
    },

    /** Spec§7-4, Spec§12: announced windows and stops, routed centre → relay → kiosk screens. */
    currentNotices(caller: CallerIdentity, request: ChallengeRequest): { notices: ServiceNotice[] } {
      assertKiosk(caller, request.kioskId);
      const nowMs = clock.nowMs();
      return { notices: currentAndComing(store.serviceNotices(nowMs), nowMs) };
    },

    /** A relay's heartbeat: its latest checkpoint, kept once it provably extends the last one. */
    witnessRelay(operatorId: string, offer: RelayHeartbeat): RelayHeartbeatAnswer {
      const auditKey = store.relayAuditKey(operatorId);
      if (!store.isOperatorRegistered(operatorId) || !auditKey) {
        throw new AppError('unauthorized', 'center.operator_unknown', 'the operator is not registered at the centre');
      }
      try {
        const decision = witness({
          offer,
          previous: store.latestWitnessedRelay(operatorId),
          origin: `cvs-issue/relay/${operatorId}`,
          verifier: deps.witness.noteVerifierFor(auditKey),
          hasher: deps.witness.hasher,
        });
        if (decision.keep) store.saveWitnessedRelay(operatorId, decision.keep, formatUtcIso(clock.nowMs()));
        // The relay cosigns the centre's own log in return (docs/audit-log.md): every log has a witness.
        const centerCheckpoint = deps.ownCheckpoint?.(offer.cosignedSize);
        return centerCheckpoint ? { witnessedSize: decision.witnessedSize, centerCheckpoint } : { witnessedSize: decision.witnessedSize };
      } catch (error) {
        deps.audit.append({ kind: 'witness.inconsistent', data: { operatorId, code: error instanceof AppError ? error.code : 'internal' } });
        throw error;
      }
    },

    /** Relay → centre: the operator's reconciliation result for a month (Spec§4-3). */
    submitReconciliation(operatorId: string, submission: SettlementSubmission): MonthConfirmation {
      assertOperator(operatorId);
      return confirmMonth(operatorId, submission, submission.month);
    },

    /** The centre's side agreeing to what the operator submitted before; refused when nothing was. */
    agreeMonth(operatorId: string, month: string): MonthConfirmation {
      assertOperator(operatorId);
      return confirmMonth(operatorId, undefined, month);
    },

    supplyRecord(operatorId: string, record: HandlingRecord): CompletionAck {
      assertOperator(operatorId);
      try {
        return supplyRecord(operatorId, record);
      } catch (error) {
        deps.audit.append({ kind: 'supply.refused', data: { issuanceId: record.issuanceId, operatorId, code: error instanceof AppError ? error.code : 'internal' } });
        throw error;
      }
    },

    recordCorrection(caller: CallerIdentity, notice: CorrectionNotice): CompletionAck {
      return auditingRefusals('correction.refused', caller, () => recordCorrection(caller, notice));
    },

    serialStatus,

    /**
     * An operator's own maintenance window or stop (Spec§7-4: 乙は甲に通知のうえ): kept once, with its
     * audit entry, before the relay shows it to the operator's kiosks. The rules of Spec§7-3 were
     * checked by parseOperatorNotice; the operator is the relay's.
     */
    /**
     * An inquiry or complaint about a certificate's content (C§16, Spec§10): kept and routed to the
     * municipality that issued the certificate data, found from the request; only the operator
     * whose kiosk asked for it may ask about it.
     */
    receiveInquiry(operatorId: string, inquiry: Inquiry): { inquiryId: string; municipalityCode: string; status: string; duplicate: boolean } {
      assertOperator(operatorId);
      const request = store.findRequest(inquiry.requestId);
      if (!request || request.operatorId !== operatorId) throw new AppError('not-found', 'inquiry.unknown_request', 'the centre issued no certificate data to this operator under this request id', inquiry.requestId);
      const result = store.saveInquiry(inquiry, request.municipalityCode, formatUtcIso(clock.nowMs()));
      if (result === 'conflict') throw new AppError('conflict', 'inquiry.conflict', 'a different inquiry was already received with this id', inquiry.inquiryId);
      return { inquiryId: inquiry.inquiryId, municipalityCode: request.municipalityCode, status: store.findInquiry(inquiry.inquiryId)!.status, duplicate: result === 'duplicate' };
    },

    /** Where an operator's inquiry stands, and the municipality's answer through J-LIS. */
    inquiryStatus(operatorId: string, inquiryId: string): { inquiryId: string; municipalityCode: string; status: string; answer: string | null; updatedAt: string } {
      const state = store.findInquiry(inquiryId);
      if (!state || state.operatorId !== operatorId) throw new AppError('not-found', 'inquiry.unknown', 'no such inquiry of this operator', inquiryId);
      return { inquiryId, municipalityCode: state.municipalityCode, status: state.status, answer: state.answer, updatedAt: state.updatedAt };
    },

    /** An operator's accident report or its update (C§15: 直ちにその旨を甲に報告), kept as it came. */
    receiveIncident(operatorId: string, report: IncidentReport): { incidentId: string; sequence: number; duplicate: boolean } {
      assertOperator(operatorId);
      const result = store.saveIncidentReport(report, formatUtcIso(clock.nowMs()));
      if (result === 'conflict') throw new AppError('conflict', 'incident.conflict', 'a different report was already received under this number', report.incidentId);
      return { incidentId: report.incidentId, sequence: report.sequence, duplicate: result === 'duplicate' };
    },

    receiveOperatorNotice(operatorId: string, notice: OperatorNotice): { noticeId: string; duplicate: boolean } {
      assertOperator(operatorId);
      const result = store.saveOperatorNotice(notice, formatUtcIso(clock.nowMs()));
      if (result === 'conflict') throw new AppError('conflict', 'notice.conflict', 'a different notice was already received with this id', notice.noticeId);
      return { noticeId: notice.noticeId, duplicate: result === 'duplicate' };
    },
  };

  /** Writes a refusal's audit entry (its code only) and gives the error back to be thrown. */
  function auditRefusal(kind: string, caller: CallerIdentity, error: unknown): unknown {
    const code = error instanceof AppError ? error.code : 'internal';
    deps.audit.append({ kind, data: { operatorId: caller.operatorId, kioskId: caller.kioskId, code } });
    return error;
  }

  /** Runs one use case; a refusal is audited under `kind` and passed on (one place, not one per use case). */
  function auditingRefusals<T>(kind: string, caller: CallerIdentity, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw auditRefusal(kind, caller, error);
    }
  }

  async function authenticate(caller: CallerIdentity, request: AuthenticateRequest): Promise<{ response: AuthenticateResponse; repeated: boolean }> {
    assertKiosk(caller, request.kioskId);
    const nowMs = clock.nowMs();
    const answerDigest = deps.sha256Hex(utf8Encode(`${request.certificateDerBase64}\n${request.signatureBase64}`));
    const challenge = store.takeChallenge(request.challengeId);
    if (!challenge) {
      // The same answer again (a duplicating network, or a retry after the answer was lost): the
      // same session back, as long as it lives; any other answer to a used challenge is refused.
      const earlier = store.findSessionByChallenge(request.challengeId);
      if (earlier && earlier.answerDigest === answerDigest && earlier.kioskId === caller.kioskId && earlier.operatorId === caller.operatorId && nowMs < earlier.expiresAtMs) {
        return { response: await repeatedAuthentication(earlier, nowMs), repeated: true };
      }
    }
    if (!challenge || challenge.kioskId !== caller.kioskId || challenge.operatorId !== caller.operatorId) {
      throw new AppError('refused', 'auth.challenge_unknown', 'the challenge is unknown or was already used');
    }
    if (nowMs >= challenge.expiresAtMs) {
      throw new AppError('refused', 'auth.challenge_expired', 'the challenge has expired');
    }
    const certificateDer = base64Decode(request.certificateDerBase64);
    const check = deps.verifier.check(certificateDer, nowMs);
    if (!check.ok) {
      const [code, message] = CARD_REFUSALS[check.problem];
      throw new AppError('refused', code, message);
    }
    const signed = signedChallengeBytes(challenge.challenge, caller.kioskId);
    if (!deps.verifier.verifySignature(certificateDer, signed, base64Decode(request.signatureBase64))) {
      throw new AppError('refused', 'auth.bad_signature', 'the card signature does not verify');
    }
    // A municipality's own system may hold the record (a back end, docs/municipality-backend.md):
    // the challenge is used already, so a back end that fails refuses this attempt only.
    const resident = await directory.findResidentByCardSerial(check.certificate.serialHex);
    if (!resident) {
      throw new AppError('refused', 'municipality.not_participating', 'the municipality does not offer kiosk issuance');
    }
    const municipality = participatingMunicipality(resident.municipalityCode);
    const notices = store.serviceNotices(nowMs);
    assertCenterOpen(nowMs, maintenanceWindows(notices));
    assertMunicipalityNotStopped(notices, nowMs, municipality.code);
    assertEligible(resident, nowMs);
    const session: StoredSession = {
      sessionToken: randomId(deps.random, 24),
      operatorId: caller.operatorId,
      kioskId: caller.kioskId,
      residentId: resident.residentId,
      residentRef: randomId(deps.random, 8),
      municipalityCode: municipality.code,
      expiresAtMs: nowMs + SESSION_TTL_MS,
      challengeId: challenge.challengeId,
      answerDigest,
    };
    store.saveSession(session);
    return { response: sessionAnswer(session, resident, municipality, nowMs), repeated: false };
  }

  function sessionAnswer(session: StoredSession, resident: Resident, municipality: Municipality, nowMs: number): AuthenticateResponse {
    return {
      sessionToken: session.sessionToken,
      residentRef: session.residentRef,
      municipality: { code: municipality.code, name: municipality.name },
      menu: menuFor(resident, municipality, nowMs),
      expiresAt: formatUtcIso(session.expiresAtMs),
    };
  }

  /** The answer to an authentication already made, again (audited as auth.repeated). */
  async function repeatedAuthentication(session: StoredSession, nowMs: number): Promise<AuthenticateResponse> {
    const resident = await directory.findResident(session.residentId);
    if (!resident) throw new AppError('refused', 'session.unknown', 'the resident record is no longer available');
    return sessionAnswer(session, resident, participatingMunicipality(session.municipalityCode), nowMs);
  }

  async function requestCertificate(caller: CallerIdentity, request: CertificateRequest): Promise<CertificateData> {
    assertKiosk(caller, request.kioskId);
    const nowMs = clock.nowMs();
    const session = liveSession(caller, request.sessionToken, nowMs);
    const notices = store.serviceNotices(nowMs);
    assertCenterOpen(nowMs, maintenanceWindows(notices));
    const resident = await directory.findResident(session.residentId);
    if (!resident) throw new AppError('refused', 'session.unknown', 'the resident record is no longer available');
    const { municipality, offer } = issuingOffer(resident, request.certificateType, session.municipalityCode);
    assertMunicipalityNotStopped(notices, nowMs, municipality.code);
    const maxCopies = municipality.maxCopiesPerType || DEFAULT_MAX_COPIES_PER_TYPE;
    if (request.copies > maxCopies) {
      throw new AppError('refused', 'request.too_many_copies', `at most ${maxCopies} copies per certificate type`);
    }
    if (!isTypeAvailable(offer.hours, nowMs, deps.isHoliday)) {
      throw new AppError('refused', 'hours.municipality_closed', `this certificate is issued ${typeHoursText(offer.hours)} JST`);
    }
    assertEligible(resident, nowMs);
    const earlier = store.findRequest(request.requestId);
    if (earlier) return repeatedRequest(caller, request, session, earlier, resident, municipality, offer);
    const options = resolveOptions(offeredOptions(offerDefinition(offer), offer.limits, nowMs), request.options);
    const pdfs = await renderFor(resident, municipality, offer, request, options, caller.kioskId, nowMs);
    const contentSha256 = boundDigest(pdfs);
    const saved = store.saveRequest({
      requestId: request.requestId,
      sessionToken: session.sessionToken,
      operatorId: caller.operatorId,
      storeId: caller.storeId,
      kioskId: caller.kioskId,
      municipalityCode: municipality.code,
      certificateType: request.certificateType,
      options,
      copies: request.copies,
      unitFeeYen: offer.unitFeeYen,
      contentSha256,
      createdAtMs: nowMs,
    });
    if (!saved) {
      throw new AppError('conflict', 'request.duplicate_id', 'the request id was already used');
    }
    return certificateData(request, offerDefinition(offer).title, options, caller.kioskId, session.residentRef, offer.unitFeeYen, municipality, pdfs, contentSha256);
  }

  /** Every copy with its serial (core/certificate-serial.ts), laid out once (drivers/pdf/certificate-pdf.ts). */
  async function renderFor(resident: Resident, municipality: Municipality, offer: CertificateOffer, request: CertificateRequest, options: CertificateOptions, kioskId: string, atMs: number): Promise<Uint8Array[]> {
    const { requestId, certificateType: type, copies } = request;
    const definition = offerDefinition(offer);
    const pdfs = await deps.renderCertificate(
      certificateContent({ resident, type, definition, options, mayorTitle: municipality.mayorTitle, municipalityCode: municipality.code, requestId, kioskId, copies, atMs, issuedOnText: formatWarekiDate(atMs) }),
    );
    if (pdfs.length !== copies) throw new AppError('internal', 'certificate.copies_missing', 'the renderer did not return one PDF per copy', requestId);
    return pdfs;
  }

  /** The digest the kiosk checks before printing: over every copy, so over every serial printed. */
  function boundDigest(pdfs: Uint8Array[]): string {
    return deps.sha256Hex(certificateDigestInput(pdfs.map((pdf) => hexDecode(deps.sha256Hex(pdf)))));
  }

  function certificateData(request: CertificateRequest, title: string, options: CertificateOptions, kioskId: string, residentRef: string, unitFeeYen: number, municipality: Municipality, pdfs: Uint8Array[], contentSha256: string): CertificateData {
    return {
      requestId: request.requestId,
      kioskId,
      residentRef,
      certificateType: request.certificateType,
      title,
      options,
      copies: request.copies,
      unitFeeYen,
      feeYen: unitFeeYen * request.copies,
      municipalityCode: municipality.code,
      municipalityName: municipality.name,
      contentSha256,
      pdfsBase64: pdfs.map((pdf) => (deps.base64Encode ?? base64Encode)(pdf)),
    };
  }

  /**
   * The same request again (a network that duplicated it, a relay that retried): the same session
   * asking the same of the same kiosk gets the same certificate data, rendered again as it was at the
   * first answer and checked against the digest then bound; anything else with a used id is refused.
   * So a duplicate answered first no longer strands the resident (docs/simulation.md, seed 107).
   */
  async function repeatedRequest(caller: CallerIdentity, request: CertificateRequest, session: StoredSession, earlier: StoredRequest, resident: Resident, municipality: Municipality, offer: CertificateOffer): Promise<CertificateData> {
    const same =
      earlier.sessionToken === session.sessionToken &&
      earlier.operatorId === caller.operatorId &&
      earlier.kioskId === caller.kioskId &&
      earlier.certificateType === request.certificateType &&
      earlier.copies === request.copies &&
      earlier.municipalityCode === municipality.code &&
      Object.entries(request.options ?? {}).every(([key, value]) => earlier.options[key] === value);
    if (!same) throw new AppError('conflict', 'request.duplicate_id', 'the request id was already used');
    const pdfs = await renderFor(resident, municipality, offer, request, earlier.options, caller.kioskId, earlier.createdAtMs);
    const contentSha256 = boundDigest(pdfs);
    if (contentSha256 !== earlier.contentSha256) {
      throw new AppError('conflict', 'request.duplicate_id', 'the request id was already used, and its certificate cannot be given again as it was');
    }
    deps.audit.append({ kind: 'certificate.repeated', data: { requestId: request.requestId, operatorId: caller.operatorId, kioskId: caller.kioskId } });
    return certificateData(request, offerDefinition(offer).title, earlier.options, caller.kioskId, session.residentRef, earlier.unitFeeYen, municipality, pdfs, contentSha256);
  }

  function recordCompletion(caller: CallerIdentity, notice: CompletionNotice): CompletionAck {
    assertKiosk(caller, notice.kioskId);
    const request = store.findRequest(notice.issuanceId);
    if (!request || request.kioskId !== caller.kioskId || request.operatorId !== caller.operatorId) {
      throw new AppError('refused', 'completion.unknown_request', 'no certificate data was issued for this id to this kiosk');
    }
    const expectedCopies = notice.outcome === 'issued' ? request.copies : 0;
    if (
      notice.copies !== expectedCopies ||
      notice.feeYen !== request.unitFeeYen * expectedCopies ||
      notice.certificateType !== request.certificateType ||
      notice.municipalityCode !== request.municipalityCode ||
      notice.storeId !== request.storeId
    ) {
      throw new AppError('input', 'completion.inconsistent', 'the notice does not match the issued request', notice.issuanceId);
    }
    if (notice.voided && notice.voided.serials.join('\n') !== certificateSerials(request.requestId, request.copies).join('\n')) {
      throw new AppError('input', 'completion.inconsistent', 'the voided serials are not every serial of the issued request', notice.issuanceId);
    }
    const ack = recordOrAdjust(handlingRecordOf(notice, caller.operatorId), 'late-notice');
    // After the record, so a notice refused as a conflict voids nothing; a repeat records nothing new.
    if (notice.voided) {
      store.recordVoidedSerials(
        { issuanceId: notice.issuanceId, operatorId: caller.operatorId, kioskId: caller.kioskId, serials: notice.voided.serials, code: notice.voided.code, voidedAt: formatUtcIso(instantOf(notice.issuedAt)) },
        formatUtcIso(clock.nowMs()),
      );
    }
    return ack;
  }

  /** What the centre knows of a printed serial (C§9): void, issued, refunded, awaiting its notice, or unknown. */
  function serialStatus(serial: string): SerialAnswer {
    return serialStatusFrom(store, serial);
  }

  /**
   * Records a handling record in its month, or, when that month is confirmed for the operator, as a
   * 過誤調整 line settled in the next open month (Spec§4-3): a late notice is never dropped, and
   * never stuck in a kiosk's outbox.
   */
  function recordOrAdjust(record: HandlingRecord, kind: AdjustmentKind): CompletionAck {
    const month = jstMonth(instantOf(record.issuedAt));
    const adjusted = store.findAdjustment(record.issuanceId);
    if (!store.isMonthConfirmed(month, record.operatorId) && !adjusted) {
      const result = store.recordCompletion(record);
      if (result === 'conflict') throw new AppError('conflict', 'completion.conflict', 'a different notice was already recorded for this id', record.issuanceId);
      return { issuanceId: record.issuanceId, duplicate: result === 'duplicate' };
    }
    const existing = store.findHandlingRecord(record.issuanceId);
    if (existing) {
      const same = (Object.keys(record) as (keyof HandlingRecord)[]).every((field) => existing[field] === record[field]);
      if (!same) throw new AppError('conflict', 'completion.conflict', 'a different notice was already recorded for this id', record.issuanceId);
      return { issuanceId: record.issuanceId, duplicate: true };
    }
    const settleMonth = adjusted?.settleMonth ?? nextOpenMonth(month, (candidate) => store.isMonthConfirmed(candidate, record.operatorId));
    const result = store.recordAdjustment(
      { ...record, kind: adjusted?.kind ?? kind, originalMonth: month, settleMonth },
      formatUtcIso(clock.nowMs()),
    );
    if (result === 'conflict') throw new AppError('conflict', 'completion.conflict', 'a different notice was already recorded for this id', record.issuanceId);
    return { issuanceId: record.issuanceId, duplicate: result === 'duplicate', adjustment: { originalMonth: month, settleMonth } };
  }

  /**
   * A record the centre is missing, supplied from the operator's relay record (Spec§4-2). Accepted
   * only when it matches certificate data the centre really issued: request, kiosk, store,
   * municipality, type, copies and fee (or 0 copies, ¥0 for a refund).
   */
  function supplyRecord(operatorId: string, record: HandlingRecord): CompletionAck {
    const request = store.findRequest(record.issuanceId);
    const issued = record.copies === request?.copies && record.feeYen === request.unitFeeYen * request.copies;
    const refunded = record.copies === 0 && record.feeYen === 0;
    if (
      !request ||
      request.operatorId !== operatorId ||
      record.operatorId !== operatorId ||
      request.kioskId !== record.kioskId ||
      request.storeId !== record.storeId ||
      request.municipalityCode !== record.municipalityCode ||
      request.certificateType !== record.certificateType ||
      !(issued || refunded)
    ) {
      throw new AppError('refused', 'supply.no_matching_request', 'the centre issued no certificate data that matches this record (request, kiosk, store, municipality, type, copies, fee)', record.issuanceId);
    }
    const ack = recordOrAdjust(record, 'supplied');
    deps.audit.append({ kind: 'record.supplied', data: { issuanceId: record.issuanceId, operatorId, kioskId: record.kioskId, copies: record.copies, feeYen: record.feeYen, duplicate: ack.duplicate } });
    return ack;
  }

  /**
   * The operator's reconciliation result arrives through its relay (C§3(3)); the centre keeps it and
   * agrees when the month has ended and the totals equal its own (Spec§4-3). Anything else is
   * refused with the reason. A month confirmed before gives that confirmation again.
   */
  function confirmMonth(operatorId: string, submission: SettlementSubmission | undefined, month: string): MonthConfirmation {
    const nowMs = clock.nowMs();
    const existing = store.findConfirmation(month, operatorId);
    if (existing) return existing;
    if (submission) store.saveSubmission(operatorId, submission, formatUtcIso(nowMs));
    const refusal = confirmationRefusal({ month, nowMs, operatorId, submission: submission ?? store.latestSubmission(month, operatorId), center: store.monthTotals(month, operatorId) });
    if (refusal) {
      deps.audit.append({ kind: 'confirm.refused', data: { month, operatorId, code: refusal.code } });
      throw refusal;
    }
    const agreed = submission ?? store.latestSubmission(month, operatorId)!;
    const confirmation: MonthConfirmation = { month, operatorId, submittedAt: agreed.submittedAt, confirmedAt: formatUtcIso(nowMs), records: agreed.records, documents: agreed.documents, feesYen: agreed.feesYen };
    store.confirm(confirmation);
    return confirmation;
  }

  /** Spec§13-2: the issuance's copies and fee as they really were, within what was requested. */
  function recordCorrection(caller: CallerIdentity, notice: CorrectionNotice): CompletionAck {
    assertKiosk(caller, notice.kioskId);
    const request = store.findRequest(notice.issuanceId);
    const original = store.findHandlingRecord(notice.issuanceId);
    if (!request || !original || original.kioskId !== caller.kioskId || original.operatorId !== caller.operatorId) {
      throw new AppError('refused', 'correction.unknown_record', 'no completion notice was recorded for this id from this kiosk', notice.issuanceId);
    }
    const month = jstMonth(instantOf(original.issuedAt));
    if (notice.storeId !== original.storeId || notice.copies > request.copies || notice.feeYen !== request.unitFeeYen * notice.copies) {
      throw new AppError('input', 'correction.inconsistent', 'the correction does not fit the issued request', notice.issuanceId);
    }
    if (store.isMonthConfirmed(month, original.operatorId)) return adjustConfirmedMonth(notice, original.operatorId, month);
    const result = store.recordCorrection(handlingCorrectionOf(notice));
    if (result === 'conflict') {
      throw new AppError('conflict', 'correction.conflict', 'a different correction was already recorded with this id', notice.correctionId);
    }
    return { issuanceId: notice.issuanceId, duplicate: result === 'duplicate' };
  }

  /**
   * A correction for a month both parties confirmed: the month stays as agreed, and what comes off
   * is settled in the next open month as a 過誤調整 line naming the month (Spec§4-3). Copies only
   * go down; a correction that would raise them is refused.
   */
  function adjustConfirmedMonth(notice: CorrectionNotice, operatorId: string, month: string): CompletionAck {
    const settled = store.settledFigures(notice.issuanceId)!;
    const line: CorrectionAdjustment = {
      correctionId: notice.correctionId,
      issuanceId: notice.issuanceId,
      operatorId,
      kioskId: notice.kioskId,
      originalMonth: month,
      settleMonth: nextOpenMonth(month, (candidate) => store.isMonthConfirmed(candidate, operatorId)),
      copies: notice.copies,
      feeYen: notice.feeYen,
      copiesDelta: notice.copies - settled.copies,
      feeDeltaYen: notice.feeYen - settled.feeYen,
      reason: notice.reason,
      correctedAt: notice.correctedAt,
    };
    const result = store.recordCorrectionAdjustment(line, formatUtcIso(clock.nowMs()));
    if (result === 'conflict') throw new AppError('conflict', 'correction.conflict', 'a different correction was already recorded with this id', notice.correctionId);
    if (result === 'refused') throw new AppError('input', 'correction.raises_copies', 'a correction may only lower the documents and fee settled before', notice.issuanceId);
    return { issuanceId: notice.issuanceId, duplicate: result === 'duplicate', adjustment: { originalMonth: month, settleMonth: line.settleMonth } };
  }

}

export type CenterService = ReturnType<typeof createCenterService>;

/** What a serial is (C§9): unknown, unconfirmed (no notice yet), issued, refunded, or void after a misprint. */
export function serialStatusFrom(store: Pick<CenterStore, 'findRequest' | 'findHandlingRecord' | 'findAdjustment' | 'findVoidedSerial'>, serial: string): SerialAnswer {
  const named = parseCertificateSerial(serial);
  const request = named && store.findRequest(named.requestId);
  if (!named || !request || named.copy > request.copies) return { serial, status: 'unknown' };
  const known = (status: SerialStatus): SerialAnswer => ({ serial, status, requestId: request.requestId, copy: named.copy, copies: request.copies, kioskId: request.kioskId });
  const voided = store.findVoidedSerial(serial);
  if (voided) return { ...known('void'), code: voided.code, voidedAt: voided.voidedAt };
  const record = store.findHandlingRecord(request.requestId) ?? store.findAdjustment(request.requestId);
  if (!record) return known('unconfirmed');
  return known(record.copies === 0 ? 'refunded' : 'issued');
}
