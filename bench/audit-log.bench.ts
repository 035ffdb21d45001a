// Audit log: append rate (one entry per transaction, and batched), and the time the compiled binary
// needs to verify a 1,000,000-entry log next to the bare SHA-256 work that verification requires,
// measured in the same binary run. Run with `npm run bench` (which builds dist/cvs-issue first).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateEd25519KeyPair } from '../drivers/pki/ed25519.ts';
import { AuditLog, auditOrigin } from '../drivers/store/audit-log.ts';
import { openDatabase } from '../drivers/store/database.ts';
import { migrate } from '../drivers/store/migrate.ts';
import { KIOSK_MIGRATIONS } from '../drivers/store/schema.ts';

const VERIFY_ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const SINGLE_ENTRIES = 5_000;
const BATCH = 1_000;
const binary = path.resolve(import.meta.dirname, '../dist/cvs-issue');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-bench-audit-'));
const keys = generateEd25519KeyPair();
let clockMs = Date.parse('2026-11-02T01:00:00Z');
const clock = { nowMs: () => (clockMs += 1) };

function freshLog(file: string): { log: AuditLog; close(): void } {
  const db = openDatabase(file);
  migrate(db, 'kiosk', KIOSK_MIGRATIONS);
  return { log: new AuditLog(db, { origin: auditOrigin('kiosk', 'K0001'), privateKeyPem: keys.privateKeyPem, clock }), close: () => db.close() };
}

function event(index: number) {
  return { kind: 'certificate.printed', data: { requestId: `r${index.toString(16).padStart(12, '0')}`, copy: 1 } };
}

try {
  const single = freshLog(path.join(work, 'single.db'));
  let startedMs = performance.now();
  for (let index = 0; index < SINGLE_ENTRIES; index += 1) single.log.append(event(index));
  const singleRate = SINGLE_ENTRIES / ((performance.now() - startedMs) / 1000);
  single.close();

  const batched = freshLog(path.join(work, 'batched.db'));
  startedMs = performance.now();
  for (let first = 0; first < VERIFY_ENTRIES; first += BATCH) {
    batched.log.append(...Array.from({ length: Math.min(BATCH, VERIFY_ENTRIES - first) }, (_, offset) => event(first + offset)));
  }
  const batchedSeconds = (performance.now() - startedMs) / 1000;
  const verifierKey = batched.log.verifierKey;
  batched.close();

  const runStartedMs = performance.now();
  const result = spawnSync(binary, ['audit-log', 'verify', '--db', path.join(work, 'batched.db'), '--key', verifierKey, '--measure'], { encoding: 'utf8' });
  const wallMs = performance.now() - runStartedMs;
  if (result.status !== 0) throw new Error(`verify failed (${result.status}): ${result.stderr}`);
  const measured = JSON.parse(result.stderr.trim().split('\n').at(-1)!) as { entries: number; verifyMs: number; hashOnlyMs: number; ratio: number };

  console.log(`append, one entry per transaction (Node):  ${Math.round(singleRate).toLocaleString('en-US')} entries/s (${SINGLE_ENTRIES} entries, a signed checkpoint each)`);
  console.log(`append, ${BATCH} entries per transaction (Node): ${Math.round(VERIFY_ENTRIES / batchedSeconds).toLocaleString('en-US')} entries/s (${VERIFY_ENTRIES.toLocaleString('en-US')} entries)`);
  console.log(`verify ${measured.entries.toLocaleString('en-US')} entries in the binary: ${measured.verifyMs} ms (process wall ${Math.round(wallMs)} ms)`);
  console.log(`bare SHA-256 work for the same entries, same binary run: ${measured.hashOnlyMs} ms`);
  console.log(`ratio verify / hashing floor: ${measured.ratio} (goal ≤ 2)`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
