// `cvs-issue init --dir DIR`: a ready deployment. Three PKIs (centre, each operator's store CA, the
// JPKI test authentication CA with its CRL), test cards for the fixture residents, the databases
// of every role, and the deployment file the serve/run commands read. `--kiosks N` and
// `--residents N` size it for load tests (bench/load.bench.ts).

import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { COMMANDS } from './commands.ts';
import { AppError, usageError } from '../core/errors.ts';
import { writeCardFile } from '../drivers/card/card-file.ts';
import { generateEd25519KeyPair } from '../drivers/pki/ed25519.ts';
import { canonicalSerialHex } from '../drivers/pki/serial.ts';
import { auditOrigin, verifierKeyForPrivateKey } from '../drivers/store/audit-log.ts';
import { certificateDerFromPem, createCertificateAuthority, createCrl, generateRsaKeyPem, generateRsaKeyPems, issueCertificate, type KeyAndCertificate, type RsaKeyPair } from '../drivers/pki/issue.ts';
import { randomBytes, X509Certificate } from 'node:crypto';
import { hashPassword } from '../drivers/crypto/password.ts';
import { openCenterDatabase, saveMunicipality, saveOperator, saveResident } from '../drivers/store/center-store.ts';
import { prepareEmptyPostgresDatabase, redactedUrl } from '../drivers/store/postgres-database.ts';
import { openKioskDatabase } from '../drivers/store/kiosk-store.ts';
import { openRelayDatabase, saveKiosk } from '../drivers/store/relay-store.ts';
import { CONFIG_FILE_NAME, CONFIG_VERSION, parseDatabaseUrlFlag, writeConfig, type AuditKeyConfig, type DeploymentConfig, type KioskConfig, type RelayConfig, type TlsFiles } from './config.ts';
import { fixtureMunicipalities, fixtureOperators, fixtureResidents, MAX_KIOSKS, MAX_SYNTHETIC_RESIDENTS, operatorsWithKiosks, syntheticResidents, type FixtureOperator, type FixtureResident } from './fixtures.ts';
import type { Factory } from './factory.ts';

export interface InitOptions {
  dir: string;
  force?: boolean;
  /** Listen addresses; demo and tests pass 127.0.0.1:0. */
  centerListen?: string;
  relayListen?: string;
  /** Kiosks of the first operator (default: the fixture's); each has its own certificate. */
  kiosks?: number;
  /** Synthetic residents with valid cards, beside the fixture residents (default: none). */
  residents?: number;
  /** The centre's store on this PostgreSQL server instead of center.db (docs/postgres.md). */
  centerDatabase?: string;
}

/** Where init takes each RSA key pair from; default: generated on the spot. */
export type KeySource = () => RsaKeyPair;

/** Throws a usage error unless `value` is a whole number from 1 to `max`. */
function checkCount(value: number, flag: string, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw usageError(`${flag} must be a whole number from 1 to ${max}`);
  return value;
}

/** A count flag as typed: digits only, so "1e3", "2.0", "-1" and " 4" are refused, not rounded. */
export function parseCountFlag(text: string, flag: '--kiosks' | '--residents'): number {
  const max = flag === '--kiosks' ? MAX_KIOSKS : MAX_SYNTHETIC_RESIDENTS;
  const value = /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= max)) throw usageError(`${flag} must be a whole number from 1 to ${max} (got "${text.slice(0, 20)}")`);
  return value;
}

interface Population {
  operators: FixtureOperator[];
  residents: FixtureResident[];
  syntheticCardIds: string[];
}

function population(options: InitOptions): Population {
  const kiosks = options.kiosks === undefined ? undefined : checkCount(options.kiosks, '--kiosks', MAX_KIOSKS);
  const syntheticCount = options.residents === undefined ? 0 : checkCount(options.residents, '--residents', MAX_SYNTHETIC_RESIDENTS);
  const operators = kiosks === undefined ? fixtureOperators() : operatorsWithKiosks(fixtureOperators(), kiosks);
  const synthetic = syntheticResidents(syntheticCount, fixtureMunicipalities());
  return { operators, residents: [...fixtureResidents(), ...synthetic], syntheticCardIds: synthetic.map(({ card }) => card.cardId) };
}

