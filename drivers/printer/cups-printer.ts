// A real printer behind CUPS (docs/runtime-facts.md, "CUPS"). The job's PDF is piped to `lp` on
// standard input, so the certificate never lies in a file of ours; cupsd spools it and, configured
// with `PreserveJobFiles No`, removes the spooled copy when the job ends. The kiosk then waits,
// within a bound, until CUPS says the job completed: a jam, no paper, a stopped queue, a cancelled or
// aborted job or the bound passing is a printer fault, and the job is cancelled so nothing comes out
// later. The queue's state is polled with `lpstat`; the job's with `ipptool` (Get-Job-Attributes),
// because `lpstat -W completed` lists cancelled and aborted jobs as "completed" too.
// npm `ipp` cannot be used: it crashes inside the compiled binary (docs/runtime-facts.md).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AppError } from '../../core/errors.ts';
import type { Printer, PrintJob } from '../../core/ports.ts';
import { countPdfPages, printFileName } from './folder-printer.ts';

export interface CupsPrinterOptions {
  /** The CUPS queue (printer) name. */
  queue: string;
  /**
   * The scheduler, as CUPS_SERVER takes it: a domain socket path or host[:port]. Default: the
   * CUPS_SERVER of the environment, else /run/cups/cups.sock when it exists, else localhost:631.
   */
  server?: string;
  /** How long a job may take from submission to "completed" before it is a fault. */
  timeoutMs?: number;
  /** How often the job's state is read while waiting. */
  pollMs?: number;
  /** The environment the CUPS commands run in (default: this process's). */
  environment?: NodeJS.ProcessEnv;
}

export const DEFAULT_CUPS_TIMEOUT_MS = 60_000;
const DEFAULT_POLL_MS = 200;
/** One CUPS command (lp, ipptool, cancel) gets this long; a scheduler that hangs is a fault too. */
const COMMAND_TIMEOUT_MS = 15_000;
const OUTPUT_LIMIT_BYTES = 1 << 20;
const DEFAULT_DOMAIN_SOCKET = '/run/cups/cups.sock';

/** A queue name CUPS accepts and that is safe on a command line and in a URI path. */
export function isCupsQueueName(queue: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,126}$/.test(queue);
}

export type PrinterFaultCode = 'printer.jam' | 'printer.paper_out' | 'printer.fault';

/** IPP printer-state-reasons keywords that stop a job, and the fault each is (docs/runtime-facts.md, "CUPS"). */
const FAULT_BY_REASON: Record<string, PrinterFaultCode> = {
  'media-jam': 'printer.jam',
  'input-tray-missing': 'printer.paper_out',
  'media-empty': 'printer.paper_out',
  'media-needed': 'printer.paper_out',
  'cover-open': 'printer.fault',
  'door-open': 'printer.fault',
  'marker-supply-empty': 'printer.fault',
  'toner-empty': 'printer.fault',
  'output-area-full': 'printer.fault',
  offline: 'printer.fault',
  shutdown: 'printer.fault',
  paused: 'printer.fault',
  stopped: 'printer.fault',
  'other-error': 'printer.fault',
};
/** A jam outranks paper-out, which outranks any other fault: the most specific one is reported. */
const FAULT_RANK: PrinterFaultCode[] = ['printer.jam', 'printer.paper_out', 'printer.fault'];

/**
 * The fault a printer's state means, or undefined when it can print. A reason counts with no
 * severity suffix or with "-error"; "-warning" and "-report" (toner low …) let the job through.
 * A stopped queue or one that rejects jobs is a fault whatever its reasons say.
 */
export function printerFault(state: { reasons: readonly string[]; stopped: boolean; acceptingJobs: boolean }): PrinterFaultCode | undefined {
  const faults = new Set<PrinterFaultCode>();
  for (const reason of state.reasons) {
    if (/-(warning|report)$/.test(reason)) continue;
    const fault = FAULT_BY_REASON[reason.replace(/-error$/, '')];
    if (fault) faults.add(fault);
  }
  if (state.stopped || !state.acceptingJobs) faults.add('printer.fault');
  return FAULT_RANK.find((code) => faults.has(code));
}

const FAULT_TEXT: Record<PrinterFaultCode, string> = {
  'printer.jam': 'the printer jammed',
  'printer.paper_out': 'the printer is out of paper',
  'printer.fault': 'the printer is not ready',
};

interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface PrinterState {
  reasons: string[];
  stopped: boolean;
  acceptingJobs: boolean;
}

