// `cvs-issue center serve`: the national issuance centre. It accepts only relays whose client
// certificate chains to the centre CA and names a registered operator.

import { Command } from 'commander';
import { COMMANDS } from './commands.ts';
import { createCenterService, serialStatusFrom, type CenterDependencies, type SerialAnswer } from '../core/center-service.ts';
import { parseCertificateSerial } from '../core/certificate-serial.ts';
import { assertRegisteredKiosk, type CallerIdentity, type KioskRegistry } from '../core/caller.ts';
import { AppError, usageError } from '../core/errors.ts';
import { hexEncode } from '../core/bytes.ts';
import { formatJstIso, formatUtcIso, parseIsoInstant } from '../core/jst.ts';
import { parseOperatorNotice, serviceNoticeFrom, type ServiceNotice } from '../core/service-notices.ts';
import { parseIncidentReport } from '../core/incidents.ts';
import { ANSWER_STATUSES, MAX_INQUIRY_TEXT_LENGTH, parseInquiry, type InquiryStatus } from '../core/inquiries.ts';
import { answerInquiry, findInquiry, listInquiries } from '../drivers/store/inquiries.ts';
import { incidentSummaries } from '../drivers/store/incidents.ts';
import { databaseExists, withDatabase, type Database } from '../drivers/store/database.ts';
import { migrate, requireCurrentSchema } from '../drivers/store/migrate.ts';
import { CENTER_MIGRATIONS } from '../drivers/store/schema.ts';
import { INCIDENT_PATH, INQUIRY_PATH, INQUIRY_STATUS_PATH, KIOSK_PATHS, OPERATOR_NOTICE_PATH, RELAYED_PATHS, RELAY_COSIGNATURE_PATH, RELAY_HEADERS, RELAY_HEARTBEAT_PATH, SETTLEMENT_CONFIRM_PATH, SETTLEMENT_SUPPLY_PATH, parseAuthenticateRequest, parseCertificateRequest, parseChallengeRequest, parseCompletionNotice, parseCorrectionNotice, parseSettlementSubmission, parseSuppliedRecord } from '../core/messages.ts';
import type { Clock, RandomSource, Timers } from '../core/ports.ts';
import type { HolidayLookup } from '../core/service-hours.ts';
import { jsonHandler } from '../drivers/http/json-api.ts';
import { answerWhenCommitted } from './committed-handler.ts';
import type { IncomingRequest, RequestHandler, RunningServer } from '../drivers/http/server.ts';
import { renderCertificatePdf } from '../drivers/pdf/certificate-pdf.ts';
import { createCertificateRenderer } from '../drivers/pdf/render-pool.ts';
import { createCardVerifier } from '../drivers/pki/verify.ts';
import { auditHasher, auditOrigin, type AuditLog, checkpointAtSize, logSize, checkpointOffer, cosignatureKeyForVerifierKey, noteSignerFor, noteVerifierFromKey, renamedVerifierKey, saveCosignature } from '../drivers/store/audit-log.ts';
import { sealCertificateCopies } from '../drivers/pdf/document-seal.ts';
import { DOCUMENT_KEY_NAME } from '../core/document-statement.ts';
import type { CertificateContent } from '../core/resident.ts';
import { checkCosignedNote, parseRelayHeartbeat } from '../core/witness.ts';
import { asObject, stringField } from '../core/messages.ts';
import { announceNotice, centerSerialLookups, createBuiltInDirectory, createCenterStore, openCenterDatabase, type RemoteResidents } from '../drivers/store/center-store.ts';
import { createBackendResidents } from '../drivers/municipality/backend-client.ts';
import { centerDatabase, openRoleAuditLog, parseDatabaseUrlFlag, parseListen, reloadingDeployment, withCenterDatabaseUrl, type CrlSourceConfig, type LoadedConfig } from './config.ts';
import { startCrlFetcher, type CrlFetcher } from './crl-fetch.ts';
import { runHandover } from './handover.ts';
import { addMunicipalityCommand } from './municipality.ts';
import { addOperatorCommand } from './operator.ts';
import { addCardCommand } from './center-card.ts';
import { createMutualTlsClient } from '../drivers/http/client.ts';
import { base64Encode, isNationalHoliday, sha256Hex, systemClock, systemRandom, systemTimers } from './deps.ts';
import type { Factory } from './factory.ts';
import { tallyRefusals } from '../core/refusal-tally.ts';
import { addExportSubcommand } from './export.ts';
import { startObservability, waitForShutdown, type Observability } from './serve.ts';
import { useServingJitPolicy } from '../drivers/jit-policy.ts';

const HEADER_STORE = RELAY_HEADERS.store;
const HEADER_KIOSK = RELAY_HEADERS.kiosk;

