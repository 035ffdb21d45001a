// Proves when a log owner offers its checkpoint (core/witness-offers.ts): soon after an append, at
// the first chance after the witness was unreachable (growing back-off), never in a loop after a
// refusal, never two offers at once, one last offer when a short-lived command closes, and a
// heartbeat (the same checkpoint again) while idle, so an unused kiosk is still heard.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Timers } from '../../core/ports.ts';
import { scheduleWitnessOffers, type OfferOutcome, type OfferPolicy } from '../../core/witness-offers.ts';

/** Heartbeats an hour apart, out of the way of the other tests; the heartbeat test sets its own. */
const POLICY: OfferPolicy = { soonMs: 200, retryMinMs: 1_000, retryMaxMs: 8_000, afterRefusalMs: 60_000, pollMs: 5_000, heartbeatMs: 3_600_000 };

/** Virtual time: `advance` runs due timers in order, letting each offer's promise settle. */
function fakeTimers() {
  let now = 0;
  let nextId = 0;
  const due = new Map<number, { atMs: number; run: () => void }>();
  const timers: Timers = {
    nowMs: () => now,
    set: (run, delayMs) => {
      nextId += 1;
      due.set(nextId, { atMs: now + delayMs, run });
      return nextId;
    },
    clear: (handle) => void due.delete(handle as number),
  };
  async function advance(ms: number): Promise<void> {
    const end = now + ms;
    for (;;) {
      const [id, next] = [...due.entries()].sort((a, b) => a[1].atMs - b[1].atMs)[0] ?? [];
      if (!next || next.atMs > end) break;
      due.delete(id!);
      now = next.atMs;
      next.run();
      for (let turn = 0; turn < 20; turn += 1) await Promise.resolve();
    }
    now = end;
  }
  return { timers, advance, pendingTimers: () => due.size };
}

/** A log of `size` entries and a witness that has acknowledged `witnessed` and answers `answers`. */
function fixture(answers: OfferOutcome[], policy: OfferPolicy = POLICY) {
  const state = { size: 0, witnessed: 0, offersAtMs: [] as number[], inFlight: 0, overlapped: false };
  const clock = fakeTimers();
  const offers = scheduleWitnessOffers({
    pending: () => state.size > state.witnessed,
    offer: async () => {
      state.inFlight += 1;
      state.overlapped ||= state.inFlight > 1;
      state.offersAtMs.push(clock.timers.nowMs());
      await Promise.resolve();
      state.inFlight -= 1;
      const outcome = answers.shift() ?? 'witnessed';
      if (outcome === 'witnessed') state.witnessed = state.size;
      return outcome;
    },
    timers: clock.timers,
    policy,
  });
  const append = () => {
    state.size += 1;
    offers.poke();
  };
  return { state, offers, append, ...clock };
}

describe('witness offers', () => {
  it('offers soon after an append, one offer for a burst', async () => {
    const { state, append, advance } = fixture([]);
    append();
    append();
    append();
    await advance(199);
    assert.deepEqual(state.offersAtMs, []);
    await advance(1);
    assert.deepEqual(state.offersAtMs, [200]);
    assert.equal(state.witnessed, 3);
    await advance(60_000);
    assert.deepEqual(state.offersAtMs, [200], 'nothing new, nothing offered');
  });

  it('retries an unreachable witness with a growing delay and offers at the first chance it is back', async () => {
    const { state, append, advance } = fixture(['unavailable', 'unavailable', 'unavailable', 'unavailable', 'unavailable']);
    append();
    await advance(30_000);
    // 200, then +1 s, +2 s, +4 s, +8 s, +8 s (capped): the sixth attempt finds the witness back.
    assert.deepEqual(state.offersAtMs, [200, 1_200, 3_200, 7_200, 15_200, 23_200]);
    assert.equal(state.witnessed, 1);
  });

  it('does not shorten the back-off when more entries arrive while the witness is away', async () => {
    const { state, append, advance } = fixture(['unavailable']);
    append();
    await advance(300);
    append();
    append();
    await advance(500);
    assert.deepEqual(state.offersAtMs, [200]);
    await advance(1_000);
    assert.deepEqual(state.offersAtMs, [200, 1_200]);
    assert.equal(state.witnessed, 3);
  });

  it('waits after a refusal, even though the caller records the refusal as a new entry', async () => {
    const { state, append, advance } = fixture(['refused', 'refused']);
    append();
    await advance(250);
    append(); // the fault entry the caller writes
    await advance(59_000);
    assert.deepEqual(state.offersAtMs, [200]);
    await advance(1_000);
    assert.deepEqual(state.offersAtMs, [200, 60_200]);
  });

  it('finds entries another process appended while idle, by polling', async () => {
    const { state, advance } = fixture([]);
    state.size = 4; // no poke: the append happened in another process
    await advance(5_000);
    assert.deepEqual(state.offersAtMs, [5_000]);
    assert.equal(state.witnessed, 4);
  });

  it('offers the same checkpoint again as a heartbeat a minute after the last answer, retried with the back-off while the witness is away', async () => {
    const { state, append, advance } = fixture(['witnessed', 'unavailable', 'witnessed'], { ...POLICY, heartbeatMs: 60_000 });
    append();
    await advance(200);
    assert.deepEqual(state.offersAtMs, [200]);
    await advance(59_999);
    assert.deepEqual(state.offersAtMs, [200], 'no heartbeat before a minute');
    await advance(1);
    assert.deepEqual(state.offersAtMs, [200, 60_200], 'a heartbeat at the first poll a minute after the answer');
    await advance(1_000);
    assert.deepEqual(state.offersAtMs, [200, 60_200, 61_200], 'the unanswered heartbeat retried after the first back-off');
    await advance(59_999);
    assert.deepEqual(state.offersAtMs, [200, 60_200, 61_200]);
    await advance(1);
    assert.deepEqual(state.offersAtMs, [200, 60_200, 61_200, 121_200], 'then a minute after that answer');
    assert.equal(state.witnessed, 1);
  });

  it('never runs two offers at once', async () => {
    const { state, offers, append, advance } = fixture([]);
    append();
    const direct = offers.offerNow();
    await advance(200);
    await direct;
    append();
    await Promise.all([offers.offerNow(), offers.offerNow(), advance(300)]);
    assert.equal(state.overlapped, false);
    assert.equal(state.witnessed, 2);
  });

  it('makes one last offer on close, unless a back-off is running, and then stops', async () => {
    const closing = fixture([]);
    closing.append();
    await closing.offers.close();
    assert.deepEqual(closing.state.offersAtMs, [0]);
    assert.equal(closing.pendingTimers(), 0);
    const away = fixture(['unavailable']);
    away.append();
    await away.advance(200);
    away.append();
    await away.offers.close();
    assert.deepEqual(away.state.offersAtMs, [200], 'the witness was away a moment ago: do not hold the command up');
    assert.equal(away.pendingTimers(), 0);
  });
});
