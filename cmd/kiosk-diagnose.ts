// `cvs-issue kiosk diagnose`: what a field technician checks first (issue 11). It measures, through
// the drivers `kiosk run` uses, and core/diagnosis.ts judges: the devices, the relay and the centre
// (one real mutual-TLS request each, timed), the clock against the relay's HTTP Date header, the
// kiosk's, relay's and CA certificates, the outbox, the audit log against its witness, free disk.
// Read-only but for the maintenance login entry and the heartbeat that offers it (docs/audit-log.md,
// "Witnessing"): it sends nothing from the outbox and closes no day.

import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import chalk from 'chalk';
import Table from 'cli-table3';
import {
  auditWitnessCheck,
  centerCheck,
  certificateCheck,
  clockCheck,
  deviceCheck,
  diagnosis,
  diskCheck,
  outboxCheck,
  relayCheck,
  type CertificateReading,
  type ClockSample,
  type DeviceProbe,
  type Diagnosis,
  type DiagnosisCheck,
  type Exchange,
} from '../core/diagnosis.ts';
import { AppError } from '../core/errors.ts';
import { HEARTBEAT_PATH, KIOSK_PATHS } from '../core/messages.ts';
import type { Clock, Timers } from '../core/ports.ts';
import { SimulatedCardReader } from '../drivers/card/simulated-reader.ts';
import type { ClientResponse, HttpClient } from '../drivers/http/client.ts';
import { callJson } from '../drivers/http/json-api.ts';
import { CupsPrinter } from '../drivers/printer/cups-printer.ts';
import type { LoadedConfig } from './config.ts';
import type { Kiosk } from './kiosk.ts';
import { freeBytesIn } from '../drivers/store/free-space.ts';

/** Each request gets this long, or --max-latency-ms if longer: a technician waits for the verdict, and a kiosk serving needs far less (core/diagnosis.ts). */
export const DIAGNOSE_TIMEOUT_MS = 5_000;

/** The Date header is in whole seconds (RFC 9110 §5.6.7). */
const DATE_RESOLUTION_MS = 1_000;

/** What one request through the kiosk's client came to, by the kiosk's clocks. */
export interface RecordedExchange {
  path: string;
  /** Wall-clock times around the exchange, for the skew against the relay's Date header. */
  sentAtMs: number;
  receivedAtMs: number;
  roundTripMs: number;
  /** The relay's answer: status and Date header; or the transport's failure. */
  status?: number;
  date?: string;
  errorCode?: string;
  errorMessage?: string;
}

export interface RecordingClient extends HttpClient {
  readonly exchanges: readonly RecordedExchange[];
}

/**
 * The kiosk's own mutual-TLS client, watched: every exchange is timed and its answer's status,
 * error code and Date header kept, so the kiosk's heartbeat and its notices request are measured
 * as they really go, not by a request of diagnose's own making.
 */
export function recordingClient(inner: HttpClient, wallClock: Clock, monotonicMs: () => number = () => performance.now()): RecordingClient {
  const exchanges: RecordedExchange[] = [];
  const request: HttpClient['request'] = async (method, requestPath, body, headers) => {
    const sentAtMs = wallClock.nowMs();
    const startedMs = monotonicMs();
    const finish = () => ({ path: requestPath, sentAtMs, receivedAtMs: wallClock.nowMs(), roundTripMs: monotonicMs() - startedMs });
    let response: ClientResponse;
    try {
      response = await inner.request(method, requestPath, body, headers);
    } catch (error) {
      const { code, message } = error instanceof AppError ? error : { code: 'transport.failed', message: 'the request failed' };
      exchanges.push({ ...finish(), errorCode: code, errorMessage: message });
      throw error;
    }
    exchanges.push({ ...finish(), status: response.status, date: response.headers.date, ...answeredError(response) });
    return response;
  };
  return {
    exchanges,
    request,
    async postJson<T>(requestPath: string, value: unknown, headers: Record<string, string> = {}) {
      const response = await request('POST', requestPath, JSON.stringify(value), { 'content-type': 'application/json', accept: 'application/json', ...headers });
      try {
        return { status: response.status, json: JSON.parse(new TextDecoder().decode(response.body)) as T };
      } catch {
        throw new AppError('unavailable', 'transport.bad_response', `response to ${requestPath} is not JSON`);
      }
    },
    close: () => inner.close(),
  };
}