const kioskRegistries = new WeakMap<LoadedConfig, Map<string, { operatorId: string; storeId: string }>>();

/** The kiosks a copy of the deployment names, by id; made once per copy. */
function kioskRegistryOf(loaded: LoadedConfig): Map<string, { operatorId: string; storeId: string }> {
  let registry = kioskRegistries.get(loaded);
  if (registry === undefined) {
    registry = new Map(loaded.config.kiosks.map((kiosk) => [kiosk.kioskId, { operatorId: kiosk.operatorId, storeId: kiosk.storeId }]));
    kioskRegistries.set(loaded, registry);
  }
  return registry;
}

/** The relay's certificate names its operator (O) and role (OU=relay). */
function relayOperatorOf(request: IncomingRequest): string {
  const operatorId = request.peer.subject.O;
  if (!operatorId || request.peer.subject.OU !== 'relay') {
    throw new AppError('unauthorized', 'center.not_a_relay', 'only operator relays may call the centre');
  }
  return operatorId;
}

/** The relay's operator, and the kiosk the relay vouches for in its headers (registered with that operator). */
function callerOf(request: IncomingRequest, kiosks: KioskRegistry): CallerIdentity {
  const operatorId = relayOperatorOf(request);
  const storeId = request.headers[HEADER_STORE];
  const kioskId = request.headers[HEADER_KIOSK];
  if (!storeId || !kioskId) throw new AppError('input', 'center.no_kiosk', 'the relay did not name the kiosk');
  const caller = { operatorId, storeId, kioskId };
  assertRegisteredKiosk(kiosks, caller);
  return caller;
}

/** The real parts the centre's use cases take besides its database; the factory's, or the defaults. */
export interface CenterParts {
  clock?: Clock;
  random?: RandomSource;
  timers?: Timers;
  isHoliday?: HolidayLookup;
  /** In place of the PDF renderer and its worker pool: the simulation's, which finishes on virtual time. */
  renderCertificate?: CenterDependencies['renderCertificate'];
}

const MAX_RENDER_WORKERS = 16;

/**
 * CVS_ISSUE_RENDER_WORKERS: how many worker threads render certificates (0: each in the request's
 * own thread); unset, one fewer than the cores (drivers/pdf/render-pool.ts). Bun only: Node always
 * renders in its own thread. A value that is not 0 to 16 stops the centre (exit 2).
 */
export function renderWorkersFrom(environment: NodeJS.ProcessEnv): number | undefined {
  const text = environment.CVS_ISSUE_RENDER_WORKERS;
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,2}$/.test(text) || Number(text) > MAX_RENDER_WORKERS) {
    throw usageError(`CVS_ISSUE_RENDER_WORKERS "${text.slice(0, 12)}" must be a whole number from 0 to ${MAX_RENDER_WORKERS}`);
  }
  return Number(text);
}

/** The centre's use cases over its database: for the server, and for `center confirm`. */
/** The municipalities' own systems, when the deployment has the centre's back-end client certificate. */
function backendResidentsFor(loaded: LoadedConfig) {
  const tls = loaded.config.center.backendClientTls;
  if (tls === undefined) return undefined;
  return createBackendResidents({
    certificatePem: loaded.read(tls.certificateFile),
    keyPem: loaded.read(tls.keyFile),
    readCa: (caFile) => loaded.read(caFile),
    sharedCa: (caFile) => loaded.resolve(caFile) === loaded.resolve(loaded.config.center.tls.caFile),
  });
}

function centerServiceFor(loaded: LoadedConfig, db: Database, parts: Required<Pick<CenterParts, 'clock'>> & CenterParts, audit = openRoleAuditLog(db, loaded, loaded.config.center, auditOrigin('center'), parts.clock), renderCertificate = renderCertificatePdf, remote?: RemoteResidents) {
  const { clock } = parts;
  const config = loaded.config.center;
  return createCenterService({
    clock,
    audit,
    witness: { hasher: auditHasher, noteVerifierFor: noteVerifierFromKey },
    ownCheckpoint: (fromSize) => checkpointOffer(db, fromSize),
    random: parts.random ?? systemRandom,
    store: createCenterStore(db, audit),
    directory: createBuiltInDirectory(db, remote),
    verifier: createCardVerifier({
      caCertificatePem: loaded.read(config.jpkiCaFile),
      crlPem: loaded.read(config.jpkiCrlFile),
      // A newer CRL written to the same file is taken up within a minute, without a restart.
      freshCrl: () => loaded.read(config.jpkiCrlFile),
      onCrlProblem: (code) => audit.append({ kind: 'crl.ignored', data: { code } }),
    }),
    isHoliday: parts.isHoliday ?? isNationalHoliday,
    renderCertificate,
    sha256Hex,
    base64Encode,
  });
}