/** Key pairs a deployment needs: the centre CA and server, the JPKI CA, three per operator, one per kiosk and card. */
function keyPairsNeeded(people: Population): number {
  const kiosks = people.operators.reduce((sum, operator) => sum + operator.stores.reduce((inStore, store) => inStore + store.kiosks.length, 0), 0);
  return 3 + 3 * people.operators.length + kiosks + people.residents.length;
}

/**
 * Every key pair of the deployment generated up front on the thread pool (drivers/pki/issue.ts),
 * so `init --residents 1000` uses every core; init takes them in turn.
 */
export async function pregeneratedKeys(options: InitOptions): Promise<KeySource> {
  // Refused flags and an existing deployment fail now, not after minutes of key generation.
  existingMaterial(path.resolve(options.dir), Boolean(options.force));
  const pairs = await generateRsaKeyPems(keyPairsNeeded(population(options)));
  return () => pairs.pop() ?? generateRsaKeyPem();
}

const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_MS = 365 * DAY_MS;
/** The deployment's own material: what --force may remove, and nothing else. */
const GENERATED = [CONFIG_FILE_NAME, 'pki', 'cards', 'kiosks', 'prints', 'center.db', 'relay.db'];
export const SERVER_NAMES = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

export function writePrivate(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, content, { mode: 0o600 });
}

/** A deployment's material already in DIR, the evidence a person recognises first; throws without --force. */
function existingMaterial(dir: string, force: boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  const existing = fs.readdirSync(dir).filter((name) => GENERATED.includes(name) || /^relay-.+\.db(-wal|-shm)?$/.test(name) || /^(center|relay)\.db-(wal|shm)$/.test(name));
  // Name the evidence a person recognises: the configuration, then a database, then the rest.
  const rank = (name: string) => (name === 'cvs-issue.json' ? 0 : name.endsWith('.db') ? 1 : 2);
  existing.sort((left, right) => rank(left) - rank(right) || left.localeCompare(right));
  if (existing.length > 0 && !force) {
    throw new AppError('usage', 'init.exists', `a deployment is already there (${existing[0]}); use --force to replace it`, dir);
  }
  return existing;
}

function prepareDirectory(dir: string, force: boolean): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of existingMaterial(dir, force)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

export interface PkiWriter {
  save(relative: string, material: KeyAndCertificate): TlsFiles & { material: KeyAndCertificate };
}

export function pkiWriter(dir: string): PkiWriter {
  return {
    save(relative, material) {
      const keyFile = `${relative}.key.pem`;
      const certificateFile = `${relative}.cert.pem`;
      if (material.keyPem) writePrivate(path.join(dir, keyFile), material.keyPem);
      writePrivate(path.join(dir, certificateFile), material.certificatePem);
      return { keyFile, certificateFile, caFile: '', material };
    },
  };
}

/** A role's Ed25519 audit key, owner-only, and the verifier key the deployment publishes for it. */
function makeAuditKey(dir: string, origin: string, file: string): AuditKeyConfig {
  const keys = generateEd25519KeyPair();
  writePrivate(path.join(dir, file), keys.privateKeyPem);
  return { auditKeyFile: file, auditVerifierKey: verifierKeyForPrivateKey(origin, keys.privateKeyPem) };
}

