// Faults that travel (S4-7, S4-8; docs/alerts.md): a device fault at a kiosk goes through the relay
// to the store's register and to the maintenance centre, and a kiosk silent too long is raised as
// down. Here are the rules, in one place: which codes are device faults, what an alert says, where
// it goes, when a failed delivery is tried again and when it is given up, and when an outage is
// raised or ended. The relay's delivery loop (cmd/relay-alerts.ts) only carries them out.

import { AppError } from './errors.ts';
import { formatUtcIso, parseIsoInstant } from './jst.ts';
import { asObject, stringField } from './messages.ts';
import { failedSendVerdict } from './outbox.ts';
import type { Clock } from './ports.ts';

/** The parts of a kiosk whose faults are reported (S4-7). */
export const FAULT_DEVICES = ['printer', 'cash', 'reader', 'disk', 'clock'] as const;
export type FaultDevice = (typeof FAULT_DEVICES)[number];

/**
 * The device a fault code belongs to, or undefined when the code is no device fault (a refused
 * card, our own bug, a witness problem): those stay in the kiosk's audit log only. A note the
 * acceptor hands back (`cash.rejected`) is the resident's, not the unit's.
 */
export function faultDevice(code: string): FaultDevice | undefined {
  if (code === 'cash.rejected') return undefined;
  const prefix = code.slice(0, code.indexOf('.'));
  if (prefix === 'printer' || prefix === 'cash' || prefix === 'reader' || prefix === 'disk' || prefix === 'clock') return prefix;
  // The card driver names a missing or unreachable reader; every other card.* code is about the card.
  if (code === 'card.reader_missing' || code === 'card.vpcd_unreachable') return 'reader';
  return undefined;
}

/** Which watched conditions were reported failing and not yet seen cleared; the kiosk keeps it in its database. */
export interface ConditionMemory {
  isFailing(code: string): boolean;
  markFailing(code: string): void;
  markCleared(code: string): void;
}

/** A memory that lasts as long as the process (for tests and tools that own no kiosk database). */
export function conditionsInMemory(): ConditionMemory {
  const failing = new Set<string>();
  return { isFailing: (code) => failing.has(code), markFailing: (code) => void failing.add(code), markCleared: (code) => void failing.delete(code) };
}

/**
 * A condition the kiosk watches (free disk, its clock against the relay's): its fault is reported
 * when the condition starts failing, not again while it goes on, and again if it fails after it
 * has cleared. With the kiosk's own memory this holds across restarts and the technician commands
 * that open the kiosk: a disk low for a day is one fault, not one per resident or per run.
 */
export function conditionWatch(reporter: FaultReporter, memory: ConditionMemory = conditionsInMemory()): (code: string, failing: boolean) => void {
  return (code, failing) => {
    if (!failing) {
      if (memory.isFailing(code)) memory.markCleared(code);
      return;
    }
    if (memory.isFailing(code)) return;
    memory.markFailing(code);
    reporter.report({ code });
  };
}

/** The kiosk's side of fault reporting: into its audit log, and device faults into its fault outbox. */
export interface FaultReporter {
  report(fault: { code: string; requestId?: string }): void;
}

