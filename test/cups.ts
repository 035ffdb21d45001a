// A CUPS scheduler of the test's own: cupsd started with its own cupsd.conf and cups-files.conf, so
// its ServerRoot, spool, cache, state and logs live in a fresh directory and it listens only on a
// private unix socket (CUPS_SERVER points lp, cancel and the kiosk's printer at it). The machine's
// cupsd, if any, is neither used nor touched. A cups-pdf queue prints into a directory of the test:
// cups-pdf reads its settings only from /etc/cups/cups-pdf-<suffix>.conf (the suffix is the device
// URI's path), so that one file is written there for the run and removed by stop().
//
// CUPS tests are never skipped: without CUPS, cups-pdf or root (the cups-pdf backend runs as root)
// startCups() fails with what to install. CI (.ci/run) installs the packages.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CUPSD = '/usr/sbin/cupsd';
const CUPS_PDF_BACKEND = '/usr/lib/cups/backend/cups-pdf';
const CUPS_PDF_PPD = '/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd';

export interface PrivateCups {
  /** CUPS_SERVER for this scheduler: its unix socket. */
  server: string;
  /** The environment lp/lpstat/ipptool need to reach it. */
  environment: NodeJS.ProcessEnv;
  /** Where cupsd spools job files (RequestRoot) and where filters write temporary files (TempDir). */
  spoolDirectory: string;
  tempDirectory: string;
  /** cups-pdf's own spool (its temporary copy while converting). */
  cupsPdfSpoolDirectory: string;
  /** Adds a cups-pdf queue printing into its own directory (cups-pdf names files <title>…-job_<id>.pdf), which is returned. */
  addPdfQueue(queue: string): string;
  /**
   * Adds a queue whose device reports a printer condition the way a backend does ("STATE:
   * +media-jam-error" on standard error) and then stops the queue (exit 4, CUPS_BACKEND_STOP).
   */
  addFailingQueue(queue: string, reason: string): void;
  /** Adds a queue whose jobs are all held (job-hold-until-default=indefinite): they never complete. */
  addHoldingQueue(queue: string): void;
  /** Runs a CUPS command (cupsdisable, lpstat …) against this scheduler; throws unless it exits 0. */
  command(name: string, args: string[]): string;
  stop(): Promise<void>;
}

/** Why CUPS tests cannot run here, or undefined when they can. */
export function cupsProblem(): string | undefined {
  const missing = [CUPSD, CUPS_PDF_BACKEND, CUPS_PDF_PPD].filter((file) => !fs.existsSync(file));
  for (const command of ['lp', 'lpadmin', 'ipptool', 'cancel', 'cupsdisable']) if (spawnSync(command, ['--help']).error) missing.push(command);
  if (missing.length > 0) return `CUPS tests need cups and printer-driver-cups-pdf (apt-get install cups printer-driver-cups-pdf); missing: ${missing.join(', ')}`;
  if (process.getuid?.() !== 0) return 'CUPS tests run their own cupsd, whose cups-pdf backend needs root: run them as root (CI does)';
  return undefined;
}

