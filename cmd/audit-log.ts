// `cvs-issue audit-log`: show, verify, checkpoint, prove, verify-proof, export, witness and cosign
// any role's tamper-evident log. Keys come from the deployment (--dir) or are given (--key): never
// from the database being checked, which could have been rewritten along with its key. What a
// witness holds is read from the witness's own log (docs/audit-log.md), which is checked first.

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import chalk from 'chalk';
import Table from 'cli-table3';
import { Command } from 'commander';
import { COMMANDS } from './commands.ts';
import { decodeAuditEntry, type AuditEntry } from '../core/audit-entry.ts';
import { checkAuditProof } from '../core/audit-proof.ts';
import type { AuditVerification, CheckpointEvidence } from '../core/audit-verify.ts';
import { base64Encode, hexEncode } from '../core/bytes.ts';
import { AppError, inputError, usageError } from '../core/errors.ts';
import { parseIsoInstant } from '../core/jst.ts';
import { inclusionProofFromNodes, consistencyProofFromNodes } from '../core/merkle.ts';
import { openNote, type NoteVerifier } from '../core/signed-note.ts';
import {
  auditHasher,
  auditOrigin,
  checkpointAtSize,
  cosignatureKeyForVerifierKey,
  latestCheckpoint,
  logSize,
  noteVerifierFromKey,
  readCosignatures,
  storedTreeNodes,
} from '../drivers/store/audit-log.ts';
import { databaseExists, openDatabase, withDatabase, type Database } from '../drivers/store/database.ts';
import { isPostgresUrl } from '../drivers/store/postgres-database.ts';
import { verifyStoredLogInParallel } from '../drivers/store/audit-verify-parallel.ts';
import { latestHeldCheckpoint } from '../drivers/store/witness-evidence.ts';
import { exportLog, verifyExportFile } from './audit-export.ts';
import { addWitnessCommands } from './audit-witness.ts';
import { centerDatabase, findKiosk, findRelay, type LoadedConfig } from './config.ts';
import type { Factory } from './factory.ts';
import type { Io } from './io.ts';

export interface TargetOptions {
  dir?: string;
  role?: string;
  operator?: string;
  kiosk?: string;
  db?: string;
  key?: string;
}

/** A log that holds checkpoints of the target: a relay for a kiosk, the centre for a relay, relays for the centre. */
interface Witness {
  name: string;
  databaseFile: string;
  origin: string;
  verifierKey: string;
  kind: 'witness.checkpoint' | 'witness.cosigned';
  /** For cosigning witnesses: the key their cosignatures verify with. */
  cosignatureKey?: string;
}

export interface AuditTarget {
  databaseFile: string;
  origin: string;
  verifierKey: string;
  witnesses: Witness[];
}

export function readKeyOption(key: string): string {
  const text = key.startsWith('@') ? readTextFile(key.slice(1)) : key;
  return text.trim();
}

export function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw inputError('file.missing', 'cannot read the file', file);
  }
}

function relayWitnessOf(loaded: LoadedConfig, operatorId: string | undefined): Witness {
  const relay = findRelay(loaded, operatorId);
  return { name: `relay ${relay.operatorId}`, databaseFile: loaded.resolve(relay.databaseFile), origin: auditOrigin('relay', relay.operatorId), verifierKey: relay.auditVerifierKey, kind: 'witness.checkpoint' };
}

