// `cvs-issue audit-log`: show, verify, checkpoint, prove, verify-proof and export any role's
// tamper-evident log. Keys come from the deployment (--dir) or are given (--key): never from the
// database being checked, which could have been rewritten along with its key.

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import chalk from 'chalk';
import Table from 'cli-table3';
import { Command } from 'commander';
import { decodeAuditEntry, type AuditEntry } from '../core/audit-entry.ts';
import { verifyAuditLog, type AuditVerification, type StoredAuditRow, type StoredCheckpoint } from '../core/audit-verify.ts';
import { base64Decode, base64Encode, hexDecode, hexEncode } from '../core/bytes.ts';
import { AppError, inputError, usageError } from '../core/errors.ts';
import { parseIsoInstant } from '../core/jst.ts';
import { consistencyProof, inclusionProof, verifyConsistency, verifyInclusion } from '../core/merkle.ts';
import { openNote, parseCheckpoint, type Checkpoint } from '../core/signed-note.ts';
import { auditHasher, auditOrigin, noteVerifierFromKey, readCheckpoints, readLeafHashes, verifyStoredLog } from '../drivers/store/audit-log.ts';
import { witnessedRelayCheckpoints } from '../drivers/store/center-store.ts';
import { withDatabase, type Database } from '../drivers/store/database.ts';
import { witnessedCheckpoints } from '../drivers/store/relay-store.ts';
import { findKiosk, findRelay, loadConfig } from './config.ts';
import type { Io } from './io.ts';

interface TargetOptions {
  dir?: string;
  role?: string;
  operator?: string;
  kiosk?: string;
  db?: string;
  key?: string;
}

interface AuditTarget {
  databaseFile: string;
  origin: string;
  verifierKey: string;
  /** For a kiosk in a deployment: the checkpoints its relay witnessed. */
  witnessed(): StoredCheckpoint[];
}

function readKeyOption(key: string): string {
  const text = key.startsWith('@') ? readTextFile(key.slice(1)) : key;
  return text.trim();
}

function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw inputError('file.missing', 'cannot read the file', file);
  }
}

function resolveTarget(options: TargetOptions): AuditTarget {
  if (options.db) {
    if (!options.key) throw usageError('--db needs --key VKEY (or --key @FILE): the key is never taken from the database itself');
    const verifierKey = readKeyOption(options.key);
    const origin = noteVerifierFromKey(verifierKey).name;
    return { databaseFile: path.resolve(options.db), origin, verifierKey, witnessed: () => [] };
  }
  if (!options.dir) throw usageError('give --dir DIR with --role, or --db FILE with --key');
  const loaded = loadConfig(options.dir);
  const role = options.role ?? (options.kiosk ? 'kiosk' : undefined);
  if (role === 'center') {
    const center = loaded.config.center;
    return { databaseFile: loaded.resolve(center.databaseFile), origin: auditOrigin('center'), verifierKey: center.auditVerifierKey, witnessed: () => [] };
  }
  if (role === 'relay') {
    const relay = findRelay(loaded, options.operator);
    return {
      databaseFile: loaded.resolve(relay.databaseFile),
      origin: auditOrigin('relay', relay.operatorId),
      verifierKey: relay.auditVerifierKey,
      witnessed: () => withReadOnlyDatabase(loaded.resolve(loaded.config.center.databaseFile), (db) => witnessedRelayCheckpoints(db, relay.operatorId)),
    };
  }
  if (role === 'kiosk') {
    const kiosk = findKiosk(loaded, options.kiosk);
    const relay = findRelay(loaded, kiosk.operatorId);
    return {
      databaseFile: loaded.resolve(kiosk.databaseFile),
      origin: auditOrigin('kiosk', kiosk.kioskId),
      verifierKey: kiosk.auditVerifierKey,
      witnessed: () => withReadOnlyDatabase(loaded.resolve(relay.databaseFile), (db) => witnessedCheckpoints(db, kiosk.kioskId)),
    };
  }
  throw usageError('--role must be center, relay or kiosk');
}

