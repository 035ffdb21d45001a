// A worker thread of the parallel verify (drivers/store/audit-verify-parallel.ts): it reads its
// runs of entries from the database itself and checks each run on its own (grammar, index, stored
// leaf hash, links inside the run), then hands back the run's leaf hashes. The main thread builds
// the tree from them and checks the roots and the links between runs.

import { parentPort, workerData } from 'node:worker_threads';
import { EntryRunChecker } from '../../core/audit-verify.ts';
import { createMerkleHasher } from '../../core/merkle.ts';
import { sha256 } from '../crypto/sha256.ts';
import { openDatabase, type Database } from './database.ts';

export interface AuditRun {
  run: number;
  first: number;
  count: number;
  /** Hand back every leaf hash (a run that is partial or holds a checkpoint to check), not only the subtree root. */
  keepLeaves: boolean;
}

export interface AuditWorkerInput {
  kind: 'cvs-issue-audit-verify';
  databaseFile: string;
  runs: AuditRun[];
}

export type AuditWorkerMessage =
  | { type: 'run'; run: number; ok: true; leaves: Uint8Array | undefined; subtreeRoot: Uint8Array; lastLeaf: Uint8Array; previousOfFirst: Uint8Array }
  | { type: 'run'; run: number; ok: false }
  | { type: 'done' }
  | { type: 'error'; message: string };

const PAGE_ROWS = 16_384;

/** Checks one run read from `db`; the main thread uses it too, for the runs it takes itself. */
export function checkRun(db: Database, run: AuditRun): AuditWorkerMessage & { type: 'run' } {
  const checker = new EntryRunChecker(createMerkleHasher(sha256), run.first, run.count, run.keepLeaves);
  const end = run.first + run.count;
  for (let first = run.first; first < end; first += PAGE_ROWS) {
    const page = db.all<{ idx: number; entry: Uint8Array; leaf_hash: Uint8Array }>(
      'SELECT idx, entry, leaf_hash FROM audit_entries WHERE idx >= :first AND idx < :end ORDER BY idx LIMIT :limit',
      { first, end, limit: PAGE_ROWS },
    );
    for (const row of page) if (!checker.push(row.idx, row.entry, row.leaf_hash)) return { type: 'run', run: run.run, ok: false };
  }
  if (!checker.complete) return { type: 'run', run: run.run, ok: false };
  return { type: 'run', run: run.run, ok: true, leaves: checker.leaves, subtreeRoot: checker.subtreeRoot, lastLeaf: checker.lastLeaf, previousOfFirst: checker.previousOfFirst };
}

const input = workerData as AuditWorkerInput | undefined;
if (parentPort && input?.kind === 'cvs-issue-audit-verify') {
  const port = parentPort;
  try {
    const db = openDatabase(input.databaseFile, { readonly: true });
    try {
      for (const run of input.runs) {
        const message = checkRun(db, run);
        port.postMessage(message, message.type === 'run' && message.ok && message.leaves ? [message.leaves.buffer as ArrayBuffer] : []);
        if (message.type !== 'run' || !message.ok) break;
      }
      port.postMessage({ type: 'done' } satisfies AuditWorkerMessage);
    } finally {
      db.close();
    }
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error).message } satisfies AuditWorkerMessage);
  }
}
