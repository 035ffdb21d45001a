// The operator's relay (S1, S2): the only door between kiosks and the centre. It admits registered
// kiosks by their certificate, pins the kiosk id the centre sees to that certificate, keeps the
// operator's own handling records, and forwards everything else unchanged.

import { handlingCorrectionOf, handlingRecordOf, type HandlingCorrection, type RecordResult } from './handling-record.ts';
import type { HandlingRecord } from './messages.ts';
import { AppError } from './errors.ts';
import { formatUtcIso, isIsoDate, parseIsoInstant } from './jst.ts';
import { KIOSK_PATHS, RELAYED_PATHS, asObject, integerField, parseCompletionNotice, parseCorrectionNotice, stringField } from './messages.ts';
import type { AuditSink } from './audit-entry.ts';
import type { MerkleHasher } from './merkle.ts';
import type { NoteVerifier } from './signed-note.ts';
import { parseCheckpointOffer, witness, type CheckpointOffer, type WitnessedCheckpoint, type WitnessRecord } from './witness.ts';
import { decodeAuditEntry } from './audit-entry.ts';
import { bytesEqual, hexDecode, utf8Decode, utf8Encode } from './bytes.ts';
import { verifyInclusion } from './merkle.ts';
import { openNote, parseCheckpoint } from './signed-note.ts';
import type { Clock } from './ports.ts';
import { parseFaultReport, type FaultReport } from './alerts.ts';
import { asServiceNotice, currentAndComing, inForce, type OperatorNotice } from './service-notices.ts';

export interface RegisteredKiosk {
  kioskId: string;
  storeId: string;
  active: boolean;
  /** C2SP verifier key of the kiosk's audit log: the relay witnesses its checkpoints. */
  auditKey?: string;
}

export type { WitnessedCheckpoint } from './witness.ts';

export interface RelayStore {
  findKiosk(kioskId: string): RegisteredKiosk | undefined;
  noteKioskSeen(kioskId: string, atIso: string): void;
  recordOperatorRecord(record: HandlingRecord, receivedAtIso: string): RecordResult;
  recordOperatorCorrection(correction: HandlingCorrection): RecordResult;
  latestWitnessed(kioskId: string): WitnessedCheckpoint | undefined;
  /** Keeps a kiosk's store business day; a repeat is a duplicate, different figures a conflict. */
  saveStoreDay(day: StoreDay, receivedAtIso: string): RecordResult;
  saveWitnessed(kioskId: string, checkpoint: WitnessedCheckpoint & { record: WitnessRecord }, receivedAtIso: string): void;
  /** The kiosk offered the checkpoint already kept: witnessed again, nothing new to record. */
  noteWitnessed(kioskId: string, atIso: string): void;
  /** The kiosk's offer was refused; relay status shows it until an offer is accepted. */
  noteWitnessFailure(kioskId: string, code: string): void;
  /**
   * Records a decommissioned kiosk's revocation with its audit entry, in one transaction: the kiosk
   * is no longer active, and its certificate is refused at every handshake from now on.
   */
  revokeKiosk(revocation: KioskRevocation): void;
  /** The revocation of this certificate (SHA-256 fingerprint), if it was revoked. */
  revocationOf(fingerprint256: string): KioskRevocation | undefined;
  /**
   * Keeps a kiosk's fault report for the alert queue (docs/alerts.md), with its audit entry: the
   * same fault id again is a duplicate, the same id with other content a conflict.
   */
  saveFault(fault: FaultReport & { storeId: string }, receivedAtIso: string): RecordResult;
  /** The operator's own notices (relay notice) that end after this instant. */
  operatorNotices(fromMs: number): OperatorNotice[];
}

