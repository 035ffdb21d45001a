// `cvs-issue simulate`: a deterministic simulation of the whole service in one process
// (docs/simulation.md). Real kiosk code (core/kiosk-transaction.ts, the kiosk store and its outbox,
// the simulated card, cash unit and folder printer) talks through a simulated network to the real
// relay and centre request handlers over real SQLite files, on a virtual clock. A seeded Prng
// decides every delay and every fault; after every step the invariants are checked. One seed gives
// one trace: a failure names its seed and step, and the same command replays it exactly.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { COMMANDS } from './commands.ts';
import { openCenterHandler } from './center.ts';
import { loadConfig, type KioskConfig, type LoadedConfig, type RelayConfig } from './config.ts';
import { sha256Hex } from './deps.ts';
import type { Factory } from './factory.ts';
import { fixtureMunicipalities, fixtureResidents } from './fixtures.ts';
import { runInit } from './init.ts';
import { cardFilePath, openKiosk, type Kiosk } from './kiosk.ts';
import { openRelayHandler } from './relay.ts';
import { AppError, usageError } from '../core/errors.ts';
import { utf8Encode } from '../core/bytes.ts';
import { formatUtcIso, jstMonth } from '../core/jst.ts';
import type { KioskInput, KioskTransactionRecord, TransactionResult } from '../core/kiosk-transaction.ts';
import { KIOSK_PATHS, RELAY_HEADERS, type CompletionNotice } from '../core/messages.ts';
import type { Clock, Denomination, PrintJob, Timers } from '../core/ports.ts';
import { assertEligible, certificateContent, type Resident } from '../core/resident.ts';
import { assertCenterOpen } from '../core/service-hours.ts';
import { certificateMarker, holderText, minimalPdf, readCertificateMarker } from '../core/simulation/certificate-marker.ts';
import { CRASH_TICK_MS, DEFAULT_FAULT_RATES, FAULT_CLASSES, FaultTally, messageFate, NO_FAULTS, PLANTED_BUGS, scaledRates, type FaultClass, type MessageFate, type FaultRates, type PlantedBug } from '../core/simulation/faults.ts';
import { cashBalances, INVARIANTS, printedForAsker, recordedOnce, voidedAsNoticed, type Invariant, type NoticeFigures } from '../core/simulation/invariants.ts';
import { MAX_SEED, Prng } from '../core/simulation/prng.ts';
import { Scheduler, type ScheduledEvent } from '../core/simulation/scheduler.ts';
import { TraceHash } from '../core/simulation/trace.ts';
import { SimulatedCardReader } from '../drivers/card/simulated-reader.ts';
import { SimulatedCashUnit } from '../drivers/cash/simulated-cash-unit.ts';
import type { HttpClient } from '../drivers/http/client.ts';
import type { IncomingRequest, RequestHandler } from '../drivers/http/server.ts';
import { FolderPrinter, printFileName } from '../drivers/printer/folder-printer.ts';
import { auditOrigin, noteVerifierFromKey, verifyStoredLog } from '../drivers/store/audit-log.ts';
import { openDatabase, type Database } from '../drivers/store/database.ts';

/** Virtual time starts on a Monday morning in JST, far from the 12/29–1/3 closure and within the test CRL's 90 days. */
export const SIMULATION_EPOCH_MS = Date.parse('2027-03-01T09:00:00+09:00');
/** The deadlines cmd/kiosk.ts and cmd/relay.ts give their clients. */
const KIOSK_TIMEOUT_MS = 20_000;
const RELAY_TIMEOUT_MS = 15_000;
/** A session that has not ended after this much virtual time is stuck: a liveness failure. */
const SESSION_LIMIT_MS = 30 * 60_000;
const CHANGE_STOCK_YEN = 20_000;
/** Bounds on the final drain: rounds of outbox flushes, one virtual second apart. */
const DRAIN_ROUNDS = 60;

export interface SimulationOptions {
  seed: number;
  transactions: number;
  /** Full checks (every audit log verified, every centre record matched) after this many transactions, and at the end. */
  auditEvery?: number;
  /** false: no faults at all, a baseline. */
  faults?: boolean;
  /** Multiplies every fault rate (default 1), to hunt with harsher weather. */
  faultScale?: number;
  /** A bug planted on purpose, to prove the checks can fail (core/simulation/faults.ts). */
  plant?: PlantedBug;
  /** Every trace line as it is added (`--trace`). */
  onTrace?: (line: string) => void;
  /** The stack of an unexpected error behind a failure (CVS_ISSUE_DEBUG=1). */
  onDebug?: (text: string) => void;
}

export interface SimulationFailure {
  invariant: Invariant;
  detail: string;
  step: number;
  virtualTime: string;
}

export interface SimulationSummary {
  seed: number;
  transactions: number;
  steps: number;
  virtualSeconds: number;
  outcomes: Record<TransactionResult['outcome'], number>;
  refusals: Record<string, number>;
  faults: Record<FaultClass, number>;
  invariantChecks: Record<Invariant, number>;
  fullChecks: number;
  traceHash: string;
  traceLines: number;
  plant: PlantedBug | null;
  failure: SimulationFailure | null;
}