export function resolveTarget(options: TargetOptions, deployment: (directory: string) => LoadedConfig): AuditTarget {
  if (options.db) {
    if (options.dir || options.role) throw usageError('give either --db FILE --key VKEY or --dir DIR --role ROLE, not both');
    if (!options.key) throw usageError('--db needs --key VKEY (or --key @FILE): the key is never taken from the database itself');
    const verifierKey = readKeyOption(options.key);
    const origin = noteVerifierFromKey(verifierKey).name;
    return { databaseFile: isPostgresUrl(options.db) ? options.db : path.resolve(options.db), origin, verifierKey, witnesses: [] };
  }
  if (!options.dir) throw usageError('give --dir DIR with --role, or --db FILE with --key');
  if (options.key) throw usageError('--key goes with --db; with --dir the keys come from the deployment');
  const loaded = deployment(options.dir);
  const role = options.role ?? (options.kiosk ? 'kiosk' : undefined);
  const center = loaded.config.center;
  if (role === 'center') {
    const relays: Witness[] = loaded.config.relays.map((relay) => ({
      name: `relay ${relay.operatorId}`,
      databaseFile: loaded.resolve(relay.databaseFile),
      origin: auditOrigin('relay', relay.operatorId),
      verifierKey: relay.auditVerifierKey,
      kind: 'witness.cosigned',
      cosignatureKey: cosignatureKeyForVerifierKey(relay.auditVerifierKey),
    }));
    return { databaseFile: centerDatabase(loaded), origin: auditOrigin('center'), verifierKey: center.auditVerifierKey, witnesses: relays };
  }
  if (role === 'relay') {
    const relay = findRelay(loaded, options.operator);
    const centre: Witness = { name: 'the centre', databaseFile: centerDatabase(loaded), origin: auditOrigin('center'), verifierKey: center.auditVerifierKey, kind: 'witness.checkpoint' };
    return { databaseFile: loaded.resolve(relay.databaseFile), origin: auditOrigin('relay', relay.operatorId), verifierKey: relay.auditVerifierKey, witnesses: [centre] };
  }
  if (role === 'kiosk') {
    const kiosk = findKiosk(loaded, options.kiosk);
    return { databaseFile: loaded.resolve(kiosk.databaseFile), origin: auditOrigin('kiosk', kiosk.kioskId), verifierKey: kiosk.auditVerifierKey, witnesses: [relayWitnessOf(loaded, kiosk.operatorId)] };
  }
  throw usageError('--role must be center, relay or kiosk');
}

export function withReadOnlyDatabase<T>(file: string, work: (db: Database) => T): T {
  if (!databaseExists(file)) throw inputError('audit.no_database', 'no such database', file);
  return withDatabase(file, work, { readonly: true });
}

async function withReadOnlyDatabaseAsync<T>(file: string, work: (db: Database) => Promise<T>): Promise<T> {
  if (!databaseExists(file)) throw inputError('audit.no_database', 'no such database', file);
  const db = openDatabase(file, { readonly: true });
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

function addTargetOptions(command: Command): Command {
  return command
    .option('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--role <role>', 'center, relay or kiosk (with --dir)')
    .option('--operator <id>', 'which relay (with --role relay; default the first)')
    .option('--kiosk <id>', 'which kiosk (with --dir; implies --role kiosk)')
    .option('--db <file>', 'a role database file, instead of --dir')
    .option('--key <vkey>', "the log's verifier key (C2SP vkey), or @FILE holding it; required with --db");
}

interface ShowOptions extends TargetOptions {
  since?: string;
  until?: string;
  kind?: string;
  json?: boolean;
  limit?: string;
}

function instantOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseIsoInstant(value);
  if (ms === undefined) throw usageError(`${flag} "${value}" is not an ISO time with an offset (e.g. 2026-11-01T00:00:00+09:00)`);
  return ms;
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw usageError(`${flag} must be a whole number`);
  return Number(value);
}

