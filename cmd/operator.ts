// `center operator add|list` (C§24: an operator joins the service; C§3: it runs its own relay and
// kiosks). `add` issues what the new operator runs with: its relay's client certificate from the
// centre's CA, its own store CA with the relay's server certificate and each kiosk's, and the audit
// keys; it registers the operator at the centre (with its relay's audit key, an audit entry),
// creates its relay's and kiosks' databases and adds it to the deployment file, written whole or
// not at all. A running centre takes the new operator's kiosks from the deployment file at their
// first request (cmd/center.ts), so nothing restarts.

import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { usageError } from '../core/errors.ts';
import { generateRsaKeyPem } from '../drivers/pki/issue.ts';
import { auditOrigin } from '../drivers/store/audit-log.ts';
import { openCenterDatabase, saveOperator } from '../drivers/store/center-store.ts';
import { centerDatabase, openRoleAuditLog, parseListen, writeConfig, type DeploymentConfig, type LoadedConfig } from './config.ts';
import type { Factory } from './factory.ts';
import type { FixtureOperator } from './fixtures.ts';
import { centerCa } from './center-ca.ts';
import { makeKioskDatabases, makeOperator, makeRelayDatabase } from './init.ts';

const OPERATOR_ID = /^[A-Z][A-Z0-9]{1,15}$/;
const STORE_ID = /^[A-Za-z0-9_-]{1,32}$/;
const KIOSK_ID = /^[A-Za-z0-9._-]{1,64}$/;

interface AddOptions {
  dir: string;
  operator: string;
  name: string;
  listen: string;
  store?: string;
  storeName?: string;
  kiosks?: string;
  json?: boolean;
}

export function addOperatorCommand(center: Command, factory: Factory): void {
  const { io } = factory;
  const operator = center.command('operator').description('the operators whose relays and kiosks the centre serves (C§24): join, list');
  operator
    .command('add')
    .description("let a new operator join: issue its relay's and kiosks' certificates and its store CA, register it, and add it to the deployment")
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init" (it holds the centre CA\'s key)')
    .requiredOption('--operator <id>', 'the operator id its relay certificate names, e.g. OP03 (capital letters and digits)')
    .requiredOption('--name <name>', 'the operator\'s name, e.g. 株式会社ミニストップ')
    .requiredOption('--listen <host:port>', "its relay's address for its kiosks, e.g. 127.0.0.1:9445")
    .option('--store <id>', 'its first store, e.g. S0301 (with --store-name and --kiosks)')
    .option('--store-name <name>', 'the store\'s name, e.g. ミニストップ大手町店')
    .option('--kiosks <ids>', 'the store\'s kiosks, comma-separated, e.g. K0301,K0302')
    .option('--json', 'print { operatorId, relay: { listen, databaseFile }, kiosks: [ids] }')
    .addHelpText(
      'after',
      '\nThen start its relay: cvs-issue relay serve --dir DIR --operator ID. A running centre serves its kiosks from their first request.\n\nExit codes: 0 joined, 2 a bad flag, an id already in the deployment, or a deployment without the centre CA\'s key, 1 unexpected failure.',
    )
    .action((options: AddOptions) => {
      const loaded = factory.deployment(options.dir);
      const joining = joiningOperator(options, loaded.config);
      const added = addOperator(loaded, joining, options.listen, factory.clock.nowMs());
      if (options.json) io.out(`${JSON.stringify({ operatorId: joining.operatorId, relay: { listen: added.relay.listen, databaseFile: added.relay.databaseFile }, kiosks: added.kiosks.map((kiosk) => kiosk.kioskId) })}\n`);
      else io.out(`operator ${joining.operatorId} joined: relay on ${added.relay.listen}${added.kiosks.length > 0 ? `, kiosks ${added.kiosks.map((kiosk) => kiosk.kioskId).join(', ')}` : ''}\n`);
    });
  operator
    .command('list')
    .description('the operators in the deployment, with their relays and kiosks')
    .requiredOption('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--json', 'print [{ operatorId, name, listen, kiosks }]')
    .action((options: { dir: string; json?: boolean }) => {
      const { config } = factory.deployment(options.dir);
      const operators = config.relays.map((relay) => ({ operatorId: relay.operatorId, name: relay.operatorName, listen: relay.listen, kiosks: config.kiosks.filter((kiosk) => kiosk.operatorId === relay.operatorId).map((kiosk) => kiosk.kioskId) }));
      if (options.json) io.out(`${JSON.stringify(operators, null, 2)}\n`);
      else for (const entry of operators) io.out(`${entry.operatorId} ${entry.name}: relay ${entry.listen}, ${entry.kiosks.length} kiosk(s)${entry.kiosks.length > 0 ? ` (${entry.kiosks.join(', ')})` : ''}\n`);
    });
}

