// `cvs-issue kiosk run`: one kiosk in a store. It talks only to its operator's relay, prints into a
// folder (the simulation) or through CUPS (`--printer cups:QUEUE`), and keeps its completion
// notices in a local outbox until the centre acknowledges them.

import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { COMMANDS } from './commands.ts';
import { AppError, usageError } from '../core/errors.ts';
import { runKioskTransaction, type KioskDependencies, type KioskInput, type TransactionResult } from '../core/kiosk-transaction.ts';
import type { Clock, Denomination, RandomSource, Timers } from '../core/ports.ts';
import { PcscCardReader } from '../drivers/card/pcsc-reader.ts';
import { SimulatedCardReader } from '../drivers/card/simulated-reader.ts';
import { SimulatedCashUnit } from '../drivers/cash/simulated-cash-unit.ts';
import type { HttpClient } from '../drivers/http/client.ts';
import { callJson } from '../drivers/http/json-api.ts';
import { kioskGateway } from '../drivers/http/kiosk-gateway.ts';
import { renderVoidNoticePdf } from '../drivers/pdf/certificate-pdf.ts';
import { renderReceiptPdf } from '../drivers/pdf/receipt-pdf.ts';
import { CupsPrinter, isCupsQueueName } from '../drivers/printer/cups-printer.ts';
import { FolderPrinter } from '../drivers/printer/folder-printer.ts';
import { createKioskStore, openKioskDatabase, type DayClose, type KioskStore } from '../drivers/store/kiosk-store.ts';
import { OUTBOX_BATCH, outboxKey, sendPendingNotices } from '../core/outbox.ts';
import { clientFor, findKiosk, openRoleAuditLog, type KioskConfig, type LoadedConfig } from './config.ts';
import { hexEncode } from '../core/bytes.ts';
import { correctionFor } from '../core/correction.ts';
import { inForce, type ServiceNotice } from '../core/service-notices.ts';
import { formatJstIso, isIsoDate, jstParts } from '../core/jst.ts';
import { CORRECTION_REASONS, type CorrectionReason } from '../core/messages.ts';
import { decideLogin, isLocked, isPasswordAttempt, LOCKOUT_MS, passwordProblem } from '../core/maintenance.ts';
import { hashPassword, verifyPassword } from '../drivers/crypto/password.ts';
import type { DecommissionResponse, HeartbeatResponse } from '../core/relay-service.ts';
import { DECOMMISSION_PATH, FAULT_PATH, HEARTBEAT_PATH, KIOSK_PATHS, STORE_DAY_PATH } from '../core/messages.ts';
import { conditionWatch, sendPendingFaults, type FaultReporter } from '../core/alerts.ts';
import { acceptedCardKinds } from '../core/jpki.ts';
import { freeBytesIn } from '../drivers/store/free-space.ts';
import { auditHasher, auditOrigin, checkpointOffer, logSize, offerCheckpointToWitness, storedTreeNodes } from '../drivers/store/audit-log.ts';
import { inclusionProofFromNodes } from '../core/merkle.ts';
import { utf8Decode } from '../core/bytes.ts';
import { eraseDirectory, eraseFile, holdForErasure, sqliteFiles } from '../drivers/store/erase.ts';
import { writeConfig } from './config.ts';
import { scheduleWitnessOffers, type OfferOutcome } from '../core/witness-offers.ts';
import { sha256, systemClock, systemRandom, systemTimers } from './deps.ts';
import type { Factory } from './factory.ts';
import type { Io } from './io.ts';
import { createTerminal, type Terminal } from './terminal.ts';
import { readKioskScript, scriptedInput, type ScriptedSession } from './kiosk-script.ts';
import { clockCheck, DIAGNOSIS_LIMITS, diskCheck } from '../core/diagnosis.ts';