export async function startCups(): Promise<PrivateCups> {
  const problem = cupsProblem();
  if (problem) throw new Error(problem);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-cups-'));
  // cupsd runs filters as user lp: the tree must be traversable, the spool is cupsd's own.
  fs.chmodSync(root, 0o755);
  const directory = (name: string) => {
    const made = path.join(root, name);
    fs.mkdirSync(made, { recursive: true });
    return made;
  };
  const serverRoot = directory('etc');
  const spoolDirectory = directory('spool');
  const tempDirectory = directory('spool/tmp');
  const cupsPdfSpoolDirectory = directory('cups-pdf-spool');
  const logDirectory = directory('log');
  // ServerBin of our own: the system's filters and backends, plus a "fails" backend for jams. cupsd
  // runs only root-owned programs that nobody else can write, which these are.
  const serverBin = directory('lib');
  for (const name of fs.readdirSync('/usr/lib/cups')) if (name !== 'backend') fs.symlinkSync(path.join('/usr/lib/cups', name), path.join(serverBin, name));
  const backends = directory('lib/backend');
  for (const name of fs.readdirSync('/usr/lib/cups/backend')) fs.symlinkSync(path.join('/usr/lib/cups/backend', name), path.join(backends, name));
  fs.writeFileSync(
    path.join(backends, 'fails'),
    [
      '#!/bin/sh',
      '# A printer that takes the job and reports the condition named in the device URI (fails:/REASON).',
      'if [ $# -eq 0 ]; then echo \'direct fails "Unknown" "cvs-issue test printer"\'; exit 0; fi',
      'cat > /dev/null',
      'echo "STATE: +${DEVICE_URI#fails:/}" >&2',
      'echo "ERROR: the printer reports ${DEVICE_URI#fails:/}" >&2',
      'exit 4',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const socket = path.join(root, 'cups.sock');
  fs.writeFileSync(
    path.join(root, 'cups-files.conf'),
    [
      `ServerRoot ${serverRoot}`,
      `ServerBin ${serverBin}`,
      `RequestRoot ${spoolDirectory}`,
      `TempDir ${tempDirectory}`,
      `CacheDir ${directory('cache')}`,
      `StateDir ${directory('state')}`,
      `ErrorLog ${logDirectory}/error_log`,
      `AccessLog ${logDirectory}/access_log`,
      `PageLog ${logDirectory}/page_log`,
      'SystemGroup root',
      'PeerCred on',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(root, 'cupsd.conf'),
    [
      `Listen ${socket}`,
      'LogLevel info',
      // The spooled document goes when the job ends: it is the resident's certificate.
      'PreserveJobFiles No',
      'Browsing Off',
      'WebInterface No',
      `Printcap ${root}/printcap`,
      'DefaultAuthType None',
      '<Location />',
      '  Order allow,deny',
      '  Allow all',
      '</Location>',
      '',
    ].join('\n'),
  );
  const cupsd: ChildProcess = spawn(CUPSD, ['-f', '-c', path.join(root, 'cupsd.conf'), '-s', path.join(root, 'cups-files.conf')], { stdio: 'ignore' });
  const environment: NodeJS.ProcessEnv = { ...process.env, CUPS_SERVER: socket, LC_ALL: 'C', LANG: 'C' };
  const pdfConfigs: string[] = [];

  function command(name: string, args: string[]): string {
    const result = spawnSync(name, args, { env: environment, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${name} ${args.join(' ')} failed: ${result.stderr || result.error}`);
    return result.stdout;
  }

  async function stop(): Promise<void> {
    for (const file of pdfConfigs) fs.rmSync(file, { force: true });
    if (cupsd.exitCode === null) {
      const exited = new Promise((resolve) => cupsd.once('exit', resolve));
      cupsd.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(root, { recursive: true, force: true });
  }

  // Wait for the condition, not for time: the scheduler answers on its socket.
  for (let attempt = 0; ; attempt += 1) {
    if (spawnSync('lpstat', ['-r'], { env: environment, encoding: 'utf8' }).stdout.includes('scheduler is running')) break;
    if (cupsd.exitCode !== null || attempt >= 100) {
      const log = fs.existsSync(path.join(logDirectory, 'error_log')) ? fs.readFileSync(path.join(logDirectory, 'error_log'), 'utf8').split('\n').slice(-5).join('\n') : '';
      await stop();
      throw new Error(`the test's cupsd did not start:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    server: socket,
    environment,
    spoolDirectory,
    tempDirectory,
    cupsPdfSpoolDirectory,
    addPdfQueue(queue) {
      const suffix = `cvs-issue-${randomBytes(6).toString('hex')}`;
      const output = directory(`paper-${queue}`);
      const config = `/etc/cups/cups-pdf-${suffix}.conf`;
      pdfConfigs.push(config);
      fs.writeFileSync(config, `Out ${output}\nAnonDirName ${output}\nSpool ${cupsPdfSpoolDirectory}\nLabel 2\nTitlePref 1\n`);
      // pdftocairo, not the default poppler pdftops, turns the PDF into PostScript for cups-pdf with
      // the text kept as text, so pdftotext can read the printed copy back.
      command('lpadmin', ['-p', queue, '-E', '-v', `cups-pdf:/${suffix}`, '-P', CUPS_PDF_PPD, '-o', 'pdftops-renderer-default=pdftocairo']);
      return output;
    },
    addFailingQueue(queue, reason) {
      command('lpadmin', ['-p', queue, '-E', '-v', `fails:/${reason}`, '-P', CUPS_PDF_PPD, '-o', 'pdftops-renderer-default=pdftocairo']);
    },
    addHoldingQueue(queue) {
      command('lpadmin', ['-p', queue, '-E', '-v', `cups-pdf:/${queue}`, '-P', CUPS_PDF_PPD, '-o', 'job-hold-until-default=indefinite']);
    },
    command,
    stop,
  };
}

/** Every file under a directory, relative paths, sorted (for "nothing is left" checks). */
export function filesUnder(directory: string): string[] {
  if (!fs.existsSync(directory)) return [];
  return (fs.readdirSync(directory, { recursive: true }) as string[]).filter((name) => fs.statSync(path.join(directory, name)).isFile()).sort();
}