function showEntries(options: ShowOptions, factory: Factory): void {
  const { io } = factory;
  const target = resolveTarget(options, factory.deployment);
  const sinceMs = instantOption(options.since, '--since');
  const untilMs = instantOption(options.until, '--until');
  const limit = positiveInteger(options.limit, '--limit') ?? Number.MAX_SAFE_INTEGER;
  const entries: AuditEntry[] = [];
  withReadOnlyDatabase(target.databaseFile, (db) => {
    for (const row of db.iterate<{ idx: number; entry: Uint8Array }>('SELECT idx, entry FROM audit_entries ORDER BY idx')) {
      let entry: AuditEntry;
      try {
        entry = decodeAuditEntry(row.entry);
      } catch (error) {
        throw new AppError('differences', 'audit.entry_malformed', `entry ${row.idx} does not follow the entry grammar (${(error as Error).message}); run "cvs-issue audit-log verify"`, target.databaseFile);
      }
      const atMs = Date.parse(entry.time);
      if (sinceMs !== undefined && atMs < sinceMs) continue;
      if (untilMs !== undefined && atMs >= untilMs) continue;
      if (options.kind && entry.kind !== options.kind && !entry.kind.startsWith(`${options.kind}.`)) continue;
      if (options.kiosk && target.origin !== auditOrigin('kiosk', options.kiosk) && entry.data.kioskId !== options.kiosk) continue;
      entries.push(entry);
      if (entries.length >= limit) break;
    }
  });
  if (options.json) {
    io.out(`${JSON.stringify({ origin: target.origin, entries }, null, 2)}\n`);
    return;
  }
  const table = new Table({ head: ['#', 'time (UTC)', 'kind', 'data'], style: { head: io.color ? ['cyan'] : [], border: io.color ? ['grey'] : [] } });
  for (const entry of entries) table.push([entry.index, entry.time, entry.kind, JSON.stringify(entry.data)]);
  io.out(`${target.origin}: ${entries.length} entries\n${table.toString()}\n`);
}

export interface VerifyReport {
  origin: string;
  result: AuditVerification;
  /** What each witness holds, and whether the witness's own log is sound. */
  witnesses: { name: string; heldSize: number | null; entryIndex: number | null; ok: boolean; problem?: string }[];
  /** Witness keys given with --witness-key whose cosignature was found and checked. */
  cosignedBy: string[];
}

