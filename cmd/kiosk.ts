// `cvs-issue kiosk run`: one kiosk in a store. It talks only to its operator's relay, prints into a
// folder (the simulation) or through CUPS (`--printer cups:QUEUE`), and keeps its completion
// notices in a local outbox until the centre acknowledges them.

import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { COMMANDS } from './commands.ts';
import { AppError, usageError } from '../core/errors.ts';
import { runKioskTransaction, type KioskDependencies, type KioskInput, type TransactionResult } from '../core/kiosk-transaction.ts';
import type { CardReader, Clock, Denomination, RandomSource, Timers } from '../core/ports.ts';
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
import type { HeartbeatResponse } from '../core/relay-service.ts';
import { HEARTBEAT_PATH, KIOSK_PATHS, STORE_DAY_PATH } from '../core/messages.ts';
import { auditOrigin, logSize, offerCheckpointToWitness } from '../drivers/store/audit-log.ts';
import { scheduleWitnessOffers, type OfferOutcome } from '../core/witness-offers.ts';
import { sha256, systemClock, systemRandom, systemTimers } from './deps.ts';
import type { Factory } from './factory.ts';
import type { Io } from './io.ts';
import { createTerminal, type Terminal } from './terminal.ts';
import { readKioskScript, scriptedInput, type ScriptedSession } from './kiosk-script.ts';

export interface Kiosk {
  config: KioskConfig;
  store: KioskStore;
  /** The deployment's folder printer (the simulation), or a real printer behind CUPS. */
  printer: FolderPrinter | CupsPrinter;
  cash: SimulatedCashUnit;
  /** True with a PC/SC reader: the card is whatever lies on it, not a card file. */
  usesRealReader: boolean;
  /** Places the card (simulated reader), runs one transaction with the given resident, then flushes the outbox. */
  serve(cardFile: string | undefined, input: KioskInput): Promise<TransactionResult>;
  /** Sends pending completion notices and day closes, then a heartbeat; returns what was acknowledged and what remains. */
  flushOutbox(): Promise<{ acknowledged: number; pending: number }>;
  /** Closes the store business day (JST date; default today) and every earlier day left open. */
  closeDays(businessDate?: string): DayClose[];
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
  const reader: CardReader = simulated ?? new PcscCardReader(options.pcscReader ?? '');
  const db = openKioskDatabase(loaded.resolve(config.databaseFile));
  const audit = openRoleAuditLog(db, loaded, config, auditOrigin('kiosk', config.kioskId), clock);
  const store = createKioskStore(db, audit);
  const client = drivers.client ?? clientFor(loaded, config.tls, options.relayUrl ?? config.relayUrl, 20_000);
  const gateway = kioskGateway(client, config.kioskId);
  const printer = options.printer?.kind === 'cups' ? new CupsPrinter({ queue: options.printer.queue, environment: options.environment }) : new FolderPrinter({ directory: loaded.resolve(config.printerDirectory) });
  const cash = drivers.cash ?? new SimulatedCashUnit();
  const random = drivers.random ?? systemRandom;
  const show = options.show ?? (() => undefined);

  async function flushOutbox(): Promise<{ acknowledged: number; pending: number }> {
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
      await offerCheckpointToWitness(db, store, (offer) => callJson<HeartbeatResponse>(client, HEARTBEAT_PATH, { kioskId: config.kioskId, ...offer }), clock.nowMs);
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
    await offers.offerNow();
  }

  return {
    config,
    store,
    printer,
    cash,
    usesRealReader: simulated === undefined,
    async serve(cardFile, input) {
      if (simulated) {
        if (cardFile === undefined) throw usageError('the simulated reader needs a card file');
        simulated.place(cardFile);
      }
      for (const notice of serviceNotices) if (inForce(notice, clock.nowMs())) show(`【お知らせ】${notice.message}`);
      try {
        return await runKioskTransaction(
          {
            identity: { kioskId: config.kioskId, storeId: config.storeId, storeName: config.storeName },
            clock,
            random,
            reader,
            cash,
            printer,
            gateway,
            ledger: store,
            audit,
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
    async close() {
      await offers.close();
      await client.close();
      db.close();
    },
  };
}

/** Where a kiosk prints: the deployment's folder (default) or a CUPS queue. */
export type PrinterChoice = { kind: 'folder' } | { kind: 'cups'; queue: string };

/** The value of `kiosk run --printer`: "folder" or "cups:QUEUE". */
export function parsePrinterChoice(value: string | undefined): PrinterChoice {
  if (value === undefined || value === 'folder') return { kind: 'folder' };
  const queue = /^cups:(.*)$/.exec(value)?.[1];
  if (queue === undefined || !isCupsQueueName(queue)) {
    throw usageError(`--printer "${value}" must be "folder" or "cups:QUEUE" with a CUPS queue name (letters, digits, "_", "-", ".")`);
  }
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
      return `refunded ${result.refundedYen} yen after ${result.code}${result.voidedSerials ? `; void at the centre: ${result.voidedSerials.join(', ')}` : ''}`;
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
      const copies = Number(answerOrCancel(await terminal.ask(`通数（1〜${item.maxCopies}）> `)));
      if (!Number.isSafeInteger(copies)) return undefined;
      return { certificateType: item.certificateType, copies };
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
    .option('--printer <printer>', 'where certificates print: "folder" (the deployment\'s print folder, default) or "cups:QUEUE" (a CUPS queue; waits for each job to complete)')
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
  return kiosk;
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