/** What the simulation (cmd/simulate.ts) puts in place of real drivers: seeded randomness, and a renderer on virtual time. */
export interface CenterDriverOverrides {
  random?: RandomSource;
  renderCertificate?: CenterDependencies['renderCertificate'];
}

export interface StartedCenter {
  server: RunningServer;
  /** Health and metrics (--metrics-listen), when asked for. */
  metricsUrl: string | undefined;
  /** The CRL from its distribution point, when the deployment names one (center.jpkiCrl). */
  crlFetcher: CrlFetcher | undefined;
  close(): Promise<void>;
}

/** The centre's request handler as a value, over its database: the TLS server is a thin adapter, and tests call it in process. */
export interface CenterHandler {
  handler: RequestHandler;
  db: Database;
  /** The centre's audit log, for what runs beside the handler (the CRL fetcher's problems). */
  audit: AuditLog;
  close(): void;
}

/**
 * `groupCommit` (what `center serve` runs with): the writes of one turn of the event loop are
 * committed together under one signed checkpoint, and each answer waits for its commit
 * (cmd/committed-handler.ts, docs/audit-log.md "Group commit").
 */
export function openCenterHandler(loaded: LoadedConfig, options: CenterParts & { log?: (line: string) => void; groupCommit?: boolean } = {}): CenterHandler {
  const config = loaded.config.center;
  const clock = options.clock ?? systemClock;
  const db = openCenterDatabase(centerDatabase(loaded));
  const audit = openRoleAuditLog(db, loaded, config, auditOrigin('center'), clock, { groupCommit: options.groupCommit });
  // Certificates are rendered in worker threads where the runtime allows (drivers/pdf/render-pool.ts).
  const renderer = options.renderCertificate ? { render: options.renderCertificate, close: async () => undefined } : createCertificateRenderer({ workers: renderWorkersFrom(process.env) });
  // Each copy carries a statement the centre signs, and its QR code (docs/documents.md); the
  // simulation's renderer writes stand-in files without the blanks.
  const documentSigner = noteSignerFor(DOCUMENT_KEY_NAME, loaded.read(config.auditKeyFile), 'ed25519');
  const render = options.renderCertificate ?? (async (content: CertificateContent) => sealCertificateCopies(await renderer.render(content), content, documentSigner));
  const deployment = reloadingDeployment(loaded);
  // Made at the first back end's resident: its client certificate may come after the centre started.
  let backends: ReturnType<typeof backendResidentsFor>;
  const remote: RemoteResidents = {
    find(municipality, residentId) {
      backends ??= backendResidentsFor(deployment.current) ?? backendResidentsFor(deployment.refreshed());
      if (backends === undefined) throw new AppError('refused', 'municipality.backend_unavailable', 'the centre has no client certificate for municipalities\' systems');
      return backends.find(municipality, residentId);
    },
  };
  const service = centerServiceFor(loaded, db, { ...options, clock }, audit, render, remote);
  const municipalities = createBuiltInDirectory(db);
  /**
   * C§16, Spec§10: an inquiry goes on to the municipality's own system when it has one, and the
   * municipality's word comes back whenever the operator asks. A back end that does not answer
   * leaves the inquiry as it stands, to be passed on at the next ask.
   */
  async function passInquiryOn(inquiryId: string): Promise<void> {
    const state = findInquiry(db, inquiryId);
    const municipality = state && municipalities.findMunicipality(state.municipalityCode);
    if (state === undefined || municipality?.backend === undefined || state.status === 'closed') return;
    backends ??= backendResidentsFor(deployment.current) ?? backendResidentsFor(deployment.refreshed());
    if (backends === undefined) return;
    const nowIso = () => formatUtcIso(clock.nowMs());
    try {
      if (state.status === 'received') {
        await backends.deliverInquiry(municipality, { inquiryId, municipalityCode: state.municipalityCode, requestId: state.requestId, summary: state.summary, receivedAt: state.receivedAt });
        answerInquiry(db, audit, inquiryId, 'forwarded', state.answer, nowIso());
      }
      const word = await backends.inquiryStatus(municipality, inquiryId);
      const now = findInquiry(db, inquiryId)!;
      if (word !== undefined && (word.status !== now.status || word.answer !== now.answer)) answerInquiry(db, audit, inquiryId, word.status, word.answer, nowIso());
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      log(`inquiry ${inquiryId}: the municipality's system did not take it (${error.code}); passed on at the next ask`);
    }
  }
  const log = options.log ?? (() => undefined);
  const centerVerifier = noteVerifierFromKey(config.auditVerifierKey);
  /** Kept beside the centre's own log, so exports and verify --witness-key carry the relays' word. */
  function keepRelayCosignature(operatorId: string, body: unknown): { kept: boolean } {
    const relayOf = (current: LoadedConfig) => current.config.relays.find((relay) => relay.operatorId === operatorId);
    const relayKey = (relayOf(deployment.current) ?? relayOf(deployment.refreshed()))?.auditVerifierKey;
    if (!relayKey) throw new AppError('unauthorized', 'center.operator_unknown', 'the operator is not registered at the centre');
    const note = stringField(asObject(body, 'body'), 'note', /^[\s\S]{1,4000}$/);
    const cosigned = checkCosignedNote(note, centerVerifier, noteVerifierFromKey(cosignatureKeyForVerifierKey(relayKey)), (size) => checkpointAtSize(db, size)?.note);
    const kept = audit.transaction((saved: boolean) => (saved ? [{ kind: 'cosignature.received', data: { witness: cosigned.witness, size: cosigned.size, timestamp: cosigned.timestamp } }] : []), () =>
      saveCosignature(db, cosigned, formatUtcIso(clock.nowMs())),
    );
    return { kept };
  }
  // The kiosks of an operator that joined since start-up are found in the deployment file at their first request.
  const kiosks: KioskRegistry = { get: (kioskId) => kioskRegistryOf(deployment.current).get(kioskId) ?? kioskRegistryOf(deployment.refreshed()).get(kioskId) };
  const routes = jsonHandler(
    {
      [KIOSK_PATHS.challenge]: (body, request) => service.issueChallenge(callerOf(request, kiosks), parseChallengeRequest(body)),
      [KIOSK_PATHS.authenticate]: (body, request) => service.authenticate(callerOf(request, kiosks), parseAuthenticateRequest(body)),
      [KIOSK_PATHS.certificates]: (body, request) => service.requestCertificate(callerOf(request, kiosks), parseCertificateRequest(body)),
      [KIOSK_PATHS.completions]: (body, request) => service.recordCompletion(callerOf(request, kiosks), parseCompletionNotice(body)),
      [KIOSK_PATHS.corrections]: (body, request) => service.recordCorrection(callerOf(request, kiosks), parseCorrectionNotice(body)),
      [KIOSK_PATHS.notices]: (body, request) => service.currentNotices(callerOf(request, kiosks), parseChallengeRequest(body)),
      [RELAY_HEARTBEAT_PATH]: (body, request) => service.witnessRelay(relayOperatorOf(request), parseRelayHeartbeat(body)),
      [RELAY_COSIGNATURE_PATH]: (body, request) => keepRelayCosignature(relayOperatorOf(request), body),
      [SETTLEMENT_CONFIRM_PATH]: (body, request) => service.submitReconciliation(relayOperatorOf(request), parseSettlementSubmission(body)),
      [INQUIRY_PATH]: async (body, request) => {
        const operatorId = relayOperatorOf(request);
        const received = service.receiveInquiry(operatorId, parseInquiry(body, operatorId));
        await passInquiryOn(received.inquiryId);
        return { ...received, status: service.inquiryStatus(operatorId, received.inquiryId).status };
      },
      [INQUIRY_STATUS_PATH]: async (body, request) => {
        const operatorId = relayOperatorOf(request);
        const inquiryId = stringField(asObject(body, 'body'), 'inquiryId', /^[0-9a-f]{32}$/);
        service.inquiryStatus(operatorId, inquiryId); // this operator's, or refused before anyone is asked
        await passInquiryOn(inquiryId);
        return service.inquiryStatus(operatorId, inquiryId);
      },
      [INCIDENT_PATH]: (body, request) => {
        const operatorId = relayOperatorOf(request);
        return service.receiveIncident(operatorId, parseIncidentReport(body, operatorId));
      },
      [OPERATOR_NOTICE_PATH]: (body, request) => {
        const operatorId = relayOperatorOf(request);
        return service.receiveOperatorNotice(operatorId, parseOperatorNotice(body, operatorId));
      },
      [SETTLEMENT_SUPPLY_PATH]: (body, request) => {
        const operatorId = relayOperatorOf(request);
        const record = parseSuppliedRecord(body, operatorId);
        return service.supplyRecord(operatorId, { ...record, issuedAt: formatUtcIso(parseIsoInstant(record.issuedAt)!) });
      },
    },
    (code, path) => log(`center: ${path} refused: ${code}`),
  );
  return {
    handler: options.groupCommit ? answerWhenCommitted(routes, audit) : routes,
    db,
    audit,
    close: () => {
      void renderer.close();
      void backends?.close();
      audit.flushGroupNow();
      db.close();
    },
  };
}

