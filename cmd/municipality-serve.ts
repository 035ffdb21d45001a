// `cvs-issue municipality serve`: the reference back end of one municipality
// (docs/municipality-backend.md). It keeps that municipality's residents in a file of its own,
// answers the centre's requests for one of them over mutual TLS, and answers nothing to anyone but
// the centre's back-end client. Real municipalities run their own systems behind the same contract.

import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { AppError, usageError } from '../core/errors.ts';
import { asObject, stringField } from '../core/messages.ts';
import { isValidMunicipalityCode } from '../core/municipality.ts';
import { parseResidentRecord, type Resident } from '../core/resident.ts';
import { jsonHandler } from '../drivers/http/json-api.ts';
import { startMutualTlsServer, type IncomingRequest, type RunningServer } from '../drivers/http/server.ts';
import { BACKEND_INQUIRY_PATH, BACKEND_INQUIRY_STATUS_PATH, BACKEND_RESIDENT_PATH } from '../drivers/municipality/backend-client.ts';
import { openDatabase, type Database } from '../drivers/store/database.ts';
import { migrate } from '../drivers/store/migrate.ts';
import { MUNICIPALITY_MIGRATIONS } from '../drivers/store/schema.ts';
import { COMMANDS } from './commands.ts';
import { parseListen, type LoadedConfig } from './config.ts';
import type { Factory } from './factory.ts';
import { referenceBackendFiles } from './municipality-backend.ts';
import { waitForShutdown } from './serve.ts';

/** The residents file: a JSON array of resident records of this municipality, each checked as the centre checks an answer. */
export function readBackendResidents(file: string, code: string): Map<string, Resident> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AppError('input', 'backend.bad_residents', (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'cannot read the file' : 'not valid JSON', file);
  }
  if (!Array.isArray(parsed)) throw new AppError('input', 'backend.bad_residents', 'expected a JSON array of resident records', file);
  const residents = new Map<string, Resident>();
  parsed.forEach((value, index) => {
    let resident: Resident;
    try {
      resident = parseResidentRecord(value);
    } catch (error) {
      throw new AppError('input', 'backend.bad_residents', error instanceof AppError ? error.message : 'not a resident record', `${file}: [${index}]`);
    }
    if (resident.municipalityCode !== code) throw new AppError('input', 'backend.bad_residents', `a resident of ${resident.municipalityCode}, not of ${code}`, `${file}: [${index}].municipalityCode`);
    if (residents.has(resident.residentId)) throw new AppError('input', 'backend.bad_residents', 'this residentId is there twice', `${file}: [${index}].residentId`);
    residents.set(resident.residentId, resident);
  });
  return residents;
}

/** Only the centre's back-end client may ask (its certificate from the centre CA, OU=center). */
function assertCentre(request: IncomingRequest): void {
  if (request.peer.subject.OU !== 'center' || request.peer.subject.CN !== 'center.backend-client') {
    throw new AppError('unauthorized', 'backend.not_the_centre', 'only the centre may ask this system');
  }
}

/** The reference back end's own database: the inquiries J-LIS passed on (owner-only, WAL, as every store). */
export function backendDatabaseFile(loaded: LoadedConfig, code: string): string {
  return loaded.resolve(`municipalities/${code}.db`);
}

export function openBackendDatabase(loaded: LoadedConfig, code: string, options: { mustExist?: boolean } = {}): Database {
  const file = backendDatabaseFile(loaded, code);
  // `municipality inquiries` and `answer` read what `serve` kept: they make no database of their own.
  if (options.mustExist && !fs.existsSync(file)) throw usageError(`no back end of ${code} has run in this deployment (municipality serve)`, '--code');
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = openDatabase(file);
  migrate(db, 'municipality', MUNICIPALITY_MIGRATIONS);
  return db;
}

interface InquiryRow {
  inquiry_id: string;
  request_id: string;
  summary: string;
  received_at: string;
  status: 'forwarded' | 'answered' | 'closed';
  answer: string | null;
  updated_at: string;
}

export function listBackendInquiries(db: Database): InquiryRow[] {
  return db.all<InquiryRow>('SELECT * FROM inquiries ORDER BY received_at DESC, inquiry_id');
}