export function validity(nowMs: number, kind: 'valid' | 'expired' | 'revoked' | 'authority'): { validFrom: Date; validTo: Date } {
  if (kind === 'authority') return { validFrom: new Date(nowMs - DAY_MS), validTo: new Date(nowMs + 10 * YEAR_MS) };
  if (kind === 'expired') return { validFrom: new Date(nowMs - 5 * YEAR_MS), validTo: new Date(nowMs - 30 * DAY_MS) };
  return { validFrom: new Date(nowMs - 30 * DAY_MS), validTo: new Date(nowMs + 5 * YEAR_MS) };
}

function serialOf(certificatePem: string): string {
  return canonicalSerialHex(new X509Certificate(certificatePem).serialNumber);
}

function makeCards(dir: string, nowMs: number, residents: FixtureResident[], keys: KeySource) {
  const jpki = createCertificateAuthority({ subject: { commonName: 'JPKI User Authentication CA (test)', organization: 'J-LIS test', country: 'JP' }, ...validity(nowMs, 'authority'), keyPair: keys() });
  const saved = pkiWriter(dir).save('pki/jpki/auth-ca', jpki);
  fs.mkdirSync(path.join(dir, 'cards'), { recursive: true, mode: 0o700 });
  const revoked: { serialHex: string; revokedAt: Date }[] = [];
  const serials = new Map<string, string>();
  for (const { resident, card } of residents) {
    const issued = issueCertificate(jpki, {
      subject: { commonName: `JPKI auth ${card.cardId}`, country: 'JP' },
      usage: 'card-auth',
      ...validity(nowMs, card.validity),
      keyPair: keys(),
    });
    const serialHex = serialOf(issued.certificatePem);
    serials.set(resident.residentId, serialHex);
    if (card.validity === 'revoked') revoked.push({ serialHex, revokedAt: new Date(nowMs - DAY_MS) });
    writeCardFile(path.join(dir, 'cards', `${card.cardId}.json`), {
      version: 1,
      cardId: card.cardId,
      kind: card.kind,
      authCertificateDerBase64: Buffer.from(certificateDerFromPem(issued.certificatePem)).toString('base64'),
      authPrivateKeyPem: issued.keyPem,
      pin: card.pin,
      pinTriesLeft: 3,
    });
  }
  const crl = createCrl(jpki, { revoked, thisUpdate: new Date(nowMs - 60 * 60 * 1000), nextUpdate: new Date(nowMs + 90 * DAY_MS), crlNumber: 1 });
  writePrivate(path.join(dir, 'pki/jpki/auth.crl.pem'), crl);
  return { caFile: saved.certificateFile, crlFile: 'pki/jpki/auth.crl.pem', serials };
}

/**
 * An operator's PKI and configuration (C§24): its relay's client certificate from the centre's
 * CA, its own store CA, the relay's server certificate and each kiosk's from that CA, and the
 * audit keys; `init` makes the fixture operators with it, `center operator add` a joining one.
 */