export async function startCenter(loaded: LoadedConfig, options: CenterParts & { listen?: string; metricsListen?: string; log?: (line: string) => void }): Promise<StartedCenter> {
  const config = loaded.config.center;
  const log = options.log ?? (() => undefined);
  const opened = openCenterHandler(loaded, { ...options, groupCommit: true });
  const { handler, db } = opened;
  const { host, port } = parseListen(options.listen ?? config.listen, 'center.listen');
  const startedAtMs = Date.now();
  let observability: Observability;
  try {
    observability = await startObservability({
      role: 'center',
      listen: options.metricsListen,
      mainAddress: { host, port },
      knownPaths: [...RELAYED_PATHS, RELAY_HEARTBEAT_PATH, RELAY_COSIGNATURE_PATH, SETTLEMENT_CONFIRM_PATH, SETTLEMENT_SUPPLY_PATH, OPERATOR_NOTICE_PATH, INCIDENT_PATH, INQUIRY_PATH, INQUIRY_STATUS_PATH],
      auditEntries: () => logSize(db),
      health: () => ({ role: 'center', auditEntries: logSize(db), uptimeSeconds: Math.round((Date.now() - startedAtMs) / 1000) }),
    });
  } catch (error) {
    opened.close();
    throw error;
  }
  const refusals = tallyRefusals({
    timers: options.timers ?? systemTimers,
    report: ({ reason, count, peers }) => log(`center: TLS connection refused: ${reason}${count > 1 ? ` (${count} more from ${peers} address${peers === 1 ? '' : 'es'} in the last minute)` : ''}`),
  });
  let server: RunningServer;
  try {
    // node:http and node:tls are loaded for a server only: the other subcommands and --help skip them.
    const { startMutualTlsServer } = await import('../drivers/http/server.ts');
    server = await startMutualTlsServer({
      host,
      port,
      keyPem: loaded.read(config.tls.keyFile),
      certificatePem: loaded.read(config.tls.certificateFile),
      clientCaPem: loaded.read(config.tls.caFile),
      handler: observability.timed(handler),
      maxBodyBytes: 64 * 1024,
      // The centre's clients are relays, one certificate per operator, each relay process keeping
      // up to 8 connections and an operator possibly running several processes with it.
      maxConnectionsPerCertificate: 256,
      onTlsError: (reason, remoteAddress) => {
        refusals.note(reason, remoteAddress);
        observability.refused(reason);
      },
    });
  } catch (error) {
    refusals.close();
    await observability.close();
    opened.close();
    throw error;
  }
  const crlFetcher = config.jpkiCrl === undefined ? undefined : startCrlFetcherFor(loaded, config.jpkiCrl, opened.audit, options.timers ?? systemTimers, log);
  let closing: Promise<void> | undefined;
  return {
    server,
    metricsUrl: observability.url,
    crlFetcher,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await crlFetcher?.close();
        await observability.close();
        refusals.close();
        opened.close();
      })()),
  };
}