export interface Kiosk {
  config: KioskConfig;
  store: KioskStore;
  /** The deployment's folder printer (the simulation), or a real printer behind CUPS. */
  printer: FolderPrinter | CupsPrinter;
  cash: SimulatedCashUnit;
  /** True with a PC/SC reader: the card is whatever lies on it, not a card file. */
  usesRealReader: boolean;
  /** The simulated reader (card files), or a real one through PC/SC. */
  reader: SimulatedCardReader | PcscCardReader;
  /** Places the card (simulated reader), runs one transaction with the given resident, then flushes the outbox. */
  serve(cardFile: string | undefined, input: KioskInput): Promise<TransactionResult>;
  /** Sends pending completion notices and day closes, then a heartbeat; returns what was acknowledged and what remains. */
  flushOutbox(): Promise<{ acknowledged: number; pending: number }>;
  /** Closes the store business day (JST date; default today) and every earlier day left open. */
  closeDays(businessDate?: string): DayClose[];
  /** Offers the audit log's latest checkpoint to the relay now, as every heartbeat does (after any offer in flight). */
  offerAuditLog(): Promise<OfferOutcome | 'nothing'>;
  /** Entries in the kiosk's audit log. */
  auditLogSize(): number;
  /**
   * Disposal (C§9-2, P5): appends the log's last entry, `kiosk.decommissioned`, and hands it with
   * the final checkpoint and an inclusion proof to the relay, which witnesses it and revokes this
   * kiosk's certificate. Throws (the relay unreachable or refusing) with nothing revoked.
   */
  decommission(): Promise<DecommissionResponse>;
  /** True when the relay refuses this kiosk's certificate as revoked: a decommission it witnessed, whose answer was lost. */
  revokedAtRelay(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * What the simulation (cmd/simulate.ts) puts in place of real drivers: the network, timers and
 * randomness on its virtual time and seed, a reader it can take the card from, a cash unit it can
 * fault, and receipt renderers that finish within one step.
 */
export interface KioskDriverOverrides {
  client?: HttpClient;
  random?: RandomSource;
  timers?: Timers;
  reader?: SimulatedCardReader;
  cash?: SimulatedCashUnit;
  renderReceipt?: KioskDependencies['renderReceipt'];
  renderVoidNotice?: KioskDependencies['renderVoidNotice'];
  /** Free bytes where the kiosk's database lies; default: statfs of its folder. */
  freeDiskBytes?: () => number;
}

export function openKiosk(
  loaded: LoadedConfig,
  options: { kioskId?: string; relayUrl?: string; clock?: Clock; show?: (text: string) => void; pcscReader?: string; printer?: PrinterChoice; environment?: NodeJS.ProcessEnv; drivers?: KioskDriverOverrides },
): Kiosk {
  const config = findKiosk(loaded, options.kioskId);
  const clock = options.clock ?? systemClock;
  const drivers = options.drivers ?? {};
  // The real reader beside the simulated one, behind the same port (docs/runtime-facts.md, "Smart cards").
  const simulated = options.pcscReader === undefined ? (drivers.reader ?? new SimulatedCardReader(`${config.kioskId} simulated reader`)) : undefined;
  const reader: SimulatedCardReader | PcscCardReader = simulated ?? new PcscCardReader(options.pcscReader ?? '');
  const db = openKioskDatabase(loaded.resolve(config.databaseFile));
  const audit = openRoleAuditLog(db, loaded, config, auditOrigin('kiosk', config.kioskId), clock);
  const store = createKioskStore(db, audit);
  const client = drivers.client ?? clientFor(loaded, config.tls, options.relayUrl ?? config.relayUrl, 20_000);
  const gateway = kioskGateway(client, config.kioskId);
  const choice = options.printer ?? { kind: 'folder' };
  const printer =
    choice.kind === 'cups'
      ? new CupsPrinter({ queue: choice.queue, environment: options.environment })
      : new FolderPrinter({ directory: loaded.resolve(config.printerDirectory), faults: choice.jamOnCopy === undefined ? {} : { jamOnCopy: choice.jamOnCopy } });
  const cash = drivers.cash ?? new SimulatedCashUnit();
  const random = drivers.random ?? systemRandom;
  const show = options.show ?? (() => undefined);

  /** Every fault goes into the audit log; a device fault also waits in the fault outbox for the relay (docs/alerts.md). */
  const faults: FaultReporter = {
    report: (fault) => store.recordFault({ ...fault, faultId: hexEncode(random.bytes(16)), kioskId: config.kioskId, atMs: clock.nowMs() }),
  };
  // Disk and clock faults (S4-7): the disk before each resident and at each flush, the clock at
  // each heartbeat.
  const watch = conditionWatch(faults, store.conditions(clock.nowMs));
  const databaseFolder = path.dirname(loaded.resolve(config.databaseFile));
  const freeDiskBytes = drivers.freeDiskBytes ?? (() => freeBytesIn(databaseFolder));
  function watchDisk(): void {
    watch('disk.low_space', !diskCheck(freeDiskBytes()).ok);
  }
  function watchClock(sentAtMs: number, receivedAtMs: number, answer: HeartbeatResponse): void {
    const relayDateMs = answer.relayTime === undefined ? Number.NaN : Date.parse(answer.relayTime);
    if (Number.isNaN(relayDateMs)) return; // a relay from before the time field: nothing to compare
    watch('clock.skew', !clockCheck({ sentAtMs, receivedAtMs, relayDateMs, resolutionMs: 1 }).ok);
  }

  const sendFaults = () => sendPendingFaults({ outbox: store, clock, send: (report) => callJson(client, FAULT_PATH, report) });
  // One flush at a time: the interactive kiosk's minute timer and the flush after a resident may
  // meet, and two at once would send the same fault or notice twice.
  let flushes: Promise<unknown> = Promise.resolve();
  function flushOutbox(): Promise<{ acknowledged: number; pending: number }> {
    const run = flushes.then(flushOnce);
    flushes = run.catch(() => undefined);
    return run;
  }

  async function flushOnce(): Promise<{ acknowledged: number; pending: number }> {
    watchDisk();
    // Faults first: the register and maintenance should hear of a jam before the paperwork goes.
    await sendFaults();
    const acknowledged = await sendPendingNotices({
      outbox: store,
      clock,
      send: (notice) => {
        audit.append({ kind: 'notice.sent', data: { issuanceId: notice.issuanceId } });
        return 'correctionId' in notice ? gateway.sendCorrection(notice) : gateway.sendCompletion(notice);
      },
    });
    await sendDayCloses();
    await sendHeartbeat();
    // The heartbeat's answer may have shown the clock off (a clock fault): it goes now, not later.
    if (store.pendingFaults(1).length > 0) await sendFaults();
    await fetchServiceNotices();
    return { acknowledged, pending: store.pendingNotices(OUTBOX_BATCH).length };
  }

  /** Spec§7-4: the centre's announced windows and stops, shown on the screen before each resident. */
  let serviceNotices: ServiceNotice[] = [];
  async function fetchServiceNotices(): Promise<void> {
    try {
      serviceNotices = (await callJson<{ notices: ServiceNotice[] }>(client, KIOSK_PATHS.notices, { kioskId: config.kioskId })).notices;
    } catch {
      // keep the last known notices; the next flush tries again
    }
  }

  async function sendDayCloses(): Promise<void> {
    for (const close of store.unacknowledgedDayCloses()) {
      try {
        await callJson(client, STORE_DAY_PATH, { kioskId: config.kioskId, storeId: config.storeId, ...close });
        store.markDayCloseAcknowledged(close.businessDate, clock.nowMs());
      } catch (error) {
        if (error instanceof AppError && error.kind === 'unavailable') return;
        audit.append({ kind: 'fault', data: { businessDate: close.businessDate, code: error instanceof AppError ? error.code : 'internal' } });
      }
    }
  }

  function closeDays(businessDate?: string): DayClose[] {
    const today = jstParts(clock.nowMs()).dateIso;
    const dates = [...store.unclosedDaysBefore(businessDate ?? today)];
    if (businessDate) dates.push(businessDate);
    return dates.map((date) => store.closeDay(date, clock.nowMs()));
  }

  /** The relay witnesses our latest checkpoint, with a proof that it extends the one it saw before. */
  async function offerToRelay(): Promise<OfferOutcome> {
    try {
      const before = store.lastWitnessedSize();
      await offerCheckpointToWitness(
        db,
        store,
        async (offer) => {
          const sentAtMs = clock.nowMs();
          const answer = await callJson<HeartbeatResponse>(client, HEARTBEAT_PATH, { kioskId: config.kioskId, ...offer });
          watchClock(sentAtMs, clock.nowMs(), answer);
          return answer;
        },
        clock.nowMs,
      );
      const after = store.lastWitnessedSize();
      if (after <= before && logSize(db) > after) {
        // The relay holds less than we believed it witnessed: its state was lost or restored.
        audit.append({ kind: 'fault', data: { code: 'witness.behind' } });
        return 'refused';
      }
      return 'witnessed';
    } catch (error) {
      if (error instanceof AppError && error.kind === 'unavailable') return 'unavailable'; // retried with back-off
      audit.append({ kind: 'fault', data: { code: error instanceof AppError ? error.code : 'internal' } });
      return 'refused';
    }
  }
  // Every entry is offered soon after it is appended, and at the first chance while the relay is
  // away (finding 7 of the audit log: an offline tail must not wait for the next minute).
  const offers = scheduleWitnessOffers({ pending: () => logSize(db) > store.lastWitnessedSize(), offer: offerToRelay, timers: drivers.timers ?? systemTimers });
  audit.onAppend(() => offers.poke());
  async function sendHeartbeat(): Promise<void> {
    await offers.heartbeat();
  }

  return {
    config,
    store,
    printer,
    cash,
    usesRealReader: simulated === undefined,
    reader,
    async serve(cardFile, input) {
      if (simulated) {
        if (cardFile === undefined) throw usageError('the simulated reader needs a card file');
        simulated.place(cardFile);
      }
      watchDisk();
      for (const notice of serviceNotices) if (inForce(notice, clock.nowMs())) show(`【お知らせ】${notice.message}`);
      try {
        return await runKioskTransaction(
          {
            identity: { kioskId: config.kioskId, storeId: config.storeId, storeName: config.storeName },
            acceptedCardKinds: acceptedCardKinds(loaded.config),
            clock,
            random,
            reader,
            cash,
            printer,
            gateway,
            ledger: store,
            audit,
            faults,
            screen: { show },
            sha256,
            renderReceipt: drivers.renderReceipt ?? renderReceiptPdf,
            renderVoidNotice: drivers.renderVoidNotice ?? renderVoidNoticePdf,
          },
          input,
        );
      } finally {
        simulated?.remove();
        await flushOutbox();
      }
    },
    flushOutbox,
    closeDays,
    offerAuditLog: () => offers.offerNow(),
    auditLogSize: () => logSize(db),
    async revokedAtRelay() {
      const offer = checkpointOffer(db, store.lastWitnessedSize());
      if (!offer) return false;
      try {
        await callJson<HeartbeatResponse>(client, HEARTBEAT_PATH, { kioskId: config.kioskId, ...offer });
        return false;
      } catch (error) {
        return error instanceof AppError && error.code === 'certificate_revoked';
      }
    },
    async decommission() {
      // The last regular offers first (with a resync if the relay asks), so the final offer proves
      // from the size the relay holds; no offer runs beside it afterwards.
      await offers.close();
      audit.append({ kind: 'kiosk.decommissioned', data: { kioskId: config.kioskId, storeId: config.storeId } });
      const size = logSize(db);
      const last = db.get<{ entry: Uint8Array }>('SELECT entry FROM audit_entries WHERE idx = :index', { index: size - 1 })!;
      const inclusionProof = inclusionProofFromNodes(auditHasher, storedTreeNodes(db), size - 1, size).map(hexEncode);
      const offer = checkpointOffer(db, store.lastWitnessedSize())!;
      const answer = await callJson<DecommissionResponse>(client, DECOMMISSION_PATH, { kioskId: config.kioskId, ...offer, entry: utf8Decode(last.entry), inclusionProof });
      store.markWitnessed(answer.witnessedSize, clock.nowMs());
      return answer;
    },
    async close() {
      await offers.close();
      await client.close();
      db.close();
    },
  };
}

/**
 * Where a kiosk prints: the deployment's folder (default) or a CUPS queue. A folder printer can be
 * told to jam on a certificate copy of every transaction, so that a technician (or a test) sees the
 * misprint path (refund, void slip) at an interactive kiosk.
 */
export type PrinterChoice = { kind: 'folder'; jamOnCopy?: number } | { kind: 'cups'; queue: string };

const PRINTER_CHOICES = '"folder", "folder:jam-on-copy=N" (N from 1 to 99) or "cups:QUEUE" with a CUPS queue name (letters, digits, "_", "-", ".")';

/** The value of `kiosk run --printer`: "folder", "folder:jam-on-copy=N" or "cups:QUEUE". */
export function parsePrinterChoice(value: string | undefined): PrinterChoice {
  if (value === undefined || value === 'folder') return { kind: 'folder' };
  const jamOnCopy = /^folder:jam-on-copy=([1-9][0-9]?)$/.exec(value)?.[1];
  if (jamOnCopy !== undefined) return { kind: 'folder', jamOnCopy: Number(jamOnCopy) };
  const queue = /^cups:(.*)$/.exec(value)?.[1];
  if (queue === undefined || !isCupsQueueName(queue)) throw usageError(`--printer "${value}" must be ${PRINTER_CHOICES}`);
  return { kind: 'cups', queue };
}

export function cardFilePath(loaded: LoadedConfig, card: string): string {
  const inDeployment = loaded.resolve(path.join(loaded.config.cardsDirectory, `${card}.json`));
  return fs.existsSync(inDeployment) ? inDeployment : path.resolve(card);
}

export interface SessionReport {
  card: string;
  result: TransactionResult;
  expected?: ScriptedSession['expect'];
}

export async function runScriptedSessions(kiosk: Kiosk, loaded: LoadedConfig, sessions: ScriptedSession[]): Promise<SessionReport[]> {
  const reports: SessionReport[] = [];
  for (const session of sessions) {
    // Each certificate copy is one page, after the pages already printed by this printer. A real
    // printer jams for real: the command refuses printerJamOnCopy with one before any session runs.
    const { printer } = kiosk;
    if (printer instanceof FolderPrinter) printer.injectFaults(session.printerJamOnCopy ? { jamOnPage: printer.pageCount() + session.printerJamOnCopy } : {});
    const result = await kiosk.serve(cardFilePath(loaded, session.card), scriptedInput(session));
    reports.push({ card: session.card, result, expected: session.expect });
  }
  return reports;
}

function describeResult(report: SessionReport): string {
  const { result } = report;
  switch (result.outcome) {
    case 'issued':
      return `issued ${result.certificateType} ×${result.copies} (${result.feeYen} yen, change ${result.changeYen} yen)`;
    case 'refunded':
      return `refunded ${result.refundedYen} yen after ${result.code}${result.voidedSerials ? `; void, sent to the centre through the outbox: ${result.voidedSerials.join(', ')}` : ''}`;
    case 'refused':
      return `refused: ${result.code}`;
    case 'cancelled':
      return 'cancelled';
  }
}

/** The terminal as the kiosk's touch screen, for a person at the keyboard. An empty answer cancels. */
export function terminalInput(terminal: Terminal): KioskInput {
  const answerOrCancel = (answer: string | undefined) => (answer === undefined || answer === '' ? undefined : answer);
  return {
    async enterPin(triesLeft) {
      return answerOrCancel(await terminal.askSecret(`暗証番号（数字4桁、残り${triesLeft}回、空欄で中止）> `));
    },
    async chooseCertificate(menu) {
      // What can be issued now is numbered; the rest is shown with when it can be (Spec§8-2).
      const available = menu.filter((item) => item.available);
      available.forEach((item, index) => terminal.say(`  ${index + 1}. ${item.title}  ${item.unitFeeYen}円/通  （${item.hoursText}）\n`));
      for (const item of menu.filter((entry) => !entry.available)) terminal.say(`  －  ${item.title}  ただいまの時間は発行できません（発行時間 ${item.hoursText}）\n`);
      const item = available[Number(answerOrCancel(await terminal.ask('番号を選んでください（空欄で中止）> '))) - 1];
      if (!item) return undefined;
      const options: Record<string, string> = {};
      for (const option of item.options.filter((entry) => entry.choices.length > 1)) {
        terminal.say(`  ${option.label}: ${option.choices.map((choice, index) => `${index + 1}. ${choice.label}${choice.value === option.default ? '（既定）' : ''}`).join('  ')}\n`);
        const answer = await terminal.ask(`${option.label}の番号（空欄で既定）> `);
        if (answer === undefined) return undefined;
        const choice = answer === '' ? undefined : option.choices[Number(answer) - 1];
        if (answer !== '' && !choice) return undefined;
        if (choice) options[option.key] = choice.value;
      }
      const copies = Number(answerOrCancel(await terminal.ask(`通数（1〜${item.maxCopies}）> `)));
      if (!Number.isSafeInteger(copies)) return undefined;
      return { certificateType: item.certificateType, copies, ...(Object.keys(options).length > 0 ? { options } : {}) };
    },
    async nextCash(feeYen, insertedYen) {
      const answer = answerOrCancel(await terminal.ask(`投入する金額（10,50,100,500,1000,2000,5000,10000円、残り${feeYen - insertedYen}円、空欄で中止）> `));
      return answer === undefined ? undefined : (Number(answer) as Denomination);
    },
  };
}

/** Between residents the kiosk still reports in, so the relay can tell a quiet kiosk from a dead one. */
const HEARTBEAT_INTERVAL_MS = 60_000;

async function runInteractive(kiosk: Kiosk, loaded: LoadedConfig, io: Io): Promise<void> {
  const terminal = createTerminal(io.stdin, io.out);
  const heartbeat = setInterval(() => void kiosk.flushOutbox().catch(() => undefined), HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();
  try {
    for (;;) {
      const prompt = kiosk.usesRealReader
        ? 'カードをカードリーダーに置いて Enter を押してください（q で終了）> '
        : 'カードを置いてください（カードID、例: card-r001。空欄で終了）> ';
      const card = await terminal.ask(prompt);
      if (card === undefined || (kiosk.usesRealReader ? card === 'q' : card === '')) return;
      const cardFile = kiosk.usesRealReader ? undefined : cardFilePath(loaded, card);
      let result: TransactionResult;
      try {
        result = await kiosk.serve(cardFile, terminalInput(terminal));
      } catch (error) {
        // A mistyped card id, or a card file that cannot be read, is this resident's problem only:
        // the kiosk says so and asks again, as a reader asks for the card once more.
        if (!(error instanceof AppError && error.code === 'card.file_invalid')) throw error;
        terminal.say('カードを読み取れませんでした。もう一度置いてください。\n');
        continue;
      }
      io.err(`[${kiosk.config.kioskId}] ${describeResult({ card: card || 'card', result })}\n`);
    }
  } finally {
    clearInterval(heartbeat);
    terminal.close();
  }
}

interface KioskRunOptions {
  dir: string;
  pcsc?: string | boolean;
  kiosk?: string;
  relayUrl?: string;
  printer?: string;
  script?: string;
  json?: boolean;
}

export function makeKioskCommand(factory: Factory): Command {
  const { io } = factory;
  /** The kiosk of the deployment in `dir`, on the factory's clock, randomness and timers. */
  const kioskIn = (dir: string, options: { kioskId?: string; relayUrl?: string; clock?: Clock; show?: (text: string) => void; pcscReader?: string; printer?: PrinterChoice }) =>
    openKiosk(factory.deployment(dir), { clock: factory.clock, drivers: { random: factory.random, timers: factory.timers }, environment: factory.environment, ...options });
  const kiosk = new Command('kiosk').description(COMMANDS.kiosk.description);
  kiosk
    .command('run')
    .description('run the kiosk: scripted with --script FILE, otherwise interactively on this terminal')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--kiosk <id>', 'which kiosk of the deployment (default: the first)')
    .option('--relay-url <url>', "the operator's relay, e.g. https://127.0.0.1:9443; default from the deployment")
    .option('--pcsc [reader]', 'use a real PC/SC card reader (the first one, or the one named) instead of the simulated reader')
    .option('--printer <printer>', 'where certificates print: "folder" (the deployment\'s print folder, default), "folder:jam-on-copy=N" (the same, but certificate copy N of every transaction jams: a field test of the misprint path) or "cups:QUEUE" (a CUPS queue; waits for each job to complete)')
    .option('--script <file>', 'JSON scenario: { "sessions": [ { "card", "pins", "certificateType", "copies", "cash", "printerJamOnCopy", "expect" } ] }')
    .option('--json', 'print the session results as JSON')
    .action(async (options: KioskRunOptions) => {
      const printer = parsePrinterChoice(options.printer);
      const loaded = factory.deployment(options.dir);
      const script = options.script ? readKioskScript(options.script) : undefined;
      if (!script && options.json) throw usageError('--json needs --script');
      const pcscReader = typeof options.pcsc === 'string' ? options.pcsc : options.pcsc ? '' : undefined;
      // A missing PC/SC stack fails now, with one line, rather than at the first resident's card.
      if (pcscReader !== undefined) await new PcscCardReader(pcscReader).assertAvailable();
      if (printer.kind === 'cups' && script?.sessions.some((session) => session.printerJamOnCopy !== undefined)) {
        throw usageError('"printerJamOnCopy" needs the folder printer: a CUPS printer cannot be told to jam', options.script);
      }
      // A script says per session where the printer jams; one rule for every session would hide that.
      if (printer.kind === 'folder' && printer.jamOnCopy !== undefined && script) {
        throw usageError(`--printer "${options.printer}" is for the interactive kiosk: with --script, give "printerJamOnCopy" in the sessions that should jam`);
      }
      const opened = kioskIn(options.dir, {
        kioskId: options.kiosk,
        relayUrl: options.relayUrl,
        clock: factory.checkedClock(),
        pcscReader,
        printer,
        show: options.json ? undefined : (text) => io.err(`  ${text}\n`),
      });
      try {
        // A mistyped queue fails the start, not every resident's print later.
        if (opened.printer instanceof CupsPrinter) await opened.printer.assertQueueExists();
        // What a crash left of a half-written print job holds certificate data (Spec§14, S4-2).
        else opened.printer.eraseUnfinishedJobs();
        // A kiosk left in this test mode would void every such copy: whoever watches the kiosk is told.
        if (printer.kind === 'folder' && printer.jamOnCopy !== undefined) {
          io.err(`[${opened.config.kioskId}] test mode: the printer jams on certificate copy ${printer.jamOnCopy} of every transaction (--printer ${options.printer})\n`);
        }
        opened.closeDays();
        await opened.flushOutbox();
        if (!script) return await runInteractive(opened, loaded, io);
        const reports = await runScriptedSessions(opened, loaded, script.sessions);
        const outbox = await opened.flushOutbox();
        if (options.json) {
          io.out(`${JSON.stringify({ kioskId: opened.config.kioskId, sessions: reports, outboxPending: outbox.pending }, null, 2)}\n`);
        } else {
          for (const report of reports) io.out(`[${opened.config.kioskId}] ${report.card}: ${describeResult(report)}\n`);
          if (outbox.pending > 0) io.out(`[${opened.config.kioskId}] ${outbox.pending} completion notice(s) wait in the outbox\n`);
        }
        const unexpected = reports.filter((report) => report.expected && report.expected !== report.result.outcome);
        if (unexpected.length > 0) {
          throw new AppError('differences', 'kiosk.unexpected_outcome', `${unexpected.length} session(s) ended differently than the script expected`, options.script);
        }
      } finally {
        await opened.close();
      }
    });
  kiosk
    .command('maintenance')
    .description('maintenance mode (S4-4): unlock with the maintenance password (first line of standard input, not echoed, or --password-file) and show the kiosk state')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--kiosk <id>', 'which kiosk of the deployment (default: the first)')
    .option('--relay-url <url>', "the operator's relay, which witnesses the login attempt before the command ends; default from the deployment")
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--change-password', 'then set a new maintenance password, read from the next line of standard input (the first, with --password-file)')
    .option('--json', 'print the state as JSON')
    .addHelpText('after', '\nExit codes: 0 unlocked, 1 wrong password or locked, 2 bad flag, no password given, or a password file others can read.')
    .action(async (options: { dir: string; kiosk?: string; relayUrl?: string; passwordFile?: string; changePassword?: boolean; json?: boolean }) => {
      const opened = kioskIn(options.dir, { kioskId: options.kiosk, relayUrl: options.relayUrl });
      await asTechnician(opened, options.passwordFile, io, factory.clock, async (terminal) => {
        if (options.changePassword) {
          const next = (await terminal.askSecret('新しい保守用パスワード> ')) ?? '';
          const problem = passwordProblem(next);
          if (problem) throw usageError(problem);
          opened.store.setMaintenancePassword(hashPassword(next), factory.clock.nowMs());
          io.err('the maintenance password was changed\n');
        }
        const state = maintenanceState(opened);
        if (options.json) io.out(`${JSON.stringify(state, null, 2)}\n`);
        else for (const [name, value] of Object.entries(state)) io.out(`${name}: ${value ?? '-'}\n`);
      });
    });
  kiosk
    .command('diagnose')
    .description('for a field technician: check the devices, the relay and the centre, the clock, the certificates, the outbox, the audit witness and the disk')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--kiosk <id>', 'which kiosk of the deployment (default: the first)')
    .option('--relay-url <url>', "the operator's relay; default from the deployment")
    .option('--pcsc [reader]', 'check the real PC/SC card reader (the first one, or the one named), as "kiosk run --pcsc" uses it')
    .option('--printer <printer>', 'check the printer "kiosk run --printer" names: "folder" (default) or "cups:QUEUE"')
    .option('--min-free-mb <n>', "free disk wanted where the kiosk's database lies, in MiB", String(DIAGNOSIS_LIMITS.defaultMinFreeBytes / MIB))
    .option('--max-latency-ms <n>', 'slowest answer accepted from the relay, and from the centre through it', String(DIAGNOSIS_LIMITS.maxRoundTripMs))
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--json', 'print {"ok": true|false, "checks": [{"name", "ok", "detail"}, ...]}')
    .addHelpText(
      'after',
      '\nNeeds the maintenance password, as "kiosk maintenance" does.\n' +
        'Checks: card-reader, cash-unit, printer, relay, center, clock, certificate-kiosk, certificate-relay, certificate-ca,\n' +
        'outbox, audit-witness, disk; the clock against the relay\'s HTTP Date header.\n' +
        'Exit codes: 0 every check passed, 1 wrong password or locked, 2 bad flag or no password given, 3 a check failed (named on stderr).',
    )
    .action(async (options: { dir: string; kiosk?: string; relayUrl?: string; pcsc?: string | boolean; printer?: string; minFreeMb: string; maxLatencyMs: string; passwordFile?: string; json?: boolean }) => {
      const printer = parsePrinterChoice(options.printer);
      if (!/^[0-9]{1,7}$/.test(options.minFreeMb)) throw usageError(`--min-free-mb "${options.minFreeMb}" must be a whole number of MiB`);
      if (!/^[1-9][0-9]{0,5}$/.test(options.maxLatencyMs)) throw usageError(`--max-latency-ms "${options.maxLatencyMs}" must be a whole number of milliseconds from 1 to 999999`);
      const loaded = factory.deployment(options.dir);
      const config = findKiosk(loaded, options.kiosk);
      // Loaded here only: its table and colour libraries are no start-up cost of "kiosk run".
      const { DIAGNOSE_TIMEOUT_MS, diagnoseKiosk, formatDiagnosis, idleTimers, recordingClient } = await import('./kiosk-diagnose.ts');
      const client = recordingClient(clientFor(loaded, config.tls, options.relayUrl ?? config.relayUrl, Math.max(DIAGNOSE_TIMEOUT_MS, Number(options.maxLatencyMs))), factory.wallClock);
      const opened = openKiosk(loaded, {
        kioskId: config.kioskId,
        clock: factory.clock,
        pcscReader: typeof options.pcsc === 'string' ? options.pcsc : options.pcsc ? '' : undefined,
        printer,
        environment: factory.environment,
        drivers: { client, random: factory.random, timers: idleTimers },
      });
      await asTechnician(opened, options.passwordFile, io, factory.clock, async () => {
        const result = await diagnoseKiosk(opened, loaded, { client, clock: factory.clock, wallClock: factory.wallClock, minFreeBytes: Number(options.minFreeMb) * MIB, maxLatencyMs: Number(options.maxLatencyMs) });
        io.out(options.json ? `${JSON.stringify(result)}\n` : formatDiagnosis(result, config.kioskId, io.color));
        const failed = result.checks.filter((check) => !check.ok).map((check) => check.name);
        if (failed.length > 0) throw new AppError('differences', 'kiosk.unhealthy', `${failed.length} check(s) failed: ${failed.join(', ')}`, config.kioskId);
      });
    });
  kiosk
    .command('correct')
    .description('send a correction notice (Spec§13-2): the documents an issuance really produced, after its completion notice')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--kiosk <id>', 'which kiosk of the deployment (default: the first)')
    .option('--relay-url <url>', "the operator's relay; default from the deployment")
    .requiredOption('--issuance <id>', 'the issuance (request) id to correct')
    .requiredOption('--copies <n>', 'documents really issued: fewer than recorded')
    .requiredOption('--reason <code>', CORRECTION_REASONS.join(' | '))
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--json', 'print the correction as JSON')
    .addHelpText('after', '\nNeeds the maintenance password: it lowers what the operator owes.\nExit codes: 0 sent (or queued in the outbox), 1 wrong password or locked, 2 bad flag, no password given, or no such issued transaction.')
    .action(async (options: { dir: string; kiosk?: string; relayUrl?: string; issuance: string; copies: string; reason: string; passwordFile?: string; json?: boolean }) => {
      if (!/^[0-9]{1,2}$/.test(options.copies)) throw usageError('--copies must be a whole number');
      if (!(CORRECTION_REASONS as readonly string[]).includes(options.reason)) throw usageError(`--reason must be one of ${CORRECTION_REASONS.join(', ')}`);
      const clock = factory.clock;
      const opened = kioskIn(options.dir, { kioskId: options.kiosk, relayUrl: options.relayUrl });
      await asTechnician(opened, options.passwordFile, io, clock, async () => {
        const notice = correctionFor({
          transaction: opened.store.transactions().find((transaction) => transaction.requestId === options.issuance),
          identity: opened.config,
          issuanceId: options.issuance,
          copies: Number(options.copies),
          reason: options.reason as CorrectionReason,
          correctionId: hexEncode(factory.random.bytes(16)),
          atMs: clock.nowMs(),
        });
        opened.store.queueCorrection(notice);
        await opened.flushOutbox();
        const sent = !opened.store.pendingNotices(1000).some(({ notice: pending }) => outboxKey(pending) === notice.correctionId);
        if (options.json) io.out(`${JSON.stringify({ ...notice, sent }, null, 2)}\n`);
        else io.out(`correction ${notice.correctionId} for ${notice.issuanceId}: ${notice.copies} documents, ${notice.feeYen} yen (${sent ? 'acknowledged by the centre' : 'waiting in the outbox'})\n`);
      });
    });
  kiosk
    .command('close-day')
    .description("close the store business day: total the cash the kiosk took and send it to the relay")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--kiosk <id>', 'which kiosk of the deployment (default: the first)')
    .option('--relay-url <url>', "the operator's relay; default from the deployment")
    .option('--date <yyyy-mm-dd>', 'the JST business date to close (default: today in JST); earlier open days are closed too')
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--json', 'print the closes as JSON')
    .addHelpText('after', '\nNeeds the maintenance password.\nExit codes: 0 closed (sent, or waiting for the relay), 1 wrong password or locked, 2 bad flag or date, or no password given.')
    .action(async (options: { dir: string; kiosk?: string; relayUrl?: string; date?: string; passwordFile?: string; json?: boolean }) => {
      if (options.date !== undefined && !isIsoDate(options.date)) throw usageError(`--date "${options.date}" is not a real YYYY-MM-DD date`);
      const opened = kioskIn(options.dir, { kioskId: options.kiosk, relayUrl: options.relayUrl });
      await asTechnician(opened, options.passwordFile, io, factory.clock, async () => {
        const closes = opened.closeDays(options.date ?? jstParts(factory.clock.nowMs()).dateIso);
        await opened.flushOutbox();
        const unsent = opened.store.unacknowledgedDayCloses().length;
        if (options.json) io.out(`${JSON.stringify({ kioskId: opened.config.kioskId, closes, unsent }, null, 2)}\n`);
        else for (const close of closes) io.out(`[${opened.config.kioskId}] ${close.businessDate}: ${close.transactions} transactions, ${close.documents} documents, ${close.cashYen} yen${unsent ? ' (waiting for the relay)' : ''}\n`);
      });
    });
  kiosk
    .command('decommission')
    .description("retire the kiosk for good (C§9-2, P5): flush its outbox, have the relay witness its final audit entry and revoke its certificate, then overwrite and delete its database, keys and print folder")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--kiosk <id>', 'the kiosk to retire (no default: the erasure cannot be undone)')
    .option('--relay-url <url>', "the operator's relay; default from the deployment")
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--wipe', 'required: the erasure cannot be undone')
    .option('--json', 'print what was done as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Needs the maintenance password and a reachable relay. Nothing is erased unless the relay took the',
        "kiosk's last checkpoint and revoked its certificate, and every completion notice and day close was",
        'acknowledged; run it again once the relay (and the centre behind it) answer.',
        'Exit codes: 0 decommissioned and erased, 1 wrong password or locked, the relay unreachable or refusing,',
        'or notices still waiting in the outbox (nothing erased), 2 bad flag, no --kiosk or --wipe, or no password given.',
      ].join('\n'),
    )
    .action(async (options: { dir: string; kiosk: string; relayUrl?: string; passwordFile?: string; wipe?: boolean; json?: boolean }) => {
      if (!options.wipe) throw usageError("--wipe is required: decommission erases the kiosk's database, keys and print folder for good (nothing was changed)");
      const loaded = factory.deployment(options.dir);
      printFolderToErase(loaded, findKiosk(loaded, options.kiosk));
      const opened = kioskIn(options.dir, { kioskId: options.kiosk, relayUrl: options.relayUrl, clock: factory.checkedClock() });
      const config = opened.config;
      let held: NonNullable<ReturnType<typeof holdForErasure>>[] = [];
      const answer = await asTechnician(opened, options.passwordFile, io, factory.clock, async () => {
        // A run after the relay already revoked this kiosk (its answer lost, or a crash before the
        // erasure) finds the outbox delivered then: it only asks again for the same revocation.
        if (!(await opened.revokedAtRelay())) await deliverEverything(opened, factory.clock);
        const decommissioned = await opened.decommission();
        // Held open across the close, which deletes them: their blocks are overwritten below.
        const database = loaded.resolve(config.databaseFile);
        held = [`${database}-wal`, `${database}-shm`].flatMap((file) => holdForErasure(file) ?? []);
        return decommissioned;
      });
      // The kiosk is closed: its database is no longer open anywhere in this process.
      for (const file of held) file.erase();
      const erased = [...held.map((file) => file.path), ...eraseKioskFiles(loaded, config)];
      writeConfig(loaded.directory, { ...loaded.config, kiosks: loaded.config.kiosks.filter((entry) => entry.kioskId !== config.kioskId) });
      const report = { kioskId: config.kioskId, storeId: config.storeId, witnessedSize: answer.witnessedSize, revokedSerialNumber: answer.serialNumber, revokedAt: answer.revokedAt, erased: erased.map((file) => path.relative(loaded.directory, file)) };
      if (options.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
      else {
        io.out(`[${config.kioskId}] decommissioned: the relay witnessed the audit log at size ${answer.witnessedSize} and revoked certificate ${answer.serialNumber}\n`);
        for (const file of report.erased) io.out(`  erased ${file}\n`);
      }
    });
  return kiosk;
}

/** Closes the business day and delivers the outbox before a decommission, or refuses with nothing erased. */
async function deliverEverything(opened: Kiosk, clock: Clock): Promise<void> {
  opened.closeDays(jstParts(clock.nowMs()).dateIso);
  await opened.flushOutbox();
  const notices = opened.store.pendingNotices(1000).length;
  const dayCloses = opened.store.unacknowledgedDayCloses().length;
  const faults = opened.store.pendingFaults(1000).length;
  if (notices + dayCloses + faults > 0) {
    throw new AppError('unavailable', 'decommission.outbox_pending', `${notices} notice(s), ${dayCloses} day close(s) and ${faults} fault report(s) are not yet acknowledged; nothing was erased: run again when the relay and the centre answer`, opened.config.kioskId);
  }
}

/**
 * Overwrites and deletes everything of the kiosk's own (C§9-2, P5): the database and the files
 * SQLite keeps beside it, its TLS key and certificate, its audit signing key, the first maintenance
 * password init handed over, and its print folder. The CA certificates it shared are left.
 */
function eraseKioskFiles(loaded: LoadedConfig, config: KioskConfig): string[] {
  const files = [
    ...sqliteFiles(loaded.resolve(config.databaseFile)),
    loaded.resolve(config.tls.keyFile),
    loaded.resolve(config.tls.certificateFile),
    loaded.resolve(config.auditKeyFile),
    loaded.resolve(path.join('pki', 'maintenance', `${config.kioskId}.txt`)),
  ];
  const erased = files.filter((file) => eraseFile(file));
  return [...erased, ...eraseDirectory(printFolderToErase(loaded, config))];
}

/**
 * The kiosk's print folder, if it is its own: under the deployment's `prints/` and no other
 * kiosk's. A configuration edited to name another folder (a shared one, the deployment itself)
 * is refused before anything is asked of the relay, never erased.
 */
function printFolderToErase(loaded: LoadedConfig, config: KioskConfig): string {
  const folder = loaded.resolve(config.printerDirectory);
  const prints = loaded.resolve('prints');
  const inside = path.relative(prints, folder);
  const shared = loaded.config.kiosks.some((other) => other.kioskId !== config.kioskId && loaded.resolve(other.printerDirectory) === folder);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside) || shared) {
    throw new AppError('usage', 'decommission.print_folder', `printerDirectory "${config.printerDirectory}" is not this kiosk's own folder under prints/: nothing was erased or revoked`, config.kioskId);
  }
  return folder;
}

/** Checks the maintenance password against its slow hash, with lockout (core/maintenance.ts); every attempt is audited. */
export async function unlockMaintenance(kiosk: Kiosk, password: string | undefined, clock: Clock): Promise<void> {
  const credential = kiosk.store.maintenanceCredential();
  if (!credential) throw new AppError('usage', 'maintenance.not_set', 'no maintenance password is set for this kiosk (init sets one)');
  if (!isPasswordAttempt(password)) throw new AppError('usage', 'maintenance.no_password', 'give the maintenance password (--password-file FILE, or the first line of standard input); an empty one is not a try');
  const nowMs = clock.nowMs();
  const matches = !isLocked(credential, nowMs) && verifyPassword(password, credential.passwordHash);
  const decision = decideLogin(credential, nowMs, matches);
  kiosk.store.recordMaintenanceLogin(decision.outcome, decision.next);
  if (decision.outcome === 'locked') {
    throw new AppError('refused', 'maintenance.locked', `maintenance is locked after repeated wrong passwords until ${formatJstIso(decision.lockedUntilMs)}`);
  }
  if (decision.outcome === 'rejected') {
    throw new AppError('refused', 'maintenance.rejected', `wrong maintenance password (${decision.attemptsLeft} more tries before a ${LOCKOUT_MS / 60_000}-minute lock)`);
  }
}

const MIB = 1024 * 1024;

const PASSWORD_FILE_HELP = 'read the maintenance password from this owner-only file (first line) instead of standard input';

/**
 * The technician's maintenance password (S4-4, S4-6): the first line of an owner-only file, or typed
 * on standard input (not echoed on a terminal). A file others can read is refused: the password
 * would no longer be the technician's alone.
 */
async function technicianPassword(passwordFile: string | undefined, terminal: Terminal): Promise<string | undefined> {
  if (passwordFile === undefined) return terminal.askSecret('保守用パスワード> ');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(passwordFile);
  } catch {
    throw usageError('no such password file', passwordFile);
  }
  if (!stat.isFile()) throw usageError('the password file is not a file', passwordFile);
  if ((stat.mode & 0o077) !== 0) throw usageError('the password file can be read by others: chmod 600 it', passwordFile);
  return fs.readFileSync(passwordFile, 'utf8').split(/\r?\n/)[0]!.trim();
}