/** An inquiry J-LIS passes on, kept once: the same again is a duplicate, another under its id a conflict. */
function keepInquiry(db: Database, body: Record<string, unknown>, nowIso: string): { inquiryId: string; duplicate: boolean } {
  const inquiryId = stringField(body, 'inquiryId', /^[0-9a-f]{32}$/);
  const requestId = stringField(body, 'requestId', /^[A-Za-z0-9._-]{1,64}$/);
  const summary = stringField(body, 'summary', /^[\s\S]{1,400}$/);
  const receivedAt = stringField(body, 'receivedAt', /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/);
  const existing = db.get<InquiryRow>('SELECT * FROM inquiries WHERE inquiry_id = :inquiryId', { inquiryId });
  if (existing !== undefined) {
    if (existing.request_id !== requestId || existing.summary !== summary) throw new AppError('conflict', 'inquiry.conflict', 'another inquiry was passed on under this id');
    return { inquiryId, duplicate: true };
  }
  db.run("INSERT INTO inquiries (inquiry_id, request_id, summary, received_at, status, answer, updated_at) VALUES (:inquiryId, :requestId, :summary, :receivedAt, 'forwarded', NULL, :nowIso)", { inquiryId, requestId, summary, receivedAt, nowIso });
  return { inquiryId, duplicate: false };
}

export async function startMunicipalityBackend(loaded: LoadedConfig, options: { code: string; residents: Map<string, Resident>; listen: string; db: Database; nowIso?: () => string }): Promise<RunningServer> {
  const { host, port } = parseListen(options.listen, '--listen');
  const files = referenceBackendFiles(options.code);
  const nowIso = options.nowIso ?? (() => new Date().toISOString());
  const askedFor = (body: Record<string, unknown>) => {
    if (stringField(body, 'municipalityCode', /^\d{6}$/) !== options.code) throw new AppError('not-found', 'municipality.other', 'this system answers for another municipality');
  };
  const handler = jsonHandler({
    [BACKEND_INQUIRY_PATH]: (body, request) => {
      assertCentre(request);
      const asked = asObject(body, 'body');
      askedFor(asked);
      return keepInquiry(options.db, asked, nowIso());
    },
    [BACKEND_INQUIRY_STATUS_PATH]: (body, request) => {
      assertCentre(request);
      const asked = asObject(body, 'body');
      askedFor(asked);
      const row = options.db.get<InquiryRow>('SELECT * FROM inquiries WHERE inquiry_id = :inquiryId', { inquiryId: stringField(asked, 'inquiryId', /^[0-9a-f]{32}$/) });
      if (row === undefined) throw new AppError('not-found', 'inquiry.unknown', 'no such inquiry was passed on');
      return { inquiryId: row.inquiry_id, status: row.status, answer: row.answer };
    },
    [BACKEND_RESIDENT_PATH]: (body, request) => {
      assertCentre(request);
      const asked = asObject(body, 'body');
      const municipalityCode = stringField(asked, 'municipalityCode', /^\d{6}$/);
      const residentId = stringField(asked, 'residentId', /^[A-Za-z0-9_-]{1,40}$/);
      const resident = municipalityCode === options.code ? options.residents.get(residentId) : undefined;
      if (resident === undefined) throw new AppError('not-found', 'resident.unknown', 'no such resident of this municipality');
      return { resident };
    },
  });
  return startMutualTlsServer({
    host,
    port,
    keyPem: loaded.read(files.keyFile),
    certificatePem: loaded.read(files.certificateFile),
    clientCaPem: loaded.read(loaded.config.center.tls.caFile),
    handler,
    maxBodyBytes: 4 * 1024,
  });
}

