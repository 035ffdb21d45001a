// Audit log, on the shape the kiosk writes: one signed checkpoint per appending transaction.
// - append rate, one entry per transaction;
// - the compiled binary verifying a 1,000,000-entry log of that shape (a million checkpoints),
//   next to the bare SHA-256 work of the same entries, timed in the same binary run
//   (`audit-log verify --measure`);
// - heartbeat cost at 10 and at 1,000,000 entries: the owner's offer (latest checkpoint plus a
//   consistency proof from the size last witnessed, read from the stored tree) and the witness's
//   check of it, after each new transaction, as a kiosk and its relay do.
// Run with `npm run bench -- audit` (which builds dist/cvs-issue first). BENCH_AUDIT_ENTRIES
// changes the size of the big log.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AuditEvent } from '../core/audit-entry.ts';
import { witness, type WitnessedCheckpoint } from '../core/witness.ts';
import { generateEd25519KeyPair } from '../drivers/pki/ed25519.ts';
import { AuditLog, auditHasher, auditOrigin, checkpointOffer, noteVerifierFromKey } from '../drivers/store/audit-log.ts';
import { openDatabase, type Database } from '../drivers/store/database.ts';
import { migrate } from '../drivers/store/migrate.ts';
import { KIOSK_MIGRATIONS } from '../drivers/store/schema.ts';

const BIG_ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const SINGLE_ENTRIES = 5_000;
const HEARTBEATS = 300;
const VERIFY_RUNS = 3;
const binary = path.resolve(import.meta.dirname, '../dist/cvs-issue');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-bench-audit-'));
const keys = generateEd25519KeyPair();
const origin = auditOrigin('kiosk', 'K0001');
let clockMs = Date.parse('2026-11-02T01:00:00Z');
const clock = { nowMs: () => (clockMs += 7) };

/** The entries of one kiosk session, each its own transaction as the kiosk appends them. */
function sessionEvent(index: number): AuditEvent {
  const session = Math.floor(index / 8);
  const requestId = `R${session.toString(16).padStart(12, '0')}`;
  switch (index % 8) {
    case 0: return { kind: 'card.read', data: { cardKind: 'my-number-card' } };
    case 1: return { kind: 'auth.accepted', data: { residentRef: `ref-${session % 5000}`, municipalityCode: '131016', attempt: 1, operatorId: 'OP01', kioskId: 'K0001' } };
    case 2: return { kind: 'certificate.requested', data: { requestId, residentRef: `ref-${session % 5000}`, certificateType: 'juminhyo', copies: 1 } };
    case 3: return { kind: 'payment.taken', data: { requestId, feeYen: 300, paidYen: 500, changeYen: 200 } };
    case 4: return { kind: 'certificate.printed', data: { requestId, copy: 1 } };
    case 5: return { kind: 'certificate.erased', data: {} };
    case 6: return { kind: 'transaction.recorded', data: { requestId, outcome: 'issued', copies: 1, feeYen: 300 } };
    default: return { kind: 'notice.acknowledged', data: { issuanceId: requestId } };
  }
}

function freshLog(file: string): { db: Database; log: AuditLog } {
  const db = openDatabase(file);
  migrate(db, 'kiosk', KIOSK_MIGRATIONS);
  return { db, log: new AuditLog(db, { origin, privateKeyPem: keys.privateKeyPem, clock }) };
}

/**
 * Appends `count` entries, each in its own AuditLog transaction with its own signed checkpoint.
 * Only the fsyncs are grouped (a SQLite transaction around 2,000 of them, nested ones becoming
 * savepoints), so building a million-entry log takes minutes, not an hour; the rows are the same.
 */
function appendOnePerTransaction(db: Database, log: AuditLog, first: number, count: number): void {
  for (let start = first; start < first + count; start += 2_000) {
    db.transaction(() => {
      for (let index = start; index < Math.min(start + 2_000, first + count); index += 1) log.append(sessionEvent(index));
    });
  }
}

