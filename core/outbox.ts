// The kiosk's outbox (SPEC.md §2 step 6, Spec§4): every completion and correction notice is kept
// until the centre acknowledges it, so a notice survives relay and kiosk crashes. What a failed send
// means for the notice is decided here, in one place.

import { AppError } from './errors.ts';
import type { Clock } from './ports.ts';
import type { CompletionNotice, CorrectionNotice } from './messages.ts';

export type OutboxNotice = CompletionNotice | CorrectionNotice;

/** Notices sent per flush: bounded so a long outage drains in steps, oldest first. */
export const OUTBOX_BATCH = 100;

/** The outbox keeps completion notices under their issuance id and corrections under their own id. */
export function outboxKey(notice: OutboxNotice): string {
  return 'correctionId' in notice ? notice.correctionId : notice.issuanceId;
}

/** The kiosk store's side of the outbox (drivers/store/kiosk-store.ts). */
export interface Outbox {
  pendingNotices(limit: number): { notice: OutboxNotice }[];
  markAcknowledged(key: string, atMs: number): void;
  markAttemptFailed(key: string, errorCode: string): void;
  /** The centre refused the notice for good: stop retrying. */
  markRejected(key: string, errorCode: string, atMs: number): void;
}

/**
 * What a failed send means:
 * - `rejected`: the centre refused the notice for good (bad or conflicting data, a confirmed month:
 *   HTTP 400/409); sending it again changes nothing, so it leaves the outbox, kept with its reason;
 * - `unreachable`: the relay or centre did not answer; the notice stays, and so do the rest of the
 *   batch, which would only time out too;
 * - `retry`: anything else (a refusal that may pass, our own failure); the notice stays for the next flush.
 */
export type FailedSend = 'rejected' | 'unreachable' | 'retry';

export function failedSendVerdict(error: unknown): FailedSend {
  if (!(error instanceof AppError)) return 'retry';
  if (error.kind === 'input' || error.kind === 'conflict') return 'rejected';
  if (error.kind === 'unavailable') return 'unreachable';
  return 'retry';
}

/** Sends the oldest pending notices, each once, and records each outcome; says how many were acknowledged. */
export async function sendPendingNotices(deps: { outbox: Outbox; send(notice: OutboxNotice): Promise<unknown>; clock: Clock; batch?: number }): Promise<number> {
  const { outbox, clock } = deps;
  let acknowledged = 0;
  for (const { notice } of outbox.pendingNotices(deps.batch ?? OUTBOX_BATCH)) {
    const key = outboxKey(notice);
    try {
      await deps.send(notice);
      outbox.markAcknowledged(key, clock.nowMs());
      acknowledged += 1;
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'internal';
      const verdict = failedSendVerdict(error);
      if (verdict === 'rejected') outbox.markRejected(key, code, clock.nowMs());
      else outbox.markAttemptFailed(key, code);
      if (verdict === 'unreachable') break;
    }
  }
  return acknowledged;
}
