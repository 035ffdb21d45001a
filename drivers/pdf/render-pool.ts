// Certificates rendered on the other core: the centre's main thread keeps the one SQLite writer,
// the audit log and the sockets, and worker threads render the PDFs (render-worker.ts), the
// biggest share of a certificate request's CPU (bench/issuance.bench.ts). Workers run under Bun:
// the compiled binary and `bun test`. Node 20 cannot start a TypeScript worker under tsx, so there
// the PDF is rendered in this thread, as it is when no worker is asked for.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import { renderCertificatePdf, type CertificateDocument } from './certificate-pdf.ts';
import type { RenderJob, RenderWorkerInput, RenderWorkerMessage } from './render-worker.ts';

/** Documents waiting or in a worker; beyond it a request is refused rather than queued for seconds. */
const MAX_PENDING = 256;

export interface CertificateRenderer {
  /** One PDF per copy of the document (drivers/pdf/certificate-pdf.ts). */
  render(document: CertificateDocument): Promise<Uint8Array[]>;
  /** How many worker threads render; 0 when every PDF is rendered in this thread. */
  readonly workers: number;
  /** Documents a worker thread has handed back so far (for tests and metrics). */
  readonly renderedInWorkers: number;
  close(): Promise<void>;
}

export function canRenderInWorkers(): boolean {
  return typeof Bun !== 'undefined';
}

/** In the compiled binary the worker is an entry point of its own (package.json "build"). */
function workerLocation(): URL | string {
  return import.meta.url.includes('$bunfs') ? './drivers/pdf/render-worker.ts' : new URL('./render-worker.ts', import.meta.url);
}

/** One worker fewer than the cores (the main thread has the rest of the request), at least one. */
export function defaultRenderWorkers(): number {
  return canRenderInWorkers() ? Math.max(1, availableParallelism() - 1) : 0;
}

export function createCertificateRenderer(options: { workers?: number } = {}): CertificateRenderer {
  const count = canRenderInWorkers() ? (options.workers ?? defaultRenderWorkers()) : 0;
  if (count <= 0) return { render: renderCertificatePdf, workers: 0, renderedInWorkers: 0, close: async () => undefined };
  return createPool(count);
}

interface Pending {
  resolve(pdfs: Uint8Array[]): void;
  reject(error: unknown): void;
}

interface Thread {
  worker: Worker;
  jobs: Map<number, Pending>;
}

/** The worker's copies, as views of the one buffer it handed over. */
function splitCopies(bytes: Uint8Array, lengths: number[]): Uint8Array[] {
  let offset = 0;
  return lengths.map((length) => bytes.subarray(offset, (offset += length)));
}

function createPool(count: number): CertificateRenderer {
  let nextJob = 0;
  let pending = 0;
  let closed = false;
  let rendered = 0;
  const threads: (Thread | undefined)[] = Array.from({ length: count }, () => undefined);

  /** A thread that died (crash, out of memory) fails its own documents and is started again when next needed. */
  function start(slot: number): Thread {
    const input: RenderWorkerInput = { kind: 'cvs-issue-render' };
    const thread: Thread = { worker: new Worker(workerLocation(), { workerData: input }), jobs: new Map() };
    // An idle pool must not keep a process alive; a document being rendered does.
    thread.worker.unref();
    const fail = (error: unknown) => {
      if (threads[slot] === thread) threads[slot] = undefined;
      for (const job of thread.jobs.values()) job.reject(error);
      pending -= thread.jobs.size;
      thread.jobs.clear();
    };
    thread.worker.on('message', (message: RenderWorkerMessage) => {
      const job = thread.jobs.get(message.job);
      if (job === undefined) return;
      thread.jobs.delete(message.job);
      pending -= 1;
      if (thread.jobs.size === 0) thread.worker.unref();
      rendered += 1;
      if (message.ok) job.resolve(splitCopies(message.bytes, message.lengths));
      else job.reject(new AppError(message.kind, message.code, message.message));
    });
    thread.worker.on('error', () => fail(new AppError('internal', 'pdf.worker_failed', 'the certificate renderer stopped')));
    thread.worker.on('exit', () => fail(new AppError('internal', 'pdf.worker_failed', 'the certificate renderer stopped')));
    threads[slot] = thread;
    return thread;
  }

  /** The thread with the fewest documents in hand. */
  function leastBusy(): Thread {
    let best: { slot: number; jobs: number } | undefined;
    threads.forEach((thread, slot) => {
      const jobs = thread?.jobs.size ?? 0;
      if (best === undefined || jobs < best.jobs) best = { slot, jobs };
    });
    const slot = best!.slot;
    return threads[slot] ?? start(slot);
  }

  return {
    workers: count,
    get renderedInWorkers() {
      return rendered;
    },
    render(document) {
      if (closed) return Promise.reject(new AppError('internal', 'pdf.renderer_closed', 'the certificate renderer is closed'));
      if (pending >= MAX_PENDING) return Promise.reject(new AppError('unavailable', 'pdf.renderer_busy', 'too many certificates are being rendered; try again'));
      const thread = leastBusy();
      const job = (nextJob += 1);
      pending += 1;
      return new Promise<Uint8Array[]>((resolve, reject) => {
        thread.jobs.set(job, { resolve, reject });
        thread.worker.ref();
        thread.worker.postMessage({ job, document } satisfies RenderJob);
      });
    },
    async close() {
      closed = true;
      await Promise.all(threads.map((thread) => thread?.worker.terminate()));
    },
  };
}