/** One fault as the kiosk reports it to its relay (POST /v1/faults); ids and codes only, no personal data. */
export interface FaultReport {
  /** Chosen by the kiosk (16 random bytes, hex): the same fault sent twice is one fault. */
  faultId: string;
  kioskId: string;
  device: FaultDevice;
  code: string;
  /** The transaction it interrupted (a pseudonymous id), null when none. */
  requestId: string | null;
  /** UTC ISO time at the kiosk. */
  occurredAt: string;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const CODE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

export function parseFaultReport(value: unknown): FaultReport {
  const body = asObject(value, 'body');
  const device = stringField(body, 'device', /^[a-z]{1,16}$/) as FaultDevice;
  if (!FAULT_DEVICES.includes(device)) throw new AppError('input', 'request.bad_field', `field "device" must be one of ${FAULT_DEVICES.join(', ')}`, 'device');
  const code = stringField(body, 'code', /^.{1,64}$/);
  if (!CODE.test(code) || faultDevice(code) !== device) throw new AppError('input', 'request.bad_field', 'field "code" is not a fault code of that device', 'code');
  const occurredAt = stringField(body, 'occurredAt', /^.{1,40}Z$/);
  if (parseIsoInstant(occurredAt) === undefined) throw new AppError('input', 'request.bad_field', 'field "occurredAt" is not a real UTC ISO time', 'occurredAt');
  const requestId = body.requestId === null || body.requestId === undefined ? null : stringField(body, 'requestId', ID);
  return { faultId: stringField(body, 'faultId', /^[0-9a-f]{32}$/), kioskId: stringField(body, 'kioskId', ID), device, code, requestId, occurredAt };
}

/** Where an alert goes: the store's register (POS), the maintenance centre. */
export type AlertTarget = 'register' | 'maintenance';
export const ALERT_TARGETS: readonly AlertTarget[] = ['register', 'maintenance'];

export type AlertKind = 'fault' | 'kiosk.down' | 'kiosk.recovered';

/** The JSON body every endpoint receives (docs/alerts.md, "Body"). */
export interface Alert {
  /** Stable across retries and targets; with the target it is the idempotency key. */
  alertId: string;
  kind: AlertKind;
  operatorId: string;
  storeId: string;
  kioskId: string;
  /** For kind fault; null otherwise. */
  device: FaultDevice | null;
  code: string;
  requestId: string | null;
  /** When it happened (UTC ISO): the fault at the kiosk, the last contact before a silence, the contact that ended it. */
  occurredAt: string;
}

export function faultAlert(fault: FaultReport, where: { operatorId: string; storeId: string }): Alert {
  return { alertId: fault.faultId, kind: 'fault', operatorId: where.operatorId, storeId: where.storeId, kioskId: fault.kioskId, device: fault.device, code: fault.code, requestId: fault.requestId, occurredAt: fault.occurredAt };
}

/**
 * A kiosk silent since `silentSince` (its last contact, UTC ISO) is down; the outage is named by
 * that instant, so raising the same outage twice makes the same alert id (one alert per outage).
 */
export function outageAlert(kind: 'kiosk.down' | 'kiosk.recovered', kiosk: { operatorId: string; storeId: string; kioskId: string }, silentSince: string, occurredAt: string): Alert {
  const sinceMs = parseIsoInstant(silentSince) ?? 0;
  const alertId = `${kind === 'kiosk.down' ? 'down' : 'up'}-${kiosk.kioskId}-${sinceMs}`;
  return { alertId, kind, operatorId: kiosk.operatorId, storeId: kiosk.storeId, kioskId: kiosk.kioskId, device: null, code: kind === 'kiosk.down' ? 'kiosk.silent' : 'kiosk.heard', requestId: null, occurredAt };
}

/** A fault is the store's business (its register) and maintenance's; an outage is maintenance's. */
export function alertTargets(kind: AlertKind): readonly AlertTarget[] {
  return kind === 'fault' ? ALERT_TARGETS : ['maintenance'];
}

/** The header that carries `alertId/target`: a receiver keeps one alert per key (docs/alerts.md). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export function idempotencyKey(alertId: string, target: AlertTarget): string {
  return `${alertId}/${target}`;
}

/**
 * Retry policy (docs/alerts.md, "Retries"): the first retry 5 s after a failed attempt, doubling
 * to at most 15 min between attempts; after 20 attempts (about three hours) the delivery is given
 * up, logged as alert.failed and shown by `relay status`. Bounded, so a dead endpoint cannot keep
 * the queue busy for ever.
 */
export const ALERT_RETRY = { firstDelayMs: 5_000, maxDelayMs: 15 * 60_000, maxAttempts: 20 } as const;

/** The wait after the `attempts`-th failed attempt (1-based). */
export function retryDelayMs(attempts: number): number {
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new AppError('internal', 'alert.bad_attempt', `attempt count ${attempts} is not a whole number above 0`);
  // 2^(attempts − 1) overflows nothing: the exponent is capped long before the delay would.
  const exponent = Math.min(attempts - 1, 30);
  return Math.min(ALERT_RETRY.firstDelayMs * 2 ** exponent, ALERT_RETRY.maxDelayMs);
}

/** What the endpoint's answer means: an HTTP status, or no answer at all (a transport error code). */
export type EndpointAnswer = { status: number } | { transportError: string };

export type DeliveryStep =
  | { state: 'delivered'; attempts: number }
  | { state: 'retry'; attempts: number; nextAttemptAtMs: number; reason: string }
  | { state: 'failed'; attempts: number; reason: string };

/**
 * The delivery after one more attempt. 2xx is delivered; 409 too (the receiver says it has this
 * key already: the earlier attempt arrived and only its answer was lost). 408, 429, 5xx and no
 * answer are tried again; any other status will not change on a retry, so it fails at once.
 */
export function afterAttempt(previousAttempts: number, answer: EndpointAnswer, nowMs: number): DeliveryStep {
  const attempts = previousAttempts + 1;
  if ('status' in answer && ((answer.status >= 200 && answer.status < 300) || answer.status === 409)) return { state: 'delivered', attempts };
  const reason = 'status' in answer ? `http.${answer.status}` : answer.transportError;
  const transient = !('status' in answer) || answer.status === 408 || answer.status === 429 || answer.status >= 500;
  if (!transient) return { state: 'failed', attempts, reason };
  if (attempts >= ALERT_RETRY.maxAttempts) return { state: 'failed', attempts, reason };
  return { state: 'retry', attempts, nextAttemptAtMs: nowMs + retryDelayMs(attempts), reason };
}

/**
 * Silent past the bound, for alerting: as `relay status` counts it (core/kiosk-health.ts), but
 * counted from the relay's own start when that is later. While the relay was down no kiosk could
 * reach it, so a relay back after a long stop does not raise every kiosk at once; each gets the
 * bound to call in. A kiosk never heard from is not silent here (outageStep).
 */
export function silentPastBound(lastSeenAt: string | null, relayStartedAtMs: number, nowMs: number, downAfterMs: number): boolean {
  const seenMs = lastSeenAt === null ? undefined : parseIsoInstant(lastSeenAt);
  if (seenMs === undefined) return false;
  return nowMs - Math.max(seenMs, relayStartedAtMs) > downAfterMs;
}

/** What the relay knows of one kiosk's silence: whether it is down now, and the outage already raised. */
export interface OutageInput {
  active: boolean;
  down: boolean;
  lastSeenAt: string | null;
  /** The outage raised and not yet ended, named by the last contact before it. */
  openOutage: { silentSince: string } | undefined;
}

export type OutageStep = { raise: { silentSince: string } } | { recover: { silentSince: string }; announce: boolean } | undefined;

/**
 * Raise once per outage, end it when the kiosk is heard from again. A kiosk never heard from is
 * not raised (it is registered but not yet installed; `relay status` shows it as never seen), nor
 * is an inactive one (decommissioned); an inactive kiosk's open outage ends quietly.
 */
export function outageStep(input: OutageInput): OutageStep {
  if (input.openOutage) {
    // A decommissioned kiosk's outage ends without a recovery alert: it did not come back.
    if (!input.active) return { recover: input.openOutage, announce: false };
    return input.down ? undefined : { recover: input.openOutage, announce: true };
  }
  if (input.active && input.down && input.lastSeenAt !== null) return { raise: { silentSince: input.lastSeenAt } };
  return undefined;
}

/** The kiosk's fault report for a fault it just recorded. */
export function faultReport(input: { faultId: string; kioskId: string; code: string; requestId?: string; atMs: number }): FaultReport | undefined {
  const device = faultDevice(input.code);
  if (!device) return undefined;
  return { faultId: input.faultId, kioskId: input.kioskId, device, code: input.code, requestId: input.requestId ?? null, occurredAt: formatUtcIso(input.atMs) };
}

/** The kiosk store's fault outbox (drivers/store/kiosk-store.ts). */
export interface FaultOutbox {
  pendingFaults(limit: number): FaultReport[];
  markFaultReported(faultId: string, atMs: number): void;
  markFaultAttemptFailed(faultId: string, errorCode: string): void;
  markFaultRejected(faultId: string, errorCode: string, atMs: number): void;
}

/** Reports sent per flush, oldest first: a long outage drains in steps. */
export const FAULT_BATCH = 50;

/**
 * Sends the oldest pending fault reports, each once, with the notice outbox's verdicts
 * (core/outbox.ts failedSendVerdict): a refusal for good leaves the queue, an unreachable relay
 * stops the batch. Says how many the relay took.
 */
export async function sendPendingFaults(deps: { outbox: FaultOutbox; send(report: FaultReport): Promise<unknown>; clock: Clock }): Promise<number> {
  let reported = 0;
  for (const report of deps.outbox.pendingFaults(FAULT_BATCH)) {
    try {
      await deps.send(report);
      deps.outbox.markFaultReported(report.faultId, deps.clock.nowMs());
      reported += 1;
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'internal';
      const verdict = failedSendVerdict(error);
      if (verdict === 'rejected') deps.outbox.markFaultRejected(report.faultId, code, deps.clock.nowMs());
      else deps.outbox.markFaultAttemptFailed(report.faultId, code);
      if (verdict === 'unreachable') break;
    }
  }
  return reported;
}