interface JobAttributes {
  /** IPP job-state keyword as ipptool prints it: pending, pending-held, processing, processing-stopped, canceled, aborted, completed. */
  state: string;
  /** The printer's state reasons while the job was on it: a backend that stops on a jam leaves them here. */
  printerReasons: string[];
  impressions: number;
}

export class CupsPrinter implements Printer {
  private readonly queue: string;
  private readonly server: string | undefined;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly environment: NodeJS.ProcessEnv;

  constructor(options: CupsPrinterOptions) {
    if (!isCupsQueueName(options.queue)) throw new AppError('usage', 'printer.queue_invalid', `"${options.queue}" is not a CUPS queue name (letters, digits, "_", "-", ".")`);
    this.queue = options.queue;
    this.environment = options.environment ?? process.env;
    this.server = options.server ?? (this.environment.CUPS_SERVER || undefined);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CUPS_TIMEOUT_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  queueName(): string {
    return this.queue;
  }

  /** Fails (printer.fault) unless the scheduler answers for this queue: a kiosk checks it at start. */
  async assertQueueExists(): Promise<void> {
    await this.printerState();
  }

  /** The queue as a job would find it, for `kiosk diagnose`: a line when it can print, else the fault (printer.jam …) thrown. */
  async readiness(): Promise<string> {
    const state = await this.printerState();
    this.throwIfFault(state);
    return `CUPS queue "${this.queue}" ready${state.reasons.length > 0 ? ` (${state.reasons.join(', ')})` : ''}`;
  }

  async print(job: PrintJob): Promise<{ pages: number }> {
    // The title is what CUPS keeps in its job history: the request id and kind, never content.
    const title = printFileName(job).replace(/\.pdf$/, '');
    const pages = countPdfPages(job.pdf);
    if (pages === 0) throw new AppError('internal', 'printer.job_invalid', 'print job holds no PDF pages');
    // A queue that cannot print now gets no job: nothing must come out after the kiosk refunded.
    this.throwIfFault(await this.printerState());
    const jobId = await this.submit(job.pdf, title);
    const completed = await this.waitForCompletion(jobId);
    return { pages: completed.impressions > 0 ? completed.impressions : pages };
  }

  private async waitForCompletion(jobId: number): Promise<JobAttributes> {
    const deadlineMs = Date.now() + this.timeoutMs;
    for (;;) {
      const attributes = await this.jobAttributes(jobId).catch((error: unknown) => this.giveUp(jobId, error));
      if (attributes.state === 'completed') return attributes;
      if (attributes.state === 'canceled' || attributes.state === 'aborted') {
        const fault = printerFault({ reasons: attributes.printerReasons, stopped: false, acceptingJobs: true }) ?? 'printer.fault';
        throw new AppError('refused', fault, `${FAULT_TEXT[fault]}: CUPS job ${this.queue}-${jobId} was ${attributes.state === 'canceled' ? 'cancelled' : 'aborted'}`);
      }
      try {
        this.throwIfFault(await this.printerState(), jobId);
        if (Date.now() >= deadlineMs) {
          throw new AppError('refused', 'printer.fault', `CUPS job ${this.queue}-${jobId} did not complete within ${this.timeoutMs} ms (cancelled)`);
        }
      } catch (error) {
        return await this.giveUp(jobId, error);
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /**
   * Cancels the job so that nothing comes out after the kiosk refunded, then asks CUPS once more:
   * a job that completed just before the printer stopped or the bound passed did print, and counts.
   */
  private async giveUp(jobId: number, error: unknown): Promise<JobAttributes> {
    // -x purges the job's files and history too; a job that already ended is refused, which is fine.
    await this.run('cancel', ['-x', String(jobId)]).catch(() => undefined);
    const last = await this.jobAttributes(jobId).catch(() => undefined);
    if (last?.state === 'completed') return last;
    throw error;
  }

  private throwIfFault(state: PrinterState, jobId?: number): void {
    const fault = printerFault(state);
    if (!fault) return;
    const shown = [...state.reasons, ...(state.acceptingJobs ? [] : ['not accepting jobs'])].join(', ') || 'stopped';
    const job = jobId === undefined ? '' : ` (job ${this.queue}-${jobId} cancelled)`;
    throw new AppError('refused', fault, `${FAULT_TEXT[fault]}: CUPS queue "${this.queue}" reports ${shown}${job}`);
  }

  /** Pipes the PDF to `lp`; returns the CUPS job id. */
  private async submit(pdf: Uint8Array, title: string): Promise<number> {
    const result = await this.run('lp', ['-d', this.queue, '-t', title, '-o', 'document-format=application/pdf', '--'], pdf);
    const match = /request id is (\S+)-(\d+)/.exec(result.stdout);
    if (result.status !== 0 || !match) {
      throw new AppError('refused', 'printer.fault', `CUPS did not take the job for queue "${this.queue}": ${firstLine(result.stderr) || `lp exited with ${result.status}`}`);
    }
    return Number(match[2]);
  }

  /**
   * The queue's state from `lpstat -l -p Q -a Q` (C locale): "printer Q disabled|is idle|now
   * printing", its "Alerts:" line (printer-state-reasons) and "Q [not] accepting requests".
   */
  private async printerState(): Promise<PrinterState> {
    const result = await this.run('lpstat', ['-l', '-p', this.queue, '-a', this.queue]);
    const state = new RegExp(`^printer ${escapeRegExp(this.queue)} (disabled|is idle|now printing)`, 'm').exec(result.stdout);
    const accepting = new RegExp(`^${escapeRegExp(this.queue)} (not )?accepting requests`, 'm').exec(result.stdout);
    if (result.status !== 0 || !state || !accepting) {
      throw new AppError('refused', 'printer.fault', `CUPS queue "${this.queue}" could not be read: ${firstLine(result.stderr) || `lpstat exited with ${result.status}`}`);
    }
    const alerts = /^\s+Alerts: (.*)$/m.exec(result.stdout)?.[1] ?? '';
    return { reasons: alerts.split(/[\s,]+/).filter((reason) => reason !== '' && reason !== 'none'), stopped: state[1] === 'disabled', acceptingJobs: accepting[1] === undefined };
  }

  /**
   * The job's attributes from ipptool's test report (`-tv`, lines "name (type) = value") with the
   * get-job-attributes test CUPS ships. Its JSON output (-j) is not used: an attribute without a
   * value (date-time-at-completed of a waiting job, printer-dns-sd-name) breaks it.
   */
  private async jobAttributes(jobId: number): Promise<JobAttributes> {
    const result = await this.run('ipptool', ['-tv', `${this.baseUri()}/jobs/${jobId}`, 'get-job-attributes.test']);
    const attributes = new Map<string, string>();
    for (const match of result.stdout.matchAll(/^\s+([a-z0-9-]+) \(([^)]*)\) = (.*)$/gm)) attributes.set(match[1]!, match[3]!);
    const state = attributes.get('job-state');
    if (result.status !== 0 || state === undefined) {
      throw new AppError('refused', 'printer.fault', `CUPS job ${this.queue}-${jobId} could not be read: ${firstLine(result.stderr) || `ipptool exited with ${result.status}`}`);
    }
    const impressions = Number(attributes.get('job-impressions-completed'));
    return {
      state,
      printerReasons: (attributes.get('job-printer-state-reasons') ?? '').split(',').filter((reason) => reason !== '' && reason !== 'none'),
      impressions: Number.isSafeInteger(impressions) ? impressions : 0,
    };
  }

  /** ipptool does not read CUPS_SERVER; a domain socket goes into the URI host, %-encoded. */
  private baseUri(): string {
    const server = this.server ?? (existsSync(DEFAULT_DOMAIN_SOCKET) ? DEFAULT_DOMAIN_SOCKET : 'localhost:631');
    return server.startsWith('/') ? `ipp://${encodeURIComponent(server)}` : `ipp://${server}`;
  }

  private run(command: string, args: string[], input?: Uint8Array): Promise<CommandResult> {
    // The C locale keeps lp's "request id is" parseable; CUPS_SERVER points every tool at one scheduler.
    const environment: NodeJS.ProcessEnv = { ...this.environment, LC_ALL: 'C', LANG: 'C' };
    if (this.server) environment.CUPS_SERVER = this.server;
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { env: environment, stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let size = 0;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size <= OUTPUT_LIMIT_BYTES) into.push(chunk);
      };
      child.stdout.on('data', collect(stdout));
      child.stderr.on('data', collect(stderr));
      const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
      child.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const missing = error.code === 'ENOENT' ? ` (${command} is not installed: apt-get install cups-client cups-ipp-utils)` : '';
        reject(new AppError('refused', 'printer.fault', `CUPS command ${command} could not run${missing}`));
      });
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
      });
      // A queue that refuses the job closes lp's stdin early; the answer says why, not EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? new Uint8Array(0));
    });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}