/** Median time of offer (owner) plus check (witness), one new transaction before each heartbeat. */
function heartbeatCost(db: Database, log: AuditLog): { offerMs: number; witnessMs: number; proofNodes: number } {
  const verifier = noteVerifierFromKey(log.verifierKey);
  let witnessed: WitnessedCheckpoint | undefined;
  const offerTimes: number[] = [];
  const witnessTimes: number[] = [];
  let proofNodes = 0;
  for (let beat = 0; beat < HEARTBEATS; beat += 1) {
    log.append({ kind: 'maintenance.login', data: { outcome: 'rejected' } });
    let startedMs = performance.now();
    const offer = checkpointOffer(db, witnessed?.size ?? 0)!;
    offerTimes.push(performance.now() - startedMs);
    startedMs = performance.now();
    const decision = witness({ offer, previous: witnessed, origin, verifier, hasher: auditHasher });
    witnessTimes.push(performance.now() - startedMs);
    witnessed = decision.keep ?? witnessed;
    proofNodes = Math.max(proofNodes, offer.consistencyProof.length);
  }
  const median = (times: number[]) => Number(times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!.toFixed(3));
  return { offerMs: median(offerTimes), witnessMs: median(witnessTimes), proofNodes };
}

try {
  const single = freshLog(path.join(work, 'single.db'));
  const singleStartedMs = performance.now();
  for (let index = 0; index < SINGLE_ENTRIES; index += 1) single.log.append(sessionEvent(index));
  const singleRate = SINGLE_ENTRIES / ((performance.now() - singleStartedMs) / 1000);
  single.db.close();

  const small = freshLog(path.join(work, 'small.db'));
  appendOnePerTransaction(small.db, small.log, 0, 10);
  const smallBeat = heartbeatCost(small.db, small.log);
  small.db.close();

  const big = freshLog(path.join(work, 'big.db'));
  const buildStartedMs = performance.now();
  appendOnePerTransaction(big.db, big.log, 0, BIG_ENTRIES);
  const buildSeconds = (performance.now() - buildStartedMs) / 1000;
  const checkpoints = big.db.get<{ count: number }>('SELECT COUNT(*) AS count FROM audit_checkpoints')!.count;
  const verifierKey = big.log.verifierKey;
  big.db.close();

  // Verified in the binary before the heartbeats add to the log, so it has exactly BIG_ENTRIES;
  // three runs, each a fresh process, as a cron job or an auditor would run it.
  const runs = Array.from({ length: VERIFY_RUNS }, () => {
    const runStartedMs = performance.now();
    const result = spawnSync(binary, ['audit-log', 'verify', '--db', path.join(work, 'big.db'), '--key', verifierKey, '--measure'], { encoding: 'utf8' });
    const wallMs = performance.now() - runStartedMs;
    if (result.status !== 0) throw new Error(`verify failed (${result.status}): ${result.stderr}`);
    return { wallMs, ...(JSON.parse(result.stderr.trim().split('\n').at(-1)!) as { entries: number; verifyMs: number; hashOnlyMs: number; ratio: number; verifyCpuMs: number }) };
  });

  const reopened = openDatabase(path.join(work, 'big.db'));
  const bigBeat = heartbeatCost(reopened, new AuditLog(reopened, { origin, privateKeyPem: keys.privateKeyPem, clock }));
  reopened.close();

  const count = (value: number) => value.toLocaleString('en-US');
  console.log(`append, one entry per transaction (Node): ${count(Math.round(singleRate))} entries/s (${count(SINGLE_ENTRIES)} entries, a signed checkpoint each)`);
  console.log(`built the big log: ${count(BIG_ENTRIES)} entries, ${count(checkpoints)} checkpoints (one per transaction), in ${buildSeconds.toFixed(0)} s`);
  for (const [run, measured] of runs.entries()) {
    console.log(
      `verify run ${run + 1}: ${count(measured.entries)} entries in the binary in ${measured.verifyMs} ms (CPU ${measured.verifyCpuMs} ms on two threads, process wall ${Math.round(measured.wallMs)} ms); ` +
        `bare SHA-256 work for the same entries, same process: ${measured.hashOnlyMs} ms; ratio ${measured.ratio} (goal ≤ 2)`,
    );
  }
  for (const [label, beat] of [['10', smallBeat], [count(BIG_ENTRIES), bigBeat]] as const) {
    console.log(`heartbeat at ${label} entries (median of ${HEARTBEATS}, Node): offer ${beat.offerMs} ms, witness check ${beat.witnessMs} ms, proof ≤ ${beat.proofNodes} hashes`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
