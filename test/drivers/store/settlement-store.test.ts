// Proves the settlement queries (drivers/store/settlement-store.ts): the records read for a month
// include every one whose JST date is in it (the UTC edges of the month included), as corrected;
// issued-but-unnoticed requests are those of the month with neither a record nor an adjustment,
// for the operator asked about.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jstMonth } from '../../../core/jst.ts';
import type { HandlingRecord } from '../../../core/messages.ts';
import { generateEd25519KeyPair } from '../../../drivers/pki/ed25519.ts';
import { AuditLog, auditOrigin } from '../../../drivers/store/audit-log.ts';
import { createCenterStore, insertHandlingRecord, openCenterDatabase } from '../../../drivers/store/center-store.ts';
import type { Database } from '../../../drivers/store/database.ts';
import { recordsAroundMonth, unnoticedRequests } from '../../../drivers/store/settlement-store.ts';

const record = (issuanceId: string, issuedAt: string, operatorId = 'OP01'): HandlingRecord => ({
  issuanceId, issuedAt, operatorId, storeId: 'S0001', kioskId: 'K0001', municipalityCode: '131016', certificateType: 'juminhyo', copies: 1, feeYen: 200,
});

describe('settlement queries', () => {
  let dir: string;
  let db: Database;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-settlement-store-'));
    db = openCenterDatabase(path.join(dir, 'center.db'));
    // 2026-10-31T15:00Z is 1 November 00:00 JST; 2026-11-30T14:59:59Z is still 30 November JST.
    for (const entry of [
      record('before', '2026-10-31T14:59:59.000Z'),
      record('first', '2026-10-31T15:00:00.000Z'),
      record('last', '2026-11-30T14:59:59.000Z'),
      record('after', '2026-11-30T15:00:00.000Z'),
    ]) insertHandlingRecord(db, entry);
  });
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads every record of the JST month, and callers keep exactly the month by JST date', () => {
    const read = [...recordsAroundMonth(db, '2026-11')].map((entry) => entry.issuanceId);
    assert.ok(['first', 'last'].every((id) => read.includes(id)), 'the JST edges are in the range read');
    const november = [...recordsAroundMonth(db, '2026-11')].filter((entry) => jstMonth(Date.parse(entry.issuedAt)) === '2026-11').map((entry) => entry.issuanceId);
    assert.deepEqual(november, ['first', 'last']);
  });

  it('finds requests of the month the centre issued data for and never heard of, per operator', () => {
    const audit = new AuditLog(db, { origin: auditOrigin('center'), privateKeyPem: generateEd25519KeyPair().privateKeyPem, clock: { nowMs: () => Date.parse('2026-12-01T00:00:00Z') } });
    const store = createCenterStore(db, audit);
    const request = (requestId: string, createdAt: string, operatorId = 'OP01') =>
      store.saveRequest({ requestId, sessionToken: 't', operatorId, storeId: 'S0001', kioskId: 'K0001', municipalityCode: '131016', certificateType: 'juminhyo', options: {}, copies: 2, unitFeeYen: 200, contentSha256: '0'.repeat(64), createdAtMs: Date.parse(createdAt) });
    request('first', '2026-10-31T15:00:00.000Z'); // noticed: has a record
    request('lost', '2026-11-15T01:00:00.000Z');
    request('other-operator', '2026-11-15T01:00:00.000Z', 'OP02');
    request('december', '2026-11-30T15:00:00.000Z'); // 1 December JST
    assert.deepEqual(unnoticedRequests(db, '2026-11', 'OP01').map((entry) => [entry.issuanceId, entry.copies, entry.feeYen]), [['lost', 2, 400]]);
    assert.deepEqual(unnoticedRequests(db, '2026-11', null).map((entry) => entry.issuanceId).sort(), ['lost', 'other-operator']);
  });
});
