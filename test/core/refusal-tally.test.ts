// Proves refused connections are counted per interval (core/refusal-tally.ts): the first of each
// reason is reported at once, the rest as one summary per reason with count, addresses and the
// address seen most; closing reports what is still counted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Timers } from '../../core/ports.ts';
import { tallyRefusals, type RefusalSummary } from '../../core/refusal-tally.ts';

function fakeTimers() {
  let now = 0;
  const due: { atMs: number; run: () => void; id: number }[] = [];
  let nextId = 0;
  const timers: Timers = {
    nowMs: () => now,
    set: (run, delayMs) => {
      due.push({ atMs: now + delayMs, run, id: (nextId += 1) });
      return nextId;
    },
    clear: (handle) => void due.splice(due.findIndex((timer) => timer.id === handle), 1),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const timer of due.filter((timer) => timer.atMs <= now)) {
      due.splice(due.indexOf(timer), 1);
      timer.run();
    }
  };
  return { timers, advance };
}

describe('refusal tally', () => {
  it('reports the first refusal of a reason at once and the rest once per interval', () => {
    const reports: RefusalSummary[] = [];
    const { timers, advance } = fakeTimers();
    const tally = tallyRefusals({ report: (summary) => reports.push(summary), timers, intervalMs: 60_000 });
    for (let probe = 0; probe < 1_011; probe += 1) tally.note('UNABLE_TO_GET_ISSUER_CERT', probe % 10 === 0 ? '10.0.0.9' : '10.0.0.1');
    tally.note('too many connections from this address', '10.0.0.1');
    assert.deepEqual(reports, [
      { reason: 'UNABLE_TO_GET_ISSUER_CERT', count: 1, peers: 1, remoteAddress: '10.0.0.9' },
      { reason: 'too many connections from this address', count: 1, peers: 1, remoteAddress: '10.0.0.1' },
    ]);
    advance(60_000);
    assert.deepEqual(reports.slice(2), [{ reason: 'UNABLE_TO_GET_ISSUER_CERT', count: 1_010, peers: 2, remoteAddress: '10.0.0.1' }]);
    // A new interval starts with a report at once again.
    tally.note('UNABLE_TO_GET_ISSUER_CERT', '10.0.0.2');
    tally.note('UNABLE_TO_GET_ISSUER_CERT', '10.0.0.2');
    assert.equal(reports.length, 4);
    tally.close();
    assert.deepEqual(reports.at(-1), { reason: 'UNABLE_TO_GET_ISSUER_CERT', count: 1, peers: 1, remoteAddress: '10.0.0.2' });
  });
});