/** A kiosk certificate the operator's store CA revoked when its kiosk was decommissioned (C§9-2). */
export interface KioskRevocation {
  kioskId: string;
  storeId: string;
  /** Hex serial and SHA-256 fingerprint of the kiosk's client certificate, as TLS reports them. */
  serialNumber: string;
  fingerprint256: string;
  /** The kiosk's audit log size the relay witnessed last: the log ends with the decommission entry. */
  finalSize: number;
  revokedAtIso: string;
}

/** The kiosk's last words (docs/audit-log.md, "Decommission"): its final checkpoint and the entry it ends with. */
export interface DecommissionRequest extends HeartbeatRequest {
  /** The log's last entry, `kiosk.decommissioned`, as the kiosk encoded it (UTF-8 JSON). */
  entry: string;
  /** Inclusion proof of that entry (index size − 1) in the offered checkpoint, hex hashes. */
  inclusionProof: string[];
}

export interface DecommissionResponse {
  witnessedSize: number;
  serialNumber: string;
  revokedAt: string;
}

/** The cash one kiosk took on one store business day (Spec§3-7): the third view of reconciliation. */
export interface StoreDay {
  kioskId: string;
  storeId: string;
  businessDate: string;
  cashYen: number;
  transactions: number;
  documents: number;
  closedAt: string;
}

/** A kiosk's heartbeat: its latest signed checkpoint and a proof that it extends the last one witnessed. */
export interface HeartbeatRequest extends CheckpointOffer {
  kioskId: string;
}

export interface HeartbeatResponse {
  witnessedSize: number;
  /** The relay's clock when it answered (UTC ISO, ms): the kiosk checks its own against it (clock faults, docs/alerts.md). */
  relayTime?: string;
}

/** The kiosk as its client certificate names it: CN = kiosk id, OU = store id, O = operator id. */
export interface KioskCertificateIdentity {
  kioskId: string;
  storeId: string;
  operatorId: string;
}

/**
 * The centre's answer as it came: the relay passes it on unparsed, since nothing in it is the
 * relay's to check (only the status goes into the relay's log). Parsing and re-serialising a
 * ~90 KB certificate answer was most of the relay's share of a certificate request
 * (bench/issuance.bench.ts); the kiosk parses the answer as before.
 */
export interface UpstreamAnswer {
  status: number;
  /** The JSON body's bytes (UTF-8). */
  body: Uint8Array;
}

/** The relay's connection to the centre; it adds the kiosk identity the relay vouches for. */
export interface CenterUpstream {
  /**
   * `text`, when given, is `body` as the kiosk sent it (its JSON text): sent on unchanged instead
   * of serialising `body` again. The centre parses it to the very value the relay checked.
   */
  post(path: string, body: unknown, kiosk: { storeId: string; kioskId: string }, text?: string): Promise<UpstreamAnswer>;
}

export interface WitnessCrypto {
  hasher: MerkleHasher;
  noteVerifierFor(verifierKey: string): NoteVerifier;
}

/**
 * `relay status` shows when each kiosk was last seen; to the minute is enough, so it is written at
 * most once a minute per kiosk rather than in a transaction of its own for every request (four
 * per issuance, bench/issuance.bench.ts).
 */
export const KIOSK_SEEN_RESOLUTION_MS = 60_000;

/**
 * Where a relay counts its kiosks' fetches of the public notices instead of writing an audit entry
 * for each (every kiosk fetches them at every heartbeat, all day: noise that drowned the issuances).
 */
export interface NoticeReadTally {
  note(kioskId: string): void;
}