/** The joining operator from the flags, checked against what the deployment already has. */
function joiningOperator(options: AddOptions, config: DeploymentConfig): FixtureOperator {
  if (!OPERATOR_ID.test(options.operator)) throw usageError(`"${options.operator.slice(0, 20)}" is not an operator id (a capital letter, then 1 to 15 capital letters or digits)`, '--operator');
  if (config.relays.some((relay) => relay.operatorId === options.operator)) throw usageError(`operator ${options.operator} is already in the deployment`, '--operator');
  const name = options.name.trim();
  if (name === '' || name.length > 100) throw usageError('give the operator\'s name (1 to 100 characters)', '--name');
  // Port 0 picks a free port at each start, so it is no one's address.
  if (parseListen(options.listen, '--listen').port !== 0 && config.relays.some((relay) => relay.listen === options.listen)) {
    throw usageError(`another relay of the deployment listens on ${options.listen}`, '--listen');
  }
  const storeFlags = [options.store, options.storeName, options.kiosks].filter((flag) => flag !== undefined).length;
  if (storeFlags !== 0 && storeFlags !== 3) throw usageError('give --store, --store-name and --kiosks together, or none of them', '--store');
  if (options.store === undefined) return { operatorId: options.operator, name, relayListen: options.listen, stores: [] };
  if (!STORE_ID.test(options.store)) throw usageError(`"${options.store.slice(0, 40)}" is not a store id (letters, digits, _ and -)`, '--store');
  if (config.kiosks.some((kiosk) => kiosk.storeId === options.store)) throw usageError(`store ${options.store} is already in the deployment`, '--store');
  const kioskIds = options.kiosks!.split(',').map((kioskId) => kioskId.trim());
  for (const kioskId of kioskIds) {
    if (!KIOSK_ID.test(kioskId)) throw usageError(`"${kioskId.slice(0, 70)}" is not a kiosk id (letters, digits, ., _ and -)`, '--kiosks');
    if (config.kiosks.some((kiosk) => kiosk.kioskId === kioskId)) throw usageError(`kiosk ${kioskId} is already in the deployment`, '--kiosks');
  }
  if (new Set(kioskIds).size !== kioskIds.length) throw usageError('a kiosk is named twice', '--kiosks');
  const storeName = options.storeName!.trim();
  if (storeName === '' || storeName.length > 100) throw usageError('give the store\'s name (1 to 100 characters)', '--store-name');
  return { operatorId: options.operator, name, relayListen: options.listen, stores: [{ storeId: options.store, storeName, kiosks: kioskIds }] };
}

function addOperator(loaded: LoadedConfig, operator: FixtureOperator, listen: string, nowMs: number) {
  const { ca, certificateFile } = centerCa(loaded);
  const dir = loaded.directory;
  const databaseFile = `relay-${operator.operatorId}.db`;
  // The deployment file names none of these yet: what is there is left from a join that stopped
  // part way (kill -9), and nothing uses it. It goes, and so does this join's if it fails.
  removeUnlistedFiles(dir, operator, databaseFile);
  try {
    const { relay, kiosks } = makeOperator(dir, nowMs, ca, certificateFile, operator, { listen, databaseFile }, generateRsaKeyPem);
    const centerUrl = loaded.config.relays[0]?.centerUrl ?? `https://${loaded.config.center.listen}`;
    const config: DeploymentConfig = { ...loaded.config, relays: [...loaded.config.relays, { ...relay, centerUrl }], kiosks: [...loaded.config.kiosks, ...kiosks] };
    makeRelayDatabase(dir, relay, operator, kiosks);
    makeKioskDatabases(dir, kiosks, nowMs);
    // Registered at the centre before the deployment names it: a relay started from the file finds its operator known.
    const db = openCenterDatabase(centerDatabase(loaded));
    try {
      const audit = openRoleAuditLog(db, loaded, loaded.config.center, auditOrigin('center'), { nowMs: () => nowMs });
      audit.transaction([{ kind: 'operator.joined', data: { operatorId: operator.operatorId, count: kiosks.length } }], () => saveOperator(db, operator.operatorId, operator.name, relay.auditVerifierKey));
    } finally {
      db.close();
    }
    writeConfig(dir, config);
    return { relay, kiosks };
  } catch (error) {
    removeUnlistedFiles(dir, operator, databaseFile);
    throw error;
  }
}

/** The files a join writes (cmd/init.ts makeOperator, makeRelayDatabase, makeKioskDatabases) for an operator the deployment does not list. */
function removeUnlistedFiles(dir: string, operator: FixtureOperator, databaseFile: string): void {
  const kioskIds = operator.stores.flatMap((store) => store.kiosks);
  const files = [
    `pki/operators/${operator.operatorId}`,
    `pki/audit/relay-${operator.operatorId}.key.pem`,
    ...[databaseFile, ...kioskIds.map((kioskId) => `kiosks/${kioskId}.db`)].flatMap((file) => [file, `${file}-wal`, `${file}-shm`]),
    ...kioskIds.flatMap((kioskId) => [`pki/audit/kiosk-${kioskId}.key.pem`, `pki/maintenance/${kioskId}.txt`]),
  ];
  for (const file of files) fs.rmSync(path.join(dir, file), { recursive: true, force: true });
}