export function makeOperator(dir: string, nowMs: number, centerCa: KeyAndCertificate, centerCaFile: string, operator: FixtureOperator, where: { listen: string; databaseFile: string }, keys: KeySource) {
  const pki = pkiWriter(dir);
  const base = `pki/operators/${operator.operatorId}`;
  const relayClient = pki.save(`${base}/relay-client`, issueCertificate(centerCa, {
    subject: { commonName: `relay.${operator.operatorId}`, organization: operator.operatorId, organizationalUnit: 'relay' },
    usage: 'client',
    ...validity(nowMs, 'valid'),
    keyPair: keys(),
  }));
  const storeCa = createCertificateAuthority({ subject: { commonName: `${operator.operatorId} Store CA (test)`, organization: operator.operatorId }, ...validity(nowMs, 'authority'), keyPair: keys() });
  const storeCaFiles = pki.save(`${base}/store-ca`, storeCa);
  const relayServer = pki.save(`${base}/relay-server`, issueCertificate(storeCa, {
    subject: { commonName: `relay.${operator.operatorId}`, organization: operator.operatorId, organizationalUnit: 'relay' },
    usage: 'server',
    ...SERVER_NAMES,
    ...validity(nowMs, 'valid'),
    keyPair: keys(),
  }));
  const { listen } = where;
  const relay: RelayConfig = {
    ...makeAuditKey(dir, auditOrigin('relay', operator.operatorId), `pki/audit/relay-${operator.operatorId}.key.pem`),
    operatorId: operator.operatorId,
    operatorName: operator.name,
    listen,
    databaseFile: where.databaseFile,
    centerUrl: '',
    kioskTls: { keyFile: relayServer.keyFile, certificateFile: relayServer.certificateFile, caFile: storeCaFiles.certificateFile },
    centerTls: { keyFile: relayClient.keyFile, certificateFile: relayClient.certificateFile, caFile: centerCaFile },
  };
  const kiosks: KioskConfig[] = [];
  for (const store of operator.stores) {
    for (const kioskId of store.kiosks) {
      const files = pki.save(`${base}/kiosks/${kioskId}`, issueCertificate(storeCa, {
        subject: { commonName: kioskId, organization: operator.operatorId, organizationalUnit: store.storeId },
        usage: 'client',
        ...validity(nowMs, 'valid'),
        keyPair: keys(),
      }));
      kiosks.push({
        ...makeAuditKey(dir, auditOrigin('kiosk', kioskId), `pki/audit/kiosk-${kioskId}.key.pem`),
        kioskId,
        storeId: store.storeId,
        storeName: store.storeName,
        operatorId: operator.operatorId,
        databaseFile: `kiosks/${kioskId}.db`,
        relayUrl: `https://${listen}`,
        tls: { keyFile: files.keyFile, certificateFile: files.certificateFile, caFile: storeCaFiles.certificateFile },
        printerDirectory: `prints/${kioskId}`,
      });
    }
  }
  return { relay, kiosks };
}

function fillDatabases(dir: string, config: DeploymentConfig, serials: Map<string, string>, people: Population, nowMs: number): void {
  const { operators } = people;
  const center = openCenterDatabase(config.center.databaseUrl ?? path.join(dir, config.center.databaseFile));
  center.transaction(() => {
    for (const [index, operator] of operators.entries()) saveOperator(center, operator.operatorId, operator.name, config.relays[index]!.auditVerifierKey);
    for (const municipality of fixtureMunicipalities()) saveMunicipality(center, municipality);
    for (const { resident } of people.residents) saveResident(center, resident, serials.get(resident.residentId) ?? null);
  });
  center.close();
  for (const [index, relay] of config.relays.entries()) makeRelayDatabase(dir, relay, operators[index]!, config.kiosks);
  makeKioskDatabases(dir, config.kiosks, nowMs);
}

/** The relay's database with its operator's kiosks registered, each with its audit verifier key. */
export function makeRelayDatabase(dir: string, relay: RelayConfig, operator: FixtureOperator, kiosks: KioskConfig[]): void {
  const db = openRelayDatabase(path.join(dir, relay.databaseFile));
  try {
    db.transaction(() => {
      for (const store of operator.stores) {
        for (const kioskId of store.kiosks) {
          const auditKey = kiosks.find((kiosk) => kiosk.kioskId === kioskId)!.auditVerifierKey;
          saveKiosk(db, { kioskId, storeId: store.storeId, storeName: store.storeName, active: true, auditKey });
        }
      }
    });
  } finally {
    db.close();
  }
}

/** Each kiosk's database, holding only the slow hash of its first maintenance password. */
export function makeKioskDatabases(dir: string, kiosks: KioskConfig[], nowMs: number): void {
  fs.mkdirSync(path.join(dir, 'kiosks'), { recursive: true, mode: 0o700 });
  for (const kiosk of kiosks) {
    // The first maintenance password goes to an owner-only file for the operator to hand over;
    // the kiosk keeps only its slow hash. Change it with `kiosk maintenance --change-password`.
    const password = randomBytes(12).toString('base64url');
    writePrivate(path.join(dir, 'pki', 'maintenance', `${kiosk.kioskId}.txt`), `${password}\n`);
    const db = openKioskDatabase(path.join(dir, kiosk.databaseFile));
    try {
      db.run("INSERT INTO maintenance_credential (id, password_hash, changed_at) VALUES (1, :hash, :at)", { hash: hashPassword(password), at: new Date(nowMs).toISOString() });
    } finally {
      db.close();
    }
  }
}