export function createRelayService(deps: { operatorId: string; clock: Clock; store: RelayStore; upstream: CenterUpstream; audit: AuditSink; witness: WitnessCrypto; noticeReads?: NoticeReadTally }) {
  /** When each kiosk's last-seen time was last written; only registered kiosks get here (admit), so it stays small. */
  const seenWrittenAtMs = new Map<string, number>();
  function noteSeen(kioskId: string, nowMs: number): void {
    const writtenAtMs = seenWrittenAtMs.get(kioskId);
    // A clock set back writes again, so the stored time is never ahead of what it should say.
    if (writtenAtMs !== undefined && nowMs >= writtenAtMs && nowMs - writtenAtMs < KIOSK_SEEN_RESOLUTION_MS) return;
    deps.store.noteKioskSeen(kioskId, formatUtcIso(nowMs));
    seenWrittenAtMs.set(kioskId, nowMs);
  }

  function admit(identity: KioskCertificateIdentity): RegisteredKiosk {
    const kiosk = deps.store.findKiosk(identity.kioskId);
    if (!kiosk || !kiosk.active || kiosk.storeId !== identity.storeId || identity.operatorId !== deps.operatorId) {
      deps.audit.append({ kind: 'kiosk.refused', data: { kioskId: identity.kioskId, storeId: identity.storeId, code: 'relay.kiosk_unregistered' } });
      throw new AppError('unauthorized', 'relay.kiosk_unregistered', 'this kiosk is not registered with the relay', identity.kioskId);
    }
    return kiosk;
  }

  /** The kiosk a revoked certificate names, for a repeated decommission only: the same kiosk, store and operator. */
  function decommissionedKiosk(identity: KioskCertificateIdentity, revoked: KioskRevocation): RegisteredKiosk {
    const kiosk = deps.store.findKiosk(identity.kioskId);
    if (!kiosk || kiosk.kioskId !== revoked.kioskId || kiosk.storeId !== identity.storeId || identity.operatorId !== deps.operatorId) {
      throw new AppError('unauthorized', 'relay.kiosk_unregistered', 'this kiosk is not registered with the relay', identity.kioskId);
    }
    return kiosk;
  }

  /** Checks a kiosk's checkpoint against what was witnessed before and keeps it (S4-5: caught from outside). */
  function heartbeat(identity: KioskCertificateIdentity, body: unknown): HeartbeatResponse {
    const kiosk = admit(identity);
    noteSeen(kiosk.kioskId, deps.clock.nowMs());
    return witnessOffer(kiosk, parseHeartbeat(body));
  }

  /** Witnesses an admitted (or decommissioning) kiosk's offer: the checks of a heartbeat. */
  function witnessOffer(kiosk: RegisteredKiosk, request: ReturnType<typeof parseHeartbeat>): HeartbeatResponse {
    if (request.kioskId !== kiosk.kioskId) {
      throw new AppError('input', 'relay.kiosk_mismatch', 'field "kioskId" does not match the kiosk certificate', 'kioskId');
    }
    const nowIso = formatUtcIso(deps.clock.nowMs());
    if (!kiosk.auditKey) throw new AppError('refused', 'witness.no_key', 'no audit key is registered for this kiosk');
    try {
      const decision = witness({
        offer: request,
        previous: deps.store.latestWitnessed(kiosk.kioskId),
        origin: `cvs-issue/kiosk/${kiosk.kioskId}`,
        verifier: deps.witness.noteVerifierFor(kiosk.auditKey),
        hasher: deps.witness.hasher,
      });
      if (decision.keep) deps.store.saveWitnessed(kiosk.kioskId, decision.keep, nowIso);
      else if (!decision.resync) deps.store.noteWitnessed(kiosk.kioskId, nowIso);
      return { witnessedSize: decision.witnessedSize, relayTime: nowIso };
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'internal';
      deps.store.noteWitnessFailure(kiosk.kioskId, code);
      deps.audit.append({ kind: 'witness.inconsistent', data: { kioskId: kiosk.kioskId, code } });
      throw error;
    }
  }

  /** Kept by the relay for the operator's reconciliation; never forwarded to the centre. */
  function storeDay(identity: KioskCertificateIdentity, body: unknown): { businessDate: string; duplicate: boolean } {
    const kiosk = admit(identity);
    const day = parseStoreDay(body);
    if (day.kioskId !== kiosk.kioskId || day.storeId !== kiosk.storeId) {
      throw new AppError('input', 'relay.kiosk_mismatch', 'the store day names another kiosk or store than the certificate', 'kioskId');
    }
    const result = deps.store.saveStoreDay(day, formatUtcIso(deps.clock.nowMs()));
    if (result === 'conflict') {
      throw new AppError('conflict', 'store_day.conflict', `a different close was already received for ${day.businessDate}`, day.kioskId);
    }
    return { businessDate: day.businessDate, duplicate: result === 'duplicate' };
  }

  /**
   * A kiosk's disposal (C§9-2, P5): its log must end with its `kiosk.decommissioned` entry, proven
   * included in a checkpoint that extends what this relay witnessed; then the certificate that
   * asked is revoked. Only the kiosk itself can ask, over its own certificate, and only once.
   */
  function decommission(identity: KioskCertificateIdentity, certificate: { serialNumber: string; fingerprint256: string }, body: unknown): DecommissionResponse {
    // Asked again after the answer was lost (a time-out, a crash before the kiosk erased): the
    // certificate is revoked and the kiosk no longer active, but it may prove once more that its log
    // ends in its decommission, and gets the same revocation back, so that it can erase.
    const revoked = deps.store.revocationOf(certificate.fingerprint256);
    const kiosk = revoked ? decommissionedKiosk(identity, revoked) : admit(identity);
    const request = parseDecommission(body);
    const entryBytes = utf8Encode(request.entry);
    const entry = decodeAuditEntry(entryBytes);
    if (entry.kind !== 'kiosk.decommissioned' || entry.data.kioskId !== kiosk.kioskId || entry.data.storeId !== kiosk.storeId) {
      throw new AppError('input', 'decommission.bad_entry', 'the entry is not this kiosk\'s kiosk.decommissioned entry', 'entry');
    }
    if (!revoked) noteSeen(kiosk.kioskId, deps.clock.nowMs());
    const { witnessedSize } = witnessOffer(kiosk, request);
    // What is witnessed now must be the offered checkpoint itself (an offer racing this one may
    // have got there first: its root must then be the same).
    const verifier = deps.witness.noteVerifierFor(kiosk.auditKey!);
    const offered = parseCheckpoint(openNote(request.checkpointNote, [verifier]).body);
    const latest = deps.store.latestWitnessed(kiosk.kioskId);
    const held = latest ? parseCheckpoint(openNote(latest.note, [verifier]).body) : undefined;
    if (!held || witnessedSize !== offered.size || held.size !== offered.size || !bytesEqual(held.rootHash, offered.rootHash)) {
      throw new AppError('conflict', 'decommission.not_witnessed', `the final checkpoint (size ${offered.size}) is not what this relay witnessed (size ${witnessedSize}); offer again`, kiosk.kioskId);
    }
    const last = offered.size - 1;
    if (entry.index !== last || !verifyInclusion(deps.witness.hasher, deps.witness.hasher.leafHash(entryBytes), last, offered.size, request.inclusionProof.map(hexDecode), offered.rootHash)) {
      throw new AppError('input', 'decommission.not_included', `the decommission entry is not the last entry (index ${last}) of the witnessed checkpoint`, 'inclusionProof');
    }
    if (revoked) return { witnessedSize, serialNumber: revoked.serialNumber, revokedAt: revoked.revokedAtIso };
    const revokedAtIso = formatUtcIso(deps.clock.nowMs());
    deps.store.revokeKiosk({ kioskId: kiosk.kioskId, storeId: kiosk.storeId, serialNumber: certificate.serialNumber, fingerprint256: certificate.fingerprint256, finalSize: offered.size, revokedAtIso });
    return { witnessedSize, serialNumber: certificate.serialNumber, revokedAt: revokedAtIso };
  }

  /**
   * A device fault at a kiosk (S4-7): kept, then delivered from the relay's own queue to the store
   * register and the maintenance centre (docs/alerts.md). Only the kiosk itself reports its faults.
   */
  function fault(identity: KioskCertificateIdentity, body: unknown): { faultId: string; duplicate: boolean } {
    const kiosk = admit(identity);
    const report = parseFaultReport(body);
    if (report.kioskId !== kiosk.kioskId) {
      throw new AppError('input', 'relay.kiosk_mismatch', 'field "kioskId" does not match the kiosk certificate', 'kioskId');
    }
    const nowMs = deps.clock.nowMs();
    noteSeen(kiosk.kioskId, nowMs);
    const result = deps.store.saveFault({ ...report, storeId: kiosk.storeId }, formatUtcIso(nowMs));
    if (result === 'conflict') throw new AppError('conflict', 'fault.conflict', 'a different fault was already reported with this id', report.faultId);
    return { faultId: report.faultId, duplicate: result === 'duplicate' };
  }

  return {
    admit,
    heartbeat,
    storeDay,
    decommission,
    fault,

    /** `text`: the body's JSON text as received, forwarded as it is once `body`, its value, passed the checks. */
    async forward(path: string, body: unknown, identity: KioskCertificateIdentity, text?: string): Promise<UpstreamAnswer> {
      if (!RELAYED_PATHS.includes(path)) {
        throw new AppError('not-found', 'relay.no_route', `no such endpoint: ${path}`);
      }
      const kiosk = admit(identity);
      const nowMs = deps.clock.nowMs();
      const nowIso = formatUtcIso(nowMs);
      noteSeen(kiosk.kioskId, nowMs);
      const object = asObject(body, 'body');
      if (object.kioskId !== kiosk.kioskId) {
        throw new AppError('input', 'relay.kiosk_mismatch', 'field "kioskId" does not match the kiosk certificate', 'kioskId');
      }
      if (path === KIOSK_PATHS.challenge) assertOperatorServing(nowMs);
      if (path === KIOSK_PATHS.completions) keepOperatorRecord(object, kiosk, nowIso);
      if (path === KIOSK_PATHS.corrections) keepOperatorCorrection(object, kiosk);
      let answer: UpstreamAnswer;
      try {
        answer = await deps.upstream.post(path, object, { storeId: kiosk.storeId, kioskId: kiosk.kioskId }, text);
      } catch (error) {
        deps.audit.append({ kind: 'relay.fault', data: { kioskId: kiosk.kioskId, path, code: error instanceof AppError ? error.code : 'internal' } });
        throw error;
      }
      if (path === KIOSK_PATHS.notices && answer.status === 200 && deps.noticeReads) deps.noticeReads.note(kiosk.kioskId);
      else deps.audit.append({ kind: 'request.forwarded', data: { kioskId: kiosk.kioskId, path, status: answer.status } });
      return path === KIOSK_PATHS.notices && answer.status === 200 ? withOperatorNotices(answer, nowMs) : answer;
    },
  };

  /**
   * While the operator's own maintenance window or stop is in force (relay notice, Spec§7-3,
   * Spec§7-4), its kiosks start no new session: a challenge is the first step of one. A session
   * already under way goes on to its end, and completion and correction notices always pass, so
   * no money record waits on the stop.
   */
  function assertOperatorServing(nowMs: number): void {
    const own = deps.store.operatorNotices(nowMs).find((notice) => inForce(asServiceNotice(notice), nowMs));
    if (own === undefined) return;
    throw own.kind === 'maintenance'
      ? new AppError('refused', 'hours.maintenance', 'the operator has stopped its kiosks for maintenance')
      : new AppError('refused', 'relay.operator_stopped', 'the operator has stopped its kiosk service');
  }

  /**
   * The centre's notices for the kiosk, and the operator's own after them (Spec§7-4: the relay shows
   * them once the centre has them; relay notice). An answer that is not the notices list passes as it came.
   */
  function withOperatorNotices(answer: UpstreamAnswer, nowMs: number): UpstreamAnswer {
    const own = currentAndComing(deps.store.operatorNotices(nowMs).map(asServiceNotice), nowMs);
    if (own.length === 0) return answer;
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8Decode(answer.body));
    } catch {
      return answer;
    }
    const notices = (parsed as { notices?: unknown }).notices;
    if (!Array.isArray(notices)) return answer;
    return { status: answer.status, body: utf8Encode(JSON.stringify({ ...(parsed as object), notices: [...notices, ...own] })) };
  }

  /** Corrections change the operator's view too (Spec§13-2); a correction the relay cannot place is refused. */
  function keepOperatorCorrection(body: Record<string, unknown>, kiosk: RegisteredKiosk): void {
    const notice = parseCorrectionNotice(body);
    if (notice.storeId !== kiosk.storeId) {
      throw new AppError('input', 'relay.store_mismatch', 'field "storeId" does not match the kiosk certificate', 'storeId');
    }
    const result = deps.store.recordOperatorCorrection(handlingCorrectionOf(notice));
    if (result === 'conflict') {
      throw new AppError('conflict', 'correction.conflict', 'a different correction was already recorded with this id', notice.correctionId);
    }
  }

  /** The operator's view of the month (Spec§4-2): recorded before forwarding, so it exists even if the centre is down. */
  function keepOperatorRecord(body: Record<string, unknown>, kiosk: RegisteredKiosk, nowIso: string): void {
    const notice = parseCompletionNotice(body);
    if (notice.storeId !== kiosk.storeId) {
      throw new AppError('input', 'relay.store_mismatch', 'field "storeId" does not match the kiosk certificate', 'storeId');
    }
    const result = deps.store.recordOperatorRecord(handlingRecordOf(notice, deps.operatorId), nowIso);
    if (result === 'conflict') {
      throw new AppError('conflict', 'completion.conflict', 'a different notice was already recorded for this id', notice.issuanceId);
    }
  }
}

