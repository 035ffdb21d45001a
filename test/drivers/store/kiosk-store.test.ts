// Proves the kiosk's store (drivers/store/kiosk-store.ts): a transaction and its completion notice
// land together or not at all; the outbox retries what failed, keeps for a person what the centre
// refused for good, and forgets what was acknowledged; a store business day is a JST date, closed
// once; days left open are found.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { KioskTransactionRecord } from '../../../core/kiosk-transaction.ts';
import type { CompletionNotice } from '../../../core/messages.ts';
import { generateEd25519KeyPair } from '../../../drivers/pki/ed25519.ts';
import { AuditLog, auditOrigin, logSize } from '../../../drivers/store/audit-log.ts';
import { createKioskStore, openKioskDatabase, type KioskStore } from '../../../drivers/store/kiosk-store.ts';
import type { Database } from '../../../drivers/store/database.ts';

const keys = generateEd25519KeyPair();

function transaction(requestId: string, issuedAt: string, copies = 1): { record: KioskTransactionRecord; notice: CompletionNotice } {
  const record: KioskTransactionRecord = { requestId, issuedAtMs: Date.parse(issuedAt), municipalityCode: '131016', certificateType: 'juminhyo', copies, feeYen: 200 * copies, cashKeptYen: 200 * copies, outcome: 'issued' };
  const notice: CompletionNotice = { issuanceId: requestId, issuedAt, storeId: 'S0001', kioskId: 'K0001', municipalityCode: '131016', certificateType: 'juminhyo', copies, feeYen: 200 * copies, outcome: 'issued' };
  return { record, notice };
}

describe('kiosk store', () => {
  let db: Database;
  let store: KioskStore;
  beforeEach(() => {
    db = openKioskDatabase(':memory:');
    store = createKioskStore(db, new AuditLog(db, { origin: auditOrigin('kiosk', 'K0001'), privateKeyPem: keys.privateKeyPem, clock: { nowMs: () => Date.parse('2026-11-02T01:00:00Z') } }));
  });

  it('writes a transaction and its notice together, or neither', () => {
    const first = transaction('R1', '2026-11-02T01:00:00.000Z');
    store.recordTransaction(first.record, first.notice);
    assert.equal(store.pendingNotices(10).length, 1);
    const entries = logSize(db);
    // The same request again: refused by the database, with nothing of it written.
    assert.throws(() => store.recordTransaction(first.record, { ...first.notice, copies: 2 }));
    assert.equal(store.pendingNotices(10).length, 1);
    assert.equal(store.transactions().length, 1);
    assert.equal(logSize(db), entries);
  });

  it('retries a failed notice, keeps a refused one for a person, forgets an acknowledged one', () => {
    assert.deepEqual(store.outboxBacklog(), { pending: 0, oldestCreatedAt: null });
    for (const [id, at] of [['R1', '2026-11-02T01:00:05.000Z'], ['R2', '2026-11-02T01:00:00.000Z'], ['R3', '2026-11-02T01:00:00.000Z']] as const) {
      const next = transaction(id, at);
      store.recordTransaction(next.record, next.notice);
    }
    assert.deepEqual(store.outboxBacklog(), { pending: 3, oldestCreatedAt: '2026-11-02T01:00:00.000Z' });
    store.markAttemptFailed('R1', 'transport.timeout');
    store.markRejected('R2', 'completion.conflict', Date.parse('2026-11-02T02:00:00Z'));
    store.markAcknowledged('R3', Date.parse('2026-11-02T02:00:00Z'));
    assert.deepEqual(store.pendingNotices(10).map((pending) => [pending.notice.issuanceId, pending.attempts]), [['R1', 1]]);
    assert.deepEqual(store.rejectedNotices().map((rejected) => [rejected.notice.issuanceId, rejected.errorCode]), [['R2', 'completion.conflict']]);
    // What kiosk diagnose counts as waiting: neither the refused nor the acknowledged one.
    assert.deepEqual(store.outboxBacklog(), { pending: 1, oldestCreatedAt: '2026-11-02T01:00:05.000Z' });
  });

  it('queues a correction under its own id, beside the notice it corrects', () => {
    const issued = transaction('R1', '2026-11-02T01:00:00.000Z', 2);
    store.recordTransaction(issued.record, issued.notice);
    store.queueCorrection({ correctionId: 'C1', issuanceId: 'R1', correctedAt: '2026-11-02T03:00:00.000Z', storeId: 'S0001', kioskId: 'K0001', copies: 1, feeYen: 200, reason: 'misprint-found' });
    assert.deepEqual(store.pendingNotices(10).map((pending) => ('correctionId' in pending.notice ? pending.notice.correctionId : pending.notice.issuanceId)), ['R1', 'C1']);
  });

  it('closes a store day by its JST date, once, and finds the days left open', () => {
    // 15:30Z on 2 November is already 3 November in JST.
    for (const [id, at] of [['R1', '2026-11-02T01:00:00.000Z'], ['R2', '2026-11-02T15:30:00.000Z'], ['R3', '2026-11-04T02:00:00.000Z']] as const) {
      const next = transaction(id, at);
      store.recordTransaction(next.record, next.notice);
    }
    assert.deepEqual(store.unclosedDaysBefore('2026-11-04'), ['2026-11-02', '2026-11-03']);
    const close = store.closeDay('2026-11-02', Date.parse('2026-11-02T12:00:00Z'));
    assert.deepEqual({ ...close, closedAt: undefined }, { businessDate: '2026-11-02', cashYen: 200, transactions: 1, documents: 1, closedAt: undefined });
    const entries = logSize(db);
    assert.deepEqual(store.closeDay('2026-11-02', Date.parse('2026-11-02T13:00:00Z')), close, 'closing again gives the same close');
    assert.equal(logSize(db), entries, 'and writes nothing');
    assert.deepEqual(store.unclosedDaysBefore('2026-11-04'), ['2026-11-03']);
    assert.deepEqual(store.unacknowledgedDayCloses().map((day) => day.businessDate), ['2026-11-02']);
    store.markDayCloseAcknowledged('2026-11-02', Date.parse('2026-11-02T12:01:00Z'));
    assert.deepEqual(store.unacknowledgedDayCloses(), []);
  });
});
