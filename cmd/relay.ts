// `cvs-issue relay serve`: the operator's DMZ relay. Kiosks in, centre out, nothing else.

import chalk from 'chalk';
import Table from 'cli-table3';
import { Command } from 'commander';
import { COMMANDS } from './commands.ts';
import { DEFAULT_DOWN_AFTER_MS, kioskHealth, kioskStateLabel } from '../core/kiosk-health.ts';
import { AppError, usageError } from '../core/errors.ts';
import { formatJstIso, parseIsoInstant } from '../core/jst.ts';
import { hexEncode } from '../core/bytes.ts';
import { operatorNoticeBody, operatorNoticeFrom } from '../core/service-notices.ts';
import { INCIDENT_KINDS, incidentBody, incidentReportFrom, MAX_INCIDENT_SUMMARY_LENGTH, type IncidentReport } from '../core/incidents.ts';
import { inquiryBody, inquiryFrom, MAX_INQUIRY_TEXT_LENGTH } from '../core/inquiries.ts';
import { parseCertificateSerial } from '../core/certificate-serial.ts';
import type { Clock, Timers } from '../core/ports.ts';
import { createRelayService, type CenterUpstream, type RelayService, type KioskCertificateIdentity } from '../core/relay-service.ts';
import { callJson, decodeJsonBody, errorResponse, jsonBytesResponse, jsonResponse, parseJsonBody } from '../drivers/http/json-api.ts';
import type { IncomingRequest, OutgoingResponse, RequestHandler, RunningServer } from '../drivers/http/server.ts';
import { withDatabase, type Database } from '../drivers/store/database.ts';
import { alertBacklog, announceOperatorNotice, incidentReports, keepIncidentReport, queueIncidentReport, unacknowledgedIncidentReports, dropQueuedIncidentReport, clearFaults, createRelayStore, isCertificateRevoked, kioskStatuses, latestCosigned, openFaults, openRelayDatabase, saveCosigned } from '../drivers/store/relay-store.ts';
import { DECOMMISSION_PATH, FAULT_PATH, HEARTBEAT_PATH, INCIDENT_PATH, INQUIRY_PATH, INQUIRY_STATUS_PATH, OPERATOR_NOTICE_PATH, RELAYED_PATHS, RELAY_COSIGNATURE_PATH, RELAY_HEADERS, RELAY_HEARTBEAT_PATH, SETTLEMENT_SUPPLY_PATH, STORE_DAY_PATH } from '../core/messages.ts';
import { handlingRecordFromRow } from '../drivers/store/center-store.ts';
import type { CompletionAck } from '../core/messages.ts';
import { parseRelayHeartbeatAnswer, witness, witnessRecordData, type CheckpointOffer } from '../core/witness.ts';
import { cosignatureLine, noteBody } from '../core/signed-note.ts';
import { formatUtcIso } from '../core/jst.ts';
import { alertEndpoints, clientFor, findRelay, openRoleAuditLog, parseListen, type LoadedConfig, type RelayConfig } from './config.ts';
import { startAlertDispatcher, type AlertDispatcher } from './relay-alerts.ts';
import { auditHasher, auditOrigin, logSize, noteSignerFor, noteVerifierFromKey, offerCheckpointToWitness, witnessedSizesIn, type AuditLog } from '../drivers/store/audit-log.ts';
import { systemClock, systemTimers } from './deps.ts';
import { tallyRefusals } from '../core/refusal-tally.ts';
import { answerWhenCommitted } from './committed-handler.ts';
import { addExportSubcommand } from './export.ts';
import type { Factory } from './factory.ts';
import { startObservability, waitForShutdown, type Observability } from './serve.ts';
import { useServingJitPolicy } from '../drivers/jit-policy.ts';

const RELAY_HEARTBEAT_INTERVAL_MS = 60_000;

/** The kiosk certificate: CN = kiosk id, OU = store id, O = operator id. */
function kioskIdentityOf(request: IncomingRequest): KioskCertificateIdentity {
  const { CN, OU, O } = request.peer.subject;
  if (!CN || !OU || !O) throw new AppError('unauthorized', 'relay.kiosk_certificate', 'the client certificate does not name a kiosk');
  return { kioskId: CN, storeId: OU, operatorId: O };
}

export interface StartedRelay {
  server: RunningServer;
  /** Health and metrics (--metrics-listen), when asked for. */
  metricsUrl: string | undefined;
  operatorId: string;
  /** Offers the relay log's latest checkpoint to the centre now (it also happens every minute). */
  heartbeat(): Promise<void>;
  /** The alert loop (docs/alerts.md): runs by itself; `run()` runs it now and waits. */
  alerts: AlertDispatcher;
  close(): Promise<void>;
}