/** What every simulation's deployment is: `init` with these options at SIMULATION_EPOCH_MS. */
export const SIMULATION_INIT = { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' } as const;

let template: string | undefined;

/** One deployment per process (init's keys take seconds); each run works on its own copy. */
function templateDeployment(): string {
  if (template !== undefined && fs.existsSync(template)) return template;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-issue-simulate-template-'));
  runInit({ dir, ...SIMULATION_INIT }, SIMULATION_EPOCH_MS);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  template = dir;
  return dir;
}

/**
 * Copies runs from `dir`, a deployment `init` wrote with SIMULATION_INIT at SIMULATION_EPOCH_MS
 * and that outlives this process's runs, instead of making one (a test suite keeps one for all).
 */
export function useTemplateDeployment(dir: string): void {
  template = dir;
}

interface ServerNode {
  name: string;
  up: boolean;
  /** Bumped at every crash: whatever the old process was waiting for never resumes it. */
  epoch: number;
  handler: RequestHandler | undefined;
  /** Connections with a request being handled; a crash resets them. */
  inflight: Set<() => void>;
  start(): void;
  stop(): void;
}

interface CashObservation {
  handedYen: number;
  returnedYen: number;
  jammedYen: number;
}

interface KioskState {
  config: KioskConfig;
  kiosk: Kiosk;
  reader: SimulatedCardReader;
  cash: ObservedCashUnit;
  /** Every record the kiosk's ledger wrote, with its notice. */
  ledger: Map<string, { record: KioskTransactionRecord; notice: CompletionNotice }>;
  keptYen: number;
  issuedFeesYen: number;
  /** The card that opened the session on the reader now, and the holder digest of its resident. */
  session: { cardId: string; holder: string; startedAtMs: number } | undefined;
}

/** The cash unit with the residents' side of every exchange counted, so the books can be checked. */
class ObservedCashUnit extends SimulatedCashUnit {
  readonly book: CashObservation = { handedYen: 0, returnedYen: 0, jammedYen: 0 };
  constructor(
    private readonly onFault: () => void,
    private readonly keepsRefunds: boolean,
  ) {
    super({ changeStockYen: CHANGE_STOCK_YEN });
  }

  override async insert(yen: Denomination): Promise<void> {
    this.book.handedYen += yen;
    try {
      await super.insert(yen);
    } catch (error) {
      if (error instanceof AppError && error.code === 'cash.rejected') this.book.returnedYen += yen;
      else this.book.jammedYen += yen;
      this.onFault();
      throw error;
    } finally {
      // Planned faults strike once (the next resident finds a working unit).
      this.injectFaults({});
    }
  }

  override async settle(feeYen: number): Promise<{ changeYen: number }> {
    try {
      const settled = await super.settle(feeYen);
      this.book.returnedYen += settled.changeYen;
      return settled;
    } catch (error) {
      this.onFault();
      throw error;
    }
  }

  override async refundAll(): Promise<{ refundedYen: number }> {
    const refunded = await super.refundAll();
    // The planted bug: the unit says it paid the refund out and keeps it.
    if (!this.keepsRefunds) this.book.returnedYen += refunded.refundedYen;
    return refunded;
  }
}

function jsonOf(body: Uint8Array | string): unknown {
  return JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
}

class Simulation {
  readonly scheduler = new Scheduler(SIMULATION_EPOCH_MS);
  readonly trace = new TraceHash();
  readonly tally = new FaultTally();
  readonly checks = Object.fromEntries(INVARIANTS.map((name) => [name, 0])) as Record<Invariant, number>;
  readonly outcomes: Record<TransactionResult['outcome'], number> = { issued: 0, refunded: 0, refused: 0, cancelled: 0 };
  readonly refusals: Record<string, number> = {};
  private readonly faultRandom: Prng;
  private readonly networkRandom: Prng;
  private readonly residentRandom: Prng;
  private readonly centerRandom: Prng;
  private rates: FaultRates;
  private readonly skewMs = new Map<string, number>();
  private step = 0;
  private failure: SimulationFailure | undefined;
  private started = 0;
  private completed = 0;
  private fullChecks = 0;
  private nextFullCheck: number;
  private draining = false;
  private readonly center: ServerNode;
  private readonly relays = new Map<string, ServerNode>();
  private readonly kiosks: KioskState[] = [];
  /** Read-only connections to every database: the disk as the simulation sees it. */
  private readonly inspectors = new Map<string, Database>();
  private readonly residents = new Map<string, { holder: string; pin: string; likelyServed: boolean }>();
  private readonly busyCards = new Set<string>();
  /** Checked at the end of the step: ids delivered to the centre, outbox entries acknowledged. */
  private touched: { issuanceId: string; kioskId: string; acknowledged: boolean }[] = [];
  private lastCertificate: { pdfsBase64: string[]; contentSha256: string } | undefined;
  private plantedWriter: Database | undefined;
  private tampered = false;

  constructor(
    readonly loaded: LoadedConfig,
    readonly options: SimulationOptions,
  ) {
    this.faultRandom = new Prng(options.seed, 1);
    this.networkRandom = new Prng(options.seed, 2);
    this.residentRandom = new Prng(options.seed, 3);
    this.centerRandom = new Prng(options.seed, 4);
    this.nextFullCheck = options.auditEvery ?? 100;
    this.rates = options.faults === false ? NO_FAULTS : scaledRates(DEFAULT_FAULT_RATES, options.faultScale ?? 1);
    const config = loaded.config;
    for (const file of [config.center.databaseFile, ...config.relays.map((relay) => relay.databaseFile), ...config.kiosks.map((kiosk) => kiosk.databaseFile)]) {
      this.inspectors.set(file, openDatabase(loaded.resolve(file), { readonly: true }));
    }
    const participating = new Set(fixtureMunicipalities().filter((municipality) => municipality.participating).map((municipality) => municipality.code));
    for (const { resident, card } of fixtureResidents()) {
      const fields = certificateContent({ resident, type: 'juminhyo', mayorTitle: '', municipalityCode: '', requestId: '', kioskId: '', copies: 1, atMs: 0, issuedOnText: '' }).fields;
      this.residents.set(card.cardId, { holder: sha256Hex(utf8Encode(holderText(fields))), pin: card.pin, likelyServed: card.validity === 'valid' && participating.has(resident.municipalityCode) && isEligible(resident, SIMULATION_EPOCH_MS) });
    }
    this.center = this.centerNode();
    for (const relay of config.relays) this.relays.set(relay.operatorId, this.relayNode(relay));
    if (options.plant === 'double-notice') this.plantedWriter = openDatabase(loaded.resolve(config.center.databaseFile));
  }

  // --- time, trace and failures -------------------------------------------------------------

  clockOf(name: string): Clock {
    return { nowMs: () => this.scheduler.nowMs() + (this.skewMs.get(name) ?? 0) };
  }

  private addTrace(line: string): void {
    const text = `${this.step} ${this.scheduler.nowMs() - SIMULATION_EPOCH_MS} ${line}`;
    this.trace.add(text);
    this.options.onTrace?.(text);
  }

  private sleep(delayMs: number, label: string): Promise<void> {
    return new Promise((resolve) => this.scheduler.after(delayMs, label, resolve));
  }

  /** A pause inside a server's request; never resumes if the server crashed meanwhile. */
  private pauseIn(node: ServerNode, delayMs: number, label: string): Promise<void> {
    const epoch = node.epoch;
    return new Promise((resolve) =>
      this.scheduler.after(delayMs, label, () => {
        if (node.epoch === epoch) resolve();
      }),
    );
  }

  /** Keeps the first failure; the run stops at the end of this step. `cause` is shown with CVS_ISSUE_DEBUG=1. */
  fail(invariant: Invariant, detail: string, cause?: unknown): void {
    if (cause instanceof Error && !this.failure) this.options.onDebug?.(cause.stack ?? cause.message);
    this.failure ??= { invariant, detail, step: this.step, virtualTime: formatUtcIso(this.scheduler.nowMs()) };
  }

  private latencyMs(): number {
    return this.networkRandom.int(1, 40);
  }

  // --- servers --------------------------------------------------------------------------------

  /** A server process of the simulation: started now, and again after every crash, by `open`. */
  private serverNode(name: string, open: (node: ServerNode) => { handler: RequestHandler; close(): void }): ServerNode {
    let opened: { handler: RequestHandler; close(): void } | undefined;
    const node: ServerNode = {
      name,
      up: false,
      epoch: 0,
      handler: undefined,
      inflight: new Set(),
      start: () => {
        opened = open(node);
        node.handler = opened.handler;
        node.up = true;
      },
      stop: () => {
        opened?.close();
        opened = undefined;
        node.handler = undefined;
      },
    };
    node.start();
    return node;
  }

  private centerNode(): ServerNode {
    return this.serverNode('center', (node) =>
      openCenterHandler(this.loaded, {
        clock: this.clockOf('center'),
        random: this.centerRandom,
        renderCertificate: async (content) => {
          // Rendering takes time: a crash can strike between the centre's checks and its write.
          await this.pauseIn(node, this.networkRandom.int(1, 15), 'center renders');
          const holder = sha256Hex(utf8Encode(holderText(content.fields)));
          const digest = sha256Hex(utf8Encode(JSON.stringify(content)));
          return content.serials.map((serial) => utf8Encode(minimalPdf(`${certificateMarker({ requestId: content.requestId, kioskId: content.kioskId, holder, serial })} content=${digest}`)));
        },
      }),
    );
  }

  private relayNode(config: RelayConfig): ServerNode {
    return this.serverNode(`relay ${config.operatorId}`, (node) => {
      const epoch = node.epoch;
      return openRelayHandler(this.loaded, {
        operatorId: config.operatorId,
        clock: this.clockOf(node.name),
        upstream: {
          // The relay passes the centre's answer on as bytes; the network hands over parsed JSON
          // (planted answers are made there), so it is serialised again here.
          post: (upstreamPath, body, kiosk) =>
            this.exchange(node.name, () => node.epoch === epoch, this.center, {
              method: 'POST',
              path: upstreamPath,
              headers: { [RELAY_HEADERS.store]: kiosk.storeId, [RELAY_HEADERS.kiosk]: kiosk.kioskId },
              body: utf8Encode(JSON.stringify(body)),
              peer: { subject: { CN: `relay.${config.operatorId}`, O: config.operatorId, OU: 'relay' }, issuer: {}, serialNumber: '01', fingerprint256: '', raw: new Uint8Array() },
            }, RELAY_TIMEOUT_MS).then(({ status, json }) => ({ status, body: utf8Encode(JSON.stringify(json)) })),
        },
      });
    });
  }

  /** The process dies: memory gone, committed SQLite state kept; open connections are reset. */
  private crash(node: ServerNode, fault: FaultClass): void {
    if (!node.up) return;
    this.tally.fire(fault);
    node.up = false;
    node.epoch += 1;
    node.stop();
    for (const reset of node.inflight) reset();
    node.inflight.clear();
    const downMs = this.faultRandom.int(200, 20_000);
    this.scheduler.after(downMs, `${node.name} restarts`, () => this.restart(node));
  }

  private restart(node: ServerNode): void {
    if (node.up) return;
    node.start();
  }

  private crashTick(): void {
    if (this.draining) return;
    this.scheduler.after(CRASH_TICK_MS, 'crash tick', () => this.crashTick());
    if (this.faultRandom.chance(this.rates['center-crash'])) this.crash(this.center, 'center-crash');
    for (const relay of this.relays.values()) if (this.faultRandom.chance(this.rates['relay-crash'])) this.crash(relay, 'relay-crash');
    if (this.faultRandom.chance(this.rates['clock-skew'])) {
      const nodes = ['center', ...[...this.relays.values()].map((relay) => relay.name), ...this.kiosks.map((kiosk) => kiosk.config.kioskId)];
      const name = this.faultRandom.pick(nodes);
      const skewMs = this.faultRandom.int(-90_000, 90_000);
      this.skewMs.set(name, skewMs);
      this.tally.fire('clock-skew');
      this.addTrace(`clock of ${name} off by ${skewMs} ms`);
    }
    if (this.options.plant === 'tamper-audit' && !this.tampered && this.completed * 2 >= this.options.transactions) this.tamperAudit();
  }

  // --- the network ----------------------------------------------------------------------------

  /**
   * One request and its answer over the simulated network. Each message is delivered, dropped,
   * delayed past the caller's deadline, duplicated or reordered; a server that is down refuses the
   * connection; a caller that crashed never hears back (its continuation dies with it).
   */
  exchange(from: string, alive: () => boolean, target: ServerNode, request: IncomingRequest, timeoutMs: number): Promise<{ status: number; json: unknown }> {
    return new Promise((resolve, reject) => {
      const label = `${from} -> ${target.name} ${request.path}`;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        this.scheduler.cancel(deadline);
        target.inflight.delete(reset);
        if (alive()) outcome();
      };
      const failWith = (code: string, message: string) => settle(() => reject(new AppError('unavailable', code, message)));
      const deadline: ScheduledEvent = this.scheduler.after(timeoutMs, `timeout ${label}`, () => failWith('transport.timeout', `no answer from ${target.name} in time`));
      const reset = () => this.scheduler.after(this.latencyMs(), `reset ${label}`, () => failWith('transport.closed', `${target.name} closed the connection without an answer`));

      if (this.options.plant === 'early-ack' && target.name.startsWith('relay') && request.path === KIOSK_PATHS.completions && this.faultRandom.chance(0.3)) {
        const issuanceId = (jsonOf(request.body) as { issuanceId: string }).issuanceId;
        this.scheduler.after(this.latencyMs(), `early ack ${label}`, () => settle(() => resolve({ status: 200, json: { issuanceId, duplicate: false } })));
        return;
      }

      const deliver = (delayMs: number, copy: string) =>
        this.scheduler.after(delayMs, `deliver${copy} ${label}`, () => {
          if (!target.up || !target.handler) {
            this.scheduler.after(this.latencyMs(), `refused ${label}`, () => failWith('transport.unreachable', `cannot reach ${target.name}`));
            return;
          }
          if (target === this.center && request.path === KIOSK_PATHS.completions) {
            const notice = jsonOf(request.body) as { issuanceId: string; kioskId: string };
            this.touched.push({ issuanceId: notice.issuanceId, kioskId: notice.kioskId, acknowledged: false });
          }
          target.inflight.add(reset);
          const epoch = target.epoch;
          target.handler(request).then(
            (response) => {
              // The process that handled it is gone; its connections were reset at the crash.
              if (target.epoch !== epoch) return;
              target.inflight.delete(reset);
              let json = jsonOf(response.body);
              json = this.plantedAnswer(target, request, response.status, json);
              const fate = messageFate(this.faultRandom, this.rates, false);
              if (fate !== 'deliver') this.tally.fire(fate);
              if (fate === 'drop') return;
              const delay = this.latencyMs() + this.extraDelayMs(fate, timeoutMs);
              this.scheduler.after(delay, `answer ${response.status} ${label}`, () => settle(() => resolve({ status: response.status, json })));
            },
            (error: unknown) => this.fail('no-internal-fault', `${target.name} threw on ${request.path}: ${error instanceof Error ? error.message : String(error)}`, error),
          );
        });

      const fate = messageFate(this.faultRandom, this.rates, true);
      if (fate !== 'deliver') this.tally.fire(fate);
      if (fate === 'drop') return;
      deliver(this.latencyMs() + this.extraDelayMs(fate, timeoutMs), '');
      if (fate === 'duplicate') deliver(this.latencyMs() + this.networkRandom.int(0, 3_000), ' again');
    });
  }

  /** A late message arrives after the caller's deadline, up to a minute after (a stale request is still handled); a reordered one 0.1–5 s late. */
  private extraDelayMs(fate: MessageFate, timeoutMs: number): number {
    if (fate === 'timeout') return timeoutMs + this.networkRandom.int(0, 60_000);
    if (fate === 'reorder') return this.networkRandom.int(100, 5_000);
    return 0;
  }

  /** The planted bugs that live on the wire (core/simulation/faults.ts); the answer unchanged otherwise. */
  private plantedAnswer(target: ServerNode, request: IncomingRequest, status: number, json: unknown): unknown {
    const plant = this.options.plant;
    if (plant === 'swap-certificate' && target.name.startsWith('relay') && request.path === KIOSK_PATHS.certificates && status === 200) {
      const data = json as { pdfsBase64: string[]; contentSha256: string };
      const previous = this.lastCertificate;
      this.lastCertificate = { pdfsBase64: data.pdfsBase64, contentSha256: data.contentSha256 };
      // Another request's copies, as many as this one asked for: bound to their own digest, so only the printed pages can tell.
      if (previous && previous.pdfsBase64.length === data.pdfsBase64.length && this.faultRandom.chance(0.5)) return { ...data, ...previous };
    }
    if (plant === 'double-notice' && target === this.center && request.path === KIOSK_PATHS.completions && status === 200 && (json as { duplicate?: boolean }).duplicate === true) {
      // The repeat is settled again as a late notice, as if the dedup had not seen the record.
      const notice = jsonOf(request.body) as CompletionNotice;
      const operatorId = request.peer.subject.O!;
      const month = jstMonth(Date.parse(notice.issuedAt));
      const [year, monthNumber] = month.split('-').map(Number) as [number, number];
      const settleMonth = monthNumber === 12 ? `${year + 1}-01` : `${year}-${String(monthNumber + 1).padStart(2, '0')}`;
      this.plantedWriter?.run(
        `INSERT OR IGNORE INTO settlement_adjustments (issuance_id, kind, original_month, settle_month, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen, recorded_at)
         VALUES (:issuanceId, 'late-notice', :month, :settleMonth, :issuedAt, :operatorId, :storeId, :kioskId, :municipalityCode, :certificateType, :copies, :feeYen, :issuedAt)`,
        { issuanceId: notice.issuanceId, month, settleMonth, issuedAt: formatUtcIso(Date.parse(notice.issuedAt)), operatorId, storeId: notice.storeId, kioskId: notice.kioskId, municipalityCode: notice.municipalityCode, certificateType: notice.certificateType, copies: notice.copies, feeYen: notice.feeYen },
      );
    }
    return json;
  }

  /** The planted audit bug: one entry of the first kiosk's log edited in place, its guard trigger dropped. */
  private tamperAudit(): void {
    this.tampered = true;
    const db = openDatabase(this.loaded.resolve(this.loaded.config.kiosks[0]!.databaseFile));
    try {
      db.exec('DROP TRIGGER IF EXISTS audit_entries_no_update');
      db.run("UPDATE audit_entries SET entry = CAST(replace(CAST(entry AS TEXT), '\"kind\":\"', '\"kind\" :\"') AS BLOB) WHERE idx = 1");
    } finally {
      db.close();
    }
    this.addTrace('planted: kiosk audit entry 1 edited');
  }

  // --- kiosks ---------------------------------------------------------------------------------

  openKiosks(): void {
    for (const config of this.loaded.config.kiosks) {
      const relay = this.relays.get(config.operatorId);
      if (!relay) throw new AppError('input', 'simulate.no_relay', `kiosk ${config.kioskId} has no relay in the deployment`);
      const peer = { subject: { CN: config.kioskId, OU: config.storeId, O: config.operatorId }, issuer: {}, serialNumber: '01', fingerprint256: '', raw: new Uint8Array() };
      const client: HttpClient = {
        request: () => Promise.reject(new AppError('internal', 'simulate.raw_request', 'the simulated kiosk only posts JSON')),
        postJson: <T>(requestPath: string, value: unknown) =>
          this.exchange(config.kioskId, () => true, relay, { method: 'POST', path: requestPath, headers: {}, body: utf8Encode(JSON.stringify(value)), peer }, KIOSK_TIMEOUT_MS) as Promise<{ status: number; json: T }>,
        close: async () => undefined,
      };
      const timers: Timers = {
        nowMs: () => this.scheduler.nowMs(),
        set: (run, delayMs) => this.scheduler.after(delayMs, `${config.kioskId} timer`, run),
        clear: (handle) => this.scheduler.cancel(handle as ScheduledEvent),
      };
      const reader = new SimulatedCardReader(`${config.kioskId} simulated reader`);
      const cash = new ObservedCashUnit(() => this.tally.fire('cash-fault'), this.options.plant === 'keep-refund');
      const renderPage = (text: string) => Promise.resolve(utf8Encode(minimalPdf(text)));
      const kiosk = openKiosk(this.loaded, {
        kioskId: config.kioskId,
        clock: this.clockOf(config.kioskId),
        drivers: {
          client,
          random: new Prng(this.options.seed, 100 + this.kiosks.length),
          timers,
          reader,
          cash,
          renderReceipt: (receipt) => renderPage(`SIM-RECEIPT request=${receipt.requestId} fee=${receipt.feeYen}`),
          renderVoidNotice: (notice) => renderPage(`SIM-VOID request=${notice.requestId} serials=${notice.serials.join(',')}`),
          // The simulated disk never fills: the host's free space must not change a seed's run.
          freeDiskBytes: () => Number.MAX_SAFE_INTEGER,
        },
      });
      const state: KioskState = { config, kiosk, reader, cash, ledger: new Map(), keptYen: 0, issuedFeesYen: 0, session: undefined };
      this.observe(state);
      this.kiosks.push(state);
    }
  }

  /** Watches the kiosk's ledger, outbox and printer tray; changes nothing they do. */
  private observe(state: KioskState): void {
    const { store, printer } = state.kiosk;
    const recordTransaction = store.recordTransaction.bind(store);
    store.recordTransaction = (record, notice) => {
      recordTransaction(record, notice);
      state.ledger.set(record.requestId, { record, notice });
      state.keptYen += record.cashKeptYen;
      if (record.outcome === 'issued') state.issuedFeesYen += record.feeYen;
    };
    const markAcknowledged = store.markAcknowledged.bind(store);
    store.markAcknowledged = (key, atMs) => {
      markAcknowledged(key, atMs);
      this.touched.push({ issuanceId: key, kioskId: state.config.kioskId, acknowledged: true });
    };
    const print = printer.print.bind(printer);
    printer.print = async (job) => {
      let printed: { pages: number };
      try {
        printed = await print(job);
      } catch (error) {
        if (error instanceof AppError && error.code.startsWith('printer.')) this.tally.fire('printer-jam');
        throw error;
      }
      this.takeFromTray(state, job);
      return printed;
    };
  }

  /** Reads what came out of the printer, checks whose certificate it is, and empties the tray. */
  private takeFromTray(state: KioskState, job: PrintJob): void {
    const file = path.join(folderPrinterOf(state.kiosk).directoryPath(), printFileName(job));
    const text = fs.readFileSync(file, 'latin1');
    fs.rmSync(file);
    if (job.kind !== 'certificate') return;
    this.checks['printed-for-asker'] += 1;
    const printed = readCertificateMarker(text);
    const kioskId = state.config.kioskId;
    if (!printed) return this.fail('printed-for-asker', `kiosk ${kioskId} printed a certificate page that names no request`);
    const issued = this.inspector(this.loaded.config.center.databaseFile).get<{ kiosk_id: string }>('SELECT kiosk_id FROM requests WHERE request_id = :id', { id: printed.requestId });
    const problem = printedForAsker(printed, { kioskId, jobRequestId: job.requestId, jobCopy: job.copyNumber, sessionHolder: state.session?.holder, issuedToKioskId: issued?.kiosk_id });
    if (problem) this.fail('printed-for-asker', problem);
  }

  private inspector(file: string): Database {
    return this.inspectors.get(file)!;
  }

  private think(minMs: number, maxMs: number, label: string): Promise<void> {
    return this.sleep(this.residentRandom.int(minMs, maxMs), label);
  }

  private centerOpen(atMs: number): boolean {
    try {
      assertCenterOpen(atMs);
      return true;
    } catch {
      return false;
    }
  }

  private async kioskLoop(state: KioskState): Promise<void> {
    const kioskId = state.config.kioskId;
    while (this.started < this.options.transactions && !this.failure) {
      this.started += 1;
      await this.think(0, 20_000, `${kioskId} waits for a resident`);
      // Residents come while the centre is open; nights and closures pass quietly.
      while (!this.centerOpen(this.scheduler.nowMs())) await this.sleep(15 * 60_000, `${kioskId} waits for opening hours`);
      let cardId = this.chooseCard();
      while (cardId === undefined) {
        await this.sleep(5_000, `${kioskId} waits for a free card`);
        cardId = this.chooseCard();
      }
      this.busyCards.add(cardId);
      const resident = this.residents.get(cardId)!;
      state.session = { cardId, holder: resident.holder, startedAtMs: this.scheduler.nowMs() };
      folderPrinterOf(state.kiosk).injectFaults({});
      state.cash.setChangeStockYen(CHANGE_STOCK_YEN);
      this.addTrace(`${kioskId} session with ${cardId}`);
      try {
        const result = await state.kiosk.serve(cardFilePath(this.loaded, cardId), this.residentInput(state, resident.pin));
        this.outcomes[result.outcome] += 1;
        if (result.outcome === 'refused' || result.outcome === 'refunded') this.refusals[result.code] = (this.refusals[result.code] ?? 0) + 1;
        this.addTrace(`${kioskId} ${result.outcome}${'code' in result ? ` ${result.code}` : ''}`);
      } catch (error) {
        this.fail('no-internal-fault', `kiosk ${kioskId} failed: ${error instanceof Error ? error.message : String(error)}`, error);
      } finally {
        state.session = undefined;
        this.busyCards.delete(cardId);
        this.completed += 1;
      }
    }
  }

  private chooseCard(): string | undefined {
    const free = [...this.residents.keys()].filter((cardId) => !this.busyCards.has(cardId));
    if (free.length === 0) return undefined;
    const served = free.filter((cardId) => this.residents.get(cardId)!.likelyServed);
    // Mostly residents the service can serve; now and then a card it must refuse.
    return served.length > 0 && this.residentRandom.chance(0.85) ? this.residentRandom.pick(served) : this.residentRandom.pick(free);
  }

  /** A resident at the screen: PIN, choice and cash, with the faults planned for this session. */
  private residentInput(state: KioskState, pin: string): KioskInput {
    const random = this.residentRandom;
    const kioskId = state.config.kioskId;
    const removeAt = random.chance(this.rates['card-removed']) ? random.pick(['pin', 'menu'] as const) : undefined;
    const jam = random.chance(this.rates['printer-jam']);
    let cashFault = random.chance(this.rates['cash-fault']) ? random.pick(['jam', 'reject', 'no-change'] as const) : undefined;
    let wrongPinLeft = random.chance(0.05) ? 1 : 0;
    const removeCard = (where: string) => {
      state.reader.remove();
      this.tally.fire('card-removed');
      this.addTrace(`${kioskId} card removed at ${where}`);
    };
    return {
      enterPin: async () => {
        await this.think(800, 4_000, `${kioskId} resident types the PIN`);
        if (removeAt === 'pin') removeCard('pin');
        if (wrongPinLeft > 0) {
          wrongPinLeft -= 1;
          return pin === '0000' ? '9999' : '0000';
        }
        return pin;
      },
      chooseCertificate: async (menu) => {
        await this.think(1_000, 5_000, `${kioskId} resident chooses`);
        if (removeAt === 'menu') removeCard('menu');
        const available = menu.filter((entry) => entry.available);
        if (available.length === 0 || random.chance(0.03)) return undefined;
        const item = random.pick(available);
        const copies = random.int(1, Math.min(3, item.maxCopies));
        if (jam) {
          // Any page of this session: one of the copies, or the receipt after them.
          const page = folderPrinterOf(state.kiosk).pageCount() + random.int(1, copies + 1);
          const kind = random.pick(['jamOnPage', 'faultOnPage', 'paperOutAfterPages'] as const);
          folderPrinterOf(state.kiosk).injectFaults(kind === 'paperOutAfterPages' ? { paperOutAfterPages: page - 1 } : { [kind]: page });
        }
        return { certificateType: item.certificateType, copies };
      },
      nextCash: async (feeYen, insertedYen) => {
        await this.think(300, 1_500, `${kioskId} resident pays`);
        if (random.chance(0.02)) return undefined;
        const dueYen = feeYen - insertedYen;
        let piece: Denomination = dueYen >= 1000 || random.chance(0.5) ? random.pick([1000, 5000, 10000] as const) : ([500, 100, 50, 10] as const).find((coin) => coin <= dueYen) ?? 10;
        // The planned fault strikes one piece: the first one offered.
        if (cashFault === 'jam') state.cash.injectFaults({ jamOnInsertNumber: state.cash.insertsSoFar() + 1 });
        if (cashFault === 'reject') state.cash.injectFaults({ rejectDenominations: [piece] });
        if (cashFault === 'no-change') {
          state.cash.setChangeStockYen(0);
          piece = 10000;
        }
        cashFault = undefined;
        return piece;
      },
    };
  }

  // --- invariants -----------------------------------------------------------------------------

  private checkStep(): void {
    // Errors are caught where they happen (fail); here the watch is for sessions that never end.
    this.checks['no-internal-fault'] += 1;
    for (const state of this.kiosks) {
      this.checks['cash-balances'] += 1;
      const problem = cashBalances(state.config.kioskId, {
        ...state.cash.book,
        inFlightYen: state.cash.insertedYen(),
        unitTakenYen: state.cash.takenYen(),
        ledgerKeptYen: state.keptYen,
        issuedFeesYen: state.issuedFeesYen,
      });
      if (problem) this.fail('cash-balances', problem);
      if (state.session && this.scheduler.nowMs() - state.session.startedAtMs > SESSION_LIMIT_MS) {
        this.fail('no-internal-fault', `kiosk ${state.config.kioskId}: a session has not ended after ${SESSION_LIMIT_MS / 60_000} virtual minutes`);
      }
    }
    const touched = this.touched;
    this.touched = [];
    for (const { issuanceId, kioskId, acknowledged } of touched) this.checkNotice(issuanceId, kioskId, acknowledged);
  }

  private checkNotice(issuanceId: string, kioskId: string, acknowledged: boolean): void {
    this.checks['notice-exactly-once'] += 1;
    const kiosk = this.kiosks.find((state) => state.config.kioskId === kioskId);
    const entry = kiosk?.ledger.get(issuanceId);
    if (!entry) return this.fail('notice-exactly-once', `the centre received a notice for issuance ${issuanceId} that kiosk ${kioskId} never recorded`);
    const rows = this.centerRows(issuanceId);
    const problem = recordedOnce(this.figuresOf(entry.notice), rows, acknowledged) ?? this.voidsOf(entry.notice, rows.length > 0);
    if (problem) this.fail('notice-exactly-once', problem);
  }

  /** The serials the centre holds as void for a notice's issuance, against what the notice voided. */
  private voidsOf(notice: CompletionNotice, recorded: boolean): string | undefined {
    const voided = this.inspector(this.loaded.config.center.databaseFile)
      .all<{ serial: string }>('SELECT serial FROM voided_serials WHERE issuance_id = :issuanceId', { issuanceId: notice.issuanceId })
      .map((row) => row.serial);
    return voidedAsNoticed(notice.issuanceId, notice.voided?.serials, recorded, voided);
  }

  private figuresOf(notice: CompletionNotice): NoticeFigures {
    const { issuanceId, kioskId, storeId, municipalityCode, certificateType, copies, feeYen } = notice;
    return { issuanceId, kioskId, storeId, municipalityCode, certificateType, copies, feeYen };
  }

  /** The centre's settlement rows for an id: its handling record and any adjustment line. */
  private centerRows(issuanceId: string): NoticeFigures[] {
    return this.inspector(this.loaded.config.center.databaseFile)
      .all<{ issuance_id: string; kiosk_id: string; store_id: string; municipality_code: string; certificate_type: string; copies: number; fee_yen: number }>(
        'SELECT * FROM settlement_records WHERE issuance_id = :issuanceId',
        { issuanceId },
      )
      .map((row) => ({ issuanceId: row.issuance_id, kioskId: row.kiosk_id, storeId: row.store_id, municipalityCode: row.municipality_code, certificateType: row.certificate_type, copies: row.copies, feeYen: row.fee_yen }));
  }

  /** Every audit log verified, and every centre record matched to a kiosk's (O(n): every K transactions and at the end). */
  private fullCheck(final: boolean): void {
    this.fullChecks += 1;
    const config = this.loaded.config;
    const logs = [
      { file: config.center.databaseFile, origin: auditOrigin('center'), key: config.center.auditVerifierKey },
      ...config.relays.map((relay) => ({ file: relay.databaseFile, origin: auditOrigin('relay', relay.operatorId), key: relay.auditVerifierKey })),
      ...config.kiosks.map((kiosk) => ({ file: kiosk.databaseFile, origin: auditOrigin('kiosk', kiosk.kioskId), key: kiosk.auditVerifierKey })),
    ];
    for (const log of logs) {
      this.checks['audit-verifies'] += 1;
      const result = verifyStoredLog(this.inspector(log.file), { origin: log.origin, verifiers: [noteVerifierFromKey(log.key)] });
      if (!result.ok) return this.fail('audit-verifies', `${log.origin}: ${result.problem?.what ?? 'does not verify'}`);
    }
    const ledgers = new Map<string, CompletionNotice>();
    for (const state of this.kiosks) for (const [id, entry] of state.ledger) ledgers.set(id, entry.notice);
    const rows = this.inspector(config.center.databaseFile).all<{ issuance_id: string; n: number }>('SELECT issuance_id, COUNT(*) AS n FROM settlement_records GROUP BY issuance_id');
    for (const row of rows) {
      this.checks['notice-exactly-once'] += 1;
      const notice = ledgers.get(row.issuance_id);
      if (!notice) return this.fail('notice-exactly-once', `the centre holds a record of issuance ${row.issuance_id} that no kiosk recorded`);
      const problem = recordedOnce(this.figuresOf(notice), this.centerRows(row.issuance_id), false) ?? this.voidsOf(notice, true);
      if (problem) return this.fail('notice-exactly-once', problem);
    }
    if (!final) return;
    // After the drain nothing may be missing: every notice a kiosk wrote is at the centre once,
    // and in its operator's relay records (Spec§4-2, the operator's view) with the same figures.
    const recorded = new Set(rows.map((row) => row.issuance_id));
    for (const relay of config.relays) {
      const operatorKiosks = new Set(config.kiosks.filter((kiosk) => kiosk.operatorId === relay.operatorId).map((kiosk) => kiosk.kioskId));
      const relayRows = this.inspector(relay.databaseFile).all<{ issuance_id: string; kiosk_id: string; store_id: string; municipality_code: string; certificate_type: string; copies: number; fee_yen: number }>('SELECT * FROM handling_records');
      const expected = [...ledgers.values()].filter((notice) => operatorKiosks.has(notice.kioskId));
      this.checks['notice-exactly-once'] += 1;
      if (relayRows.length !== expected.length) return this.fail('notice-exactly-once', `relay ${relay.operatorId} holds ${relayRows.length} records for ${expected.length} notices its kiosks wrote`);
      for (const row of relayRows) {
        const notice = ledgers.get(row.issuance_id);
        const figures: NoticeFigures = { issuanceId: row.issuance_id, kioskId: row.kiosk_id, storeId: row.store_id, municipalityCode: row.municipality_code, certificateType: row.certificate_type, copies: row.copies, feeYen: row.fee_yen };
        const problem = notice ? recordedOnce(this.figuresOf(notice), [figures], true) : `relay ${relay.operatorId} holds a record of issuance ${row.issuance_id} that no kiosk wrote`;
        if (problem) return this.fail('notice-exactly-once', `relay ${relay.operatorId}: ${problem}`);
      }
    }
    for (const state of this.kiosks) {
      for (const { notice } of state.kiosk.store.rejectedNotices()) {
        return this.fail('notice-exactly-once', `kiosk ${state.config.kioskId}: the centre refused the notice of issuance ${'issuanceId' in notice ? notice.issuanceId : ''} for good`);
      }
      const pending = state.kiosk.store.pendingNotices(1).length;
      if (pending > 0) return this.fail('notice-exactly-once', `kiosk ${state.config.kioskId}: notices still wait in the outbox after the network healed`);
      for (const id of state.ledger.keys()) {
        this.checks['notice-exactly-once'] += 1;
        if (!recorded.has(id)) return this.fail('notice-exactly-once', `issuance ${id} of kiosk ${state.config.kioskId} never reached the centre`);
      }
    }
  }

  // --- the run --------------------------------------------------------------------------------

  /** Runs events one at a time until `done` settles; after each, its consequences settle and the invariants are checked. */
  private async runUntil(done: Promise<unknown>): Promise<void> {
    let finished = false;
    done.then(
      () => (finished = true),
      (error: unknown) => {
        finished = true;
        this.fail('no-internal-fault', error instanceof Error ? error.message : String(error), error);
      },
    );
    const auditEvery = this.options.auditEvery ?? 100;
    await settleMicrotasks();
    while (!finished && !this.failure) {
      const event = this.scheduler.next();
      if (!event) {
        this.fail('no-internal-fault', 'nothing is left to happen while kiosks still wait: a promise that never settles');
        break;
      }
      this.step += 1;
      this.addTrace(event.label);
      event.run();
      await settleMicrotasks();
      this.checkStep();
      if (!this.failure && this.completed >= this.nextFullCheck) {
        this.nextFullCheck += auditEvery;
        this.fullCheck(false);
      }
    }
  }

  async run(): Promise<SimulationSummary> {
    try {
      this.openKiosks();
      this.scheduler.after(CRASH_TICK_MS, 'crash tick', () => this.crashTick());
      await this.runUntil(Promise.all(this.kiosks.map((state) => this.kioskLoop(state))));
      if (!this.failure) {
        // The network heals, every server comes back, and the outboxes drain.
        this.draining = true;
        this.rates = NO_FAULTS;
        for (const node of [this.center, ...this.relays.values()]) this.restart(node);
        await this.runUntil(this.drain());
      }
    } catch (error) {
      this.fail('no-internal-fault', error instanceof Error ? error.message : String(error), error);
    }
    return this.summary();
  }

  private async drain(): Promise<void> {
    for (let round = 0; round < DRAIN_ROUNDS; round += 1) {
      let pending = 0;
      for (const state of this.kiosks) pending += (await state.kiosk.flushOutbox()).pending;
      if (pending === 0) break;
      await this.sleep(1_000, 'drain pause');
    }
    this.fullCheck(true);
    for (const state of this.kiosks) await state.kiosk.close();
  }

  close(): void {
    for (const db of this.inspectors.values()) db.close();
    this.plantedWriter?.close();
    this.center.stop();
    for (const relay of this.relays.values()) relay.stop();
  }

  private summary(): SimulationSummary {
    return {
      seed: this.options.seed,
      transactions: this.completed,
      steps: this.step,
      virtualSeconds: Math.round((this.scheduler.nowMs() - SIMULATION_EPOCH_MS) / 1000),
      outcomes: { ...this.outcomes },
      refusals: Object.fromEntries(Object.entries(this.refusals).sort(([left], [right]) => left.localeCompare(right))),
      faults: { ...this.tally.fired },
      invariantChecks: { ...this.checks },
      fullChecks: this.fullChecks,
      traceHash: this.trace.hex(),
      traceLines: this.trace.count(),
      plant: this.options.plant ?? null,
      failure: this.failure ?? null,
    };
  }
}

