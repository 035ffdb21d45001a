// What `kiosk diagnose` concludes from what it measured (issue 11): each check has a name, a verdict
// and one line for the field technician. The measuring (devices, requests, files, the disk) is
// cmd/kiosk-diagnose.ts; the limits and the verdicts are here, in one place. A detail names counts,
// times, codes and file names only, never personal data or certificate content.

import { DEFAULT_DOWN_AFTER_MS } from './kiosk-health.ts';
import { formatJstIso } from './jst.ts';

export interface DiagnosisCheck {
  /** Stable, for scripts: card-reader, cash-unit, printer, relay, center, clock, certificate-*, outbox, audit-witness, disk. */
  name: string;
  ok: boolean;
  detail: string;
}

export interface Diagnosis {
  ok: boolean;
  checks: DiagnosisCheck[];
}

/** Healthy only when every check is. */
export function diagnosis(checks: DiagnosisCheck[]): Diagnosis {
  return { ok: checks.every((check) => check.ok), checks };
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;

export const DIAGNOSIS_LIMITS = {
  /**
   * One request to the relay, or through it to the centre. An issuance makes four such round trips
   * while the resident waits at the screen; past two seconds each, the kiosk is too slow to serve.
   */
  maxRoundTripMs: 2_000,
  /**
   * Against the relay. The kiosk's clock dates every issuance, and the JST date decides the business
   * day and the month a record is settled in (SPEC §3); a synchronised clock is well within this.
   */
  maxClockSkewMs: 60_000,
  /** A certificate that expires within this many days must be renewed now, before it stops the kiosk. */
  minCertificateDays: 30,
  /**
   * A completion notice or day close waiting longer than this: the kiosk flushes at least once a
   * minute, so after as long as the relay takes to call a kiosk down (core/kiosk-health.ts) the
   * outbox is stuck, not merely behind.
   */
  maxOutboxAgeMs: DEFAULT_DOWN_AFTER_MS,
  /** Free space on the kiosk's disk: its database, audit log and print folder. */
  defaultMinFreeBytes: 512 * MIB,
} as const;

/** A device as its driver sees it: simulated (and in what state), or real and ready, or real and failing. */
export type DeviceProbe = { simulated: true; state: string } | { simulated: false; ready: true; state: string } | { simulated: false; ready: false; code: string; message: string };

/** A simulated device is no fault: it says so, so a technician sees a kiosk started without its hardware flags. */
export function deviceCheck(name: string, probe: DeviceProbe): DiagnosisCheck {
  if (probe.simulated) return { name, ok: true, detail: `simulated: ${probe.state}` };
  if (probe.ready) return { name, ok: true, detail: probe.state };
  return { name, ok: false, detail: `${probe.code}: ${probe.message}` };
}

/** One request and what came of it. */
export type Exchange = { answered: true; roundTripMs: number } | { answered: false; code: string; message: string };

export function relayCheck(exchange: Exchange, maxRoundTripMs: number = DIAGNOSIS_LIMITS.maxRoundTripMs): DiagnosisCheck {
  return exchangeCheck('relay', exchange, maxRoundTripMs, 'heartbeat');
}

/** The centre is reached through the relay only; with the relay away it is not reached at all. */
export function centerCheck(exchange: Exchange, relay: Exchange, maxRoundTripMs: number = DIAGNOSIS_LIMITS.maxRoundTripMs): DiagnosisCheck {
  if (!relay.answered && !exchange.answered) return { name: 'center', ok: false, detail: `not reached: the relay did not answer (${relay.code})` };
  // The relay answered for itself, so what failed lies behind it: its words about the centre.
  if (!exchange.answered) return { name: 'center', ok: false, detail: `through the relay: ${exchange.code}: ${exchange.message}` };
  return exchangeCheck('center', exchange, maxRoundTripMs, 'service notices through the relay');
}

function exchangeCheck(name: string, exchange: Exchange, maxRoundTripMs: number, what: string): DiagnosisCheck {
  if (!exchange.answered) return { name, ok: false, detail: `${exchange.code}: ${exchange.message}` };
  const ms = Math.round(exchange.roundTripMs);
  if (exchange.roundTripMs > maxRoundTripMs) return { name, ok: false, detail: `${what} answered in ${ms} ms, slower than ${maxRoundTripMs} ms` };
  return { name, ok: true, detail: `${what} answered in ${ms} ms` };
}

/**
 * One reading of the relay's clock: its HTTP Date header (whole seconds, RFC 9110 §6.6.1), taken
 * between sending the request and receiving the answer by the kiosk's clock.
 */
export interface ClockSample {
  sentAtMs: number;
  receivedAtMs: number;
  relayDateMs: number;
  /** The header's resolution: the relay's clock read somewhere in [relayDateMs, relayDateMs + resolutionMs). */
  resolutionMs: number;
}

/**
 * The kiosk's clock minus the relay's, as an interval: the relay read its clock at some instant the
 * kiosk saw between sending and receiving, and wrote it rounded down to the header's resolution.
 */
export function clockSkewBounds(sample: ClockSample): { lowMs: number; highMs: number } {
  return { lowMs: sample.sentAtMs - (sample.relayDateMs + sample.resolutionMs), highMs: sample.receivedAtMs - sample.relayDateMs };
}

/** Fails only when every skew the reading allows is past the limit: a slow answer cannot make a good clock look bad. */
export function clockCheck(sample: ClockSample | undefined, maxSkewMs: number = DIAGNOSIS_LIMITS.maxClockSkewMs): DiagnosisCheck {
  if (!sample) return { name: 'clock', ok: false, detail: 'not compared: no answer with a Date header from the relay' };
  const { lowMs, highMs } = clockSkewBounds(sample);
  const estimateMs = (lowMs + highMs) / 2;
  const seconds = (ms: number) => `${ms >= 0 ? '+' : '-'}${(Math.abs(ms) / 1000).toFixed(1)} s`;
  const reading = `kiosk ${seconds(estimateMs)} against the relay's Date header (±${((highMs - lowMs) / 2000).toFixed(1)} s)`;
  const ok = lowMs <= maxSkewMs && highMs >= -maxSkewMs;
  return { name: 'clock', ok, detail: ok ? reading : `${reading}, more than ${maxSkewMs / 1000} s off` };
}

/** A certificate's validity as its PEM file gives it, or why it could not be read. */
export type CertificateReading = { validFromMs: number; validToMs: number } | { problem: string };

/** Days left, rounded down; expired, not yet valid or too close to expiry fails. */
export function certificateCheck(name: string, file: string, reading: CertificateReading, nowMs: number, minDays: number = DIAGNOSIS_LIMITS.minCertificateDays): DiagnosisCheck {
  if ('problem' in reading) return { name, ok: false, detail: `${file}: ${reading.problem}` };
  const until = formatJstIso(reading.validToMs).slice(0, 10);
  if (nowMs < reading.validFromMs) return { name, ok: false, detail: `${file}: not valid before ${formatJstIso(reading.validFromMs).slice(0, 10)}` };
  if (reading.validToMs <= nowMs) return { name, ok: false, detail: `${file}: expired ${Math.ceil((nowMs - reading.validToMs) / DAY_MS)} day(s) ago (${until})` };
  const days = Math.floor((reading.validToMs - nowMs) / DAY_MS);
  if (days < minDays) return { name, ok: false, detail: `${file}: expires in ${days} day(s) (${until}), renew it (at least ${minDays} wanted)` };
  return { name, ok: true, detail: `${file}: ${days} days left (until ${until})` };
}

/** What waits in the kiosk's outbox: completion and correction notices, and store day closes. */
export interface OutboxBacklog {
  pending: number;
  oldestPendingAtMs: number | null;
  /** Refused by the centre (400/409): these wait for a person, not for a retry. */
  rejected: number;
  unsentDayCloses: number;
  oldestDayCloseAtMs: number | null;
}

export function outboxCheck(backlog: OutboxBacklog, nowMs: number, maxAgeMs: number = DIAGNOSIS_LIMITS.maxOutboxAgeMs): DiagnosisCheck {
  const age = (atMs: number) => formatDuration(nowMs - atMs);
  const parts = [
    backlog.pending === 0 ? 'no notice pending' : `${backlog.pending} notice(s) pending, the oldest for ${age(backlog.oldestPendingAtMs ?? nowMs)}`,
    ...(backlog.rejected > 0 ? [`${backlog.rejected} refused by the centre (see kiosk maintenance)`] : []),
    backlog.unsentDayCloses === 0 ? 'no day close unsent' : `${backlog.unsentDayCloses} day close(s) unsent, the oldest for ${age(backlog.oldestDayCloseAtMs ?? nowMs)}`,
  ];
  const stuck = (atMs: number | null) => atMs !== null && nowMs - atMs > maxAgeMs;
  const ok = backlog.rejected === 0 && !stuck(backlog.oldestPendingAtMs) && !stuck(backlog.oldestDayCloseAtMs);
  return { name: 'outbox', ok, detail: `${parts.join('; ')}${ok ? '' : ` (limit ${formatDuration(maxAgeMs)})`}` };
}

/** "2 h 5 min", "45 s": a person's reading of a wait. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

/**
 * The kiosk's audit log against its witness (docs/audit-log.md, "Offers"), after the kiosk offered
 * its latest checkpoint as every heartbeat does: how the offer ended, the log's size, and the
 * largest size the relay has acknowledged.
 */
export interface WitnessReading {
  offer: 'witnessed' | 'nothing' | 'unavailable' | 'refused';
  logSize: number;
  witnessedSize: number;
}

export function auditWitnessCheck(reading: WitnessReading): DiagnosisCheck {
  const unwitnessed = Math.max(0, reading.logSize - reading.witnessedSize);
  const sizes = `${entries(reading.logSize)} here, ${reading.witnessedSize} witnessed by the relay`;
  if (reading.offer === 'unavailable') return { name: 'audit-witness', ok: false, detail: `${sizes}: the relay could not be reached, ${entries(unwitnessed)} unwitnessed` };
  if (reading.offer === 'refused') return { name: 'audit-witness', ok: false, detail: `${sizes}: the relay refused the checkpoint or holds less than it witnessed before (see relay status)` };
  if (unwitnessed > 0) return { name: 'audit-witness', ok: false, detail: `${sizes}: ${entries(unwitnessed)} unwitnessed` };
  return { name: 'audit-witness', ok: true, detail: sizes };
}

const entries = (count: number) => `${count} ${count === 1 ? 'entry' : 'entries'}`;

export function diskCheck(freeBytes: number, minFreeBytes: number = DIAGNOSIS_LIMITS.defaultMinFreeBytes): DiagnosisCheck {
  const mib = (bytes: number) => `${Math.floor(bytes / MIB)} MiB`;
  const ok = freeBytes >= minFreeBytes;
  return { name: 'disk', ok, detail: `${mib(freeBytes)} free${ok ? '' : `, less than the ${mib(minFreeBytes)} wanted`}` };
}
