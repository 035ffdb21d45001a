// A printer whose "paper" is a folder a person can open: each job becomes one PDF file. Faults can
// be injected by page number, or by copy number for a kiosk a technician sets up to misprint
// (`kiosk run --printer folder:jam-on-copy=N`); a failed job leaves no file, as a jammed sheet
// never reaches the tray.
// The paper is fed before anything is written, so a failed job never puts the certificate on disk;
// a job appears whole or not at all (written beside, then renamed), and what a crash leaves of one
// half-written (Spec§14, S4-2: nothing of the certificate in a spool file) is overwritten and
// removed by eraseUnfinishedJobs when the kiosk starts.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import type { Printer, PrintJob } from '../../core/ports.ts';
import { eraseFile } from '../store/erase.ts';

export interface FolderPrinterFaults {
  /** The printer jams when it reaches this page (1-based, counted over the printer's lifetime). */
  jamOnPage?: number;
  /** Paper runs out after this many pages: the job that would print page N+1 fails. */
  paperOutAfterPages?: number;
  /** A hardware fault when this page is reached. */
  faultOnPage?: number;
  /**
   * Every transaction's certificate copy with this number (1-based) jams on its first page, however
   * many transactions come: a misprint on demand for a field test of the refund and void path,
   * where the page count of earlier jobs is not known in advance.
   */
  jamOnCopy?: number;
}

export interface FolderPrinterOptions {
  directory: string;
  faults?: FolderPrinterFaults;
}

/** Counts page objects in a PDF (`/Type /Page`, not `/Pages`); good enough for pdfkit's output. */
export function countPdfPages(pdf: Uint8Array): number {
  const text = new TextDecoder('latin1').decode(pdf);
  return text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
}

export function printFileName(job: PrintJob): string {
  if (!/^[A-Za-z0-9._-]+$/.test(job.requestId) || job.requestId.startsWith('.')) {
    throw new AppError('internal', 'printer.job_invalid', 'print job request id is not safe as a file name');
  }
  const copy = job.copyNumber === undefined ? '' : `-copy${job.copyNumber}`;
  return `${job.requestId}-${job.kind}${copy}.pdf`;
}

const UNFINISHED_SUFFIX = '.tmp';

export class FolderPrinter implements Printer {
  private readonly directory: string;
  private faults: FolderPrinterFaults;
  private pagesPrinted = 0;
  private readonly files: string[] = [];

  constructor(options: FolderPrinterOptions) {
    this.directory = options.directory;
    this.faults = options.faults ?? {};
  }

  async print(job: PrintJob): Promise<{ pages: number }> {
    const fileName = printFileName(job);
    const pages = countPdfPages(job.pdf);
    if (pages === 0) throw new AppError('internal', 'printer.job_invalid', 'print job holds no PDF pages');
    mkdirSync(this.directory, { recursive: true });
    this.feedPages(pages, job.kind === 'certificate' && job.copyNumber === this.faults.jamOnCopy);
    const finalPath = join(this.directory, fileName);
    const temporaryPath = join(this.directory, `.${fileName}.${randomBytes(6).toString('hex')}${UNFINISHED_SUFFIX}`);
    writeFileSync(temporaryPath, job.pdf);
    renameSync(temporaryPath, finalPath);
    this.files.push(finalPath);
    return { pages };
  }

  /**
   * Overwrites and removes the half-written jobs a crash left behind (one kiosk process prints into
   * a folder: `kiosk run` calls this at start, when no job of its own is under way). Returns how many.
   */
  eraseUnfinishedJobs(): number {
    let names: string[];
    try {
      names = readdirSync(this.directory);
    } catch {
      return 0; // nothing printed yet
    }
    return names.filter((name) => name.startsWith('.') && name.endsWith(UNFINISHED_SUFFIX) && eraseFile(join(this.directory, name))).length;
  }

  /** Sets the faults to come (page numbers over the printer's lifetime), e.g. from a field test script. */
  injectFaults(faults: FolderPrinterFaults): void {
    this.faults = { ...faults };
  }

  /** The folder the "paper" goes to. */
  directoryPath(): string {
    return this.directory;
  }

  /** Paths of the files printed so far, in order. */
  printedFiles(): string[] {
    return [...this.files];
  }

  pageCount(): number {
    return this.pagesPrinted;
  }

  /**
   * Pages that went through before a fault still count: they used paper. A jammed or faulted sheet
   * counts too, so those faults strike once and a retry goes through; running out of paper lasts,
   * and so does a jam on a copy number (a retry of that copy jams again).
   */
  private feedPages(pages: number, jamsOnFirstPage: boolean): void {
    for (let page = 1; page <= pages; page++) {
      const pageNumber = this.pagesPrinted + 1;
      if (this.faults.paperOutAfterPages !== undefined && pageNumber > this.faults.paperOutAfterPages) {
        throw new AppError('refused', 'printer.paper_out', 'the printer is out of paper');
      }
      this.pagesPrinted = pageNumber;
      if (this.faults.jamOnPage === pageNumber || (jamsOnFirstPage && page === 1)) throw new AppError('refused', 'printer.jam', `the printer jammed on page ${pageNumber}`);
      if (this.faults.faultOnPage === pageNumber) throw new AppError('refused', 'printer.fault', `the printer failed on page ${pageNumber}`);
    }
  }
}
