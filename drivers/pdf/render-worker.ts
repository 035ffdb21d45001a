// A worker thread of the certificate renderer (drivers/pdf/render-pool.ts): it renders the
// certificates the centre's main thread hands it, with its own parsed font face and pattern, and
// hands back the PDF bytes, one file per copy. The main thread keeps the database, the audit log and the sockets.

import { parentPort, workerData } from 'node:worker_threads';
import { concatBytes } from '../../core/bytes.ts';
import { AppError, type ErrorKind } from '../../core/errors.ts';
import { useServingJitPolicy } from '../jit-policy.ts';
import { renderCertificatePdf, type CertificateDocument } from './certificate-pdf.ts';

export interface RenderWorkerInput {
  kind: 'cvs-issue-render';
}

export interface RenderJob {
  job: number;
  document: CertificateDocument;
}

export type RenderWorkerMessage =
  /** The copies end to end in one buffer, `lengths` long each: one transfer, and Bun clones an array of buffers slowly. */
  | { job: number; ok: true; bytes: Uint8Array; lengths: number[] }
  /** An AppError's kind, code and message cross the thread; anything else is reported as internal. */
  | { job: number; ok: false; kind: ErrorKind; code: string; message: string };

const input = workerData as RenderWorkerInput | undefined;
if (parentPort && input?.kind === 'cvs-issue-render') {
  const port = parentPort;
  useServingJitPolicy();
  port.on('message', async ({ job, document }: RenderJob) => {
    let answer: RenderWorkerMessage;
    try {
      const pdfs = await renderCertificatePdf(document);
      answer = { job, ok: true, bytes: pdfs.length === 1 ? pdfs[0]! : concatBytes(...pdfs), lengths: pdfs.map((pdf) => pdf.length) };
    } catch (error) {
      answer = error instanceof AppError
        ? { job, ok: false, kind: error.kind, code: error.code, message: error.message }
        : { job, ok: false, kind: 'internal', code: 'pdf.render_failed', message: 'the certificate could not be rendered' };
    }
    port.postMessage(answer, answer.ok ? [answer.bytes.buffer as ArrayBuffer] : []);
  });
}
