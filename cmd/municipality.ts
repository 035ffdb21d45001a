// `center municipality add|update|list|suspend|resume` (C§23: a new municipality joins; C§22: the types it
// issues are its own): a municipality's definition (core/municipality.ts Municipality) in the
// centre's municipalities table, each change with its audit entry. The centre reads the table at
// every request, so a running centre serves a new municipality, or stops serving a suspended one,
// from the next request on.

import fs from 'node:fs';
import { Command } from 'commander';
import { CERTIFICATE_TYPES, isStandardCertificateType, parseOptionLimits } from '../core/certificate-types.ts';
import { AppError, usageError } from '../core/errors.ts';
import { DEFAULT_MAX_COPIES_PER_TYPE, isValidMunicipalityCode, offerDefinition, type CertificateOffer, type Municipality } from '../core/municipality.ts';
import { auditOrigin, type AuditLog } from '../drivers/store/audit-log.ts';
import { openCenterDatabase } from '../drivers/store/center-store.ts';
import type { Database } from '../drivers/store/database.ts';
import { centerDatabase, openRoleAuditLog, type LoadedConfig } from './config.ts';
import type { Factory } from './factory.ts';
import { offerFromRaw, type RawOffer } from './fixtures.ts';
import { backendFromFlags, type BackendFlags } from './municipality-backend.ts';

