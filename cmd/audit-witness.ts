// An outside witness (an auditor of J-LIS or a municipality): `audit-log witness-key` makes its
// key, `audit-log witness` checks an export against what it kept last time and cosigns the
// latest checkpoint (C2SP tlog-cosignature), and `audit-log cosign` hands the cosignature back to
// the log's database, where `verify --witness-key` finds it (docs/audit-log.md, "Witnesses").

import fs from 'node:fs';
import { Command } from 'commander';
import { AppError, inputError, usageError } from '../core/errors.ts';
import { cosignatureLine, noteBody, parseCheckpoint } from '../core/signed-note.ts';
import { checkCosignedNote } from '../core/witness.ts';
import { generateEd25519KeyPair } from '../drivers/pki/ed25519.ts';
import { cosignatureKeyForPrivateKey, checkpointAtSize, noteSignerFor, noteVerifierFromKey, saveCosignature } from '../drivers/store/audit-log.ts';
import { openDatabase } from '../drivers/store/database.ts';
import { formatUtcIso } from '../core/jst.ts';
import { verifyExportFile } from './audit-export.ts';
import { readKeyOption, readTextFile, reportVerification, resolveTarget, type TargetOptions } from './audit-log.ts';
import type { Factory } from './factory.ts';

const STATE_FORMAT = 'cvs-issue-witness-state/1';

interface WitnessState {
  format: string;
  name: string;
  /** The last checkpoint cosigned per log origin: the signed note as the log gave it. */
  logs: Record<string, { size: number; note: string; cosignedAt: string }>;
}