export interface InitResult {
  dir: string;
  configFile: string;
  config: DeploymentConfig;
  /** Every test card, fixture and synthetic. */
  cardCount: number;
  /** The synthetic residents' cards (card-r1001 …), all valid and accepted by the centre. */
  syntheticCardIds: string[];
}

export function runInit(options: InitOptions, nowMs: number, keys: KeySource = generateRsaKeyPem): InitResult {
  const people = population(options);
  const dir = path.resolve(options.dir);
  if (options.centerDatabase !== undefined) prepareEmptyPostgresDatabase(options.centerDatabase, Boolean(options.force));
  prepareDirectory(dir, Boolean(options.force));
  const { operators, residents } = people;

  const pki = pkiWriter(dir);
  const centerCa = createCertificateAuthority({ subject: { commonName: 'Certificate Issuance Centre CA (test)', organization: 'J-LIS test', country: 'JP' }, ...validity(nowMs, 'authority'), keyPair: keys() });
  const centerCaFiles = pki.save('pki/center/ca', centerCa);
  const centerServer = pki.save('pki/center/server', issueCertificate(centerCa, {
    subject: { commonName: 'center.cvs-issue.test', organization: 'J-LIS test', organizationalUnit: 'center' },
    usage: 'server',
    ...SERVER_NAMES,
    ...validity(nowMs, 'valid'),
    keyPair: keys(),
  }));
  const cards = makeCards(dir, nowMs, residents, keys);
  const centerListen = options.centerListen ?? '127.0.0.1:8443';
  const parts = operators.map((operator, index) =>
    makeOperator(dir, nowMs, centerCa, centerCaFiles.certificateFile, operator, { listen: index === 0 && options.relayListen ? options.relayListen : operator.relayListen, databaseFile: index === 0 ? 'relay.db' : `relay-${operator.operatorId}.db` }, keys),
  );
  const config: DeploymentConfig = {
    version: CONFIG_VERSION,
    center: {
      ...makeAuditKey(dir, auditOrigin('center'), 'pki/audit/center.key.pem'),
      listen: centerListen,
      databaseFile: 'center.db',
      ...(options.centerDatabase === undefined ? {} : { databaseUrl: options.centerDatabase }),
      tls: { keyFile: centerServer.keyFile, certificateFile: centerServer.certificateFile, caFile: centerCaFiles.certificateFile },
      jpkiCaFile: cards.caFile,
      jpkiCrlFile: cards.crlFile,
    },
    relays: parts.map((part) => ({ ...part.relay, centerUrl: `https://${centerListen}` })),
    kiosks: parts.flatMap((part) => part.kiosks),
    cardsDirectory: 'cards',
  };
  fillDatabases(dir, config, cards.serials, people, nowMs);
  const configFile = writeConfig(dir, config);
  return { dir, configFile, config, cardCount: residents.length, syntheticCardIds: people.syntheticCardIds };
}

interface InitFlags {
  dir: string;
  force?: boolean;
  centerListen?: string;
  relayListen?: string;
  kiosks?: string;
  residents?: string;
  centerDatabase?: string;
  json?: boolean;
}