export function reportVerification(io: Io, report: VerifyReport, json: boolean | undefined, where: string): void {
  const { origin, result } = report;
  const summary = {
    origin,
    ok: result.ok,
    size: result.size,
    rootHash: hexEncode(result.rootHash),
    coveredSize: result.coveredSize,
    checkpointsChecked: result.checkpointsChecked,
    witnesses: report.witnesses,
    cosignedBy: report.cosignedBy,
    ...(result.problem ? { problem: result.problem } : {}),
  };
  if (json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
  else if (result.ok) {
    const held = report.witnesses.map((witness) => `${witness.name} holds size ${witness.heldSize ?? 'none'}`);
    const extra = [...held, ...report.cosignedBy.map((name) => `cosigned by ${name}`)];
    io.out(`${origin}: sound: ${result.size} entries, ${result.checkpointsChecked} checkpoints match, root ${summary.rootHash}${extra.length ? `; ${extra.join('; ')}` : ''}\n`);
  } else io.out(`${origin}: ${io.color ? chalk.red('TAMPERED') : 'TAMPERED'}: ${result.problem!.what}\n`);
  if (!result.ok) throw new AppError('differences', result.problem!.equivocation ? 'audit.equivocation' : 'audit.tampered', result.problem!.what, where);
}

/**
 * The floor a verify cannot beat: the SHA-256 work alone (one leaf hash per entry, one node hash
 * per inner node) over entries already in memory, timed in this same process.
 */
function measureHashFloorMs(db: Database): { entries: number; hashOnlyMs: number } {
  const entries = db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries ORDER BY idx').map((row) => row.entry);
  const startedMs = performance.now();
  let node: Uint8Array = new Uint8Array(32);
  for (const entry of entries) node = auditHasher.nodeHash(auditHasher.leafHash(entry), node);
  return { entries: entries.length, hashOnlyMs: performance.now() - startedMs };
}

/** Checks a witness's own log, then reads what it holds of the target. */
async function witnessEvidence(target: AuditTarget): Promise<{ evidence: CheckpointEvidence[]; verifiers: NoteVerifier[]; reports: VerifyReport['witnesses']; problem?: string }> {
  const evidence: CheckpointEvidence[] = [];
  const verifiers: NoteVerifier[] = [];
  const reports: VerifyReport['witnesses'] = [];
  for (const witness of target.witnesses) {
    if (!databaseExists(witness.databaseFile)) {
      reports.push({ name: witness.name, heldSize: null, entryIndex: null, ok: true });
      continue;
    }
    const found = await withReadOnlyDatabaseAsync(witness.databaseFile, async (db) => {
      const own = await verifyStoredLogInParallel(db, { origin: witness.origin, verifiers: [noteVerifierFromKey(witness.verifierKey)] });
      return { own, held: own.ok ? latestHeldCheckpoint(db, target.origin, witness.kind) : undefined };
    });
    if (!found.own.ok) {
      const problem = `the log of its witness, ${witness.name}, is not sound: ${found.own.problem!.what}`;
      reports.push({ name: witness.name, heldSize: null, entryIndex: null, ok: false, problem });
      return { evidence, verifiers, reports, problem };
    }
    reports.push({ name: witness.name, heldSize: found.held?.size ?? null, entryIndex: found.held?.entryIndex ?? null, ok: true });
    if (found.held) evidence.push({ source: `${witness.name}'s log (entry ${found.held.entryIndex})`, note: found.held.note });
    if (witness.cosignatureKey) verifiers.push(noteVerifierFromKey(witness.cosignatureKey));
  }
  return { evidence, verifiers, reports };
}

interface VerifyOptions extends TargetOptions {
  json?: boolean;
  export?: string;
  measure?: boolean;
  thorough?: boolean;
  witnessKey?: string[];
}

function witnessKeyVerifiers(keys: string[] | undefined): NoteVerifier[] {
  return (keys ?? []).map((key) => {
    const verifier = noteVerifierFromKey(readKeyOption(key));
    return verifier;
  });
}

/** --witness-key: each named witness must have cosigned a checkpoint that the log matches. */
function requireCosigners(result: AuditVerification, required: NoteVerifier[], evidence: readonly CheckpointEvidence[]): { result: AuditVerification; cosignedBy: string[] } {
  const cosignedBy: string[] = [];
  for (const witness of required) {
    const signed = evidence.some((held) => {
      try {
        return openNote(held.note, [witness]).verifiedBy.length > 0;
      } catch {
        return false;
      }
    });
    if (signed) cosignedBy.push(witness.name);
    else if (result.ok) result = { ...result, ok: false, problem: { index: null, what: `no cosignature by the witness ${witness.name} was found for this log` } };
  }
  return { result, cosignedBy };
}

async function verifyTarget(options: VerifyOptions, factory: Factory): Promise<void> {
  const { io } = factory;
  const required = witnessKeyVerifiers(options.witnessKey);
  if (options.export) {
    if (!options.key) throw usageError('--export needs --key VKEY (or --key @FILE)');
    if (options.dir || options.db) throw usageError('--export reads a file: give it without --dir or --db');
    if (options.thorough) throw usageError('--thorough checks a database; an export is checked against its latest checkpoint and cosignatures');
    const verifierKey = readKeyOption(options.key);
    const checked = verifyExportFile(options.export, verifierKey, required);
    const { result, cosignedBy } = requireCosigners(checked.result, required, checked.evidence);
    reportVerification(io, { origin: checked.origin, result, witnesses: [], cosignedBy }, options.json, options.export);
    return;
  }
  const target = resolveTarget(options, factory.deployment);
  const startedMs = performance.now();
  const startedCpu = process.cpuUsage();
  const report = await checkTarget(target, { thorough: options.thorough, required });
  const verifyMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(startedCpu);
  if (options.measure) {
    const floor = withReadOnlyDatabase(target.databaseFile, measureHashFloorMs);
    io.err(`${JSON.stringify({ entries: floor.entries, verifyMs: Math.round(verifyMs), hashOnlyMs: Math.round(floor.hashOnlyMs), ratio: Number((verifyMs / floor.hashOnlyMs).toFixed(2)), verifyCpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`);
  }
  reportVerification(io, report, options.json, target.databaseFile);
}

/** Verifies a role's log: its witnesses' logs first, then the log against them and its own signatures. */
export async function checkTarget(target: AuditTarget, options: { thorough?: boolean; required?: NoteVerifier[] } = {}): Promise<VerifyReport> {
  const required = options.required ?? [];
  const held = await witnessEvidence(target);
  if (held.problem) {
    const result: AuditVerification = { ok: false, size: 0, rootHash: new Uint8Array(32), checkpointsChecked: 0, coveredSize: 0, problem: { index: null, what: held.problem } };
    return { origin: target.origin, result, witnesses: held.reports, cosignedBy: [] };
  }
  const { result: verified, evidence } = await withReadOnlyDatabaseAsync(target.databaseFile, async (db) => {
    const cosigned = readCosignatures(db).map((stored) => ({ source: `the cosignature by ${stored.witness} at size ${stored.size}`, note: stored.note }));
    const all = [...held.evidence, ...cosigned];
    return {
      evidence: all,
      result: await verifyStoredLogInParallel(db, { origin: target.origin, verifiers: [noteVerifierFromKey(target.verifierKey)], witnessVerifiers: [...held.verifiers, ...required], evidence: all, thorough: options.thorough }),
    };
  });
  const { result, cosignedBy } = requireCosigners(verified, required, evidence);
  return { origin: target.origin, result, witnesses: held.reports, cosignedBy };
}

function requireCheckpoint(db: Database, size: number, what: string, file: string): string {
  const found = checkpointAtSize(db, size);
  if (!found) throw usageError(`${what}: no checkpoint was signed at size ${size} (the latest is at ${latestCheckpoint(db)?.size ?? 'none'})`);
  if (found.size > logSize(db)) throw inputError('audit.inconsistent', `the checkpoint at size ${size} covers entries the log does not have; run "cvs-issue audit-log verify"`, file);
  return found.note;
}

interface ProveOptions extends TargetOptions {
  index?: string;
  size?: string;
  from?: string;
  to?: string;
}

/** Proofs read O(log n) stored nodes, whatever the log's length. */
function proveTarget(options: ProveOptions, factory: Factory): void {
  const { io } = factory;
  const target = resolveTarget(options, factory.deployment);
  const proof = withReadOnlyDatabase(target.databaseFile, (db) => {
    const latest = latestCheckpoint(db);
    if (!latest) throw inputError('audit.empty', 'the log has no checkpoint yet', target.databaseFile);
    const nodes = storedTreeNodes(db);
    if (options.index !== undefined) {
      const index = positiveInteger(options.index, '--index')!;
      const size = positiveInteger(options.size, '--size') ?? latest.size;
      const checkpoint = requireCheckpoint(db, size, '--size', target.databaseFile);
      if (index >= size) throw usageError(`--index ${index} is not below the checkpoint size ${size}`);
      const entry = db.get<{ entry: Uint8Array }>('SELECT entry FROM audit_entries WHERE idx = :index', { index })!.entry;
      return { type: 'inclusion', origin: target.origin, index, size, entryBase64: base64Encode(entry), proof: inclusionProofFromNodes(auditHasher, nodes, index, size).map(hexEncode), checkpoint };
    }
    if (options.from !== undefined && options.to !== undefined) {
      const fromSize = positiveInteger(options.from, '--from')!;
      const toSize = positiveInteger(options.to, '--to')!;
      if (fromSize < 1 || fromSize > toSize) throw usageError('--from must be at least 1 and not above --to');
      const fromCheckpoint = requireCheckpoint(db, fromSize, '--from', target.databaseFile);
      const toCheckpoint = requireCheckpoint(db, toSize, '--to', target.databaseFile);
      return { type: 'consistency', origin: target.origin, fromSize, toSize, proof: consistencyProofFromNodes(auditHasher, nodes, fromSize, toSize).map(hexEncode), fromCheckpoint, toCheckpoint };
    }
    throw usageError('give --index N (inclusion) or --from A --to B (consistency)');
  });
  io.out(`${JSON.stringify(proof, null, 2)}\n`);
}

/** Checks a proof file against a public key (core/audit-proof.ts); exit 3 when it fails or contradicts itself. */
function verifyProofFile(options: { proof: string; key: string; json?: boolean }, io: Io): void {
  let proof: unknown;
  try {
    proof = JSON.parse(readTextFile(options.proof));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw inputError('proof.bad_json', 'the proof file is not valid JSON', options.proof);
  }
  const { ok, description } = checkAuditProof(proof, noteVerifierFromKey(readKeyOption(options.key)), auditHasher, options.proof);
  io.out(options.json ? `${JSON.stringify({ ok, description })}\n` : `${description}\n`);
  if (!ok) throw new AppError('differences', 'proof.failed', description, options.proof);
}

export function makeAuditLogCommand(factory: Factory): Command {
  const { io } = factory;
  const audit = new Command('audit-log').description(COMMANDS['audit-log'].description).addHelpText(
    'after',
    '\nExit codes: 0 done (verify: sound), 1 unexpected failure, 2 usage or bad input, 3 tampering, equivocation or a failed proof.',
  );
  addTargetOptions(audit.command('show').description('list entries (filters: --since, --until, --kind, --kiosk)'))
    .option('--since <iso-time>', 'entries at or after this time')
    .option('--until <iso-time>', 'entries before this time')
    .option('--kind <kind>', 'entries of this kind or its sub-kinds (e.g. certificate, auth.refused)')
    .option('--limit <n>', 'at most N entries')
    .option('--json', 'print JSON')
    .action((options: ShowOptions) => showEntries(options, factory));
  addTargetOptions(audit.command('verify').description("recompute everything and check it against the log's signatures and its witnesses; exit 0 when sound, 3 naming the first bad entry"))
    .option('--export <file>', 'verify an export file (with --key) instead of a database')
    .option('--witness-key <vkey>', "require a valid cosignature by this witness (C2SP cosignature vkey, or @FILE); repeatable", (value: string, previous: string[] = []) => [...previous, value])
    .option('--thorough', 'also check the signature and root of every stored checkpoint (slow: one signature per transaction)')
    .option('--json', 'print JSON')
    .option('--measure', 'also time the bare SHA-256 work in this process and print both times on stderr')
    .action(async (options: VerifyOptions) => verifyTarget(options, factory));
  addTargetOptions(audit.command('checkpoint').description('print the latest signed checkpoint')).action((options: TargetOptions) => {
    const target = resolveTarget(options, factory.deployment);
    const latest = withReadOnlyDatabase(target.databaseFile, latestCheckpoint);
    if (!latest) throw inputError('audit.empty', 'the log has no checkpoint yet', target.databaseFile);
    io.out(latest.note);
  });
  addTargetOptions(audit.command('prove').description('inclusion proof (--index N [--size S]) or consistency proof (--from A --to B), as JSON'))
    .option('--index <n>', 'entry to prove')
    .option('--size <n>', 'checkpoint size to prove against (default: the latest)')
    .option('--from <n>', 'older checkpoint size')
    .option('--to <n>', 'newer checkpoint size')
    .action((options: ProveOptions) => proveTarget(options, factory));
  audit
    .command('verify-proof')
    .description('check a proof file against its checkpoint and a public key, without the database; exit 3 when it fails or an unsigned field contradicts a signed one')
    .requiredOption('--proof <file>', 'proof JSON from "audit-log prove"')
    .requiredOption('--key <vkey>', "the log's verifier key, or @FILE holding it")
    .option('--json', 'print JSON')
    .action((options: { proof: string; key: string; json?: boolean }) => verifyProofFile(options, io));
  addTargetOptions(audit.command('export').description('header (latest checkpoint, cosignatures), entries and checkpoints as JSON lines, verifiable elsewhere with "verify --export"'))
    .option('--out <file>', 'write to FILE instead of stdout')
    .action(async (options: TargetOptions & { out?: string }) => exportLog(resolveTarget(options, factory.deployment), options.out, io));
  addWitnessCommands(audit, factory);
  return audit;
}