/** The CRL from its distribution point (cmd/crl-fetch.ts), over server-authenticated HTTPS. */
function startCrlFetcherFor(loaded: LoadedConfig, source: CrlSourceConfig, audit: AuditLog, timers: Timers, log: (line: string) => void): CrlFetcher {
  const url = new URL(source.url);
  const client = createMutualTlsClient({ baseUrl: url.origin, caPem: loaded.read(source.caFile), certificatePem: '', keyPem: '', timeoutMs: 30_000, maxResponseBytes: 16 * 1024 * 1024 });
  return startCrlFetcher({
    client,
    path: `${url.pathname}${url.search}`,
    crlFile: loaded.resolve(loaded.config.center.jpkiCrlFile),
    caCertificatePem: loaded.read(loaded.config.center.jpkiCaFile),
    timers,
    ...(source.intervalSeconds === undefined ? {} : { intervalMs: source.intervalSeconds * 1000 }),
    onProblem: (code: string) => {
      try {
        audit.append({ kind: 'crl.ignored', data: { code } });
      } catch (error) {
        // The store out of reach too (a PostgreSQL server down): said here, never a crash of the
        // fetcher's timer; the problem is found again at the next fetch.
        log(`center: CRL problem ${code} could not be audited: ${error instanceof AppError ? error.code : 'internal'}`);
      }
    },
  });
}

/** What the centre's records say of a printed copy's serial (center serial, verify-document --dir). */
export function serialStatusAt(loaded: LoadedConfig, serial: string): SerialAnswer {
  return serialStatusesAt(loaded, [serial])[0]!;
}

/**
 * The same for several serials, over one opening of the centre's database (the demo's printed
 * copies); read-only, so neither write access nor the audit key is needed.
 */
