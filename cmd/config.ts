// The deployment file that `init` writes and every serve/run command reads. Paths inside it are
// relative to the file's own directory, so a deployment folder can be moved as a whole.

import fs from 'node:fs';
import path from 'node:path';
import { AppError, inputError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { createMutualTlsClient, type HttpClient } from '../drivers/http/client.ts';
import { createFailoverClient, splitServerUrls } from '../drivers/http/failover-client.ts';
import { AuditLog } from '../drivers/store/audit-log.ts';
import type { Database } from '../drivers/store/database.ts';
import { isPostgresUrl } from '../drivers/store/postgres-database.ts';

export const CONFIG_FILE_NAME = 'cvs-issue.json';
export const CONFIG_VERSION = 1;

export interface TlsFiles {
  keyFile: string;
  certificateFile: string;
  /** CA certificates this party trusts for its peers. */
  caFile: string;
}

/** A role's audit log signing key (Ed25519, PEM, owner-only) and its public verifier key (C2SP vkey). */
export interface AuditKeyConfig {
  auditKeyFile: string;
  auditVerifierKey: string;
}

export interface CenterConfig extends AuditKeyConfig {
  listen: string;
  /** The SQLite file, unless databaseUrl names a PostgreSQL server (docs/postgres.md). */
  databaseFile: string;
  /** postgresql://… : the centre's store on a PostgreSQL server instead of databaseFile. */
  databaseUrl?: string;
  tls: TlsFiles;
  jpkiCaFile: string;
  jpkiCrlFile: string;
  /** Where the CRL is fetched from (cmd/crl-fetch.ts); without it the file alone is read. */
  jpkiCrl?: CrlSourceConfig;
  /**
   * The certificate the centre presents to municipalities' back ends (docs/municipality-backend.md),
   * from the centre CA; made by `center municipality add|update --backend-url` when first needed.
   */
  backendClientTls?: { keyFile: string; certificateFile: string };
}

export interface CrlSourceConfig {
  /** The distribution point, https:// (DER or PEM). */
  url: string;
  /** The CA its server certificate chains to. */
  caFile: string;
  /** Seconds between fetches; default 600. */
  intervalSeconds?: number;
}

export interface RelayConfig extends AuditKeyConfig {
  operatorId: string;
  operatorName: string;
  listen: string;
  databaseFile: string;
  centerUrl: string;
  /** Server side toward kiosks: store-CA server certificate, trusting the store CA. */
  kioskTls: TlsFiles;
  /** Client side toward the centre: relay client certificate, trusting the centre CA. */
  centerTls: TlsFiles;
  /** Where faults and outages go (S4-7, S4-8; docs/alerts.md); none configured: kept and shown, not sent. */
  alerts?: AlertsConfig;
}

/** The alert endpoints of one operator (docs/alerts.md, "Configuration"). */
export interface AlertsConfig {
  /** The register (POS) endpoint for every store without its own in `storeRegisters`. */
  register?: string;
  /** A store's own register endpoint, by store id. */
  storeRegisters?: Record<string, string>;
  /** The maintenance centre's endpoint. */
  maintenance?: string;
  /** CA certificates the endpoints' server certificates chain to (PEM). */
  caFile: string;
  /** This relay's client certificate and key, for endpoints that ask for mutual TLS; both or neither. */
  certificateFile?: string;
  keyFile?: string;
  /** A kiosk silent this long is raised as down; default 15. */
  downAfterMinutes?: number;
}

/** The alert configuration checked: every URL HTTPS, the TLS files readable. */
export interface AlertEndpoints {
  /** The endpoint of a target for a store, undefined when there is none. */
  urlFor(target: 'register' | 'maintenance', storeId: string): URL | undefined;
  caPem: string;
  /** Empty when the relay presents no client certificate. */
  certificatePem: string;
  keyPem: string;
  downAfterMs: number;
}

/** Reads and checks a relay's `alerts` block; a wrong field is a usage error naming it. */
export function alertEndpoints(loaded: LoadedConfig, relay: RelayConfig, defaultDownAfterMs: number): AlertEndpoints | undefined {
  const alerts = relay.alerts;
  if (alerts === undefined) return undefined;
  const where = (field: string) => `${loaded.file}: relays[${relay.operatorId}].alerts.${field}`;
  const https = (value: unknown, field: string): URL | undefined => {
    if (value === undefined) return undefined;
    let url: URL | undefined;
    try {
      url = typeof value === 'string' ? new URL(value) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:') throw new AppError('usage', 'config.bad_alerts', 'must be an https:// URL', where(field));
    return url;
  };
  if (typeof alerts !== 'object' || alerts === null || typeof alerts.caFile !== 'string') throw new AppError('usage', 'config.bad_alerts', 'needs "caFile", the CA the endpoints\' certificates chain to', where('caFile'));
  const register = https(alerts.register, 'register');
  const maintenance = https(alerts.maintenance, 'maintenance');
  const storeRegisters = new Map<string, URL>();
  for (const [storeId, url] of Object.entries(alerts.storeRegisters ?? {})) storeRegisters.set(storeId, https(url, `storeRegisters.${storeId}`)!);
  if ((alerts.certificateFile === undefined) !== (alerts.keyFile === undefined)) throw new AppError('usage', 'config.bad_alerts', 'give both "certificateFile" and "keyFile", or neither', where('certificateFile'));
  const minutes = alerts.downAfterMinutes;
  if (minutes !== undefined && (!Number.isSafeInteger(minutes) || minutes <= 0)) throw new AppError('usage', 'config.bad_alerts', 'must be a whole number of minutes above 0', where('downAfterMinutes'));
  return {
    urlFor: (target, storeId) => (target === 'maintenance' ? maintenance : (storeRegisters.get(storeId) ?? register)),
    caPem: loaded.read(alerts.caFile),
    certificatePem: alerts.certificateFile === undefined ? '' : loaded.read(alerts.certificateFile),
    keyPem: alerts.keyFile === undefined ? '' : loaded.read(alerts.keyFile),
    downAfterMs: minutes === undefined ? defaultDownAfterMs : minutes * 60_000,
  };
}

export interface KioskConfig extends AuditKeyConfig {
  kioskId: string;
  storeId: string;
  storeName: string;
  operatorId: string;
  databaseFile: string;
  relayUrl: string;
  tls: TlsFiles;
  printerDirectory: string;
}

export interface DeploymentConfig {
  version: number;
  center: CenterConfig;
  relays: RelayConfig[];
  kiosks: KioskConfig[];
  cardsDirectory: string;
  /**
   * Whether kiosks take smartphone certificates (JPKIAPGPSETOKEN) besides the contract's cards
   * (seed 別紙1 4(1), core/jpki.ts CONTRACT_CARD_KINDS). Off unless true.
   */
  smartphoneCertificates?: boolean;
}

export interface LoadedConfig {
  file: string;
  directory: string;
  config: DeploymentConfig;
  /** Absolute path of a file named in the config. */
  resolve(relative: string): string;
  read(relative: string): string;
}

function checkCrlSource(source: CrlSourceConfig, file: string): void {
  const where = (field: string) => `${file}: center.jpkiCrl.${field}`;
  let url: URL | undefined;
  try {
    url = new URL(source.url);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:') throw new AppError('usage', 'config.bad_crl_source', 'must be an https:// URL', where('url'));
  if (typeof source.caFile !== 'string' || source.caFile === '') throw new AppError('usage', 'config.bad_crl_source', 'needs "caFile", the CA the distribution point\'s certificate chains to', where('caFile'));
  const seconds = source.intervalSeconds;
  if (seconds !== undefined && (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 86_400)) throw new AppError('usage', 'config.bad_crl_source', 'must be whole seconds from 1 to 86400', where('intervalSeconds'));
}

/** A --flag that names a server database: a postgresql:// URL or a usage error (exit 2) naming the flag. */
export function parseDatabaseUrlFlag(text: string, flag: string): string {
  let valid = isPostgresUrl(text);
  try {
    new URL(text);
  } catch {
    valid = false;
  }
  if (!valid) throw new AppError('usage', 'usage.bad_database_url', `${flag} must be a postgresql:// URL, e.g. postgresql://postgres@localhost/center?host=/run/postgresql`);
  return text;
}

/** The deployment with the centre's store on this server instead (center serve --database). */
export function withCenterDatabaseUrl(loaded: LoadedConfig, databaseUrl: string): LoadedConfig {
  return { ...loaded, config: { ...loaded.config, center: { ...loaded.config.center, databaseUrl } } };
}

/** Where the centre's store is: its PostgreSQL URL when the deployment names one, else its SQLite file. */
export function centerDatabase(loaded: LoadedConfig): string {
  return loaded.config.center.databaseUrl ?? loaded.resolve(loaded.config.center.databaseFile);
}

export function configPathFor(directory: string): string {
  return path.join(directory, CONFIG_FILE_NAME);
}

export function loadConfig(directory: string): LoadedConfig {
  const file = configPathFor(directory);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new AppError('usage', 'config.missing', `no deployment found (run "cvs-issue init --dir ${directory}" first)`, file);
  }
  let config: DeploymentConfig;
  try {
    config = JSON.parse(text) as DeploymentConfig;
  } catch {
    throw inputError('config.bad_json', 'the deployment file is not valid JSON', file);
  }
  if (config.version !== CONFIG_VERSION || !config.center || !Array.isArray(config.relays) || !Array.isArray(config.kiosks)) {
    throw inputError('config.bad_shape', `expected a version ${CONFIG_VERSION} deployment with center, relays and kiosks`, file);
  }
  if (config.center.jpkiCrl !== undefined) checkCrlSource(config.center.jpkiCrl, file);
  if (config.center.databaseUrl !== undefined && (typeof config.center.databaseUrl !== 'string' || !isPostgresUrl(config.center.databaseUrl))) {
    throw new AppError('usage', 'config.bad_database_url', 'must be a postgresql:// URL', `${file}: center.databaseUrl`);
  }
  if (config.smartphoneCertificates !== undefined && typeof config.smartphoneCertificates !== 'boolean') {
    throw new AppError('usage', 'config.bad_policy', '"smartphoneCertificates" must be true or false', `${file}: smartphoneCertificates`);
  }
  const base = path.dirname(path.resolve(file));
  const resolve = (relative: string) => path.resolve(base, relative);
  return {
    file,
    directory: base,
    config,
    resolve,
    read(relative: string): string {
      try {
        return fs.readFileSync(resolve(relative), 'utf8');
      } catch {
        throw inputError('config.file_missing', 'a file named in the deployment is missing', resolve(relative));
      }
    },
  };
}

/**
 * Writes the deployment file whole or not at all: a sibling file, flushed, then renamed over it,
 * so a running centre that reads it (a joining operator, cmd/operator.ts) never sees half of one.
 */
export function writeConfig(directory: string, config: DeploymentConfig): string {
  const file = configPathFor(directory);
  const staging = `${file}.${process.pid}.tmp`;
  try {
    const descriptor = fs.openSync(staging, 'w', 0o600);
    try {
      fs.writeFileSync(descriptor, `${JSON.stringify(config, null, 2)}\n`);
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
    fs.renameSync(staging, file);
  } catch (error) {
    fs.rmSync(staging, { force: true });
    throw error;
  }
  return file;
}

export interface ReloadingDeployment {
  /** The copy read last. */
  readonly current: LoadedConfig;
  /**
   * The copy after reading the file again if it was replaced since (one stat when it was not); the
   * copy read last when it was not, or when the file cannot be read or is not valid.
   */
  refreshed(): LoadedConfig;
}

/**
 * The deployment as a running server sees it: read again when something asked for is not in the
 * copy read before, such as the kiosks of an operator that joined since (cmd/operator.ts, which
 * replaces the file whole: writeConfig).
 */
export function reloadingDeployment(loaded: LoadedConfig): ReloadingDeployment {
  let current = loaded;
  let version = fileVersion(loaded.file);
  return {
    get current() {
      return current;
    },
    refreshed() {
      // No time limit between looks: a kiosk that joined a moment after another look must be found.
      // A stat per unknown kiosk is all a flood of them costs; the file is read only when replaced.
      const seen = fileVersion(current.file);
      if (seen === version) return current;
      try {
        current = loadConfig(current.directory);
        version = seen;
      } catch {
        // Kept as it was: the server goes on with what it had.
      }
      return current;
    },
  };
}

function fileVersion(file: string): string {
  try {
    const stat = fs.statSync(file);
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return 'missing';
  }
}

export function findRelay(loaded: LoadedConfig, operatorId?: string): RelayConfig {
  const relays = loaded.config.relays;
  const relay = operatorId ? relays.find((candidate) => candidate.operatorId === operatorId) : relays[0];
  if (!relay) throw new AppError('usage', 'config.no_relay', `no relay for operator "${operatorId ?? '(any)'}" in the deployment`, loaded.file);
  return relay;
}

export function findKiosk(loaded: LoadedConfig, kioskId?: string): KioskConfig {
  const kiosks = loaded.config.kiosks;
  const kiosk = kioskId ? kiosks.find((candidate) => candidate.kioskId === kioskId) : kiosks[0];
  if (!kiosk) throw new AppError('usage', 'config.no_kiosk', `no kiosk "${kioskId ?? '(any)'}" in the deployment`, loaded.file);
  return kiosk;
}

/** "127.0.0.1:8443" → host and port; port 0 lets the system choose. */
export function parseListen(listen: string, where: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(listen);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new AppError('usage', 'config.bad_listen', `"${listen}" is not HOST:PORT`, where);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * Opens a role's audit log with its signing key, refusing a key that does not match the verifier
 * key the deployment names (a swapped key file would otherwise sign a forged history).
 */
export function openRoleAuditLog(db: Database, loaded: LoadedConfig, role: AuditKeyConfig, origin: string, clock: Clock, options: { groupCommit?: boolean } = {}): AuditLog {
  const log = new AuditLog(db, { origin, privateKeyPem: loaded.read(role.auditKeyFile), clock, groupCommit: options.groupCommit });
  if (log.verifierKey !== role.auditVerifierKey) {
    throw new AppError('input', 'config.audit_key_mismatch', 'the audit key file does not match the deployment\'s verifier key', loaded.resolve(role.auditKeyFile));
  }
  return log;
}

/** A mutual-TLS client with this party's certificate, trusting the CA its peer's certificate comes from. */
/**
 * A mutual-TLS client to `baseUrl`; several URLs, comma-separated (a relay's centres on one
 * PostgreSQL store), make one client that spreads requests over them and fails over
 * (drivers/http/failover-client.ts).
 */
export function clientFor(loaded: LoadedConfig, tls: TlsFiles, baseUrl: string, timeoutMs: number, log?: (line: string) => void): HttpClient {
  const credentials = { caPem: loaded.read(tls.caFile), certificatePem: loaded.read(tls.certificateFile), keyPem: loaded.read(tls.keyFile), timeoutMs };
  const urls = splitServerUrls(baseUrl);
  for (const url of urls) {
    if (!URL.canParse(url) || new URL(url).protocol !== 'https:') throw new AppError('usage', 'config.bad_center_url', `"${url.slice(0, 80)}" is not an https:// URL`);
  }
  if (urls.length === 1) return createMutualTlsClient({ baseUrl: urls[0]!, ...credentials });
  return createFailoverClient(urls.map((url) => ({ url, client: createMutualTlsClient({ baseUrl: url, ...credentials }) })), { log });
}