export function addMunicipalityCommand(center: Command, factory: Factory): void {
  const { io } = factory;
  const municipality = center.command('municipality').description('the municipalities the centre serves (C§22, C§23): join, update, list, suspend, resume');
  municipality
    .command('add')
    .description('let a new municipality join: its code, name, mayor and the certificates it issues at kiosks')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--code <code>', '全国地方公共団体コード, 6 digits with its check digit, e.g. 011002')
    .requiredOption('--name <name>', 'e.g. 北海道札幌市')
    .option('--mayor-title <title>', 'printed under each certificate (default: the name\'s city, ward, town or village with 長)')
    .option('--offer <type:fee>', `a certificate it issues and its fee in yen, e.g. juminhyo:300; repeat for each (${CERTIFICATE_TYPES.join(', ')})`, collect, [])
    .option('--offers-file <file>', 'the offers as JSON, with hours: [{ "type": "koseki-zenbu", "unitFeeYen": 450, "hours": { "start": "09:00", "end": "17:00", "weekdaysOnly": true, "closedOnHolidays": true } }]')
    .option('--max-copies <n>', `copies of one type in one transaction (default ${DEFAULT_MAX_COPIES_PER_TYPE})`)
    .option('--limit <type.option=values>', 'issue only these values of an option at kiosks, e.g. juminhyo.myNumber=omitted (no 住民票 with 個人番号); values separated by commas; repeat for each', collect, [])
    .option('--backend-url <url>', "its own system's address, https://HOST:PORT (docs/municipality-backend.md); without it the centre's resident table answers")
    .option('--backend-ca <file>', "the CA its system's certificate chains to (default: the centre CA, for this deployment's `municipality serve`)")
    .option('--json', 'print the definition as JSON')
    .addHelpText('after', '\nExit codes: 0 joined, 2 bad flag, a code with a wrong check digit, or a code already joined.')
    .action((options: { dir: string; code: string; name: string; mayorTitle?: string; offer: string[]; offersFile?: string; maxCopies?: string; limit: string[]; json?: boolean } & BackendFlags) => {
      if (!isValidMunicipalityCode(options.code)) throw usageError(`"${options.code.slice(0, 12)}" is not a 6-digit municipality code with a valid check digit`, '--code');
      const name = options.name.trim();
      const offers = withLimits([...options.offer.map(offerFromFlag), ...(options.offersFile ? offersFromFile(options.offersFile) : [])], options.limit);
      const definition = checkedDefinition({
        code: options.code,
        name,
        mayorTitle: options.mayorTitle?.trim() || mayorTitleOf(name),
        participating: true,
        maxCopiesPerType: options.maxCopies === undefined ? DEFAULT_MAX_COPIES_PER_TYPE : Number(options.maxCopies),
        offers,
      });
      withCentre(factory, options.dir, (db, audit, loaded) => {
        if (db.get('SELECT 1 AS found FROM municipalities WHERE code = :code', { code: definition.code })) throw usageError(`municipality ${definition.code} has joined already; use suspend or resume`, '--code');
        const backend = backendFromFlags(options, loaded, definition.code, factory.clock.nowMs());
        if (backend !== undefined) definition.backend = backend;
        audit.transaction([{ kind: 'municipality.joined', data: { municipalityCode: definition.code, count: offers.length } }], () =>
          db.run('INSERT INTO municipalities (code, definition) VALUES (:code, :definition)', { code: definition.code, definition: JSON.stringify(definition) }),
        );
      });
      io.out(options.json ? `${JSON.stringify(definition, null, 2)}\n` : `${definition.code} ${definition.name} joined with ${offers.map((offer) => `${offer.type} ¥${offer.unitFeeYen}`).join(', ')}\n`);
    });
  municipality
    .command('update')
    .description("change a municipality's name, mayor title, copy limit or offers (the offers given replace all of them)")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .requiredOption('--code <code>', 'the municipality')
    .option('--name <name>', 'its name')
    .option('--mayor-title <title>', 'printed under each certificate')
    .option('--offer <type:fee>', 'a certificate it issues and its fee in yen; repeat for each; replaces its offers', collect, [])
    .option('--offers-file <file>', 'offers with hours as JSON (see add); replaces its offers')
    .option('--max-copies <n>', 'copies of one type in one transaction')
    .option('--limit <type.option=values>', 'issue only these values of an option at kiosks, e.g. juminhyo.myNumber=omitted (no 住民票 with 個人番号); values separated by commas; repeat for each; replaces that type\'s limits', collect, [])
    .option('--backend-url <url>', "its own system's address, https://HOST:PORT (docs/municipality-backend.md)")
    .option('--backend-ca <file>', "the CA its system's certificate chains to (default: the centre CA, for this deployment's `municipality serve`)")
    .option('--json', 'print the definition as JSON')
    .addHelpText('after', '\nExit codes: 0 changed (also when nothing differed), 2 bad flag, no such municipality, or nothing to change.')
    .action((options: { dir: string; code: string; name?: string; mayorTitle?: string; offer: string[]; offersFile?: string; maxCopies?: string; limit: string[]; json?: boolean } & BackendFlags) => {
      const givenOffers = [...options.offer.map(offerFromFlag), ...(options.offersFile ? offersFromFile(options.offersFile) : [])];
      if (options.name === undefined && options.mayorTitle === undefined && givenOffers.length === 0 && options.maxCopies === undefined && options.backendUrl === undefined && options.limit.length === 0) {
        throw usageError('give what to change: --name, --mayor-title, --offer, --offers-file, --max-copies, --limit or --backend-url');
      }
      const updated = withCentre(factory, options.dir, (db, audit, loaded) => {
        const row = db.get<{ definition: string }>('SELECT definition FROM municipalities WHERE code = :code', { code: options.code });
        if (!row) throw usageError(`no municipality ${options.code.slice(0, 12)}`, '--code');
        const backend = backendFromFlags(options, loaded, options.code, factory.clock.nowMs());
        const definition = checkedDefinition({ ...(JSON.parse(row.definition) as Municipality), ...(options.name === undefined ? {} : { name: options.name.trim() }), ...(options.mayorTitle === undefined ? {} : { mayorTitle: options.mayorTitle.trim() }), offers: withLimits(givenOffers.length === 0 ? (JSON.parse(row.definition) as Municipality).offers : givenOffers, options.limit), ...(options.maxCopies === undefined ? {} : { maxCopiesPerType: Number(options.maxCopies) }), ...(backend === undefined ? {} : { backend }) });
        audit.transaction([{ kind: 'municipality.updated', data: { municipalityCode: definition.code, count: definition.offers.length } }], () =>
          db.run('UPDATE municipalities SET definition = :definition WHERE code = :code', { code: definition.code, definition: JSON.stringify(definition) }),
        );
        return definition;
      });
      io.out(options.json ? `${JSON.stringify(updated, null, 2)}\n` : `${updated.code} ${updated.name}: ${updated.offers.map((offer) => `${offer.type} ¥${offer.unitFeeYen}`).join(', ')}\n`);
    });
  municipality
    .command('list')
    .description('every municipality: code, name, whether it takes part, and the certificates it issues with their fees')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--json', 'print JSON: { municipalities: [{ code, name, participating, types: [{ type, unitFeeYen, hours }] }] }')
    .action((options: { dir: string; json?: boolean }) => {
      const municipalities = withCentre(factory, options.dir, (db) => db.all<{ definition: string }>('SELECT definition FROM municipalities ORDER BY code').map((row) => JSON.parse(row.definition) as Municipality));
      if (options.json) {
        const listed = municipalities.map((entry) => ({ code: entry.code, name: entry.name, mayorTitle: entry.mayorTitle, participating: entry.participating, maxCopiesPerType: entry.maxCopiesPerType, types: entry.offers, backend: entry.backend?.url ?? null }));
        return io.out(`${JSON.stringify({ municipalities: listed }, null, 2)}\n`);
      }
      for (const entry of municipalities) io.out(`${entry.code} ${entry.name}${entry.participating ? '' : ' (suspended)'}: ${entry.offers.map((offer) => `${offer.type} ¥${offer.unitFeeYen}`).join(', ')}\n`);
    });
  for (const [verb, participating, description] of [
    ['suspend', false, 'stop kiosk issuance for a municipality (it stays listed; residents are refused as not participating)'],
    ['resume', true, 'take a suspended municipality back into kiosk issuance'],
  ] as const) {
    municipality
      .command(verb)
      .description(description)
      .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
      .requiredOption('--code <code>', 'the municipality')
      .addHelpText('after', '\nExit codes: 0 done (also when it already was), 2 bad flag or no such municipality.')
      .action((options: { dir: string; code: string }) => {
        withCentre(factory, options.dir, (db, audit) => {
          const row = db.get<{ definition: string }>('SELECT definition FROM municipalities WHERE code = :code', { code: options.code });
          if (!row) throw usageError(`no municipality ${options.code.slice(0, 12)}`, '--code');
          const definition = JSON.parse(row.definition) as Municipality;
          if (definition.participating === participating) return;
          audit.transaction([{ kind: participating ? 'municipality.resumed' : 'municipality.suspended', data: { municipalityCode: options.code } }], () =>
            db.run('UPDATE municipalities SET definition = :definition WHERE code = :code', { code: options.code, definition: JSON.stringify({ ...definition, participating }) }),
          );
        });
        io.out(`${options.code} ${participating ? 'takes part again' : 'suspended'}\n`);
      });
  }
}