export type RelayService = ReturnType<typeof createRelayService>;

export function parseHeartbeat(value: unknown): HeartbeatRequest {
  const body = asObject(value, 'body');
  return { kioskId: stringField(body, 'kioskId', /^[A-Za-z0-9._-]{1,64}$/), ...parseCheckpointOffer(body) };
}

export function parseDecommission(value: unknown): DecommissionRequest {
  const body = asObject(value, 'body');
  const proof = body.inclusionProof;
  if (!Array.isArray(proof) || proof.length > 64 || !proof.every((hash) => typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash))) {
    throw new AppError('input', 'request.bad_field', 'field "inclusionProof" must be a list of hex SHA-256 hashes', 'inclusionProof');
  }
  return { ...parseHeartbeat(body), entry: stringField(body, 'entry', /^[\s\S]{1,2000}$/), inclusionProof: proof as string[] };
}

export function parseStoreDay(value: unknown): StoreDay {
  const body = asObject(value, 'body');
  const businessDate = stringField(body, 'businessDate', /^.{10}$/);
  if (!isIsoDate(businessDate)) throw new AppError('input', 'request.bad_field', 'field "businessDate" is not a real YYYY-MM-DD date', 'businessDate');
  const closedAt = stringField(body, 'closedAt', /^.{1,40}Z$/);
  if (parseIsoInstant(closedAt) === undefined) throw new AppError('input', 'request.bad_field', 'field "closedAt" is not a real UTC ISO time', 'closedAt');
  return {
    kioskId: stringField(body, 'kioskId', /^[A-Za-z0-9._-]{1,64}$/),
    storeId: stringField(body, 'storeId', /^[A-Za-z0-9._-]{1,64}$/),
    businessDate,
    cashYen: integerField(body, 'cashYen', 0, 1_000_000_000),
    transactions: integerField(body, 'transactions', 0, 1_000_000),
    documents: integerField(body, 'documents', 0, 10_000_000),
    closedAt,
  };
}
