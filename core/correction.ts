// Correction notices from the kiosk (Spec§13-2): when an error in an issuance is found after its
// completion notice was sent, the kiosk states the copies and fee as they really were. Only fewer
// documents than issued can be stated, at the same unit fee; the original record is never edited.

import { AppError } from './errors.ts';
import { formatUtcIso } from './jst.ts';
import type { KioskIdentity, KioskTransactionRecord } from './kiosk-transaction.ts';
import type { CorrectionNotice, CorrectionReason } from './messages.ts';

export function correctionFor(input: {
  transaction: KioskTransactionRecord | undefined;
  identity: Pick<KioskIdentity, 'kioskId' | 'storeId'>;
  issuanceId: string;
  copies: number;
  reason: CorrectionReason;
  correctionId: string;
  atMs: number;
}): CorrectionNotice {
  const { transaction } = input;
  if (!transaction) throw new AppError('input', 'correction.unknown_record', 'this kiosk has no transaction with that id', input.issuanceId);
  if (transaction.outcome !== 'issued' || transaction.copies === 0) {
    throw new AppError('input', 'correction.not_issued', 'only an issued transaction can be corrected', input.issuanceId);
  }
  if (!Number.isSafeInteger(input.copies) || input.copies < 0 || input.copies >= transaction.copies) {
    throw new AppError('input', 'correction.copies', `a correction states fewer documents than the ${transaction.copies} issued (0 to ${transaction.copies - 1})`, input.issuanceId);
  }
  const unitFeeYen = transaction.feeYen / transaction.copies;
  return {
    correctionId: input.correctionId,
    issuanceId: input.issuanceId,
    correctedAt: formatUtcIso(input.atMs),
    storeId: input.identity.storeId,
    kioskId: input.identity.kioskId,
    copies: input.copies,
    feeYen: unitFeeYen * input.copies,
    reason: input.reason,
  };
}