/**
 * The relay's request handler as a value, over its service: the TLS server is a thin adapter, and
 * tests call it in process. Witnessing and the store's daily cash are handled here; the kiosk's
 * requests to the centre are forwarded.
 */
export function createRelayHandler(service: RelayService, log: (line: string) => void = () => undefined): RequestHandler {
  const localRoutes: Record<string, (identity: KioskCertificateIdentity, body: unknown, request: IncomingRequest) => unknown> = {
    [HEARTBEAT_PATH]: service.heartbeat,
    [STORE_DAY_PATH]: service.storeDay,
    [FAULT_PATH]: service.fault,
    // The certificate to revoke is the one this request came over: a kiosk retires only itself.
    [DECOMMISSION_PATH]: (identity, body, request) => service.decommission(identity, request.peer, body),
  };

  return async function handle(request: IncomingRequest): Promise<OutgoingResponse> {
    const local = localRoutes[request.path];
    if (request.method === 'POST' && local) {
      try {
        return jsonResponse(200, local(kioskIdentityOf(request), parseJsonBody(request.body), request));
      } catch (error) {
        log(`relay: ${request.path} refused: ${error instanceof AppError ? error.code : 'internal'}`);
        return errorResponse(error);
      }
    }
    if (request.method !== 'POST' || !RELAYED_PATHS.includes(request.path)) {
      return errorResponse(new AppError('not-found', 'relay.no_route', `no such endpoint: ${request.method} ${request.path}`));
    }
    try {
      const identity = kioskIdentityOf(request);
      const { value, text } = decodeJsonBody(request.body);
      const answer = await service.forward(request.path, value, identity, text);
      return jsonBytesResponse(answer.status, answer.body);
    } catch (error) {
      log(`relay: ${request.path} failed: ${error instanceof AppError ? error.code : 'internal'}`);
      return errorResponse(error);
    }
  };
}

/** A relay of the deployment as a request handler over its database, forwarding to `upstream`. */
export interface RelayHandler {
  handler: RequestHandler;
  config: RelayConfig;
  db: Database;
  audit: AuditLog;
  close(): void;
}

/**
 * Opens the relay of `operatorId` (default: the first) over its database, forwarding kiosk requests
 * to `upstream`: the centre over mutual TLS for the server, the centre's own handler in process for
 * tests and the simulation.
 */
export function openRelayHandler(loaded: LoadedConfig, options: { operatorId?: string; upstream: CenterUpstream; clock?: Clock; log?: (line: string) => void; groupCommit?: boolean; timers?: Timers }): RelayHandler {
  const config = findRelay(loaded, options.operatorId);
  const clock = options.clock ?? systemClock;
  const db = openRelayDatabase(loaded.resolve(config.databaseFile));
  try {
    // `relay serve` commits in groups, as `center serve` does (openCenterHandler).
    const audit = openRoleAuditLog(db, loaded, config, auditOrigin('relay', config.operatorId), clock, { groupCommit: options.groupCommit });
    // With timers (a running relay), the notices fetched are counted per minute: the first at
    // once, then one entry with how many and from how many kiosks (as refused connections are).
    const noticeReads =
      options.timers === undefined
        ? undefined
        : tallyRefusals({ timers: options.timers, report: ({ count, peers, remoteAddress }) => audit.append({ kind: 'notices.read', data: { count, peers, kioskId: remoteAddress } }) });
    const service = createRelayService({
      operatorId: config.operatorId,
      clock,
      store: createRelayStore(db, audit),
      upstream: options.upstream,
      audit,
      witness: { hasher: auditHasher, noteVerifierFor: noteVerifierFromKey },
      ...(noticeReads === undefined ? {} : { noticeReads: { note: (kioskId: string) => noticeReads.note('notices', kioskId) } }),
    });
    const routes = createRelayHandler(service, options.log);
    const close = () => {
      noticeReads?.close();
      audit.flushGroupNow();
      db.close();
    };
    return { handler: options.groupCommit ? answerWhenCommitted(routes, audit) : routes, config, db, audit, close };
  } catch (error) {
    db.close();
    throw error;
  }
}

