// Proves reconciliation matches the centre's and the operator's records by issuance id and reports each missing, mismatched (naming exactly the differing fields) and duplicated id once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HandlingRecord } from '../../core/center-service.ts';
import { matchRecords } from '../../core/record-match.ts';

function record(issuanceId: string, overrides: Partial<HandlingRecord> = {}): HandlingRecord {
  return {
    issuanceId,
    issuedAt: '2026-11-02T01:15:00.000Z',
    operatorId: 'op-1',
    storeId: 'store-01',
    kioskId: 'kiosk-001',
    municipalityCode: '131016',
    certificateType: 'juminhyo',
    copies: 2,
    feeYen: 600,
    ...overrides,
  };
}

describe('matchRecords', () => {
  it('matches identical records and reports nothing', () => {
    const records = [record('a'), record('b'), record('c')];
    assert.deepEqual(matchRecords(records, records.map((each) => ({ ...each }))), { matched: 3, differences: [] });
  });

  it('matches regardless of order and ignores issuedAt and operatorId', () => {
    const center = [record('a'), record('b')];
    const operator = [record('b', { issuedAt: '2026-11-02T10:15:00+09:00' }), record('a', { operatorId: 'op-other' })];
    assert.deepEqual(matchRecords(center, operator), { matched: 2, differences: [] });
  });

  it('reports an id only the operator has as missing at the centre', () => {
    assert.deepEqual(matchRecords([record('a')], [record('a'), record('b')]), {
      matched: 1,
      differences: [{ issuanceId: 'b', kind: 'missing-at-center' }],
    });
  });

  it('reports an id only the centre has as missing at the operator', () => {
    assert.deepEqual(matchRecords([record('a'), record('b')], [record('b')]), {
      matched: 1,
      differences: [{ issuanceId: 'a', kind: 'missing-at-operator' }],
    });
  });

  it('lists exactly the differing fields of a mismatch', () => {
    const center = [record('a'), record('b'), record('c')];
    const operator = [
      record('a', { copies: 3, feeYen: 900 }),
      record('b', { municipalityCode: '141003', certificateType: 'inkan', storeId: 'store-02', kioskId: 'kiosk-002' }),
      record('c'),
    ];
    assert.deepEqual(matchRecords(center, operator), {
      matched: 1,
      differences: [
        { issuanceId: 'a', kind: 'mismatch', fields: ['copies', 'feeYen'] },
        { issuanceId: 'b', kind: 'mismatch', fields: ['municipalityCode', 'certificateType', 'storeId', 'kioskId'] },
      ],
    });
  });

  it('counts a duplicated id once and compares its first occurrence', () => {
    const center = [record('a'), record('a', { copies: 9, feeYen: 2700 }), record('a', { copies: 5 })];
    assert.deepEqual(matchRecords(center, [record('a')]), {
      matched: 1,
      differences: [{ issuanceId: 'a', kind: 'duplicate' }],
    });
  });

  it('reports a mismatch against the first occurrence even when a later duplicate would match', () => {
    const operator = [record('a', { feeYen: 300 }), record('a')];
    assert.deepEqual(matchRecords([record('a')], operator), {
      matched: 0,
      differences: [
        { issuanceId: 'a', kind: 'duplicate' },
        { issuanceId: 'a', kind: 'mismatch', fields: ['feeYen'] },
      ],
    });
  });

  it('takes any iterable, so records can stream from a store', () => {
    function* stream(): Generator<HandlingRecord> {
      yield record('a');
      yield record('b');
    }
    assert.deepEqual(matchRecords(stream(), stream()), { matched: 2, differences: [] });
  });

  it('reports nothing for two empty months', () => {
    assert.deepEqual(matchRecords([], []), { matched: 0, differences: [] });
  });
});
