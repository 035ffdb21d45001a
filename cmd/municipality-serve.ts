// `cvs-issue municipality serve`: the reference back end of one municipality
// (docs/municipality-backend.md). It keeps that municipality's residents in a file of its own,
// answers the centre's requests for one of them over mutual TLS, and answers nothing to anyone but
// the centre's back-end client. Real municipalities run their own systems behind the same contract.

import fs from 'node:fs';
import { Command } from 'commander';
import { AppError, usageError } from '../core/errors.ts';
import { asObject, stringField } from '../core/messages.ts';
import { isValidMunicipalityCode } from '../core/municipality.ts';
import { parseResidentRecord, type Resident } from '../core/resident.ts';
import { jsonHandler } from '../drivers/http/json-api.ts';
import { startMutualTlsServer, type IncomingRequest, type RunningServer } from '../drivers/http/server.ts';
import { BACKEND_RESIDENT_PATH } from '../drivers/municipality/backend-client.ts';
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

export async function startMunicipalityBackend(loaded: LoadedConfig, options: { code: string; residents: Map<string, Resident>; listen: string }): Promise<RunningServer> {
  const { host, port } = parseListen(options.listen, '--listen');
  const files = referenceBackendFiles(options.code);
  const handler = jsonHandler({
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
      const server = await startMunicipalityBackend(loaded, { code: options.code, residents, listen: options.listen });
      const stopped = waitForShutdown(() => server.close());
      io.out(options.json ? `${JSON.stringify({ role: 'municipality', code: options.code, url: server.url, host: server.host, port: server.port, residents: residents.size })}\n` : `municipality ${options.code} back end listening on ${server.url} with ${residents.size} residents\n`);
      await stopped;
    });
  return municipality;
}
