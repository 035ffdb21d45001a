// When a log owner offers its latest checkpoint to its witness (docs/audit-log.md, "Offers"). An
// entry nobody outside has seen can be cut away unseen, so the offer goes out soon after every
// append, not on the next minute's heartbeat; while the witness cannot be reached it is retried
// with a growing delay, so the tail is offered at the first chance once the witness is back.
// A refusal (the witness answered, and said no) is recorded by the caller as a fault entry; that
// entry must not trigger a new offer at once, or a refusing witness would make an endless loop.

import type { Timers } from './ports.ts';

/** What became of one offer. */
export type OfferOutcome = 'witnessed' | 'unavailable' | 'refused';

export interface OfferPolicy {
  /** After an append: wait this long so one transaction's entries go in one offer. */
  soonMs: number;
  /** First retry after the witness could not be reached; doubled each time up to `retryMaxMs`. */
  retryMinMs: number;
  retryMaxMs: number;
  /** After a refusal: the next offer waits this long, whatever is appended meanwhile. */
  afterRefusalMs: number;
  /** While idle: how often to look for entries another process appended to the same log. */
  pollMs: number;
  /**
   * While idle: offer the same checkpoint again once this long has passed without an answer from
   * the witness, a heartbeat. The relay counts a kiosk silent past its bound as down (docs/alerts.md),
   * so a kiosk no resident used for a quarter of an hour must still be heard.
   */
  heartbeatMs: number;
}

export const KIOSK_OFFER_POLICY: OfferPolicy = { soonMs: 200, retryMinMs: 1_000, retryMaxMs: 30_000, afterRefusalMs: 60_000, pollMs: 5_000, heartbeatMs: 60_000 };

export interface WitnessOffers {
  /** An entry was appended: offer soon (or when the current back-off ends). */
  poke(): void;
  /** Offers now, after any offer in flight (offers never overlap: each proves from the last size acknowledged). */
  offerNow(): Promise<OfferOutcome | 'nothing'>;
  /** Offers now even when the witness holds everything: a heartbeat (after any offer in flight). */
  heartbeat(): Promise<OfferOutcome | 'nothing'>;
  /**
   * Stops the timers, lets an offer in flight finish, and makes one last offer when entries are
   * pending and no back-off is running (a short-lived command offers what it appended before it exits).
   */
  close(): Promise<void>;
}

export function scheduleWitnessOffers(deps: {
  /** True while the log holds entries the witness has not acknowledged. */
  pending(): boolean;
  /** Sends one offer; never throws (the caller records faults). */
  offer(): Promise<OfferOutcome>;
  timers: Timers;
  policy?: OfferPolicy;
}): WitnessOffers {
  const policy = deps.policy ?? KIOSK_OFFER_POLICY;
  const { timers } = deps;
  let timer: unknown;
  let timerAtMs = Infinity;
  let notBeforeMs = 0;
  let failures = 0;
  let stopped = false;
  let queue: Promise<unknown> = Promise.resolve();
  /** When the witness last answered (or when this started). */
  let answeredAtMs = timers.nowMs();

  function schedule(atMs: number): void {
    if (stopped) return;
    const at = Math.max(atMs, notBeforeMs);
    if (timer !== undefined && timerAtMs <= at) return;
    if (timer !== undefined) timers.clear(timer);
    timerAtMs = at;
    timer = timers.set(() => {
      timer = undefined;
      timerAtMs = Infinity;
      void tick();
    }, Math.max(0, at - timers.nowMs()));
  }

  async function tick(): Promise<void> {
    if (deps.pending()) await offerNow();
    else if (timers.nowMs() - answeredAtMs >= policy.heartbeatMs) await offerQueued();
    else schedule(timers.nowMs() + policy.pollMs);
  }

  function settle(outcome: OfferOutcome): void {
    const now = timers.nowMs();
    if (outcome !== 'unavailable') answeredAtMs = now;
    if (outcome === 'witnessed') {
      failures = 0;
      notBeforeMs = 0;
      schedule(now + (deps.pending() ? policy.soonMs : policy.pollMs));
    } else if (outcome === 'unavailable') {
      failures += 1;
      notBeforeMs = now + Math.min(policy.retryMaxMs, policy.retryMinMs * 2 ** (failures - 1));
      schedule(notBeforeMs);
    } else {
      notBeforeMs = now + policy.afterRefusalMs;
      schedule(notBeforeMs);
    }
  }

  /** One offer after any in flight, `onlyIfPending`: none when the witness holds everything. */
  function offerQueued(onlyIfPending = false): Promise<OfferOutcome | 'nothing'> {
    const run = queue.then(async (): Promise<OfferOutcome | 'nothing'> => {
      if (onlyIfPending && !deps.pending()) return 'nothing';
      const outcome = await deps.offer().catch((): OfferOutcome => 'refused');
      settle(outcome);
      return outcome;
    });
    queue = run.catch(() => undefined);
    return run;
  }

  function offerNow(): Promise<OfferOutcome | 'nothing'> {
    return offerQueued(true);
  }

  schedule(timers.nowMs() + policy.pollMs);
  return {
    poke: () => schedule(timers.nowMs() + policy.soonMs),
    offerNow,
    heartbeat: () => offerQueued(),
    async close() {
      stopped = true;
      if (timer !== undefined) timers.clear(timer);
      timer = undefined;
      await queue;
      // A witness may first answer with the size to prove from (a resync): then offer once more.
      for (let attempt = 0; attempt < 3 && notBeforeMs <= timers.nowMs(); attempt += 1) {
        if ((await offerNow()) !== 'witnessed') break;
      }
    },
  };
}
