// Proves the centre's certificate renderer uses worker threads where the runtime allows (Bun), gives the very bytes and text of the single-thread path (髙﨑𠮷 included, one PDF per copy), passes a renderer's refusal back by code, and renders in this thread on Node.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { AppError } from '../../../core/errors.ts';
import { renderCertificatePdf } from '../../../drivers/pdf/certificate-pdf.ts';
import { canRenderInWorkers, createCertificateRenderer } from '../../../drivers/pdf/render-pool.ts';
import { popplerMissing } from '../../poppler.ts';
import { sampleCertificate } from '../../certificate-document.ts';

const certificate = sampleCertificate({
  requestId: 'REQ-20261127-000123',
  copies: 2,
  fields: [
    { label: '氏名', value: '髙﨑 𠮷太郎' },
    { label: '住所', value: '東京都千代田区千代田一丁目1番1号　濵栁ハイツ101号室　德瀨方' },
  ],
});

function textOf(pdf: Uint8Array): string {
  const result = spawnSync('pdftotext', ['-', '-'], { input: pdf, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

describe('certificate renderer', () => {
  const renderer = createCertificateRenderer({ workers: 2 });
  after(() => renderer.close());

  it('renders in worker threads under Bun and in this thread under Node', () => {
    assert.equal(renderer.workers, canRenderInWorkers() ? 2 : 0);
    assert.equal(canRenderInWorkers(), typeof Bun !== 'undefined');
  });

  it('gives the bytes of the single-thread path, for several documents in flight at once', async () => {
    const documents = Array.from({ length: 5 }, (_, index) => ({ ...certificate, requestId: `REQ-${index}`, serials: [`REQ-${index}-1`], fields: [{ label: '氏名', value: `髙﨑 𠮷${index}` }] }));
    const before = renderer.renderedInWorkers;
    const pooled = await Promise.all(documents.map((document) => renderer.render(document)));
    assert.equal(renderer.renderedInWorkers - before, canRenderInWorkers() ? documents.length : 0);
    for (const [index, document] of documents.entries()) {
      assert.deepEqual(pooled[index]!.map((pdf) => Buffer.from(pdf)), (await renderCertificatePdf(document)).map((pdf) => Buffer.from(pdf)), `document ${index}`);
    }
  });

  it('gives the text of the single-thread path, the names with 髙﨑𠮷 included', { skip: popplerMissing }, async () => {
    const pooled = await renderer.render(certificate);
    assert.deepEqual(pooled.map(textOf), (await renderCertificatePdf(certificate)).map(textOf));
    const text = textOf(pooled[1]!);
    for (const expected of ['住民票の写し', '髙﨑 𠮷太郎', '濵栁ハイツ', '德瀨方', '交付番号 REQ-20261127-000123', 'REQ-20261127-000123-2（2/2通）']) assert.ok(text.includes(expected), `missing ${expected}`);
  });

  it('passes a refusal back with its code, and keeps rendering after it', async () => {
    await assert.rejects(renderer.render({ ...certificate, createdAtMs: Number.NaN }), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'pdf.bad_date');
      return true;
    });
    assert.equal(Buffer.from((await renderer.render(certificate))[0]!.subarray(0, 5)).toString('latin1'), '%PDF-');
  });
});