/** The peer's typed error from a non-200 JSON answer (drivers/http/json-api.ts), or nothing. */
function answeredError(response: ClientResponse): { errorCode?: string; errorMessage?: string } {
  if (response.status === 200) return {};
  try {
    const error = (JSON.parse(new TextDecoder().decode(response.body)) as { error?: { code?: unknown; message?: unknown } }).error;
    return { errorCode: typeof error?.code === 'string' ? error.code : `http.${response.status}`, errorMessage: typeof error?.message === 'string' ? error.message : `answered HTTP ${response.status}` };
  } catch {
    return { errorCode: `http.${response.status}`, errorMessage: `answered HTTP ${response.status}` };
  }
}

/**
 * Timers that never fire: diagnose offers the audit log once, itself, and the kiosk's close() offers
 * what is left; no offer runs in the background, so the heartbeat measured is the one diagnose sent.
 */
export const idleTimers: Timers = { nowMs: () => Date.now(), set: () => undefined, clear: () => undefined };

export interface DiagnoseOptions {
  client: RecordingClient;
  /** The services' clock: outbox ages (the outbox is stamped with it). */
  clock: Clock;
  /** Real time: certificates and the relay's Date header are in real time whatever CVS_ISSUE_TIME says. */
  wallClock: Clock;
  minFreeBytes: number;
  /** Slowest answer accepted from the relay, and from the centre through it. */
  maxLatencyMs: number;
}

/** Runs every check on an unlocked kiosk, in the order a technician reads them. */
export async function diagnoseKiosk(kiosk: Kiosk, loaded: LoadedConfig, options: DiagnoseOptions): Promise<Diagnosis> {
  const { config, store } = kiosk;
  const backlog = store.outboxBacklog();
  const dayCloses = store.unacknowledgedDayCloses();
  const offer = await kiosk.offerAuditLog();
  const heartbeat = lastExchange(options.client, HEARTBEAT_PATH);
  await callJson(options.client, KIOSK_PATHS.notices, { kioskId: config.kioskId }).catch(() => undefined);
  const notices = lastExchange(options.client, KIOSK_PATHS.notices);
  const relayExchange = heartbeat ? exchangeOf(heartbeat) : { answered: false as const, code: 'diagnose.no_heartbeat', message: 'no heartbeat was sent (nothing to offer)' };
  const relay = loaded.config.relays.find((candidate) => candidate.operatorId === config.operatorId);
  const nowMs = options.wallClock.nowMs();
  const certificate = (name: string, file: string | undefined) =>
    file === undefined ? certificateCheck(name, `relay ${config.operatorId}`, { problem: 'not in this deployment' }, nowMs) : certificateCheck(name, file, readCertificate(loaded.resolve(file)), nowMs);
  const checks: DiagnosisCheck[] = [
    deviceCheck('card-reader', await readerProbe(kiosk)),
    deviceCheck('cash-unit', { simulated: true, state: `change stock ${kiosk.cash.remainingChangeStockYen()} yen, ${kiosk.cash.insertedYen()} yen inserted` }),
    deviceCheck('printer', await printerProbe(kiosk, loaded)),
    relayCheck(relayExchange, options.maxLatencyMs),
    centerCheck(notices ? exchangeOf(notices) : relayExchange, relayExchange, options.maxLatencyMs),
    clockCheck(clockSample(options.client.exchanges)),
    certificate('certificate-kiosk', config.tls.certificateFile),
    certificate('certificate-relay', relay?.kioskTls.certificateFile),
    certificate('certificate-ca', config.tls.caFile),
    outboxCheck(
      {
        pending: backlog.pending,
        oldestPendingAtMs: backlog.oldestCreatedAt === null ? null : Date.parse(backlog.oldestCreatedAt),
        rejected: store.rejectedNotices().length,
        unsentDayCloses: dayCloses.length,
        oldestDayCloseAtMs: dayCloses.length === 0 ? null : Math.min(...dayCloses.map((close) => Date.parse(close.closedAt))),
      },
      options.clock.nowMs(),
    ),
    auditWitnessCheck({ offer, logSize: kiosk.auditLogSize(), witnessedSize: store.lastWitnessedSize() }),
    diskCheck(freeBytesIn(path.dirname(loaded.resolve(config.databaseFile))), options.minFreeBytes),
  ];
  return diagnosis(checks);
}

