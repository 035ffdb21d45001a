// A worker thread of the certificate renderer (drivers/pdf/render-pool.ts): it renders the
// certificates the centre's main thread hands it, with its own parsed font face and pattern, and
// hands back the PDF bytes, one file per copy. The main thread keeps the database, the audit log and the sockets.

import { parentPort, workerData } from 'node:worker_threads';
import { AppError, type ErrorKind } from '../../core/errors.ts';
import { renderCertificatePdf, type CertificateDocument } from './certificate-pdf.ts';

export interface RenderWorkerInput {
  kind: 'cvs-issue-render';
}

export interface RenderJob {
  job: number;
  document: CertificateDocument;
}

export type RenderWorkerMessage =
  | { job: number; ok: true; pdfs: Uint8Array[] }
  /** An AppError's kind, code and message cross the thread; anything else is reported as internal. */
  | { job: number; ok: false; kind: ErrorKind; code: string; message: string };

const input = workerData as RenderWorkerInput | undefined;
if (parentPort && input?.kind === 'cvs-issue-render') {
  const port = parentPort;
  port.on('message', async ({ job, document }: RenderJob) => {
    let answer: RenderWorkerMessage;
    try {
      answer = { job, ok: true, pdfs: await renderCertificatePdf(document) };
    } catch (error) {
      answer = error instanceof AppError
        ? { job, ok: false, kind: error.kind, code: error.code, message: error.message }
        : { job, ok: false, kind: 'internal', code: 'pdf.render_failed', message: 'the certificate could not be rendered' };
    }
    port.postMessage(answer, answer.ok ? answer.pdfs.map((pdf) => pdf.buffer as ArrayBuffer) : []);
  });
}