export function serialStatusesAt(loaded: LoadedConfig, serials: readonly string[]): SerialAnswer[] {
  const location = centerDatabase(loaded);
  if (!databaseExists(location)) throw new AppError('input', 'store.missing', "the centre's database is not there", location);
  return withDatabase(
    location,
    (db) => {
      requireCurrentSchema(db, 'center', CENTER_MIGRATIONS);
      const lookups = centerSerialLookups(db);
      return serials.map((serial) => serialStatusFrom(lookups, serial));
    },
    { readonly: true },
  );
}

/** The verifier key of the centre's document statements (docs/documents.md), from its audit verifier key. */
export function documentVerifierKeyOf(loaded: LoadedConfig): string {
  return renamedVerifierKey(loaded.config.center.auditVerifierKey, DOCUMENT_KEY_NAME);
}

export function makeCenterCommand(factory: Factory): Command {
  const { io } = factory;
  const parts = { random: factory.random, timers: factory.timers, isHoliday: factory.isHoliday };
  const center = new Command('center').description(COMMANDS.center.description);
  center
    .command('serve')
    .description('serve relays over mutual TLS until interrupted')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--listen <host:port>', 'listen address (port 0 picks a free port); default from the deployment')
    .option('--metrics-listen <host:port>', 'also serve GET /healthz and GET /metrics (Prometheus) over plain HTTP on this address, never on the mutual-TLS port')
    .option('--database <url>', "the centre's store on this PostgreSQL server (postgresql://…), instead of the deployment's databaseUrl or center.db; several centres may serve one database")
    .option('--json', 'once listening, print one JSON line: {"role","url","host","port","metricsUrl"}')
    .addHelpText('after', '\nExit codes: 0 stopped by SIGINT/SIGTERM, 1 unexpected failure, 2 bad flag, configuration or database (unreachable server included), or the address in use.')
    .action(async (options: { dir: string; listen?: string; metricsListen?: string; database?: string; json?: boolean }) => {
      const loaded = factory.deployment(options.dir);
      const deployment = options.database === undefined ? loaded : withCenterDatabaseUrl(loaded, parseDatabaseUrlFlag(options.database, '--database'));
      const started = await startCenter(deployment, { ...parts, listen: options.listen, metricsListen: options.metricsListen, clock: factory.checkedClock(), log: (line) => io.err(`${line}\n`) });
      const { url, host, port } = started.server;
      const metricsUrl = started.metricsUrl ?? null;
      // SIGTERM is handled before the ready line: a service manager may stop it as soon as it reads it.
      const stopped = waitForShutdown(() => started.close());
      useServingJitPolicy();
      io.out(options.json ? `${JSON.stringify({ role: 'center', url, host, port, metricsUrl })}\n` : `center listening on ${url}${metricsUrl ? `; health and metrics on ${metricsUrl}` : ''}\n`);
      await stopped;
    });
  addExportSubcommand(center, 'center', factory);
  center
    .command('confirm')
    .description("agree the month with what the operator submitted through its relay (Spec§4-3); refused, with the reason, when it has not or the totals differ")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--month <YYYY-MM>', 'the JST month')
    .requiredOption('--operator <id>', 'the operator whose month to confirm')
    .option('--json', 'print the confirmation as JSON')
    .addHelpText('after', '\nExit codes: 0 confirmed (or confirmed before), 2 refused: month not ended, future month, not submitted, totals differ.')
    .action((options: { dir: string; month: string; operator: string; json?: boolean }) => {
      if (!/^[0-9]{4}-(0[1-9]|1[0-2])$/.test(options.month)) throw usageError(`--month "${options.month}" is not YYYY-MM`);
      const loaded = factory.deployment(options.dir);
      const clock = factory.clock;
      const confirmation = withDatabase(centerDatabase(loaded), (db) => {
        migrate(db, 'center', CENTER_MIGRATIONS);
        return centerServiceFor(loaded, db, { ...parts, clock }).agreeMonth(options.operator, options.month);
      });
      if (options.json) io.out(`${JSON.stringify(confirmation, null, 2)}\n`);
      else io.out(`${confirmation.month} confirmed for ${confirmation.operatorId} at ${formatJstIso(Date.parse(confirmation.confirmedAt))}: ${confirmation.records} records, ${confirmation.documents} documents, ¥${confirmation.feesYen}\n`);
    });
  center
    .command('notice')
    .description('announce a maintenance window (the whole service) or a stop (one municipality); kiosks show it, the centre refuses service while it lasts')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--kind <kind>', 'maintenance (needs no --municipality) or stop (needs --municipality)')
    .requiredOption('--from <iso-time>', 'start, e.g. 2026-12-05T01:00:00+09:00')
    .requiredOption('--to <iso-time>', 'end (exclusive)')
    .option('--municipality <code>', 'the 6-digit municipality code a stop applies to')
    .requiredOption('--message <text>', 'what kiosk screens show (Japanese; no personal data)')
    .option('--json', 'print the announced notice as JSON')
    .addHelpText('after', '\nExit codes: 0 announced, 1 unexpected failure, 2 bad flag, municipality code, time or message.')
    .action((options: { dir: string; kind: string; from: string; to: string; municipality?: string; message: string; json?: boolean }) => {
      const notice = noticeFromOptions(options, factory.random);
      const loaded = factory.deployment(options.dir);
      const clock = factory.clock;
      withDatabase(centerDatabase(loaded), (db) => {
        migrate(db, 'center', CENTER_MIGRATIONS);
        announceNotice(db, openRoleAuditLog(db, loaded, loaded.config.center, auditOrigin('center'), clock), notice, formatUtcIso(clock.nowMs()));
      });
      if (options.json) {
        const { startsAtMs, endsAtMs, ...rest } = notice;
        io.out(`${JSON.stringify({ ...rest, startsAt: formatUtcIso(startsAtMs), endsAt: formatUtcIso(endsAtMs) }, null, 2)}\n`);
      } else io.out(`announced ${notice.kind} ${notice.noticeId}: ${formatJstIso(notice.startsAtMs)} to ${formatJstIso(notice.endsAtMs)}${notice.municipalityCode ? ` for ${notice.municipalityCode}` : ''}\n`);
    });
  addMunicipalityCommand(center, factory);
  addOperatorCommand(center, factory);
  addCardCommand(center, factory);
  center
    .command('handover')
    .description("what passes to J-LIS when an operator's contract ends (C§21): its records, the money owed both ways, and the items still open")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--operator <id>', 'the operator whose contract ends')
    .requiredOption('--out <dir>', 'a new or empty folder for records.csv and handover.json (owner-only)')
    .option('--as-of <date>', 'the day balances and late interest are reckoned to, YYYY-MM-DD (default: today, JST)')
    .option('--json', 'print handover.json as well')
    .addHelpText('after', '\nExit codes: 0 written, 2 bad flag, an unknown operator, a folder that is not empty, or no deployment.')
    .action((options: { dir: string; operator: string; out: string; asOf?: string; json?: boolean }) => {
      const handover = runHandover(options, factory);
      if (options.json) return io.out(`${JSON.stringify(handover, null, 2)}\n`);
      io.out(`${handover.records} record(s) of ${handover.months.length} month(s) written to ${options.out}; owed to J-LIS ¥${handover.owedToJlisYen}, to ${handover.operatorId} ¥${handover.owedToOperatorYen} as of ${handover.asOf}; ${handover.openItems.length} open item(s)\n`);
      for (const item of handover.openItems) io.out(`  ${item}\n`);
    });
  center
    .command('inquiries')
    .description("inquiries and complaints from the operators, routed to the municipality of the certificate (C§16, Spec§10), newest first")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--municipality <code>', "only this municipality's")
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExit codes: 0 listed (none is fine), 2 bad flag or no deployment.')
    .action((options: { dir: string; municipality?: string; json?: boolean }) => {
      const loaded = factory.deployment(options.dir);
      const inquiries = withDatabase(centerDatabase(loaded), (db) => {
        migrate(db, 'center', CENTER_MIGRATIONS);
        return listInquiries(db, options.municipality);
      });
      if (options.json) return io.out(`${JSON.stringify({ inquiries }, null, 2)}\n`);
      if (inquiries.length === 0) return io.out('no inquiries\n');
      for (const inquiry of inquiries) io.out(`${inquiry.inquiryId} ${inquiry.municipalityCode} ${inquiry.status} ${inquiry.operatorId} request ${inquiry.requestId} (${inquiry.receivedAt}): ${inquiry.summary}${inquiry.answer ? ` — ${inquiry.answer}` : ''}\n`);
    });
  center
    .command('answer-inquiry')
    .description("record the municipality's handling of an inquiry (C§16: the municipality deals with the resident); the operator sees it with relay inquiry --status")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--inquiry <id>', 'the inquiry')
    .requiredOption('--status <status>', ANSWER_STATUSES.join(', '))
    .requiredOption('--note <text>', `what was done, 1 to ${MAX_INQUIRY_TEXT_LENGTH} characters; never the resident's details`)
    .option('--json', 'print the inquiry as JSON')
    .addHelpText('after', '\nExit codes: 0 recorded, 2 bad flag or no such inquiry.')
    .action((options: { dir: string; inquiry: string; status: string; note: string; json?: boolean }) => {
      if (!ANSWER_STATUSES.includes(options.status as InquiryStatus)) throw usageError(`--status must be one of ${ANSWER_STATUSES.join(', ')}`, '--status');
      const note = options.note.trim();
      if (note === '' || options.note.length > MAX_INQUIRY_TEXT_LENGTH) throw usageError(`--note must be 1 to ${MAX_INQUIRY_TEXT_LENGTH} characters`, '--note');
      const loaded = factory.deployment(options.dir);
      const db = openCenterDatabase(centerDatabase(loaded));
      try {
        const audit = openRoleAuditLog(db, loaded, loaded.config.center, auditOrigin('center'), factory.clock);
        const answered = answerInquiry(db, audit, options.inquiry, options.status as InquiryStatus, note, formatUtcIso(factory.clock.nowMs()));
        if (!answered) throw usageError(`no inquiry ${options.inquiry}`, '--inquiry');
        io.out(options.json ? `${JSON.stringify(answered, null, 2)}\n` : `inquiry ${answered.inquiryId}: ${answered.status}\n`);
      } finally {
        db.close();
      }
    });
  center
    .command('incidents')
    .description("the operators' accident reports (C§15): each incident's latest report, newest first")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExit codes: 0 listed (none is fine), 2 bad flag or no deployment.')
    .action((options: { dir: string; json?: boolean }) => {
      const loaded = factory.deployment(options.dir);
      const incidents = withDatabase(centerDatabase(loaded), (db) => {
        migrate(db, 'center', CENTER_MIGRATIONS);
        return incidentSummaries(db);
      });
      if (options.json) return io.out(`${JSON.stringify({ incidents }, null, 2)}\n`);
      if (incidents.length === 0) return io.out('no incidents reported\n');
      for (const incident of incidents) {
        io.out(`${incident.incidentId} ${incident.operatorId} ${incident.kind} ${incident.status} (report ${incident.sequence}, opened ${incident.openedAt}, last ${incident.updatedAt})${incident.kioskId ? ` kiosk ${incident.kioskId}` : ''}${incident.requestId ? ` request ${incident.requestId}` : ''}: ${incident.summary}\n`);
      }
    });
  center
    .command('document-key')
    .description("print the verifier key of the statements the centre signs on each certificate copy, for verify-document --key (docs/documents.md)")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .addHelpText('after', '\nExit codes: 0 printed, 2 bad flag or deployment, 1 unexpected failure.')
    .action((options: { dir: string }) => {
      io.out(`${documentVerifierKeyOf(factory.deployment(options.dir))}\n`);
    });
  center
    .command('serial')
    .description('what the centre knows of a printed copy by its serial (C§9): issued, void after a misprint, refunded, no notice yet, or unknown')
    .argument('<serial>', 'the 証明書番号 a copy shows at its top right: <request id>-<copy>')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--json', 'print the answer as JSON: {"serial","status","requestId","copy","copies","kioskId","code","voidedAt"}')
    .addHelpText('after', '\nExit codes: 0 issued (not voided), 3 void, refunded, no completion notice yet or unknown, 2 not a serial or bad flag, 1 unexpected failure.')
    .action((serial: string, options: { dir: string; json?: boolean }) => {
      if (parseCertificateSerial(serial) === undefined) throw usageError(`"${serial}" is not a serial (<request id>-<copy>)`, 'SERIAL');
      const answer = serialStatusAt(factory.deployment(options.dir), serial);
      if (options.json) io.out(`${JSON.stringify(answer, null, 2)}\n`);
      else io.out(`${describeSerial(answer)}\n`);
      if (answer.status !== 'issued') throw new AppError('differences', 'serial.not_issued', `the serial is ${answer.status}`, serial);
    });
  return center;
}