function lastExchange(client: RecordingClient, requestPath: string): RecordedExchange | undefined {
  return client.exchanges.findLast((exchange) => exchange.path === requestPath);
}

function exchangeOf(recorded: RecordedExchange): Exchange {
  if (recorded.status === 200) return { answered: true, roundTripMs: recorded.roundTripMs };
  return { answered: false, code: recorded.errorCode ?? 'transport.failed', message: recorded.errorMessage ?? 'no answer' };
}

/** The answer with a Date header that came back fastest: its reading is the tightest. */
function clockSample(exchanges: readonly RecordedExchange[]): ClockSample | undefined {
  let best: ClockSample | undefined;
  for (const exchange of exchanges) {
    const relayDateMs = exchange.date === undefined ? NaN : Date.parse(exchange.date);
    if (Number.isNaN(relayDateMs)) continue;
    if (best && exchange.receivedAtMs - exchange.sentAtMs >= best.receivedAtMs - best.sentAtMs) continue;
    best = { sentAtMs: exchange.sentAtMs, receivedAtMs: exchange.receivedAtMs, relayDateMs, resolutionMs: DATE_RESOLUTION_MS };
  }
  return best;
}

async function readerProbe(kiosk: Kiosk): Promise<DeviceProbe> {
  const { reader } = kiosk;
  if (reader instanceof SimulatedCardReader) return { simulated: true, state: `card files, ${reader.hasCard() ? 'a card placed' : 'no card placed'}` };
  try {
    const found = await reader.readiness();
    return { simulated: false, ready: true, state: `PC/SC reader "${found.reader}", ${found.cardPresent ? 'a card on it' : 'no card on it'}` };
  } catch (error) {
    return failedProbe(error);
  }
}

async function printerProbe(kiosk: Kiosk, loaded: LoadedConfig): Promise<DeviceProbe> {
  const { printer } = kiosk;
  if (printer instanceof CupsPrinter) {
    try {
      return { simulated: false, ready: true, state: await printer.readiness() };
    } catch (error) {
      return failedProbe(error);
    }
  }
  // The folder printer makes its folder at the first job: what must be writable is the nearest folder that exists.
  const folder = printer.directoryPath();
  let existing = folder;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  const shown = path.relative(loaded.directory, folder) || '.';
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch {
    return { simulated: false, ready: false, code: 'printer.fault', message: `the print folder ${shown} cannot be written` };
  }
  const files = fs.existsSync(folder) ? fs.readdirSync(folder).filter((name) => name.endsWith('.pdf')).length : 0;
  return { simulated: true, state: `print folder ${shown}, ${files} PDF file(s)` };
}

function failedProbe(error: unknown): DeviceProbe {
  if (error instanceof AppError) return { simulated: false, ready: false, code: error.code, message: error.message };
  return { simulated: false, ready: false, code: 'internal', message: 'the driver failed unexpectedly' };
}

/** The certificate in a PEM file; of a bundle, the one that expires first. */
export function readCertificate(file: string): CertificateReading {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { problem: 'missing' };
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return { problem: 'holds no PEM certificate' };
  try {
    // Node 20 has no validToDate (docs/runtime-facts.md, "TLS and HTTP").
    const readings = blocks.map((block) => new X509Certificate(block)).map((certificate) => ({ validFromMs: Date.parse(certificate.validFrom), validToMs: Date.parse(certificate.validTo) }));
    return readings.reduce((first, reading) => (reading.validToMs < first.validToMs ? reading : first));
  } catch {
    return { problem: 'not a readable certificate' };
  }
}

/** The table for a person: one row a check, failures first to the eye by colour when on a terminal. */
export function formatDiagnosis(result: Diagnosis, kioskId: string, color: boolean): string {
  const table = new Table({ head: ['check', 'result', 'detail'], style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] } });
  for (const check of result.checks) table.push([check.name, check.ok ? 'ok' : color ? chalk.red('FAIL') : 'FAIL', check.detail]);
  return `kiosk ${kioskId}: ${result.ok ? 'healthy' : `${result.checks.filter((check) => !check.ok).length} check(s) failed`}\n${table.toString()}\n`;
}