export async function startRelay(
  loaded: LoadedConfig,
  options: { operatorId?: string; listen?: string; metricsListen?: string; centerUrl?: string; clock?: Clock; timers?: Timers; log?: (line: string) => void },
): Promise<StartedRelay> {
  const config = findRelay(loaded, options.operatorId);
  const log = options.log ?? (() => undefined);
  const client = clientFor(loaded, config.centerTls, options.centerUrl ?? config.centerUrl, 15_000, (line) => log(`relay: ${line}`));
  const upstream: CenterUpstream = {
    async post(path, body, kiosk, text) {
      const headers = { 'content-type': 'application/json', accept: 'application/json', [RELAY_HEADERS.store]: kiosk.storeId, [RELAY_HEADERS.kiosk]: kiosk.kioskId };
      const answer = await client.request('POST', path, text ?? JSON.stringify(body), headers);
      return { status: answer.status, body: answer.body };
    },
  };
  const clock = options.clock ?? systemClock;
  let opened: RelayHandler;
  try {
    opened = openRelayHandler(loaded, { operatorId: options.operatorId, upstream, clock, log, groupCommit: true, timers: options.timers ?? systemTimers });
  } catch (error) {
    await client.close();
    throw error;
  }
  const { db, audit } = opened;
  let alerts: AlertDispatcher;
  try {
    const endpoints = alertEndpoints(loaded, config, DEFAULT_DOWN_AFTER_MS);
    alerts = startAlertDispatcher({ db, audit, operatorId: config.operatorId, endpoints, downAfterMs: endpoints?.downAfterMs ?? DEFAULT_DOWN_AFTER_MS, clock, timers: options.timers ?? systemTimers, log });
  } catch (error) {
    await client.close();
    opened.close();
    throw error;
  }
  // A fault taken is delivered at once, not at the next round of the loop.
  const handle: RequestHandler = async (request) => {
    const response = await opened.handler(request);
    if (request.path === FAULT_PATH && response.status === 200) alerts.poke();
    return response;
  };

  /**
   * The centre witnesses this relay's audit log, every minute and once more on the way down; in
   * the same exchange the relay witnesses and cosigns the centre's (docs/audit-log.md).
   */
  const witnessed = witnessedSizesIn(db);
  const centerOrigin = auditOrigin('center');
  const centerVerifier = noteVerifierFromKey(loaded.config.center.auditVerifierKey);
  const cosigner = noteSignerFor(audit.origin, loaded.read(config.auditKeyFile), 'cosignature');
  async function cosignCenter(offer: CheckpointOffer): Promise<void> {
    const previous = latestCosigned(db, centerOrigin);
    let decision: ReturnType<typeof witness>;
    try {
      decision = witness({ offer, previous, origin: centerOrigin, verifier: centerVerifier, hasher: auditHasher });
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'internal';
      log(`relay: the centre's audit log failed its witness check: ${code}`);
      audit.append({ kind: 'witness.inconsistent', data: { origin: centerOrigin, code } });
      return;
    }
    if (!decision.keep) return;
    const timestamp = Math.floor(clock.nowMs() / 1000);
    const line = cosignatureLine(noteBody(decision.keep.note), timestamp, cosigner);
    const cosignedNote = `${decision.keep.note}${line}\n`;
    const data = { ...witnessRecordData(decision.keep.record), witness: audit.origin, timestamp, cosignature: line.slice(line.lastIndexOf(' ') + 1) };
    audit.transaction([{ kind: 'witness.cosigned', data }], () => saveCosigned(db, centerOrigin, decision.keep!.size, cosignedNote, formatUtcIso(clock.nowMs())));
    await callJson(client, RELAY_COSIGNATURE_PATH, { note: cosignedNote });
  }
  let heartbeatRunning = false;
  async function witnessHeartbeat(): Promise<void> {
    if (heartbeatRunning) return;
    heartbeatRunning = true;
    try {
      await offerCheckpointToWitness(
        db,
        witnessed,
        async (offer) => {
          const answer = parseRelayHeartbeatAnswer(await callJson(client, RELAY_HEARTBEAT_PATH, { ...offer, cosignedSize: latestCosigned(db, centerOrigin)?.size ?? 0 }));
          if (answer.centerCheckpoint) await cosignCenter(answer.centerCheckpoint);
          return answer;
        },
        clock.nowMs,
      );
    } catch (error) {
      if (!(error instanceof AppError && error.kind === 'unavailable')) {
        log(`relay: the centre refused its heartbeat: ${error instanceof AppError ? error.code : 'internal'}`);
        audit.append({ kind: 'fault', data: { code: error instanceof AppError ? error.code : 'internal' } });
      }
    } finally {
      heartbeatRunning = false;
    }
  }
  const heartbeat = setInterval(() => void witnessHeartbeat(), RELAY_HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();

  const { host, port } = parseListen(options.listen ?? config.listen, 'relay.listen');
  const startedAtMs = Date.now();
  let observability: Observability;
  try {
    observability = await startObservability({
      role: 'relay',
      listen: options.metricsListen,
      mainAddress: { host, port },
      knownPaths: [...RELAYED_PATHS, HEARTBEAT_PATH, STORE_DAY_PATH, DECOMMISSION_PATH, FAULT_PATH],
      auditEntries: () => logSize(db),
      health: () => ({ role: 'relay', operatorId: config.operatorId, auditEntries: logSize(db), uptimeSeconds: Math.round((Date.now() - startedAtMs) / 1000) }),
    });
  } catch (error) {
    clearInterval(heartbeat);
    await alerts.close();
    await client.close();
    opened.close();
    throw error;
  }
  const refusals = tallyRefusals({
    timers: options.timers ?? systemTimers,
    report: ({ reason, count, peers, remoteAddress }) => {
      log(`relay: kiosk connection refused: ${reason}${count > 1 ? ` (${count} more from ${peers} address${peers === 1 ? '' : 'es'} in the last minute)` : ''}`);
      audit.append({ kind: 'connection.refused', data: { reason, remoteAddress, count, peers } });
    },
  });
  let server: RunningServer;
  try {
    // node:http and node:tls are loaded for a server only: the other subcommands and --help skip them.
    const { startMutualTlsServer } = await import('../drivers/http/server.ts');
    server = await startMutualTlsServer({
      host,
      port,
      keyPem: loaded.read(config.kioskTls.keyFile),
      certificatePem: loaded.read(config.kioskTls.certificateFile),
      clientCaPem: loaded.read(config.kioskTls.caFile),
      handler: observability.timed(handle),
      maxBodyBytes: 64 * 1024,
      // A decommissioned kiosk's certificate still chains to the store CA: the revocation list in
      // relay.db, written by the decommission, refuses it for every request but one: the same
      // decommission asked again, whose answer may have been lost before the kiosk could erase.
      // So the handshake is let through, and each request is judged by its path.
      refuseCertificate: (certificate, path) =>
        path !== undefined && path !== DECOMMISSION_PATH && isCertificateRevoked(db, certificate.fingerprint256) ? 'certificate revoked (kiosk decommissioned)' : undefined,
      onTlsError: (reason, remoteAddress) => {
        refusals.note(reason, remoteAddress);
        observability.refused(reason);
      },
    });
  } catch (error) {
    clearInterval(heartbeat);
    refusals.close();
    await observability.close();
    await alerts.close();
    await client.close();
    opened.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    server,
    operatorId: config.operatorId,
    metricsUrl: observability.url,
    heartbeat: witnessHeartbeat,
    alerts,
    close: () =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        await server.close();
        await observability.close();
        refusals.close();
        await alerts.close();
        await witnessHeartbeat();
        await client.close();
        opened.close();
      })()),
  };
}

