// Refused connections are counted, not written one by one (issue 10: 1,011 probes made 1,011
// signed audit entries). The first refusal of each reason in an interval is reported at once, so
// an attack is seen when it starts; the rest of the interval is one summary per reason with the
// count, the number of addresses and the address seen most. Counts still held when the process
// dies are lost; they are not business events, and the first of each kind was already written.

import type { Timers } from './ports.ts';

export interface RefusalSummary {
  reason: string;
  count: number;
  peers: number;
  /** The address refused most often in the interval (null when unknown). */
  remoteAddress: string | null;
}

export interface RefusalTally {
  note(reason: string, remoteAddress: string | undefined): void;
  /** Reports what is counted and stops the timer. */
  close(): void;
}

export const REFUSAL_INTERVAL_MS = 60_000;

export function tallyRefusals(deps: { report(summary: RefusalSummary): void; timers: Timers; intervalMs?: number }): RefusalTally {
  const intervalMs = deps.intervalMs ?? REFUSAL_INTERVAL_MS;
  /** Per reason: refusals after the first, by address. */
  const counted = new Map<string, Map<string, number>>();
  let timer: unknown;

  function flush(): void {
    timer = undefined;
    for (const [reason, byPeer] of counted) {
      if (byPeer.size === 0) continue;
      let count = 0;
      let top: [string, number] = ['', 0];
      for (const entry of byPeer) {
        count += entry[1];
        if (entry[1] > top[1]) top = entry;
      }
      deps.report({ reason, count, peers: byPeer.size, remoteAddress: top[0] === '?' ? null : top[0] });
    }
    counted.clear();
  }

  return {
    note(reason, remoteAddress) {
      const key = reason.slice(0, 200);
      const byPeer = counted.get(key);
      if (!byPeer) {
        counted.set(key, new Map());
        deps.report({ reason: key, count: 1, peers: 1, remoteAddress: remoteAddress ?? null });
      } else {
        const peer = remoteAddress ?? '?';
        byPeer.set(peer, (byPeer.get(peer) ?? 0) + 1);
      }
      timer ??= deps.timers.set(flush, intervalMs);
    },
    close() {
      if (timer !== undefined) deps.timers.clear(timer);
      flush();
    },
  };
}
