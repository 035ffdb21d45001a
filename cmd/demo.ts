// `cvs-issue demo`: the whole service on embedded defaults. init, centre and relay on free ports,
// scripted residents at three kiosks in two stores, then a check that the centre's records equal
// what the kiosks issued and what the operator's relay recorded.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { COMMANDS } from './commands.ts';
import { AppError, usageError } from '../core/errors.ts';
import { formatJstIso, jstMonth, jstParts, pad2, parseIsoInstant } from '../core/jst.ts';
import type { Clock } from '../core/ports.ts';
import { isClean } from '../core/reconcile.ts';
import { runReconcile } from './reconcile.ts';
import { bufferIo } from './io.ts';
import { assertCenterOpen } from '../core/service-hours.ts';
import { listHandlingRecords } from '../drivers/store/center-store.ts';
import { withDatabase } from '../drivers/store/database.ts';
import { checkTarget, resolveTarget } from './audit-log.ts';
import { documentVerifierKeyOf, serialStatusesAt, startCenter } from './center.ts';
import { checkSealedDocument } from '../drivers/pdf/document-seal.ts';
import { noteVerifierFromKey } from '../drivers/store/audit-log.ts';
import { centerDatabase, loadConfig, parseDatabaseUrlFlag, type LoadedConfig } from './config.ts';
import { offsetClock } from './deps.ts';
import { createFactory, type Factory } from './factory.ts';
import { pregeneratedKeys, runInit } from './init.ts';
import type { Io } from './io.ts';
import { openKiosk, runScriptedSessions, type SessionReport } from './kiosk.ts';
import type { ScriptedSession } from './kiosk-script.ts';
import { startRelay } from './relay.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEMO_HOUR_JST = 10;

/** The demo's sessions per kiosk: issuances of different types and copies, a wrong PIN then the
 * right one, a printer jam on the second copy (refunded, both copies' serials voided at the centre), and refused cards
 * (expired, revoked, municipality not participating, moved out). */
