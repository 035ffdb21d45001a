// Proves reconciliation by issuance id: matched, missing on either side, mismatched with the fields named, duplicates once per side (first occurrence compared), other months ignored, and store-day cash against fees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRowScratch, parseHandlingRow, parseMonth } from '../../core/handling-csv.ts';
import { createIdSet, createReconciler, isClean, isConfirmable, type ReconcileDifference, type StoreDay } from '../../core/reconcile.ts';

const encoder = new TextEncoder();
const NOVEMBER = parseMonth('2026-11')!;

function line(id: string, overrides: Partial<Record<'at' | 'store' | 'kiosk' | 'code' | 'type' | 'copies' | 'fee', string>> = {}): string {
  const o = { at: '2026-11-02T10:00:00+09:00', store: 'S1', kiosk: 'K1', code: '131016', type: 'juminhyo', copies: '1', fee: '200', ...overrides };
  return `${id},${o.at},OP001,${o.store},${o.kiosk},${o.code},${o.type},${o.copies},${o.fee}`;
}

function reconcile(center: string[], operator: string[], storeDays?: StoreDay[]) {
  const reconciler = createReconciler({ monthKey: NOVEMBER, storeDays });
  const row = createRowScratch();
  const feed = (lines: string[], add: (bytes: Uint8Array, row: ReturnType<typeof createRowScratch>) => void) => {
    for (const text of lines) {
      const bytes = encoder.encode(text);
      assert.equal(parseHandlingRow(bytes, 0, bytes.length, row), undefined, text);
      add(bytes, row);
    }
  };
  feed(center, (bytes, parsed) => reconciler.addCenter(bytes, parsed));
  feed(operator, (bytes, parsed) => reconciler.addOperator(bytes, parsed));
  return reconciler.finish();
}

describe('createReconciler', () => {
  it('reports a clean month with totals', () => {
    const result = reconcile([line('A'), line('B', { copies: '2', fee: '400' })], [line('B', { copies: '2', fee: '400' }), line('A')]);
    assert.equal(isClean(result), true);
    assert.deepEqual([result.matched, result.differences, result.storeDays], [2, [], null]);
    assert.deepEqual(result.center, { records: 2, documents: 3, feesYen: 600, otherMonthRows: 0 });
  });

  it('names every kind of difference, sorted by id', () => {
    const result = reconcile(
      [line('A'), line('B'), line('C', { fee: '250', kiosk: 'K2' }), line('D'), line('D', { fee: '999' }), line('E')],
      [line('A'), line('C'), line('D', { fee: '200' }), line('E'), line('E'), line('E'), line('F'), line('F')],
    );
    assert.deepEqual(result.differences, [
      { issuanceId: 'B', kind: 'missing-at-operator' },
      { issuanceId: 'C', kind: 'mismatch', fields: ['feeYen', 'kioskId'], center: { feeYen: 250, kioskId: 'K2' }, operator: { feeYen: 200, kioskId: 'K1' } },
      { issuanceId: 'D', kind: 'duplicate', side: 'center' },
      { issuanceId: 'E', kind: 'duplicate', side: 'operator' },
      { issuanceId: 'F', kind: 'duplicate', side: 'operator' },
      { issuanceId: 'F', kind: 'missing-at-center' },
    ]);
    assert.deepEqual(
      [result.matched, result.missingAtCenter, result.missingAtOperator, result.mismatched, result.duplicates],
      [3, 1, 1, 1, 3],
    );
  });

  it('compares municipality, type, copies and store too', () => {
    const result = reconcile([line('A')], [line('A', { code: '141003', type: 'inkan', copies: '2', store: 'S2' })]);
    assert.deepEqual(result.differences, [
      {
        issuanceId: 'A',
        kind: 'mismatch',
        fields: ['municipalityCode', 'certificateType', 'copies', 'storeId'],
        center: { municipalityCode: '131016', certificateType: 'juminhyo', copies: 1, storeId: 'S1' },
        operator: { municipalityCode: '141003', certificateType: 'inkan', copies: 2, storeId: 'S2' },
      },
    ]);
  });

  it('ignores rows of other JST months on both sides (the centre wrote Z times)', () => {
    const result = reconcile(
      [line('A', { at: '2026-10-31T15:00:00Z' }), line('B', { at: '2026-10-31T14:59:59Z' })],
      [line('A', { at: '2026-11-01T00:00:00+09:00' }), line('C', { at: '2026-12-01T00:00:00+09:00' })],
    );
    assert.equal(isClean(result), true);
    assert.equal(result.center.otherMonthRows, 1);
    assert.equal(result.operator.otherMonthRows, 1);
  });

  it('checks each kiosk-day of cash against the fees of non-refunded issuances', () => {
    const operator = [line('A', { fee: '300' }), line('B', { fee: '200', copies: '0' }), line('C', { kiosk: 'K2', at: '2026-11-03T09:00:00+09:00' })];
    const result = reconcile(operator, operator, [
      { storeId: 'S1', kioskId: 'K1', businessDate: '2026-11-02', cashYen: 300 },
      { storeId: 'S1', kioskId: 'K3', businessDate: '2026-11-02', cashYen: 100 },
    ]);
    assert.deepEqual(result.storeDays, {
      days: 2,
      differences: [
        { storeId: 'S1', kioskId: 'K3', businessDate: '2026-11-02', cashYen: 100, feesYen: 0, differenceYen: 100 },
        { storeId: 'S1', kioskId: 'K2', businessDate: '2026-11-03', cashYen: null, feesYen: 200, differenceYen: -200 },
      ],
    });
    assert.equal(isClean(result), false);
  });

  it('keeps every row when the id table grows far beyond its first size', () => {
    const ids = Array.from({ length: 5000 }, (_, index) => line(`ID${index}`));
    const result = reconcile(ids, ids.slice().reverse());
    assert.equal(result.matched, 5000);
    assert.equal(isClean(result), true);
  });
});

describe('createIdSet', () => {
  it('says true only the first time an id is seen', () => {
    const set = createIdSet();
    const row = createRowScratch();
    const seen = ['A', 'B', 'A'].map((id) => {
      const bytes = encoder.encode(line(id));
      parseHandlingRow(bytes, 0, bytes.length, row);
      return set.addIfAbsent(bytes, row);
    });
    assert.deepEqual(seen, [true, true, false]);
  });
});

describe('isConfirmable (Spec§4-3)', () => {
  const unnoticed = { kind: 'issued-unnoticed', issuanceId: 'I1' } as ReconcileDifference;
  const missing = { kind: 'missing-at-center', issuanceId: 'I2' } as ReconcileDifference;
  it('lets a month with only requests not yet noticed be confirmed, not one with any other difference', () => {
    assert.equal(isConfirmable({ differences: [], storeDays: null }), true);
    assert.equal(isConfirmable({ differences: [unnoticed], storeDays: null }), true);
    assert.equal(isConfirmable({ differences: [unnoticed, missing], storeDays: null }), false);
  });
  it('holds the month back while a store day disagrees', () => {
    const storeDays = (differences: unknown[]) => ({ days: 1, differences }) as unknown as Parameters<typeof isConfirmable>[0]['storeDays'];
    assert.equal(isConfirmable({ differences: [], storeDays: storeDays([]) }), true);
    assert.equal(isConfirmable({ differences: [], storeDays: storeDays([{ kioskId: 'K1' }]) }), false);
  });
});