function isEligible(resident: Resident, atMs: number): boolean {
  try {
    assertEligible(resident, atMs);
    return true;
  } catch {
    return false;
  }
}

/** Lets every consequence of one event run: promise chains first, then the next turn of the loop. */
function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs one simulation on a fresh copy of the deployment, which is removed afterwards. */
export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-issue-simulate-'));
  try {
    fs.cpSync(templateDeployment(), dir, { recursive: true });
    const simulation = new Simulation(loadConfig(dir), options);
    try {
      return await simulation.run();
    } finally {
      simulation.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function parseWhole(text: string, flag: string, min: number, max: number): number {
  if (!/^[0-9]{1,16}$/.test(text) || Number(text) < min || Number(text) > max) throw usageError(`${flag} must be a whole number from ${min} to ${max}`);
  return Number(text);
}

function formatSummary(summary: SimulationSummary, wallMs: number): string {
  const fired = FAULT_CLASSES.map((name) => `${name} ${summary.faults[name]}`).join(', ');
  const checked = INVARIANTS.map((name) => `${name} ${summary.invariantChecks[name]}`).join(', ');
  const { issued, refunded, refused, cancelled } = summary.outcomes;
  return [
    `seed ${summary.seed}${summary.plant ? ` (planted bug: ${summary.plant})` : ''}: ${summary.transactions} transactions in ${summary.steps} steps, ${summary.virtualSeconds} virtual seconds, ${(wallMs / 1000).toFixed(1)} s`,
    `  outcomes: ${issued} issued, ${refunded} refunded, ${refused} refused, ${cancelled} cancelled`,
    `  refused or refunded for: ${Object.entries(summary.refusals).map(([code, count]) => `${code} ${count}`).join(', ') || 'nothing'}`,
    `  faults fired: ${fired}`,
    `  invariants checked: ${checked} (full checks: ${summary.fullChecks})`,
    `  trace ${summary.traceHash} (${summary.traceLines} lines)`,
    summary.failure ? `  FAILED at step ${summary.failure.step} (${summary.failure.virtualTime}): ${summary.failure.invariant}: ${summary.failure.detail}` : '  all invariants held',
    '',
  ].join('\n');
}

/** The simulation prints into the folder printer, whose faults it sets and whose pages it reads back. */
function folderPrinterOf(kiosk: Kiosk): FolderPrinter {
  if (!(kiosk.printer instanceof FolderPrinter)) throw new AppError('internal', 'simulate.printer', 'the simulation needs the folder printer');
  return kiosk.printer;
}

export function makeSimulateCommand(factory: Factory): Command {
  const { io } = factory;
  return new Command('simulate')
    .description(COMMANDS.simulate.description)
    .option('--seed <n>', `the seed (0..${MAX_SEED}); default: a random one, printed`)
    .option('--transactions <n>', 'resident sessions to run', '200')
    .option('--audit-every <n>', 'verify every audit log and match every centre record after this many transactions (and at the end)', '100')
    .option('--no-faults', 'inject no faults: a baseline run')
    .option('--fault-scale <x>', 'multiply every fault rate by this (0.1 to 20), to hunt with harsher weather', '1')
    .addOption(new Option('--plant <bug>', 'plant a known bug, to see the checks catch it').choices([...PLANTED_BUGS]))
    .option('--trace', 'print every event of the trace to standard error')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nRuns the kiosks, relays and centre in one process on virtual time, with faults chosen by the seed, and checks the invariants after every step (docs/simulation.md).\nThe same seed and transactions replay the same trace (the trace hash in the summary).\n\nExit codes: 0 every invariant held, 1 unexpected failure, 2 bad flag, 3 an invariant failed (the seed and step are printed).',
    )
    .action(async (options: { seed?: string; transactions: string; auditEvery: string; faults: boolean; faultScale: string; plant?: PlantedBug; trace?: boolean; json?: boolean }) => {
      const faultScale = Number(options.faultScale);
      if (!/^[0-9]+(\.[0-9]+)?$/.test(options.faultScale) || faultScale < 0.1 || faultScale > 20) throw usageError('--fault-scale must be a number from 0.1 to 20');
      const seed = options.seed === undefined ? new DataView(factory.random.bytes(4).buffer).getUint32(0) : parseWhole(options.seed, '--seed', 0, MAX_SEED);
      const transactions = parseWhole(options.transactions, '--transactions', 1, 10_000_000);
      const auditEvery = parseWhole(options.auditEvery, '--audit-every', 1, 10_000_000);
      const startedMs = performance.now();
      const summary = await runSimulation({ seed, transactions, auditEvery, faults: options.faults, faultScale, plant: options.plant, onTrace: options.trace ? (line) => io.err(`${line}\n`) : undefined, onDebug: process.env.CVS_ISSUE_DEBUG ? (text) => io.err(`${text}\n`) : undefined });
      const wallMs = performance.now() - startedMs;
      io.out(options.json ? `${JSON.stringify({ ...summary, wallSeconds: Math.round(wallMs / 100) / 10 }, null, 2)}\n` : formatSummary(summary, wallMs));
      if (summary.failure) {
        const replay = `cvs-issue simulate --seed ${seed} --transactions ${transactions}${options.auditEvery !== '100' ? ` --audit-every ${auditEvery}` : ''}${faultScale !== 1 ? ` --fault-scale ${options.faultScale}` : ''}${options.faults ? '' : ' --no-faults'}${options.plant ? ` --plant ${options.plant}` : ''}`;
        throw new AppError('differences', 'simulate.invariant_failed', `seed ${seed}, step ${summary.failure.step}: ${summary.failure.invariant}: ${summary.failure.detail}; replay with: ${replay}`);
      }
    });
}
