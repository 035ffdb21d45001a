// Proves what a failed send means for a kiosk's notice (core/outbox.ts): a refusal for good leaves the
// outbox with its reason, an unreachable relay keeps this notice and the rest of the batch, anything
// else is tried again at the next flush; acknowledged notices leave, in order, oldest first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, type ErrorKind } from '../../core/errors.ts';
import type { CompletionNotice, CorrectionNotice } from '../../core/messages.ts';
import { failedSendVerdict, outboxKey, sendPendingNotices, type Outbox, type OutboxNotice } from '../../core/outbox.ts';

function completion(issuanceId: string): CompletionNotice {
  return { issuanceId, issuedAt: '2026-11-02T01:00:00.000Z', storeId: 'S0001', kioskId: 'K0001', municipalityCode: '131016', certificateType: 'juminhyo', copies: 1, feeYen: 300, outcome: 'issued' };
}

const correction: CorrectionNotice = { correctionId: 'C1', issuanceId: 'I1', correctedAt: '2026-11-03T00:00:00.000Z', storeId: 'S0001', kioskId: 'K0001', copies: 0, feeYen: 0, reason: 'misprint-found' };

/** An outbox in memory that remembers what happened to each key. */
function memoryOutbox(notices: OutboxNotice[]): Outbox & { events: string[] } {
  const done = new Set<string>();
  const events: string[] = [];
  return {
    events,
    pendingNotices: (limit) => notices.filter((notice) => !done.has(outboxKey(notice))).slice(0, limit).map((notice) => ({ notice })),
    markAcknowledged: (key) => {
      done.add(key);
      events.push(`ack ${key}`);
    },
    markRejected: (key, code) => {
      done.add(key);
      events.push(`rejected ${key} ${code}`);
    },
    markAttemptFailed: (key, code) => events.push(`failed ${key} ${code}`),
  };
}

const clock = { nowMs: () => Date.parse('2026-11-02T02:00:00Z') };
const failure = (kind: ErrorKind) => new AppError(kind, `test.${kind}`, kind);

describe('kiosk outbox', () => {
  it('keys a completion by its issuance and a correction by its own id', () => {
    assert.equal(outboxKey(completion('I7')), 'I7');
    assert.equal(outboxKey(correction), 'C1');
  });

  it('rejects for good only bad or conflicting data, stops the batch only when unreachable', () => {
    assert.equal(failedSendVerdict(failure('input')), 'rejected');
    assert.equal(failedSendVerdict(failure('conflict')), 'rejected');
    assert.equal(failedSendVerdict(failure('unavailable')), 'unreachable');
    for (const kind of ['refused', 'unauthorized', 'not-found', 'internal'] as const) assert.equal(failedSendVerdict(failure(kind)), 'retry', kind);
    assert.equal(failedSendVerdict(new Error('socket hang up')), 'retry');
  });

  it('acknowledges, rejects and retries each notice by what its send did, oldest first', async () => {
    const outbox = memoryOutbox([completion('I1'), completion('I2'), correction, completion('I3')]);
    const outcomes: Record<string, () => Promise<unknown>> = {
      I1: async () => ({}),
      I2: async () => Promise.reject(failure('conflict')),
      C1: async () => Promise.reject(failure('refused')),
      I3: async () => ({}),
    };
    const acknowledged = await sendPendingNotices({ outbox, clock, send: (notice) => outcomes[outboxKey(notice)]!() });
    assert.equal(acknowledged, 2);
    assert.deepEqual(outbox.events, ['ack I1', 'rejected I2 test.conflict', 'failed C1 test.refused', 'ack I3']);
    assert.deepEqual(outbox.pendingNotices(10).map(({ notice }) => outboxKey(notice)), ['C1']);
  });

  it('leaves the rest of the batch untouched once the relay cannot be reached', async () => {
    const outbox = memoryOutbox([completion('I1'), completion('I2'), completion('I3')]);
    const sent: string[] = [];
    const acknowledged = await sendPendingNotices({
      outbox,
      clock,
      send: async (notice) => {
        sent.push(outboxKey(notice));
        if (notice.issuanceId === 'I2') throw failure('unavailable');
      },
    });
    assert.equal(acknowledged, 1);
    assert.deepEqual(sent, ['I1', 'I2']);
    assert.deepEqual(outbox.events, ['ack I1', 'failed I2 test.unavailable']);
    assert.deepEqual(outbox.pendingNotices(10).map(({ notice }) => outboxKey(notice)), ['I2', 'I3']);
  });

  it('sends at most a batch per flush', async () => {
    const outbox = memoryOutbox(Array.from({ length: 5 }, (_, index) => completion(`I${index}`)));
    assert.equal(await sendPendingNotices({ outbox, clock, batch: 2, send: async () => ({}) }), 2);
    assert.equal(outbox.pendingNotices(10).length, 3);
  });
});
