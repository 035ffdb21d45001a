// Matching two sides' handling records by issuance id (Spec§4-2): the heart of reconciliation.

import type { HandlingRecord } from './center-service.ts';

export type DifferenceKind = 'missing-at-center' | 'missing-at-operator' | 'mismatch' | 'duplicate';

export interface RecordDifference {
  issuanceId: string;
  kind: DifferenceKind;
  fields?: (keyof HandlingRecord)[];
}

export interface MatchResult {
  matched: number;
  differences: RecordDifference[];
}

const COMPARED_FIELDS: (keyof HandlingRecord)[] = ['municipalityCode', 'certificateType', 'copies', 'feeYen', 'storeId', 'kioskId'];

function indexById(records: Iterable<HandlingRecord>, differences: RecordDifference[]): Map<string, HandlingRecord> {
  const byId = new Map<string, HandlingRecord>();
  const duplicated = new Set<string>();
  for (const record of records) {
    if (!byId.has(record.issuanceId)) {
      byId.set(record.issuanceId, record);
    } else if (!duplicated.has(record.issuanceId)) {
      duplicated.add(record.issuanceId);
      differences.push({ issuanceId: record.issuanceId, kind: 'duplicate' });
    }
  }
  return byId;
}

/** Compares the centre's records with the operator's; duplicates count once, first occurrence compared. */
export function matchRecords(center: Iterable<HandlingRecord>, operator: Iterable<HandlingRecord>): MatchResult {
  const differences: RecordDifference[] = [];
  const centerById = indexById(center, differences);
  const operatorById = indexById(operator, differences);
  let matched = 0;
  for (const [issuanceId, record] of centerById) {
    const other = operatorById.get(issuanceId);
    if (!other) {
      differences.push({ issuanceId, kind: 'missing-at-operator' });
      continue;
    }
    const fields = COMPARED_FIELDS.filter((field) => record[field] !== other[field]);
    if (fields.length > 0) differences.push({ issuanceId, kind: 'mismatch', fields });
    else matched += 1;
  }
  for (const issuanceId of operatorById.keys()) {
    if (!centerById.has(issuanceId)) differences.push({ issuanceId, kind: 'missing-at-center' });
  }
  return { matched, differences };
}
