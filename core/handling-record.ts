// The handling record (Spec§4) and its corrections: what both the centre and the relay keep of one
// issuance, built the same way on both sides from the kiosk's notices, in UTC.

import { AppError } from './errors.ts';
import { formatUtcIso, parseIsoInstant } from './jst.ts';
import type { CompletionNotice, CorrectionNotice, CorrectionReason, HandlingRecord } from './messages.ts';

export type { HandlingRecord } from './messages.ts';

export type RecordResult = 'inserted' | 'duplicate' | 'conflict';

/** A correction as both sides keep it (UTC time); the record it corrects is never edited. */
export interface HandlingCorrection {
  correctionId: string;
  issuanceId: string;
  correctedAt: string;
  copies: number;
  feeYen: number;
  reason: CorrectionReason;
}

/** A time the message parser already checked (core/messages.ts): failing here is our bug. */
export function instantOf(text: string): number {
  const epochMs = parseIsoInstant(text);
  if (epochMs === undefined) throw new AppError('internal', 'time.invalid', 'a validated time does not parse');
  return epochMs;
}

export function handlingCorrectionOf(notice: CorrectionNotice): HandlingCorrection {
  return {
    correctionId: notice.correctionId,
    issuanceId: notice.issuanceId,
    correctedAt: formatUtcIso(instantOf(notice.correctedAt)),
    copies: notice.copies,
    feeYen: notice.feeYen,
    reason: notice.reason,
  };
}

/** The handling record a completion notice makes (Spec§4): both sides build it the same way, in UTC. */
export function handlingRecordOf(notice: CompletionNotice, operatorId: string): HandlingRecord {
  return {
    issuanceId: notice.issuanceId,
    issuedAt: formatUtcIso(instantOf(notice.issuedAt)),
    operatorId,
    storeId: notice.storeId,
    kioskId: notice.kioskId,
    municipalityCode: notice.municipalityCode,
    certificateType: notice.certificateType,
    copies: notice.copies,
    feeYen: notice.feeYen,
  };
}