export function makeMunicipalityCommand(factory: Factory): Command {
  const { io } = factory;
  const municipality = new Command('municipality').description(COMMANDS.municipality.description);
  municipality
    .command('serve')
    .description("answer the centre for one municipality's residents over mutual TLS, from a file of its own (the reference back end)")
    .requiredOption('--dir <dir>', 'deployment directory (its centre CA, and the back end certificate `center municipality add --backend-url` made)')
    .requiredOption('--code <code>', 'the municipality, e.g. 062014')
    .requiredOption('--residents <file>', 'its residents: a JSON array of resident records (docs/municipality-backend.md)')
    .option('--listen <host:port>', 'listen address (port 0 picks a free port)', '127.0.0.1:0')
    .option('--json', 'once listening, print one JSON line: {"role","code","url","host","port","residents"}')
    .addHelpText('after', '\nExit codes: 0 stopped by SIGINT/SIGTERM, 2 bad flag, residents file or deployment (no back end certificate: run center municipality add|update --backend-url first), or the address in use, 1 unexpected failure.')
    .action(async (options: { dir: string; code: string; residents: string; listen: string; json?: boolean }) => {
      if (!isValidMunicipalityCode(options.code)) throw usageError(`"${options.code.slice(0, 12)}" is not a 6-digit municipality code with a valid check digit`, '--code');
      const loaded = factory.deployment(options.dir);
      const residents = readBackendResidents(options.residents, options.code);
      const db = openBackendDatabase(loaded, options.code);
      const server = await startMunicipalityBackend(loaded, { code: options.code, residents, listen: options.listen, db, nowIso: () => new Date(factory.clock.nowMs()).toISOString() });
      const stopped = waitForShutdown(async () => {
        await server.close();
        db.close();
      });
      io.out(options.json ? `${JSON.stringify({ role: 'municipality', code: options.code, url: server.url, host: server.host, port: server.port, residents: residents.size })}\n` : `municipality ${options.code} back end listening on ${server.url} with ${residents.size} residents\n`);
      await stopped;
    });
  municipality
    .command('inquiries')
    .description('the inquiries J-LIS passed on to this municipality (C§16), newest first, with how each was dealt with')
    .requiredOption('--dir <dir>', 'deployment directory')
    .requiredOption('--code <code>', 'the municipality')
    .option('--json', 'print { inquiries: [{ inquiryId, requestId, summary, receivedAt, status, answer, updatedAt }] }')
    .action((options: { dir: string; code: string; json?: boolean }) => {
      const db = openBackendDatabase(factory.deployment(options.dir), options.code, { mustExist: true });
      try {
        const inquiries = listBackendInquiries(db).map((row) => ({ inquiryId: row.inquiry_id, requestId: row.request_id, summary: row.summary, receivedAt: row.received_at, status: row.status, answer: row.answer, updatedAt: row.updated_at }));
        if (options.json) return io.out(`${JSON.stringify({ inquiries }, null, 2)}\n`);
        if (inquiries.length === 0) return io.out('no inquiries\n');
        for (const inquiry of inquiries) io.out(`${inquiry.inquiryId} ${inquiry.status} request ${inquiry.requestId} (${inquiry.receivedAt}): ${inquiry.summary}${inquiry.answer ? ` — ${inquiry.answer}` : ''}\n`);
      } finally {
        db.close();
      }
    });
  municipality
    .command('answer')
    .description("say how the municipality dealt with an inquiry (C§16: it deals with the resident); J-LIS passes it back to the operator when asked")
    .requiredOption('--dir <dir>', 'deployment directory')
    .requiredOption('--code <code>', 'the municipality')
    .requiredOption('--inquiry <id>', 'the inquiry')
    .requiredOption('--status <status>', 'answered (the resident was dealt with) or closed (nothing more to do)')
    .requiredOption('--answer <text>', 'what was done, 1 to 400 characters; never the resident\'s details')
    .addHelpText('after', '\nExit codes: 0 recorded, 2 bad flag or no such inquiry.')
    .action((options: { dir: string; code: string; inquiry: string; status: string; answer: string }) => {
      if (options.status !== 'answered' && options.status !== 'closed') throw usageError('--status must be answered or closed', '--status');
      const answer = options.answer.trim();
      if (answer === '' || options.answer.length > 400) throw usageError('--answer must be 1 to 400 characters', '--answer');
      const db = openBackendDatabase(factory.deployment(options.dir), options.code, { mustExist: true });
      try {
        const changed = db.run('UPDATE inquiries SET status = :status, answer = :answer, updated_at = :nowIso WHERE inquiry_id = :inquiryId', { status: options.status, answer, nowIso: new Date(factory.clock.nowMs()).toISOString(), inquiryId: options.inquiry }).changes;
        if (changed === 0) throw usageError(`no inquiry ${options.inquiry.slice(0, 40)} was passed on to ${options.code}`, '--inquiry');
      } finally {
        db.close();
      }
      io.out(`inquiry ${options.inquiry} ${options.status}\n`);
    });
  return municipality;
}
