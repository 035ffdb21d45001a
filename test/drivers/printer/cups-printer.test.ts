// Proves the CUPS printer prints through a real cupsd (the test's own, test/cups.ts) into a cups-pdf
// queue: the certificate comes out with the same text, the job completes and leaves no spooled or
// temporary file; a disabled queue, a job that never completes, a cancelled job and the printer
// conditions a backend reports (a jam, an empty tray, an open cover) are faults, and nothing is
// printed for them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../../core/errors.ts';
import type { PrintJob } from '../../../core/ports.ts';
import { rejectsWith } from '../../app-error.ts';
import { renderCertificatePdf } from '../../../drivers/pdf/certificate-pdf.ts';
import { CupsPrinter, isCupsQueueName, printerFault } from '../../../drivers/printer/cups-printer.ts';
import { filesUnder, startCups, type PrivateCups } from '../../cups.ts';
import { sampleCertificate } from '../../certificate-document.ts';

const certificate = sampleCertificate({
  requestId: 'REQ-20261127-000777',
  copies: 1,
  fields: [
    { label: '氏名', value: '髙﨑 𠮷太郎' },
    { label: '住所', value: '東京都千代田区千代田一丁目1番1号　濵栁ハイツ101号室' },
  ],
});

/** The first page as 8-bit grey pixels scaled to 250×354 (pdftoppm's PGM): A4 at about 30 dpi, whether cups-pdf rounds the page size or not. */
function pixelsOf(file: string): { width: number; height: number; grey: Uint8Array } {
  const result = spawnSync('pdftoppm', ['-gray', '-scale-to-x', '250', '-scale-to-y', '354', '-f', '1', '-l', '1', '-singlefile', file], { maxBuffer: 1 << 24 });
  assert.equal(result.status, 0, String(result.stderr));
  const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(result.stdout.subarray(0, 64).toString('latin1'));
  assert.ok(header, 'pdftoppm did not write a PGM');
  const width = Number(header[1]);
  const height = Number(header[2]);
  return { width, height, grey: new Uint8Array(result.stdout.subarray(header[0].length, header[0].length + width * height)) };
}

/** How many pixels of two same-size pages differ strongly (ink against paper), not by antialiasing. */
function pageDifference(first: string, second: string): number {
  const a = pixelsOf(first);
  const b = pixelsOf(second);
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let count = 0;
  for (let index = 0; index < a.grey.length; index += 1) if (Math.abs(a.grey[index]! - b.grey[index]!) > 128) count += 1;
  return count;
}

/** pdftotext of a PDF file, whitespace runs collapsed (cups-pdf re-renders, spacing may move). */
function textOfFile(file: string): string {
  const result = spawnSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.replace(/\s+/g, ' ').trim();
}

/** A printer fault, as the kiosk sees it: refused, with this code and message. */
const refusedWith = (promise: Promise<unknown>, code: string, message: RegExp) => rejectsWith(promise, code, { kind: 'refused', message });

describe('printerFault', () => {
  const ready = { reasons: ['none'], stopped: false, acceptingJobs: true };
  it('lets an idle printer with only warnings print', () => {
    assert.equal(printerFault(ready), undefined);
    assert.equal(printerFault({ ...ready, reasons: ['media-low-warning', 'toner-low-report', 'cups-waiting-for-job-completed'] }), undefined);
  });
  it('maps a jam, an empty tray and other stops to the folder printer fault codes', () => {
    assert.equal(printerFault({ ...ready, reasons: ['media-jam-error'] }), 'printer.jam');
    assert.equal(printerFault({ ...ready, reasons: ['media-jam'] }), 'printer.jam');
    assert.equal(printerFault({ ...ready, reasons: ['media-empty-error'] }), 'printer.paper_out');
    assert.equal(printerFault({ ...ready, reasons: ['media-needed'] }), 'printer.paper_out');
    assert.equal(printerFault({ ...ready, reasons: ['offline-report', 'offline'] }), 'printer.fault');
    assert.equal(printerFault({ ...ready, reasons: ['cover-open-error'] }), 'printer.fault');
  });
  it('reports the most specific fault, and a stopped or rejecting queue as a fault', () => {
    assert.equal(printerFault({ reasons: ['paused', 'media-empty-error', 'media-jam-error'], stopped: true, acceptingJobs: true }), 'printer.jam');
    assert.equal(printerFault({ reasons: ['paused'], stopped: true, acceptingJobs: true }), 'printer.fault');
    assert.equal(printerFault({ reasons: ['none'], stopped: true, acceptingJobs: true }), 'printer.fault');
    assert.equal(printerFault({ reasons: ['none'], stopped: false, acceptingJobs: false }), 'printer.fault');
  });
  it('accepts only queue names safe in a URI and on a command line', () => {
    assert.ok(isCupsQueueName('kiosk'));
    assert.ok(isCupsQueueName('Store_12.front-1'));
    for (const bad of ['', '-d', 'a/b', 'a b', 'kiosk?x', '../x', '#1']) assert.equal(isCupsQueueName(bad), false, bad);
    assert.throws(() => new CupsPrinter({ queue: 'a/b' }), (error: unknown) => error instanceof AppError && error.code === 'printer.queue_invalid');
  });
});