export function makeRelayCommand(factory: Factory): Command {
  const { io } = factory;
  const relay = new Command('relay').description(COMMANDS.relay.description);
  relay
    .command('serve')
    .description('relay kiosk requests to the centre over mutual TLS until interrupted')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--operator <id>', 'operator whose relay to run (default: the first in the deployment)')
    .option('--listen <host:port>', 'listen address (port 0 picks a free port); default from the deployment')
    .option('--center-url <url>', 'the centre, e.g. https://127.0.0.1:8443, or several centres serving one PostgreSQL store, comma-separated (requests spread over them, failing over); default from the deployment')
    .option('--metrics-listen <host:port>', 'also serve GET /healthz and GET /metrics (Prometheus) over plain HTTP on this address, never on the mutual-TLS port')
    .option('--json', 'once listening, print one JSON line: {"role","operatorId","url","host","port","metricsUrl"}')
    .addHelpText('after', '\nExit codes: 0 stopped by SIGINT/SIGTERM, 1 unexpected failure, 2 bad flag, configuration or database, or the address in use.')
    .action(async (options: { dir: string; operator?: string; listen?: string; metricsListen?: string; centerUrl?: string; json?: boolean }) => {
      const started = await startRelay(factory.deployment(options.dir), {
        operatorId: options.operator,
        listen: options.listen,
        metricsListen: options.metricsListen,
        centerUrl: options.centerUrl,
        clock: factory.checkedClock(),
        timers: factory.timers,
        log: (line) => io.err(`${line}\n`),
      });
      const { url, host, port } = started.server;
      const metricsUrl = started.metricsUrl ?? null;
      // SIGTERM is handled before the ready line: a service manager may stop it as soon as it reads it.
      const stopped = waitForShutdown(() => started.close());
      useServingJitPolicy();
      io.out(
        options.json
          ? `${JSON.stringify({ role: 'relay', operatorId: started.operatorId, url, host, port, metricsUrl })}\n`
          : `relay ${started.operatorId} listening on ${url}${metricsUrl ? `; health and metrics on ${metricsUrl}` : ''}\n`,
      );
      await stopped;
    });
  relay
    .command('status')
    .description('registered kiosks: last heard from, audit checkpoint witnessed and failed witness checks, open faults, last store day closed')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--operator <id>', 'whose relay (default: the first in the deployment)')
    .option('--down-after-minutes <n>', `a kiosk not heard from for this long is shown as down (default: the deployment's alerts.downAfterMinutes, else ${DEFAULT_DOWN_AFTER_MS / 60_000})`)
    .option('--json', 'print JSON')
    .action((options: { dir: string; operator?: string; downAfterMinutes?: string; json?: boolean }) => {
      const loaded = factory.deployment(options.dir);
      const config = findRelay(loaded, options.operator);
      // The same bound the relay raises kiosks as down by (docs/alerts.md), unless asked otherwise.
      const downAfterMinutes = options.downAfterMinutes === undefined ? (config.alerts?.downAfterMinutes ?? DEFAULT_DOWN_AFTER_MS / 60_000) : Number(options.downAfterMinutes);
      if (!Number.isSafeInteger(downAfterMinutes) || downAfterMinutes <= 0) throw usageError('--down-after-minutes must be a whole number above 0');
      const nowMs = factory.clock.nowMs();
      const { kiosks, faults, backlog } = withDatabase(loaded.resolve(config.databaseFile), (db) => ({ kiosks: kioskStatuses(db), faults: openFaults(db), backlog: alertBacklog(db) }), { readonly: true });
      const rows = kiosks.map((row) => ({
        ...row,
        ...kioskHealth(row, nowMs, downAfterMinutes * 60_000),
        openFaults: faults.filter((fault) => fault.kioskId === row.kioskId).map(({ kioskId: _kioskId, ...fault }) => fault),
      }));
      if (options.json) {
        io.out(`${JSON.stringify({ operatorId: config.operatorId, kiosks: rows, alerts: backlog }, null, 2)}\n`);
        return;
      }
      const table = new Table({ head: ['kiosk', 'store', 'state', 'last seen (JST)', 'audit witnessed', 'witness failures', 'open faults', 'last day closed'], style: { head: io.color ? ['cyan'] : [], border: io.color ? ['grey'] : [] } });
      for (const row of rows) {
        const state = kioskStateLabel(row, row);
        const faultText = row.openFaults.length === 0 ? '-' : row.openFaults.map((fault) => `${fault.code} ${formatJstIso(Date.parse(fault.occurredAt))}`).join('\n');
        table.push([row.kioskId, `${row.storeId} ${row.storeName}`, io.color && (row.down || row.auditProblem) ? chalk.red(state) : state, row.lastSeenAt ? formatJstIso(Date.parse(row.lastSeenAt)) : 'never', row.witnessedSize ?? '-', row.witnessFailures, io.color && row.openFaults.length > 0 ? chalk.red(faultText) : faultText, row.lastClosedDay ?? '-']);
      }
      const alertLine = `alerts: ${backlog.pending} waiting for delivery, ${backlog.failed} given up`;
      io.out(`relay ${config.operatorId}\n${table.toString()}\n${alertLine}\n`);
    });
  relay
    .command('clear-faults')
    .description("mark a kiosk's open faults cleared once its device is repaired (logged as fault.cleared)")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--kiosk <id>', 'the kiosk whose faults are cleared')
    .option('--operator <id>', 'whose relay (default: the first in the deployment)')
    .addHelpText('after', '\nExit codes: 0 cleared (or none open), 2 no such kiosk at this relay.')
    .action((options: { dir: string; kiosk: string; operator?: string }) => {
      const loaded = factory.deployment(options.dir);
      const config = findRelay(loaded, options.operator);
      const db = openRelayDatabase(loaded.resolve(config.databaseFile));
      try {
        if (!db.get('SELECT 1 AS known FROM kiosks WHERE kiosk_id = :kioskId', { kioskId: options.kiosk })) throw usageError(`no kiosk ${options.kiosk} is registered at relay ${config.operatorId}`);
        const audit = openRoleAuditLog(db, loaded, config, auditOrigin('relay', config.operatorId), factory.clock);
        const count = clearFaults(db, audit, options.kiosk, formatUtcIso(factory.clock.nowMs()));
        io.out(`${count} open fault(s) of kiosk ${options.kiosk} cleared\n`);
      } finally {
        db.close();
      }
    });
  relay
    .command('supply')
    .description("send the centre a handling record it is missing, from this relay's record; the centre accepts it only against certificate data it issued")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--issuance <id>', 'the issuance id reconcile reported as missing at the centre')
    .option('--operator <id>', 'whose relay (default: the first in the deployment)')
    .option('--center-url <url>', 'the centre, e.g. https://127.0.0.1:8443, or several centres serving one PostgreSQL store, comma-separated (requests spread over them, failing over); default from the deployment')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', '\nExit codes: 0 accepted (in its month, or as an adjustment of the next open month), 1 refused by the centre, 2 no such record here.')
    .action(async (options: { dir: string; issuance: string; operator?: string; centerUrl?: string; json?: boolean }) => {
      const loaded = factory.deployment(options.dir);
      const config = findRelay(loaded, options.operator);
      const clock = factory.clock;
      const db = openRelayDatabase(loaded.resolve(config.databaseFile));
      const client = clientFor(loaded, config.centerTls, options.centerUrl ?? config.centerUrl, 15_000);
      try {
        const row = db.get<Parameters<typeof handlingRecordFromRow>[0]>('SELECT * FROM effective_handling_records WHERE issuance_id = :id', { id: options.issuance });
        if (!row) throw usageError(`this relay has no record of issuance ${options.issuance}`);
        const { operatorId: _operatorId, ...record } = handlingRecordFromRow(row);
        const ack = await callJson<CompletionAck>(client, SETTLEMENT_SUPPLY_PATH, record);
        const audit = openRoleAuditLog(db, loaded, config, auditOrigin('relay', config.operatorId), clock);
        audit.append({ kind: 'record.supplied', data: { issuanceId: record.issuanceId, kioskId: record.kioskId, copies: record.copies, feeYen: record.feeYen, duplicate: ack.duplicate } });
        if (options.json) io.out(`${JSON.stringify(ack, null, 2)}\n`);
        else io.out(`issuance ${ack.issuanceId} supplied to the centre${ack.adjustment ? `: settled in ${ack.adjustment.settleMonth} as an adjustment of ${ack.adjustment.originalMonth}` : ''}${ack.duplicate ? ' (it had it already)' : ''}\n`);
      } finally {
        await client.close();
        db.close();
      }
    });
  relay
    .command('inquiry')
    .description("pass a store's inquiry or complaint about a certificate's content to the centre (J-LIS), which routes it to the municipality (C§16, Spec§10); or ask where one stands")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--request <id>', 'the transaction it is about (its request id)')
    .option('--serial <serial>', 'or a printed copy it is about (the serial at its top right)')
    .option('--summary <text>', `what the store was told, 1 to ${MAX_INQUIRY_TEXT_LENGTH} characters; never the resident's name, address or contact (the municipality deals with the resident)`)
    .option('--kiosk <id>', 'the kiosk it concerns')
    .option('--status <inquiry>', 'instead: where this inquiry stands, and the municipality\'s answer')
    .option('--operator <id>', 'whose relay (default: the first in the deployment)')
    .option('--center-url <url>', 'the centre, e.g. https://127.0.0.1:8443, or several centres serving one PostgreSQL store, comma-separated (requests spread over them, failing over); default from the deployment')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExit codes: 0 sent (or its status shown), 1 the centre did not answer or refused it, 2 bad flag, or a request or inquiry the centre does not know for this operator.')
    .action(async (options: { dir: string; request?: string; serial?: string; summary?: string; kiosk?: string; status?: string; operator?: string; centerUrl?: string; json?: boolean }) => {
      const loaded = factory.deployment(options.dir);
      const config = findRelay(loaded, options.operator);
      const client = clientFor(loaded, config.centerTls, options.centerUrl ?? config.centerUrl, 15_000);
      try {
        if (options.status !== undefined) {
          if (!/^[0-9a-f]{32}$/.test(options.status)) throw usageError('--status takes an inquiry id (32 hexadecimal digits)', '--status');
          const state = await callJson<{ inquiryId: string; municipalityCode: string; status: string; answer: string | null; updatedAt: string }>(client, INQUIRY_STATUS_PATH, { inquiryId: options.status });
          io.out(options.json ? `${JSON.stringify(state, null, 2)}\n` : `inquiry ${state.inquiryId} at municipality ${state.municipalityCode}: ${state.status} (${state.updatedAt})${state.answer ? `: ${state.answer}` : ''}\n`);
          return;
        }
        if ((options.request === undefined) === (options.serial === undefined)) throw usageError('give --request ID or --serial SERIAL (one of them)', '--request');
        const requestId = options.request ?? parseCertificateSerial(options.serial!)?.requestId;
        if (requestId === undefined) throw usageError(`"${options.serial}" is not a serial (<request id>-<copy>)`, '--serial');
        if (options.summary === undefined) throw usageError('an inquiry needs --summary', '--summary');
        const inquiry = inquiryFrom(
          { inquiryId: hexEncode(factory.random.bytes(16)), operatorId: config.operatorId, requestId, kioskId: options.kiosk ?? null, summary: options.summary },
          { requestId: '--request', kioskId: '--kiosk', summary: '--summary' },
        );
        const answer = await callJson<{ inquiryId: string; municipalityCode: string; status: string }>(client, INQUIRY_PATH, inquiryBody(inquiry));
        const db = openRelayDatabase(loaded.resolve(config.databaseFile));
        try {
          openRoleAuditLog(db, loaded, config, auditOrigin('relay', config.operatorId), factory.clock).append({ kind: 'inquiry.sent', data: { inquiryId: inquiry.inquiryId, requestId } });
        } finally {
          db.close();
        }
        io.out(options.json ? `${JSON.stringify(answer, null, 2)}\n` : `inquiry ${answer.inquiryId} sent; the centre routed it to municipality ${answer.municipalityCode}\n`);
      } finally {
        await client.close();
      }
    });
  relay
    .command('incident')
    .description("report an accident to the centre (J-LIS) at once, then how it stands, until it is resolved (C§15, Spec§11-3)")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--summary <text>', `what happened and what is done, 1 to ${MAX_INCIDENT_SUMMARY_LENGTH} characters; ids and facts only, never a resident's name or address`)
    .option('--kind <kind>', `for a new incident: ${INCIDENT_KINDS.join(', ')} (printing or handing over a certificate, or not able to serve)`)
    .option('--incident <id>', 'an update of this incident (its id from the first report)')
    .option('--resolved', 'this update closes the incident')
    .option('--occurred-at <iso>', 'when it happened or was found, ISO time with offset (default: now)')
    .option('--kiosk <id>', 'the kiosk it concerns')
    .option('--request <id>', 'the transaction it concerns (its request id)')
    .option('--operator <id>', 'whose relay (default: the first in the deployment)')
    .option('--center-url <url>', 'the centre, e.g. https://127.0.0.1:8443, or several centres serving one PostgreSQL store, comma-separated (requests spread over them, failing over); default from the deployment')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nA report the centre did not acknowledge (no answer, a lost answer) stays in the relay and is sent again first, exactly as it was, by the next "relay incident"; the centre takes it as a duplicate if it had it.\n\nExit codes: 0 the centre has the report (and every one waiting before it), 1 the centre did not answer (the report waits to be sent again) or refused it (a report after it was resolved, out of turn: nothing is kept), 2 bad flag or an incident this relay did not report.',
    )
    .action(async (options: { dir: string; summary: string; kind?: string; incident?: string; resolved?: boolean; occurredAt?: string; kiosk?: string; request?: string; operator?: string; centerUrl?: string; json?: boolean }) => {
      const loaded = factory.deployment(options.dir);
      const config = findRelay(loaded, options.operator);
      const db = openRelayDatabase(loaded.resolve(config.databaseFile));
      const client = clientFor(loaded, config.centerTls, options.centerUrl ?? config.centerUrl, 15_000);
      const audit = openRoleAuditLog(db, loaded, config, auditOrigin('relay', config.operatorId), factory.clock);
      /** Sends a queued report; kept once the centre has it, dropped if the centre refuses it, left queued if no answer came. */
      const send = async (report: IncidentReport) => {
        try {
          await callJson(client, INCIDENT_PATH, incidentBody(report));
        } catch (error) {
          const unanswered = !(error instanceof AppError) || error.kind === 'unavailable' || error.kind === 'internal';
          if (!unanswered) {
            dropQueuedIncidentReport(db, report);
            throw error;
          }
          const cause = error instanceof AppError ? error.message : 'the centre did not answer';
          throw new AppError('unavailable', error instanceof AppError ? error.code : 'transport.failed', `${cause}; incident ${report.incidentId} report ${report.sequence} waits in the relay and goes again, as it is, with the next "relay incident"`);
        }
        keepIncidentReport(db, audit, report, formatUtcIso(factory.clock.nowMs()));
      };
      try {
        // What waits from before goes first, as it was: its number is the one the next report follows.
        for (const waiting of unacknowledgedIncidentReports(db)) await send(waiting);
        const earlier = options.incident === undefined ? [] : incidentReports(db, options.incident);
        if (options.incident !== undefined && earlier.length === 0) throw usageError(`this relay reported no incident ${options.incident}`, '--incident');
        const first = earlier[0];
        if (first === undefined && options.resolved) throw usageError('--resolved updates an incident: give --incident ID', '--resolved');
        if (first !== undefined && options.kind !== undefined && options.kind !== first.kind) throw usageError(`incident ${first.incidentId} is of kind ${first.kind}`, '--kind');
        if (earlier.at(-1)?.status === 'resolved') throw usageError(`incident ${first!.incidentId} was reported resolved; report a new one`, '--incident');
        if (first === undefined && options.kind === undefined) throw usageError(`a new incident needs --kind (${INCIDENT_KINDS.join(', ')})`, '--kind');
        const occurredAtMs = options.occurredAt === undefined ? factory.clock.nowMs() : parseIsoInstant(options.occurredAt);
        if (occurredAtMs === undefined) throw usageError('--occurred-at must be an ISO time with an offset', '--occurred-at');
        const report = incidentReportFrom(
          {
            incidentId: first?.incidentId ?? hexEncode(factory.random.bytes(16)),
            sequence: earlier.length + 1,
            operatorId: config.operatorId,
            kind: first?.kind ?? options.kind!,
            status: first === undefined ? 'open' : options.resolved ? 'resolved' : 'update',
            occurredAt: formatUtcIso(occurredAtMs),
            kioskId: options.kiosk ?? first?.kioskId ?? null,
            requestId: options.request ?? first?.requestId ?? null,
            summary: options.summary,
          },
          { kind: '--kind', summary: '--summary', kioskId: '--kiosk', requestId: '--request', occurredAt: '--occurred-at', status: '--resolved' },
        );
        // J-LIS first: queued, sent, and kept as the relay's copy (for the next update's number) once the centre has it.
        queueIncidentReport(db, report, formatUtcIso(factory.clock.nowMs()));
        await send(report);
        if (options.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
        else io.out(`incident ${report.incidentId} report ${report.sequence} (${report.status}) sent to the centre\n`);
      } finally {
        await client.close();
        db.close();
      }
    });
  relay
    .command('notice')
    .description("announce the operator's own maintenance window or stop: to the centre (J-LIS) first, then on every kiosk of the operator (Spec§7-3, Spec§7-4)")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--kind <kind>', 'maintenance (planned: outside the service hours, Spec§7-3) or stop (a failure or other unavoidable cause, Spec§7-4)')
    .requiredOption('--from <iso>', 'start, ISO time with offset, e.g. 2026-12-05T23:30:00+09:00')
    .requiredOption('--to <iso>', 'end, ISO time with offset')
    .requiredOption('--message <text>', 'what the kiosks show, 1 to 200 characters (Japanese), no personal data')
    .option('--emergency', 'a maintenance that cannot wait for hours the service is closed (Spec§7-4: 止むを得ない事情)')
    .option('--operator <id>', 'whose relay (default: the first in the deployment)')
    .option('--center-url <url>', 'the centre, e.g. https://127.0.0.1:8443, or several centres serving one PostgreSQL store, comma-separated (requests spread over them, failing over); default from the deployment')
    .option('--json', 'print the notice as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 the centre has it and the kiosks will show it, 1 the centre did not answer or refused it (nothing is shown), 2 bad flag, or a maintenance window inside the service hours (06:30〜23:00 JST) without --emergency.',
    )
    .action(async (options: { dir: string; kind: string; from: string; to: string; message: string; emergency?: boolean; operator?: string; centerUrl?: string; json?: boolean }) => {
      const loaded = factory.deployment(options.dir);
      const config = findRelay(loaded, options.operator);
      const notice = operatorNoticeFrom(
        { operatorId: config.operatorId, kind: options.kind, startsAtMs: parseIsoInstant(options.from), endsAtMs: parseIsoInstant(options.to), message: options.message, emergency: options.emergency === true },
        hexEncode(factory.random.bytes(16)),
        { kind: '--kind', from: '--from', to: '--to', message: '--message', emergency: '--emergency' },
      );
      const client = clientFor(loaded, config.centerTls, options.centerUrl ?? config.centerUrl, 15_000);
      const db = openRelayDatabase(loaded.resolve(config.databaseFile));
      try {
        // J-LIS first (甲に通知のうえ): nothing is shown on a kiosk the centre has not been told of.
        await callJson(client, OPERATOR_NOTICE_PATH, operatorNoticeBody(notice));
        const audit = openRoleAuditLog(db, loaded, config, auditOrigin('relay', config.operatorId), factory.clock);
        announceOperatorNotice(db, audit, notice, formatUtcIso(factory.clock.nowMs()));
        if (options.json) io.out(`${JSON.stringify({ ...operatorNoticeBody(notice), operatorId: notice.operatorId, centre: 'notified' }, null, 2)}\n`);
        else io.out(`${notice.kind} ${notice.noticeId} of ${notice.operatorId}: ${formatJstIso(notice.startsAtMs)} to ${formatJstIso(notice.endsAtMs)}${notice.emergency ? ' (emergency)' : ''}; the centre has it, and the kiosks show it from their next contact\n`);
      } finally {
        await client.close();
        db.close();
      }
    });
  addExportSubcommand(relay, 'relay', factory);
  return relay;
}