/**
 * Runs a technician's work on the kiosk once the maintenance password unlocks it; the attempt is
 * audited whatever its outcome, and offered to the relay before the kiosk closes.
 */
async function asTechnician<T>(opened: Kiosk, passwordFile: string | undefined, io: Io, clock: Clock, work: (terminal: Terminal) => Promise<T>): Promise<T> {
  const terminal = createTerminal(io.stdin, io.err);
  try {
    await unlockMaintenance(opened, await technicianPassword(passwordFile, terminal), clock);
    return await work(terminal);
  } finally {
    terminal.close();
    await opened.close();
  }
}

/** What a technician needs at a glance; no personal data, no certificate content. */
function maintenanceState(kiosk: Kiosk): Record<string, string | number | null> {
  const transactions = kiosk.store.transactions();
  const last = transactions.at(-1);
  return {
    kioskId: kiosk.config.kioskId,
    storeId: kiosk.config.storeId,
    transactions: transactions.length,
    lastTransactionAt: last ? formatJstIso(last.issuedAtMs) : null,
    outboxPending: kiosk.store.pendingNotices(1000).length,
    outboxRejected: kiosk.store.rejectedNotices().length,
    dayClosesUnsent: kiosk.store.unacknowledgedDayCloses().length,
    auditWitnessedSize: kiosk.store.lastWitnessedSize(),
    printerDirectory: kiosk.printer instanceof FolderPrinter ? kiosk.printer.directoryPath() : null,
  };
}