describe('CupsPrinter against a private cupsd with a cups-pdf queue', () => {
  let cups: PrivateCups;
  let paper: string;
  let pdf: Uint8Array;
  let tempDirectory: string;
  /** The environment the printer's commands run in: a TMPDIR of the test's, to see they leave nothing there. */
  let environment: NodeJS.ProcessEnv;

  before(async () => {
    cups = await startCups();
    paper = cups.addPdfQueue('kiosk');
    [pdf] = await renderCertificatePdf(certificate) as [Uint8Array];
    tempDirectory = path.join(cups.spoolDirectory, '..', 'client-tmp');
    fs.mkdirSync(tempDirectory);
    environment = { ...cups.environment, TMPDIR: tempDirectory };
  });
  after(async () => {
    await cups?.stop();
  });

  const job = (copyNumber: number): PrintJob => ({ kind: 'certificate', requestId: certificate.requestId, copyNumber, pdf: pdf.slice() });

  /** Spooled job documents (d-files), cupsd's and the filters' temporary files, cups-pdf's spool, the client's TMPDIR. */
  function leftovers(): string[] {
    return [
      ...filesUnder(cups.spoolDirectory).filter((name) => !/^c\d+$/.test(name)),
      ...filesUnder(cups.cupsPdfSpoolDirectory),
      ...filesUnder(tempDirectory),
    ];
  }

  it('prints the certificate: the PDF that comes out holds the same text, and nothing stays spooled', async () => {
    const printer = new CupsPrinter({ queue: 'kiosk', environment, timeoutMs: 60_000 });
    assert.deepEqual(await printer.print(job(1)), { pages: 1 });
    const printed = filesUnder(paper);
    assert.equal(printed.length, 1, `printed: ${printed.join(', ')}`);
    assert.match(printed[0]!, /-job_\d+\.pdf$/);
    const output = path.join(paper, printed[0]!);
    const original = path.join(tempDirectory, '..', 'original.pdf');
    const other = path.join(tempDirectory, '..', 'other.pdf');
    fs.writeFileSync(original, pdf);
    fs.writeFileSync(other, (await renderCertificatePdf({ ...certificate, fields: [{ label: '氏名', value: '佐藤 花子' }] }))[0]!);
    try {
      // The page looks the same: far closer to what was sent than another resident's certificate is.
      const printedVsOriginal = pageDifference(output, original);
      const otherVsOriginal = pageDifference(other, original);
      assert.ok(printedVsOriginal < otherVsOriginal / 4, `printed page differs by ${printedVsOriginal}, another certificate by ${otherVsOriginal}`);
      // The text reads back. The PostScript step (pdftocairo) keeps no Unicode for some glyphs (the
      // field labels, 𠮷 outside the BMP, the seal), so pdftotext misses those (docs/runtime-facts.md).
      const text = textOfFile(output);
      assert.ok(textOfFile(original).includes('髙﨑 𠮷太郎'));
      for (const expected of [
        '住民票の写し',
        '髙﨑',
        '太郎',
        '東京都千代田区千代田一丁目1番1号 濵栁ハイツ101号室',
        'この写しは、住民票の原本と相違ないことを証明する。',
        '令和8年11月27日',
        '千代田区長',
        '交付番号 REQ-20261127-000777',
        '端末番号 K-0001',
      ]) {
        assert.ok(text.includes(expected), `missing ${expected} in ${text}`);
      }
    } finally {
      fs.rmSync(original);
      fs.rmSync(other);
    }
    assert.deepEqual(leftovers(), []);
    // The job's control file keeps only the title (request id and kind), never the document.
    for (const control of filesUnder(cups.spoolDirectory).filter((name) => /^c\d+$/.test(name))) {
      const bytes = fs.readFileSync(path.join(cups.spoolDirectory, control));
      assert.equal(bytes.includes(Buffer.from('髙﨑')), false);
      assert.equal(bytes.includes(Buffer.from('%PDF')), false);
    }
  });

  it('refuses with printer.fault on a disabled queue and submits nothing', async () => {
    cups.addPdfQueue('stopped');
    cups.command('cupsdisable', ['-r', 'maintenance', 'stopped']);
    const printer = new CupsPrinter({ queue: 'stopped', environment });
    await refusedWith(printer.readiness(), 'printer.fault', /queue "stopped" reports paused/);
    await refusedWith(printer.print(job(1)), 'printer.fault', /queue "stopped" reports paused/);
    assert.equal(cups.command('lpstat', ['-W', 'all', '-o', 'stopped']), '');
    assert.deepEqual(leftovers(), []);
  });

  it('is a fault when the queue stops while the job waits, and the job is cancelled', async () => {
    const output = cups.addPdfQueue('stops-later');
    // Held jobs wait; the queue is then disabled under the waiting job.
    cups.command('lpadmin', ['-p', 'stops-later', '-o', 'job-hold-until-default=indefinite']);
    const printer = new CupsPrinter({ queue: 'stops-later', environment, timeoutMs: 60_000, pollMs: 50 });
    const printing = printer.print(job(1));
    for (let attempt = 0; cups.command('lpstat', ['-o', 'stops-later']) === ''; attempt += 1) {
      assert.ok(attempt < 200, 'the job never reached the queue');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    cups.command('cupsdisable', ['stops-later']);
    await refusedWith(printing, 'printer.fault', /reports paused .*cancelled/);
    assert.equal(cups.command('lpstat', ['-o', 'stops-later']), '');
    assert.deepEqual(filesUnder(output), []);
    assert.deepEqual(leftovers(), []);
  });

  it('gives up with printer.fault when the job does not complete in time, and cancels it', async () => {
    cups.addHoldingQueue('held');
    const printer = new CupsPrinter({ queue: 'held', environment, timeoutMs: 300, pollMs: 50 });
    await refusedWith(printer.print(job(1)), 'printer.fault', /did not complete within 300 ms/);
    assert.equal(cups.command('lpstat', ['-o', 'held']), '');
    assert.deepEqual(leftovers(), []);
  });

  it('is a fault when someone cancels the job', async () => {
    const output = cups.addPdfQueue('cancelled');
    cups.command('lpadmin', ['-p', 'cancelled', '-o', 'job-hold-until-default=indefinite']);
    const printer = new CupsPrinter({ queue: 'cancelled', environment, timeoutMs: 60_000, pollMs: 50 });
    const printing = printer.print(job(1));
    for (let attempt = 0; cups.command('lpstat', ['-o', 'cancelled']) === ''; attempt += 1) {
      assert.ok(attempt < 200, 'the job never reached the queue');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    cups.command('cancel', ['-a', 'cancelled']);
    await refusedWith(printing, 'printer.fault', /was cancelled/);
    assert.deepEqual(filesUnder(output), []);
    assert.deepEqual(leftovers(), []);
  });

  for (const [reason, code] of [
    ['media-jam-error', 'printer.jam'],
    ['media-empty-error', 'printer.paper_out'],
    ['media-needed', 'printer.paper_out'],
    ['cover-open-error', 'printer.fault'],
  ] as const) {
    it(`gives ${code} when the printer reports ${reason}, cancels the job and refuses the next one`, async () => {
      const queue = `fails-${reason}`;
      cups.addFailingQueue(queue, reason);
      const printer = new CupsPrinter({ queue, environment, timeoutMs: 60_000, pollMs: 50 });
      await refusedWith(printer.print(job(1)), code, new RegExp(`queue "${queue}" reports .*${reason}`));
      assert.equal(cups.command('lpstat', ['-o', queue]), '');
      // The queue stays stopped with the condition until someone clears it: the next job is refused before it is sent.
      await refusedWith(printer.print(job(2)), code, new RegExp(`queue "${queue}" reports .*${reason}.*paused|paused.*${reason}`));
      assert.equal(cups.command('lpstat', ['-o', queue]), '');
      assert.deepEqual(leftovers(), []);
    });
  }

  it('tells a technician a queue that can print is ready (kiosk diagnose)', async () => {
    assert.match(await new CupsPrinter({ queue: 'kiosk', environment }).readiness(), /^CUPS queue "kiosk" ready/);
  });

  it('is a fault naming the queue when it does not exist', async () => {
    const printer = new CupsPrinter({ queue: 'no-such-queue', environment });
    await refusedWith(printer.print(job(1)), 'printer.fault', /queue "no-such-queue" could not be read/);
  });
});