/** What add and update both refuse: a name or mayor title out of bounds, no offer or a repeated one, a copy limit out of 1–10. */
function checkedDefinition(definition: Municipality): Municipality {
  if (definition.name === '' || definition.name.length > 40) throw usageError('--name must be 1 to 40 characters', '--name');
  if (definition.mayorTitle === '' || definition.mayorTitle.length > 40) throw usageError('--mayor-title must be 1 to 40 characters', '--mayor-title');
  if (definition.offers.length === 0) throw usageError('give at least one --offer TYPE:FEE or --offers-file', '--offer');
  const types = definition.offers.map((offer) => offer.type);
  const repeated = types.find((type, index) => types.indexOf(type) !== index);
  if (repeated) throw usageError(`${repeated} is offered twice`, '--offer');
  if (!Number.isSafeInteger(definition.maxCopiesPerType) || definition.maxCopiesPerType < 1 || definition.maxCopiesPerType > 10) throw usageError('--max-copies must be a whole number from 1 to 10', '--max-copies');
  return definition;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function offerFromFlag(text: string): CertificateOffer {
  const match = /^([a-z-]+):(\d{1,6})$/.exec(text);
  if (!match || !isStandardCertificateType(match[1]!)) throw usageError(`--offer "${text.slice(0, 40)}" is not TYPE:FEE with a type of ${CERTIFICATE_TYPES.join(', ')} (a type of the municipality's own goes in --offers-file with its definition)`, '--offer');
  return { type: match[1]!, unitFeeYen: Number(match[2]) };
}

/** --limit TYPE.OPTION=V1,V2 onto the offers: each replaces that option's limit on that type. */
function withLimits(offers: CertificateOffer[], limits: string[]): CertificateOffer[] {
  for (const text of limits) {
    const match = /^([a-z][a-z0-9-]{0,31})\.([a-zA-Z][a-zA-Z0-9]{0,31})=([a-z0-9,-]{1,200})$/.exec(text);
    if (!match) throw usageError(`--limit "${text.slice(0, 40)}" is not TYPE.OPTION=VALUE[,VALUE…]`, '--limit');
    const offer = offers.find((entry) => entry.type === match[1]);
    if (!offer) throw usageError(`--limit names ${match[1]}, which is not offered`, '--limit');
    try {
      offer.limits = { ...offer.limits, ...parseOptionLimits({ [match[2]!]: match[3]!.split(',') }, offerDefinition(offer), '--limit') };
    } catch (error) {
      throw error instanceof AppError ? new AppError('usage', error.code, error.message, '--limit') : error;
    }
  }
  return offers;
}

function offersFromFile(file: string): CertificateOffer[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new AppError('usage', 'municipality.bad_offers', 'the offers file is missing or not JSON', file);
  }
  if (!Array.isArray(raw)) throw new AppError('usage', 'municipality.bad_offers', 'the offers file must be a JSON array', file);
  return raw.map((offer: RawOffer, index) => {
    try {
      return offerFromRaw(offer, `${file}: [${index}]`);
    } catch (error) {
      throw error instanceof AppError ? new AppError('usage', error.code, error.message, error.where) : error;
    }
  });
}

/** 北海道札幌市 → 札幌市長; 東京都千代田区 → 千代田区長. */
function mayorTitleOf(name: string): string {
  const local = name.replace(/^(北海道|東京都|京都府|大阪府|.{2,3}県)/, '').replace(/^.+郡/, '');
  return `${local || name}長`;
}

function withCentre<T>(factory: Factory, dir: string, work: (db: Database, audit: AuditLog, loaded: LoadedConfig) => T): T {
  const loaded = factory.deployment(dir);
  const db = openCenterDatabase(centerDatabase(loaded));
  try {
    return work(db, openRoleAuditLog(db, loaded, loaded.config.center, auditOrigin('center'), factory.clock), loaded);
  } finally {
    db.close();
  }
}
