// Proves the folder printer turns each job into a named PDF file, counts pages, and on a jam, a fault or running out of paper leaves no file for that job.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PrintJob } from '../../../core/ports.ts';
import { rejectsWith } from '../../app-error.ts';
import { countPdfPages, FolderPrinter } from '../../../drivers/printer/folder-printer.ts';

/** A minimal PDF skeleton with the page objects pdfkit writes; enough for page counting. */
function fakePdf(pages: number): Uint8Array {
  const kids = Array.from({ length: pages }, (_, index) => `${index + 3} 0 R`).join(' ');
  const pageObjects = Array.from({ length: pages }, (_, index) => `${index + 3} 0 obj\n<<\n/Type /Page\n/Parent 2 0 R\n>>\nendobj\n`);
  return new TextEncoder().encode(
    `%PDF-1.3\n1 0 obj\n<<\n/Type /Catalog\n/Pages 2 0 R\n>>\nendobj\n2 0 obj\n<<\n/Type /Pages\n/Count ${pages}\n/Kids [${kids}]\n>>\nendobj\n${pageObjects.join('')}%%EOF\n`,
  );
}

function job(requestId: string, kind: PrintJob['kind'], pages: number, copyNumber?: number): PrintJob {
  return copyNumber === undefined ? { requestId, kind, pdf: fakePdf(pages) } : { requestId, kind, copyNumber, pdf: fakePdf(pages) };
}

/** A printer fault, as the kiosk sees it: refused, with this code. */
const refusedWith = (promise: Promise<unknown>, code: string) => rejectsWith(promise, code, { kind: 'refused' });

describe('FolderPrinter', () => {
  let root: string;
  let directory: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cvs-printer-'));
    directory = join(root, 'paper', 'tray');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('counts page objects but not the page tree', () => {
    assert.equal(countPdfPages(fakePdf(1)), 1);
    assert.equal(countPdfPages(fakePdf(3)), 3);
  });

  it('writes each job as <requestId>-<kind>[-copy<N>].pdf in a folder it creates', async () => {
    const printer = new FolderPrinter({ directory });
    assert.deepEqual(await printer.print(job('req-1', 'certificate', 2, 1)), { pages: 2 });
    assert.deepEqual(await printer.print(job('req-1', 'certificate', 2, 2)), { pages: 2 });
    assert.deepEqual(await printer.print(job('req-1', 'receipt', 1)), { pages: 1 });
    assert.deepEqual(readdirSync(directory).sort(), ['req-1-certificate-copy1.pdf', 'req-1-certificate-copy2.pdf', 'req-1-receipt.pdf']);
    assert.deepEqual(printer.printedFiles(), [
      join(directory, 'req-1-certificate-copy1.pdf'),
      join(directory, 'req-1-certificate-copy2.pdf'),
      join(directory, 'req-1-receipt.pdf'),
    ]);
    assert.deepEqual(new Uint8Array(readFileSync(join(directory, 'req-1-receipt.pdf'))), fakePdf(1));
    assert.equal(printer.pageCount(), 5);
  });

  it('leaves no file for a jammed job, and prints again once the sheet is cleared', async () => {
    const printer = new FolderPrinter({ directory, faults: { jamOnPage: 2 } });
    await printer.print(job('req-1', 'certificate', 1, 1));
    await refusedWith(printer.print(job('req-2', 'certificate', 2, 1)), 'printer.jam');
    assert.deepEqual(readdirSync(directory), ['req-1-certificate-copy1.pdf']);
    await printer.print(job('req-2', 'certificate', 2, 1));
    assert.deepEqual(readdirSync(directory).sort(), ['req-1-certificate-copy1.pdf', 'req-2-certificate-copy1.pdf']);
  });

  it('jams on the given certificate copy of every transaction, and nowhere else', async () => {
    const printer = new FolderPrinter({ directory, faults: { jamOnCopy: 2 } });
    await printer.print(job('req-1', 'certificate', 1, 1));
    await printer.print(job('req-1', 'receipt', 1));
    await printer.print(job('req-2', 'certificate', 2, 1));
    await refusedWith(printer.print(job('req-2', 'certificate', 2, 2)), 'printer.jam');
    await printer.print(job('req-2', 'void-notice', 1));
    await refusedWith(printer.print(job('req-3', 'certificate', 1, 2)), 'printer.jam');
    assert.deepEqual(readdirSync(directory).sort(), ['req-1-certificate-copy1.pdf', 'req-1-receipt.pdf', 'req-2-certificate-copy1.pdf', 'req-2-void-notice.pdf']);
    // The jammed sheets used paper: 1 + 1 + 2, then one sheet of copy 2, the void notice, one more sheet.
    assert.equal(printer.pageCount(), 7);
  });

  it('runs out of paper after N pages and stays out', async () => {
    const printer = new FolderPrinter({ directory, faults: { paperOutAfterPages: 3 } });
    await printer.print(job('req-1', 'certificate', 2, 1));
    await refusedWith(printer.print(job('req-2', 'certificate', 2, 1)), 'printer.paper_out');
    await refusedWith(printer.print(job('req-3', 'void-notice', 1)), 'printer.paper_out');
    assert.deepEqual(readdirSync(directory), ['req-1-certificate-copy1.pdf']);
  });

  it('reports a hardware fault on the configured page and leaves no file', async () => {
    const printer = new FolderPrinter({ directory, faults: { faultOnPage: 1 } });
    await refusedWith(printer.print(job('req-1', 'receipt', 1)), 'printer.fault');
    assert.deepEqual(readdirSync(directory), []);
  });

  it('refuses a request id that could escape the folder', async () => {
    const printer = new FolderPrinter({ directory });
    await assert.rejects(printer.print(job('../outside', 'receipt', 1)), { code: 'printer.job_invalid' });
  });
});
