// Proves the kiosk's correction notice (core/correction.ts, Spec§13-2): only an issued transaction,
// only fewer documents than issued, at the same unit fee, naming the kiosk and store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { correctionFor } from '../../core/correction.ts';
import { AppError } from '../../core/errors.ts';
import type { KioskTransactionRecord } from '../../core/kiosk-transaction.ts';

const issued: KioskTransactionRecord = { requestId: 'R1', issuedAtMs: Date.parse('2026-11-02T01:00:00Z'), municipalityCode: '131016', certificateType: 'juminhyo', copies: 3, feeYen: 900, cashKeptYen: 900, outcome: 'issued' };
const input = { transaction: issued, identity: { kioskId: 'K0001', storeId: 'S0001' }, issuanceId: 'R1', copies: 1, reason: 'misprint-found' as const, correctionId: 'C1', atMs: Date.parse('2026-11-03T00:00:00Z') };

function refusedWith(code: string, work: () => unknown): void {
  assert.throws(work, (error: unknown) => error instanceof AppError && error.code === code);
}

describe('correction notice', () => {
  it('states the documents really issued at the unit fee, for this kiosk and store', () => {
    assert.deepEqual(correctionFor(input), { correctionId: 'C1', issuanceId: 'R1', correctedAt: '2026-11-03T00:00:00.000Z', storeId: 'S0001', kioskId: 'K0001', copies: 1, feeYen: 300, reason: 'misprint-found' });
    assert.equal(correctionFor({ ...input, copies: 0 }).feeYen, 0);
  });

  it('refuses an unknown, refunded or cancelled transaction, and copies that are not fewer', () => {
    refusedWith('correction.unknown_record', () => correctionFor({ ...input, transaction: undefined }));
    refusedWith('correction.not_issued', () => correctionFor({ ...input, transaction: { ...issued, outcome: 'refunded', copies: 0, feeYen: 0 } }));
    for (const copies of [3, 4, -1, 1.5, Number.NaN]) refusedWith('correction.copies', () => correctionFor({ ...input, copies }));
  });
});
