// Verify on both cores (docs/audit-log.md, "Verify"). Worker threads check runs of entries: the
// grammar, the index, the stored leaf hash, the links inside a run. This thread builds the tree
// from their leaf hashes in order, checks every link between runs and the signed roots. The
// verdict is the one `verifyStoredLog` gives: when anything is wrong, or the log is small, or
// workers cannot run (Node 20 does not run TypeScript workers; a PostgreSQL store, whose URL the
// workers are not given), the log is verified again one entry at a time, which names the problem exactly.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AuditVerification } from '../../core/audit-verify.ts';
import { storedLogVerifier, verifyStoredLog, type StoredVerifyOptions } from './audit-log.ts';
import { checkRun, type AuditRun, type AuditWorkerInput, type AuditWorkerMessage } from './audit-verify-worker.ts';
import type { Database } from './database.ts';

/** Below this the workers' start-up costs more than they save. */
const PARALLEL_MIN_ENTRIES = 100_000;
/** A power of two, so a whole run is one node of the log's tree. */
const RUN_ENTRIES = 65_536;

export function canVerifyInWorkers(): boolean {
  return typeof Bun !== 'undefined';
}

/** In the compiled binary the worker is an entry point of its own (package.json "build"). */
function workerLocation(): URL | string {
  return import.meta.url.includes('$bunfs') ? './drivers/store/audit-verify-worker.ts' : new URL('./audit-verify-worker.ts', import.meta.url);
}

/** For tests: smaller runs and thresholds, and which path gave the verdict. */
export interface ParallelTuning {
  workers?: number;
  minEntries?: number;
  runEntries?: number;
  onVerdict?(from: 'workers' | 'one by one'): void;
}

export async function verifyStoredLogInParallel(db: Database, options: StoredVerifyOptions, tuning: ParallelTuning = {}): Promise<AuditVerification> {
  const oneByOne = () => {
    tuning.onVerdict?.('one by one');
    return verifyStoredLog(db, options);
  };
  const bounds = db.get<{ first: number | null; last: number | null }>('SELECT MIN(idx) AS first, MAX(idx) AS last FROM audit_entries');
  const size = bounds?.last === null || bounds?.last === undefined ? 0 : bounds.last + 1;
  const helpers = tuning.workers ?? Math.min(1, availableParallelism() - 1);
  if (!canVerifyInWorkers() || helpers < 1 || db.path === ':memory:' || db.driver === 'postgres' || bounds?.first !== 0 || size < (tuning.minEntries ?? PARALLEL_MIN_ENTRIES)) return oneByOne();
  const verifier = storedLogVerifier(db, options);
  const take = (checked: AuditWorkerMessage & { type: 'run' }): boolean => {
    if (!checked.ok || !verifier.linksTo(checked.previousOfFirst)) return false;
    if (!checked.leaves) return verifier.pushCheckedSubtree(checked.subtreeRoot, runLength(checked.run), checked.lastLeaf);
    for (let at = 0; at < checked.leaves.length; at += 32) if (!verifier.pushCheckedLeaf(checked.leaves.subarray(at, at + 32))) return false;
    return true;
  };
  const runEntries = tuning.runEntries ?? RUN_ENTRIES;
  const runLength = (run: number) => Math.min(runEntries, size - run * runEntries);
  const sound = await checkRuns(db, size, runEntries, verifier.sizesToCheck(), helpers, take);
  const result = verifier.finish();
  // A log appended to while it was read, or anything wrong: the one-entry-at-a-time verdict.
  if (!sound || !result.ok || result.size !== size) return oneByOne();
  tuning.onVerdict?.('workers');
  return result;
}

/**
 * Of every five runs this thread checks two itself (it also builds the tree) and the workers the
 * other three, dealt in turn; results are taken in order. False at the first run refused.
 */
async function checkRuns(
  db: Database,
  size: number,
  runEntries: number,
  sizesToCheck: readonly number[],
  workerCount: number,
  take: (checked: AuditWorkerMessage & { type: 'run' }) => boolean,
): Promise<boolean> {
  const runs: AuditRun[] = [];
  for (let first = 0; first < size; first += runEntries) {
    const count = Math.min(runEntries, size - first);
    // A whole run comes back as its subtree root; a partial one, or one with a signed root to check inside, leaf by leaf.
    const keepLeaves = count !== runEntries || !Number.isInteger(Math.log2(runEntries)) || sizesToCheck.some((checked) => checked > first && checked < first + count);
    runs.push({ run: runs.length, first, count, keepLeaves });
  }
  const ownRun = (run: number) => run % 5 === 1 || run % 5 === 3;
  const theirs = runs.filter((run) => !ownRun(run.run));
  const results = new Map<number, AuditWorkerMessage & { type: 'run' }>();
  let wake: (() => void) | undefined;
  let failed = false;
  const workers = Array.from({ length: workerCount }, (_, worker) => {
    const input: AuditWorkerInput = { kind: 'cvs-issue-audit-verify', databaseFile: db.path, runs: theirs.filter((_, at) => at % workerCount === worker) };
    const thread = new Worker(workerLocation(), { workerData: input });
    let done = false;
    thread.on('message', (message: AuditWorkerMessage) => {
      if (message.type === 'done') done = true;
      else if (message.type === 'error') failed = true;
      else results.set(message.run, message);
      wake?.();
    });
    thread.on('error', () => {
      failed = true;
      wake?.();
    });
    // A worker that stops before saying it is done (killed, out of memory) leaves runs unchecked.
    thread.on('exit', () => {
      if (!done) failed = true;
      wake?.();
    });
    return thread;
  });
  try {
    for (const run of runs) {
      if (ownRun(run.run)) {
        if (!take(checkRun(db, run))) return false;
        continue;
      }
      while (!results.has(run.run) && !failed) await new Promise<void>((resolve) => (wake = resolve));
      const checked = results.get(run.run);
      results.delete(run.run);
      if (!checked || !take(checked)) return false;
    }
    return true;
  } finally {
    for (const thread of workers) void thread.terminate();
  }
}