export function makeInitCommand(factory: Factory): Command {
  const { io } = factory;
  return new Command('init')
    .description(COMMANDS.init.description)
    .requiredOption('--dir <dir>', 'directory to create the deployment in')
    .option('--force', 'replace an existing deployment in DIR')
    .option('--center-listen <host:port>', 'address the centre will listen on', '127.0.0.1:8443')
    .option('--relay-listen <host:port>', "address the first operator's relay will listen on", '127.0.0.1:9443')
    .option('--kiosks <n>', `the first operator gets N kiosks (1 to ${MAX_KIOSKS}), each with its own client certificate: the fixture's first, then K1001, K1002 … two to a store (S1001 …)`)
    .option('--residents <n>', `N more synthetic test residents (1 to ${MAX_SYNTHETIC_RESIDENTS}), R1001 … with valid cards card-r1001 …, spread over the participating municipalities`)
    .option('--center-database <url>', "keep the centre's store on a PostgreSQL server (postgresql://USER@HOST/DB, or ?host=/socket/dir), not in center.db; the database must be empty (or --force)")
    .option('--json', "print the deployment's files, public audit keys, addresses, kiosks and synthetic cards as JSON (never a private key)")
    .addHelpText('after', '\nExit codes: 0 created, 1 unexpected failure, 2 bad flag (a count that is not a whole number in range) or an existing deployment (use --force).')
    .action(async (flags: InitFlags) => {
      const options: InitOptions = {
        dir: flags.dir,
        force: flags.force,
        centerListen: flags.centerListen,
        relayListen: flags.relayListen,
        kiosks: flags.kiosks === undefined ? undefined : parseCountFlag(flags.kiosks, '--kiosks'),
        residents: flags.residents === undefined ? undefined : parseCountFlag(flags.residents, '--residents'),
        centerDatabase: flags.centerDatabase === undefined ? undefined : parseDatabaseUrlFlag(flags.centerDatabase, '--center-database'),
      };
      const result = runInit(options, factory.wallClock.nowMs(), await pregeneratedKeys(options));
      if (flags.json) return void io.out(`${JSON.stringify(describeDeployment(result), null, 2)}\n`);
      io.out(`deployment created in ${result.dir}\n`);
      io.out(`  config: ${result.configFile}\n`);
      io.out(`  relays: ${result.config.relays.map((relay) => `${relay.operatorId}@${relay.listen}`).join(', ')}\n`);
      io.out(`  kiosks: ${result.config.kiosks.map((kiosk) => kiosk.kioskId).join(', ')}\n`);
      const synthetic = result.syntheticCardIds.length > 0 ? ` (${result.syntheticCardIds.length} synthetic: ${result.syntheticCardIds[0]} …)` : '';
      io.out(`  cards:  ${result.cardCount} test cards in ${path.join(result.dir, result.config.cardsDirectory)}${synthetic}\n`);
    });
}

/** What a script needs from a new deployment: absolute paths, public keys and addresses. */
function describeDeployment(result: InitResult) {
  const file = (relative: string) => path.resolve(result.dir, relative);
  const { config } = result;
  return {
    dir: path.resolve(result.dir),
    configFile: path.resolve(result.configFile),
    center: { listen: config.center.listen, ...(config.center.databaseUrl ? { databaseUrl: redactedUrl(config.center.databaseUrl) } : { databaseFile: file(config.center.databaseFile) }), auditVerifierKey: config.center.auditVerifierKey },
    relays: config.relays.map((relay) => ({ operatorId: relay.operatorId, listen: relay.listen, databaseFile: file(relay.databaseFile), auditVerifierKey: relay.auditVerifierKey })),
    kiosks: config.kiosks.map((kiosk) => ({
      kioskId: kiosk.kioskId,
      storeId: kiosk.storeId,
      operatorId: kiosk.operatorId,
      relayUrl: kiosk.relayUrl,
      databaseFile: file(kiosk.databaseFile),
      printerDirectory: file(kiosk.printerDirectory),
      auditVerifierKey: kiosk.auditVerifierKey,
    })),
    cards: { directory: file(config.cardsDirectory), count: result.cardCount, syntheticCardIds: result.syntheticCardIds },
  };
}