function describeSerial(answer: SerialAnswer): string {
  const copy = answer.copy === undefined ? '' : ` (copy ${answer.copy} of ${answer.copies}, request ${answer.requestId}, kiosk ${answer.kioskId})`;
  switch (answer.status) {
    case 'void':
      return `${answer.serial}: void 返金済・無効 after ${answer.code} at ${formatJstIso(Date.parse(answer.voidedAt!))}${copy}`;
    case 'issued':
      return `${answer.serial}: issued${copy}`;
    case 'refunded':
      return `${answer.serial}: refunded before printing, no valid copy exists${copy}`;
    case 'unconfirmed':
      return `${answer.serial}: certificate data issued, no completion notice yet${copy}`;
    case 'unknown':
      return `${answer.serial}: unknown to the centre`;
  }
}

function noticeFromOptions(options: { kind: string; from: string; to: string; municipality?: string; message: string }, random: RandomSource): ServiceNotice {
  const proposal = { kind: options.kind, startsAtMs: parseIsoInstant(options.from), endsAtMs: parseIsoInstant(options.to), municipalityCode: options.municipality, message: options.message };
  return serviceNoticeFrom(proposal, hexEncode(random.bytes(8)), { kind: '--kind', from: '--from', to: '--to', municipality: '--municipality', message: '--message' });
}