function withReadOnlyDatabase<T>(file: string, work: (db: Database) => T): T {
  if (!fs.existsSync(file)) throw inputError('audit.no_database', 'no such database', file);
  return withDatabase(file, work, { readonly: true });
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

function showEntries(options: ShowOptions, io: Io): void {
  const target = resolveTarget(options);
  const sinceMs = instantOption(options.since, '--since');
  const untilMs = instantOption(options.until, '--until');
  const limit = positiveInteger(options.limit, '--limit') ?? Number.MAX_SAFE_INTEGER;
  const entries: AuditEntry[] = [];
  withReadOnlyDatabase(target.databaseFile, (db) => {
    for (const row of db.iterate<{ entry: Uint8Array }>('SELECT entry FROM audit_entries ORDER BY idx')) {
      const entry = decodeAuditEntry(row.entry);
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

function reportVerification(io: Io, origin: string, result: AuditVerification, json: boolean | undefined, where: string): void {
  const summary = {
    origin,
    ok: result.ok,
    size: result.size,
    rootHash: hexEncode(result.rootHash),
    checkpointsChecked: result.checkpointsChecked,
    ...(result.problem ? { problem: result.problem } : {}),
  };
  if (json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
  else if (result.ok) io.out(`${origin}: sound: ${result.size} entries, ${result.checkpointsChecked} checkpoints match, root ${summary.rootHash}\n`);
  else io.out(`${origin}: ${io.color ? chalk.red('TAMPERED') : 'TAMPERED'}: ${result.problem!.what}\n`);
  if (!result.ok) throw new AppError('differences', 'audit.tampered', result.problem!.what, where);
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

function verifyTarget(options: TargetOptions & { json?: boolean; export?: string; measure?: boolean }, io: Io): void {
  if (options.export) {
    if (!options.key) throw usageError('--export needs --key VKEY (or --key @FILE)');
    const exported = readExport(options.export);
    const verifierKey = readKeyOption(options.key);
    const origin = noteVerifierFromKey(verifierKey).name;
    const result = verifyAuditLog(exported.rows, exported.checkpoints, { hasher: auditHasher, origin, verifiers: [noteVerifierFromKey(verifierKey)] });
    reportVerification(io, origin, result, options.json, options.export);
    return;
  }
  const target = resolveTarget(options);
  const witnessed = target.witnessed();
  const startedMs = performance.now();
  const result = withReadOnlyDatabase(target.databaseFile, (db) => verifyStoredLog(db, target.origin, [noteVerifierFromKey(target.verifierKey)], witnessed));
  const verifyMs = performance.now() - startedMs;
  if (options.measure) {
    const floor = withReadOnlyDatabase(target.databaseFile, measureHashFloorMs);
    io.err(`${JSON.stringify({ entries: floor.entries, verifyMs: Math.round(verifyMs), hashOnlyMs: Math.round(floor.hashOnlyMs), ratio: Number((verifyMs / floor.hashOnlyMs).toFixed(2)) })}\n`);
  }
  reportVerification(io, target.origin, result, options.json, target.databaseFile);
}

function checkpointAt(checkpoints: StoredCheckpoint[], size: number, what: string): StoredCheckpoint {
  const found = checkpoints.find((checkpoint) => checkpoint.size === size);
  if (!found) throw usageError(`${what}: no checkpoint was signed at size ${size} (sizes: ${checkpoints.map((c) => c.size).slice(-10).join(', ')} …)`);
  return found;
}

interface ProveOptions extends TargetOptions {
  index?: string;
  size?: string;
  from?: string;
  to?: string;
}

function proveTarget(options: ProveOptions, io: Io): void {
  const target = resolveTarget(options);
  const proof = withReadOnlyDatabase(target.databaseFile, (db) => {
    const checkpoints = readCheckpoints(db);
    const latest = checkpoints.at(-1);
    if (!latest) throw inputError('audit.empty', 'the log has no checkpoint yet', target.databaseFile);
    if (options.index !== undefined) {
      const index = positiveInteger(options.index, '--index')!;
      const size = positiveInteger(options.size, '--size') ?? latest.size;
      const checkpoint = checkpointAt(checkpoints, size, '--size');
      if (index >= size) throw usageError(`--index ${index} is not below the checkpoint size ${size}`);
      const leaves = readLeafHashes(db, size);
      const entry = db.get<{ entry: Uint8Array }>('SELECT entry FROM audit_entries WHERE idx = :index', { index })!.entry;
      return {
        type: 'inclusion',
        origin: target.origin,
        index,
        size,
        entryBase64: base64Encode(entry),
        proof: inclusionProof(auditHasher, leaves, index, size).map(hexEncode),
        checkpoint: checkpoint.note,
      };
    }
    if (options.from !== undefined && options.to !== undefined) {
      const fromSize = positiveInteger(options.from, '--from')!;
      const toSize = positiveInteger(options.to, '--to')!;
      if (fromSize < 1 || fromSize > toSize) throw usageError('--from must be at least 1 and not above --to');
      const fromCheckpoint = checkpointAt(checkpoints, fromSize, '--from');
      const toCheckpoint = checkpointAt(checkpoints, toSize, '--to');
      return {
        type: 'consistency',
        origin: target.origin,
        fromSize,
        toSize,
        proof: consistencyProof(auditHasher, readLeafHashes(db, toSize), fromSize, toSize).map(hexEncode),
        fromCheckpoint: fromCheckpoint.note,
        toCheckpoint: toCheckpoint.note,
      };
    }
    throw usageError('give --index N (inclusion) or --from A --to B (consistency)');
  });
  io.out(`${JSON.stringify(proof, null, 2)}\n`);
}

const HEX_HASH = /^[0-9a-f]{64}$/;

function verifyProofFile(options: { proof: string; key: string; json?: boolean }, io: Io): void {
  let proof: Record<string, unknown>;
  try {
    proof = JSON.parse(readTextFile(options.proof)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw inputError('proof.bad_json', 'the proof file is not valid JSON', options.proof);
  }
  const verifier = noteVerifierFromKey(readKeyOption(options.key));
  const hashes = (field: string): Uint8Array[] => {
    const list = proof[field];
    if (!Array.isArray(list) || !list.every((hash) => typeof hash === 'string' && HEX_HASH.test(hash))) throw inputError('proof.bad_field', `field "${field}" must list hex hashes`, options.proof);
    return list.map((hash) => hexDecode(hash as string));
  };
  const checkpointOf = (field: string): Checkpoint => {
    const note = proof[field];
    if (typeof note !== 'string') throw inputError('proof.bad_field', `field "${field}" must be a signed checkpoint`, options.proof);
    try {
      return parseCheckpoint(openNote(note, [verifier]).body);
    } catch {
      throw new AppError('differences', 'proof.bad_checkpoint', `the checkpoint in "${field}" is not signed by this key`, options.proof);
    }
  };
  let ok: boolean;
  let description: string;
  if (proof.type === 'inclusion') {
    const checkpoint = checkpointOf('checkpoint');
    if (typeof proof.entryBase64 !== 'string' || !Number.isSafeInteger(proof.index)) throw inputError('proof.bad_field', 'fields "entryBase64" and "index" are required', options.proof);
    const index = proof.index as number;
    const leafHash = auditHasher.leafHash(base64Decode(proof.entryBase64));
    ok = proof.size === checkpoint.size && verifyInclusion(auditHasher, leafHash, index, checkpoint.size, hashes('proof'), checkpoint.rootHash);
    description = `entry ${index} is ${ok ? '' : 'NOT '}in ${checkpoint.origin} at size ${checkpoint.size}`;
  } else if (proof.type === 'consistency') {
    const from = checkpointOf('fromCheckpoint');
    const to = checkpointOf('toCheckpoint');
    ok = from.origin === to.origin && verifyConsistency(auditHasher, from.size, to.size, hashes('proof'), from.rootHash, to.rootHash);
    description = `${to.origin} at size ${to.size} ${ok ? 'extends' : 'does NOT extend'} size ${from.size}`;
  } else {
    throw inputError('proof.bad_field', 'field "type" must be "inclusion" or "consistency"', options.proof);
  }
  io.out(options.json ? `${JSON.stringify({ ok, description })}\n` : `${description}\n`);
  if (!ok) throw new AppError('differences', 'proof.failed', description, options.proof);
}

/** Export: JSON lines, a header, every entry, every checkpoint. Verifiable with `verify --export`. */
function exportTarget(options: TargetOptions & { out?: string }, io: Io): void {
  const target = resolveTarget(options);
  const lines: string[] = [JSON.stringify({ format: 'cvs-issue-audit-export/1', origin: target.origin, verifierKey: target.verifierKey })];
  withReadOnlyDatabase(target.databaseFile, (db) => {
    for (const row of db.iterate<{ idx: number; entry: Uint8Array }>('SELECT idx, entry FROM audit_entries ORDER BY idx')) {
      lines.push(JSON.stringify({ index: row.idx, entryBase64: base64Encode(row.entry) }));
    }
    for (const checkpoint of readCheckpoints(db)) lines.push(JSON.stringify({ checkpoint }));
  });
  const text = `${lines.join('\n')}\n`;
  if (!options.out) {
    io.out(text);
    return;
  }
  const temporary = `${options.out}.partial`;
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, options.out);
  io.err(`exported ${lines.length - 1} lines of ${target.origin} to ${options.out}\n`);
}

function readExport(file: string): { rows: StoredAuditRow[]; checkpoints: StoredCheckpoint[] } {
  const rows: StoredAuditRow[] = [];
  const checkpoints: StoredCheckpoint[] = [];
  readTextFile(file)
    .split('\n')
    .forEach((line, lineIndex) => {
      if (lineIndex === 0 || line === '') return;
      let value: { index?: number; entryBase64?: string; checkpoint?: StoredCheckpoint };
      try {
        value = JSON.parse(line) as typeof value;
      } catch {
        throw inputError('export.bad_line', 'not valid JSON', `${file}:${lineIndex + 1}`);
      }
      if (value.checkpoint) checkpoints.push(value.checkpoint);
      else if (typeof value.index === 'number' && typeof value.entryBase64 === 'string') {
        const entry = base64Decode(value.entryBase64);
        rows.push({ index: value.index, entry, leafHash: auditHasher.leafHash(entry) });
      } else throw inputError('export.bad_line', 'expected an entry or a checkpoint', `${file}:${lineIndex + 1}`);
    });
  return { rows, checkpoints };
}

export function makeAuditLogCommand(io: Io): Command {
  const audit = new Command('audit-log').description("show, verify and prove any role's tamper-evident audit log");
  addTargetOptions(audit.command('show').description('list entries (filters: --since, --until, --kind, --kiosk)'))
    .option('--since <iso-time>', 'entries at or after this time')
    .option('--until <iso-time>', 'entries before this time')
    .option('--kind <kind>', 'entries of this kind or its sub-kinds (e.g. certificate, auth.refused)')
    .option('--limit <n>', 'at most N entries')
    .option('--json', 'print JSON')
    .action((options: ShowOptions) => showEntries(options, io));
  addTargetOptions(audit.command('verify').description('recompute everything; exit 0 when sound, 3 naming the first bad entry'))
    .option('--export <file>', 'verify an export file (with --key) instead of a database')
    .option('--json', 'print JSON')
    .option('--measure', 'also time the bare SHA-256 work in this process and print both times on stderr')
    .action((options: TargetOptions & { json?: boolean; export?: string; measure?: boolean }) => verifyTarget(options, io));
  addTargetOptions(audit.command('checkpoint').description('print the latest signed checkpoint')).action((options: TargetOptions) => {
    const target = resolveTarget(options);
    const latest = withReadOnlyDatabase(target.databaseFile, (db) => readCheckpoints(db).at(-1));
    if (!latest) throw inputError('audit.empty', 'the log has no checkpoint yet', target.databaseFile);
    io.out(latest.note);
  });
  addTargetOptions(audit.command('prove').description('inclusion proof (--index N [--size S]) or consistency proof (--from A --to B), as JSON'))
    .option('--index <n>', 'entry to prove')
    .option('--size <n>', 'checkpoint size to prove against (default: the latest)')
    .option('--from <n>', 'older checkpoint size')
    .option('--to <n>', 'newer checkpoint size')
    .action((options: ProveOptions) => proveTarget(options, io));
  audit
    .command('verify-proof')
    .description('check a proof file against its checkpoint and a public key, without the database')
    .requiredOption('--proof <file>', 'proof JSON from "audit-log prove"')
    .requiredOption('--key <vkey>', "the log's verifier key, or @FILE holding it")
    .option('--json', 'print JSON')
    .action((options: { proof: string; key: string; json?: boolean }) => verifyProofFile(options, io));
  addTargetOptions(audit.command('export').description('entries and checkpoints as JSON lines, verifiable elsewhere with "verify --export"'))
    .option('--out <file>', 'write to FILE instead of stdout')
    .action((options: TargetOptions & { out?: string }) => exportTarget(options, io));
  return audit;
}