export const DEMO_SCRIPT: Record<string, ScriptedSession[]> = {
  K0001: [
    { card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 2, cash: [1000], expect: 'issued' },
    { card: 'card-r002', pins: ['0000', '2580'], certificateType: 'inkan', copies: 1, cash: [100, 100, 100], expect: 'issued' },
    { card: 'card-r005', pins: ['5555'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'refused' },
  ],
  K0002: [
    { card: 'card-r002', pins: ['2580'], certificateType: 'koseki-zenbu', copies: 2, cash: [1000], printerJamOnCopy: 2, expect: 'refunded' },
    { card: 'card-r006', pins: ['6666'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'refused' },
    { card: 'card-r007', pins: ['7777'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'refused' },
  ],
  K0003: [
    { card: 'card-r003', pins: ['1111'], certificateType: 'koseki-zenbu', copies: 1, cash: [500], expect: 'issued' },
    { card: 'card-r004', pins: ['4321'], certificateType: 'juminhyo-kisai', copies: 3, cash: [1000], expect: 'issued' },
    { card: 'card-r008', pins: ['8888'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'refused' },
  ],
};

/** 10:00 JST on the first day from `fromMs` on which the centre is open. */
export function nextBusinessMorning(fromMs: number): number {
  for (let day = 0; day < 10; day += 1) {
    const candidate = parseIsoInstant(`${jstParts(fromMs + day * DAY_MS).dateIso}T${pad2(DEMO_HOUR_JST)}:00:00+09:00`)!;
    try {
      assertCenterOpen(candidate);
      return candidate;
    } catch {
      // closed that day (year end): try the next one
    }
  }
  throw new AppError('internal', 'demo.no_business_day', 'no business day found within ten days');
}

export interface DemoSummary {
  dir: string;
  businessTime: string;
  issued: number;
  documents: number;
  feesYen: number;
  refused: number;
  cancelled: number;
  refunded: number;
  unexpected: number;
  reconciled: boolean;
  auditVerified: boolean;
  /** Every printed copy checks as `verify-document --dir` would: genuine when issued, void when a misprint refunded it. */
  documentsVerified: boolean;
  outboxPending: number;
  issuanceMs: { count: number; averageMs: number; maxMs: number };
  sessions: { kioskId: string; card: string; outcome: string; wrongPins: number; code?: string; certificateType?: string; copies?: number; feeYen?: number }[];
  printsDirectory: string;
}

interface TimedReport extends SessionReport {
  kioskId: string;
  elapsedMs: number;
}

async function runKioskSessions(loaded: LoadedConfig, clock: Clock, relayUrl: string): Promise<{ reports: TimedReport[]; pending: number }> {
  const reports: TimedReport[] = [];
  let pending = 0;
  for (const [kioskId, sessions] of Object.entries(DEMO_SCRIPT)) {
    const kiosk = openKiosk(loaded, { kioskId, relayUrl, clock });
    try {
      for (const session of sessions) {
        const startedMs = performance.now();
        const [report] = await runScriptedSessions(kiosk, loaded, [session]);
        reports.push({ ...report!, kioskId, elapsedMs: performance.now() - startedMs });
      }
      kiosk.closeDays(jstParts(clock.nowMs()).dateIso);
      pending += (await kiosk.flushOutbox()).pending;
    } finally {
      await kiosk.close();
    }
  }
  return { reports, pending };
}

/**
 * The product's reconciler over the deployment (centre against relay, the kiosks' cash per store
 * day, requests never noticed), and the centre's issued records against what the kiosks issued.
 */
async function checkReconciled(dir: string, loaded: LoadedConfig, reports: TimedReport[], clock: Clock): Promise<boolean> {
  const report = await runReconcile({ dir, month: jstMonth(clock.nowMs()) }, createFactory(bufferIo(), { clock }));
  const centerRecords = withDatabase(centerDatabase(loaded), listHandlingRecords);
  const issuedByKiosks = new Map(reports.flatMap((report) => (report.result.outcome === 'issued' ? [[report.result.requestId, report.result.copies] as const] : [])));
  const centerIssued = centerRecords.filter((record) => record.copies > 0);
  return (
    isClean(report) &&
    report.storeDays !== null &&
    centerIssued.length === issuedByKiosks.size &&
    centerIssued.every((record) => issuedByKiosks.get(record.issuanceId) === record.copies)
  );
}

/** Every role's audit log, as `audit-log verify --dir` checks it: signatures, witnesses' logs and what they hold. */
async function verifyAllAuditLogs(loaded: LoadedConfig, dir: string): Promise<boolean> {
  const deployment = () => loaded;
  const targets = [
    resolveTarget({ dir, role: 'center' }, deployment),
    ...loaded.config.relays.map((relay) => resolveTarget({ dir, role: 'relay', operator: relay.operatorId }, deployment)),
    ...loaded.config.kiosks.map((kiosk) => resolveTarget({ dir, role: 'kiosk', kiosk: kiosk.kioskId }, deployment)),
  ];
  for (const target of targets) if (!(await checkTarget(target)).result.ok) return false;
  return true;
}

/**
 * Every certificate copy the kiosks printed, checked as `verify-document --dir` checks it
 * (docs/documents.md): signed by the centre and unchanged, and genuine for an issued transaction,
 * void for one a misprint refunded. A copy of neither, or no copy at all, fails.
 */
function verifyPrintedCopies(loaded: LoadedConfig, reports: TimedReport[]): boolean {
  const expected = new Map<string, 'genuine' | 'void'>();
  for (const { result } of reports) {
    if (result.outcome === 'issued') expected.set(result.requestId, 'genuine');
    if (result.outcome === 'refunded') expected.set(result.requestId, 'void');
  }
  const verifier = noteVerifierFromKey(documentVerifierKeyOf(loaded));
  const prints = loaded.resolve('prints');
  const copies = fs.existsSync(prints) ? fs.readdirSync(prints).flatMap((kiosk) => fs.readdirSync(path.join(prints, kiosk)).filter((name) => /-certificate-copy\d+\.pdf$/.test(name)).map((name) => path.join(prints, kiosk, name))) : [];
  if (copies.length === 0) return false;
  const checked = copies.map((file) => ({ requestId: path.basename(file).replace(/-certificate-copy\d+\.pdf$/, ''), check: checkSealedDocument(new Uint8Array(fs.readFileSync(file)), verifier, file) }));
  if (checked.some(({ check }) => check.status !== 'genuine' || check.statement === undefined)) return false;
  const answers = serialStatusesAt(loaded, checked.map(({ check }) => check.statement!.serial));
  return checked.every(({ requestId, check }, index) => {
    const answer = answers[index]!;
    const status = answer.status === 'void' || answer.status === 'refunded' ? 'void' : answer.status === 'unknown' ? 'unknown' : 'genuine';
    return check.statement!.serial.startsWith(`${requestId}-`) && expected.get(requestId) === status;
  });
}

function summarize(dir: string, businessMs: number, reports: TimedReport[], pending: number, reconciled: boolean, auditVerified: boolean, documentsVerified: boolean, loaded: LoadedConfig): DemoSummary {
  const issuedReports = reports.filter((report) => report.result.outcome === 'issued');
  const times = issuedReports.map((report) => report.elapsedMs);
  return {
    dir,
    businessTime: formatJstIso(businessMs),
    issued: issuedReports.length,
    documents: issuedReports.reduce((sum, report) => sum + (report.result.outcome === 'issued' ? report.result.copies : 0), 0),
    feesYen: issuedReports.reduce((sum, report) => sum + (report.result.outcome === 'issued' ? report.result.feeYen : 0), 0),
    refused: reports.filter((report) => report.result.outcome === 'refused').length,
    cancelled: reports.filter((report) => report.result.outcome === 'cancelled').length,
    refunded: reports.filter((report) => report.result.outcome === 'refunded').length,
    unexpected: reports.filter((report) => report.expected && report.expected !== report.result.outcome).length,
    reconciled,
    auditVerified,
    documentsVerified,
    outboxPending: pending,
    issuanceMs: {
      count: times.length,
      averageMs: times.length ? Math.round(times.reduce((a, b) => a + b, 0) / times.length) : 0,
      maxMs: Math.round(Math.max(0, ...times)),
    },
    sessions: reports.map(({ kioskId, card, result }) => ({
      kioskId,
      card,
      outcome: result.outcome,
      wrongPins: result.wrongPins,
      ...(result.outcome === 'refused' || result.outcome === 'refunded' ? { code: result.code } : {}),
      ...(result.outcome === 'issued' ? { certificateType: result.certificateType, copies: result.copies, feeYen: result.feeYen } : {}),
    })),
    printsDirectory: loaded.resolve('prints'),
  };
}

/** Runs the demo at business time `at` (default: the next morning the centre is open after real time `wallClock`). */
export async function runDemo(options: { dir?: string; force?: boolean; at?: string; centerDatabase?: string; log?: (line: string) => void }, wallClock: Clock): Promise<DemoSummary> {
  const businessMs = options.at === undefined ? nextBusinessMorning(wallClock.nowMs()) : parseIsoInstant(options.at);
  if (businessMs === undefined) throw usageError(`--at "${options.at}" is not an ISO time with an offset`);
  const dir = options.dir ? path.resolve(options.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-issue-demo-'));
  // With a server database, demo --force empties it as init --force does; center.db is never made.
  const initOptions = { dir, force: options.force, centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0', centerDatabase: options.centerDatabase };
  // The RSA keys are made beforehand on the thread pool, both cores at once, as `init` makes them.
  try {
    runInit(initOptions, wallClock.nowMs(), await pregeneratedKeys(initOptions));
  } catch (error) {
    // A deployment that could not be made (a database server out of reach, one already in use)
    // leaves nothing behind in the temporary directory made for it.
    if (!options.dir) fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const loaded = loadConfig(dir);
  const clock = offsetClock(businessMs, wallClock);
  const center = await startCenter(loaded, { clock, log: options.log });
  try {
    const relay = await startRelay(loaded, { clock, centerUrl: center.server.url, log: options.log });
    try {
      const { reports, pending } = await runKioskSessions(loaded, clock, relay.server.url);
      return summarize(dir, businessMs, reports, pending, await checkReconciled(dir, loaded, reports, clock), await verifyAllAuditLogs(loaded, dir), verifyPrintedCopies(loaded, reports), loaded);
    } finally {
      await relay.close();
    }
  } finally {
    await center.close();
  }
}

function printSummary(io: Io, summary: DemoSummary): void {
  io.out(`cvs-issue demo — business time ${summary.businessTime}\n`);
  io.out(`deployment: ${summary.dir}\n\n`);
  for (const session of summary.sessions) {
    const detail =
      session.outcome === 'issued'
        ? `${session.certificateType} ×${session.copies}, ${session.feeYen} yen`
        : session.code ?? '';
    const wrongPins = session.wrongPins > 0 ? ` (after ${session.wrongPins} wrong PIN${session.wrongPins === 1 ? '' : 's'})` : '';
    io.out(`  ${session.kioskId}  ${session.card.padEnd(10)} ${session.outcome.padEnd(9)} ${detail}${wrongPins}\n`);
  }
  io.out(`\nissued ${summary.issued} transactions, ${summary.documents} documents, ${summary.feesYen} yen in fees\n`);
  io.out(`refused ${summary.refused}, cancelled ${summary.cancelled}, refunded ${summary.refunded}\n`);
  io.out(`centre records equal the kiosks' and the relay's: ${summary.reconciled ? 'yes' : 'NO'}\n`);
  io.out(`every role's audit log verifies: ${summary.auditVerified ? 'yes' : 'NO'}\n`);
  io.out(`every printed copy checks genuine, or void where a misprint refunded it: ${summary.documentsVerified ? 'yes' : 'NO'}\n`);
  io.out(`one issuance took ${summary.issuanceMs.averageMs} ms on average (max ${summary.issuanceMs.maxMs} ms)\n`);
  io.out(`printed certificates and receipts: ${summary.printsDirectory}\n`);
}

export function makeDemoCommand(factory: Factory): Command {
  const { io } = factory;
  return new Command('demo')
    .description(COMMANDS.demo.description)
    .option('--dir <dir>', 'deployment directory (default: a new temporary directory)')
    .option('--force', 'replace a deployment already in --dir')
    .option('--at <iso-time>', 'business time the services run at (default: 10:00 JST on the next day the centre is open)')
    .option('--center-database <url>', "run the centre's store on this PostgreSQL server (postgresql://…, empty, or --force), not in center.db")
    .option('--json', 'print the summary as one JSON object')
    .action(async (options: { dir?: string; force?: boolean; at?: string; centerDatabase?: string; json?: boolean }) => {
      if (options.centerDatabase !== undefined) parseDatabaseUrlFlag(options.centerDatabase, '--center-database');
      const summary = await runDemo({ ...options, log: options.json ? undefined : (line) => io.err(`${line}\n`) }, factory.wallClock);
      if (options.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
      else printSummary(io, summary);
      if (summary.unexpected > 0 || !summary.reconciled || !summary.auditVerified || !summary.documentsVerified) {
        throw new AppError('differences', 'demo.differences', 'the demo found differences (see the summary above)');
      }
    });
}