function readState(file: string, name: string): WitnessState {
  if (!fs.existsSync(file)) return { format: STATE_FORMAT, name, logs: {} };
  let state: WitnessState;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as WitnessState;
  } catch {
    throw inputError('witness.bad_state', 'the witness state file is not valid JSON', file);
  }
  if (state.format !== STATE_FORMAT || typeof state.logs !== 'object' || state.logs === null) throw inputError('witness.bad_state', `not a ${STATE_FORMAT} file`, file);
  if (state.name !== name) throw inputError('witness.bad_state', `the state belongs to witness ${JSON.stringify(state.name)}, not ${JSON.stringify(name)}`, file);
  return state;
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.partial`;
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

interface WitnessOptions {
  export: string;
  logKey: string;
  key: string;
  name: string;
  state: string;
  out?: string;
  json?: boolean;
}

/** Checks the export (all of it, and that it extends what this witness cosigned before), then cosigns. */
function witnessExport(options: WitnessOptions, factory: Factory): void {
  const { io } = factory;
  const privateKeyPem = readTextFile(options.key);
  const signer = noteSignerFor(options.name, privateKeyPem, 'cosignature');
  const logKey = readKeyOption(options.logKey);
  const origin = noteVerifierFromKey(logKey).name;
  const state = readState(options.state, options.name);
  const before = state.logs[origin];
  const checked = verifyExportFileAgainst(options.export, logKey, before?.note);
  // The verdict goes to stderr: stdout is the cosigned checkpoint, for the log's operator.
  reportVerification({ ...io, out: io.err }, { origin, result: checked.result, witnesses: [], cosignedBy: [] }, options.json, options.export);
  if (checked.latest === null) throw inputError('witness.empty_log', 'the log has no checkpoint to cosign yet', options.export);
  const body = noteBody(checked.latest);
  const timestamp = Math.floor(factory.clock.nowMs() / 1000);
  const cosigned = `${checked.latest}${cosignatureLine(body, timestamp, signer)}\n`;
  state.logs[origin] = { size: parseCheckpoint(body).size, note: checked.latest, cosignedAt: formatUtcIso(timestamp * 1000) };
  writeAtomically(options.state, `${JSON.stringify(state, null, 2)}\n`);
  if (options.out) writeAtomically(options.out, cosigned);
  else io.out(cosigned);
  io.err(`${options.name} cosigned ${origin} at size ${state.logs[origin]!.size}${before ? ` (it had cosigned size ${before.size})` : ''}\n`);
}

/** verify --export, with the witness's previous checkpoint as evidence: a rollback or fork fails it. */
function verifyExportFileAgainst(file: string, logKey: string, previousNote: string | undefined) {
  const { result } = verifyExportFile(file, logKey, [], previousNote ? [{ source: 'the checkpoint this witness cosigned before', note: previousNote }] : []);
  const header = JSON.parse(readFirstLine(file)) as { latest: string | null };
  return { result, latest: header.latest };
}

function readFirstLine(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, read).toString('utf8').split('\n')[0]!;
  } finally {
    fs.closeSync(fd);
  }
}

interface CosignOptions extends TargetOptions {
  note: string;
  witnessKey: string;
}

/** Stores a witness's cosignature in the log's database, once it checks out against that log. */
function storeCosignature(options: CosignOptions, factory: Factory): void {
  const { io } = factory;
  const target = resolveTarget(options, factory.deployment);
  const note = readTextFile(options.note);
  const witness = noteVerifierFromKey(readKeyOption(options.witnessKey));
  if (!fs.existsSync(target.databaseFile)) throw inputError('audit.no_database', 'no such database', target.databaseFile);
  const db = openDatabase(target.databaseFile);
  let size: number;
  try {
    const cosigned = checkCosignedNote(note, noteVerifierFromKey(target.verifierKey), witness, (at) => checkpointAtSize(db, at)?.note);
    saveCosignature(db, cosigned, formatUtcIso(factory.clock.nowMs()));
    size = cosigned.size;
  } catch (error) {
    if (error instanceof AppError) throw new AppError('differences', error.code, error.message, options.note);
    throw error;
  } finally {
    db.close();
  }
  io.out(`${target.origin}: kept the cosignature by ${witness.name} at size ${size}\n`);
}

export function addWitnessCommands(audit: Command, factory: Factory): void {
  const { io } = factory;
  audit
    .command('witness-key')
    .description("make an outside witness's Ed25519 key; prints its cosignature verifier key (C2SP vkey, type 0x04)")
    .requiredOption('--name <name>', 'the witness name, e.g. auditor.example.jp')
    .requiredOption('--out <file>', 'where to write the private key (created owner-only; never overwritten)')
    .action((options: { name: string; out: string }) => {
      if (fs.existsSync(options.out)) throw usageError(`${options.out} exists already: a witness key is never overwritten`);
      const keys = generateEd25519KeyPair();
      fs.writeFileSync(options.out, keys.privateKeyPem, { mode: 0o600, flag: 'wx' });
      io.out(`${cosignatureKeyForPrivateKey(options.name, keys.privateKeyPem)}\n`);
    });
  audit
    .command('witness')
    .description("as an outside witness: check an export in full and that it extends what you cosigned before, then cosign its latest checkpoint")
    .requiredOption('--export <file>', 'the log export ("audit-log export")')
    .requiredOption('--log-key <vkey>', "the log's verifier key, or @FILE")
    .requiredOption('--key <file>', "the witness's private key (from witness-key)")
    .requiredOption('--name <name>', 'the witness name the key was made for')
    .requiredOption('--state <file>', 'where the witness keeps the last checkpoint it cosigned of each log')
    .option('--out <file>', 'write the cosigned checkpoint here instead of stdout')
    .option('--json', 'print the verification as JSON')
    .action((options: WitnessOptions) => witnessExport(options, factory));
  audit
    .command('cosign')
    .description("keep a witness's cosigned checkpoint in the log's database, where verify --witness-key finds it")
    .option('--dir <dir>', 'deployment directory made by "cvs-issue init"')
    .option('--role <role>', 'center, relay or kiosk (with --dir)')
    .option('--operator <id>', 'which relay (with --role relay)')
    .option('--kiosk <id>', 'which kiosk (with --dir)')
    .option('--db <file>', 'a role database file, instead of --dir')
    .option('--key <vkey>', "the log's verifier key, with --db")
    .requiredOption('--note <file>', 'the cosigned checkpoint the witness printed')
    .requiredOption('--witness-key <vkey>', "the witness's cosignature verifier key, or @FILE")
    .action((options: CosignOptions) => storeCosignature(options, factory));
}
