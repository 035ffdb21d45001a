// A private PC/SC stack for the real-reader tests: pcscd with vsmartcard's vpcd driver on a free
// port, and the simulated card file plugged into it (drivers/card/vpcd-card.ts). A machine without
// pcscd, vpcd or the "smartcard" package skips those tests and says why; CI (.ci/run sets
// CVS_ISSUE_REQUIRE_PCSC=1) runs them regardless, so a missing piece fails there instead.
//
// pcscd 1.9 always serves /run/pcscd/pcscd.comm, so to keep the machine's own pcscd (and other test
// runs) out of the way it runs in a private mount namespace with its own directory over /run/pcscd;
// the client library follows PCSCLITE_CSOCK_NAME to that socket. Where namespaces are not allowed
// (or CVS_ISSUE_PCSCD_SHARED=1) it falls back to the machine's /run/pcscd, which test processes
// then take in turns; a pcscd that is not a test's own must not be running there.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

function smartcardLoads(): boolean {
  try {
    createRequire(import.meta.url)('smartcard');
    return true;
  } catch {
    return false;
  }
}

function whatIsMissing(): string | undefined {
  if (spawnSync('pcscd', ['--version']).error !== undefined) return 'pcscd is not installed (apt-get install pcscd)';
  if (!fs.existsSync(VPCD_DRIVER)) return 'vpcd is not installed (apt-get install vsmartcard-vpcd)';
  if (!smartcardLoads()) return 'the npm package "smartcard" does not load (apt-get install libpcsclite-dev, then npm ci)';
  return undefined;
}

const missing = whatIsMissing();

export const pcscMissing: false | string = missing === undefined || process.env.CVS_ISSUE_REQUIRE_PCSC === '1' ? false : missing;

export interface PcscStack {
  /** Port of vpcd's first slot, the reader "Virtual PCD 00 00"; the second slot is port + 1. */
  port: number;
  readerName: string;
  /** Environment for a child process (the binary) to reach this pcscd. */
  env: Record<string, string>;
}

let started: Promise<PcscStack> | undefined;

/**
 * Starts this process's pcscd once (the client library reads PCSCLITE_CSOCK_NAME only once per
 * process) and stops it when the process exits. Fails with one clear line when a piece is missing.
 */
export function startPcsc(): Promise<PcscStack> {
  started ??= launch();
  return started;
}

async function launch(): Promise<PcscStack> {
  if (missing !== undefined) throw new Error(`PC/SC tests cannot run: ${missing}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-pcscd-'));
  const confDir = path.join(dir, 'reader.conf.d');
  const runDir = path.join(dir, 'run');
  fs.mkdirSync(confDir);
  fs.mkdirSync(runDir);
  const port = await freePortPair();
  fs.writeFileSync(
    path.join(confDir, 'vpcd'),
    `FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x${port.toString(16)}\nLIBPATH      ${VPCD_DRIVER}\nCHANNELID    0x${port.toString(16)}\n`,
  );
  const log = fs.openSync(path.join(dir, 'pcscd.log'), 'w');
  const privateNamespace = process.env.CVS_ISSUE_PCSCD_SHARED !== '1' && spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']).status === 0;
  let child: ChildProcess;
  let socketPath: string;
  if (privateNamespace) {
    socketPath = path.join(runDir, 'pcscd.comm');
    child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mkdir -p /run/pcscd && mount --bind "$0" /run/pcscd && exec pcscd -f -c "$1"', runDir, confDir], {
      stdio: ['ignore', log, log],
    });
  } else {
    // One machine-wide pcscd: test processes take turns, holding a lock file for their lifetime.
    socketPath = '/run/pcscd/pcscd.comm';
    await takeMachineLock();
    await machinePcscdGone();
    child = spawn('pcscd', ['-f', '-c', confDir], { stdio: ['ignore', log, log] });
  }
  fs.closeSync(log);
  process.on('exit', () => {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  child.unref();
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`pcscd exited (${code}) before it was ready; see ${path.join(dir, 'pcscd.log')}`)));
  });
  exited.catch(() => undefined);
  // Ready when the client library, following PCSCLITE_CSOCK_NAME, lists vpcd's reader.
  await setEnvironment('PCSCLITE_CSOCK_NAME', socketPath);
  const readerName = 'Virtual PCD 00 00';
  const smartcard = createRequire(import.meta.url)('smartcard') as { Context: new () => { listReaders(): { name: string }[]; close(): void } };
  for (;;) {
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))]);
    if (!fs.existsSync(socketPath)) continue;
    try {
      const context = new smartcard.Context();
      const names = context.listReaders().map((reader) => reader.name);
      context.close();
      if (names.includes(readerName)) break;
    } catch {
      // pcscd is still starting
    }
  }
  return { port, readerName, env: { PCSCLITE_CSOCK_NAME: socketPath } };
}

/**
 * The client library reads the variable with C getenv(). Node's process.env writes through to the C
 * environment; Bun's does not (measured: getenv() still sees nothing), so under Bun it is set with
 * libc's setenv() through bun:ffi as well.
 */
async function setEnvironment(name: string, value: string): Promise<void> {
  process.env[name] = value;
  if (process.versions.bun === undefined) return;
  const { dlopen, FFIType } = await import('bun:ffi');
  const libc = dlopen('libc.so.6', { setenv: { args: [FFIType.cstring, FFIType.cstring, FFIType.i32], returns: FFIType.i32 } });
  libc.symbols.setenv(Buffer.from(`${name}\0`), Buffer.from(`${value}\0`), 1);
}

const MACHINE_LOCK = path.join(os.tmpdir(), 'cvs-issue-pcscd.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for the lock another test process holds; a lock left by a dead process is taken over. */
async function takeMachineLock(): Promise<void> {
  for (;;) {
    try {
      fs.writeFileSync(MACHINE_LOCK, String(process.pid), { flag: 'wx' });
      process.on('exit', () => fs.rmSync(MACHINE_LOCK, { force: true }));
      return;
    } catch {
      const holder = Number(fs.readFileSync(MACHINE_LOCK, { encoding: 'utf8', flag: 'a+' }));
      if (!Number.isSafeInteger(holder) || holder <= 0 || !alive(holder)) fs.rmSync(MACHINE_LOCK, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The previous lock holder's pcscd may still be shutting down; any other pcscd is in the way. */
async function machinePcscdGone(): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    let pid: number;
    try {
      pid = Number(fs.readFileSync('/run/pcscd/pcscd.pid', 'utf8'));
    } catch {
      return;
    }
    if (!alive(pid)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('PC/SC tests cannot run: another pcscd is running and mount namespaces (unshare --mount) are not allowed here');
}

/** vpcd takes two consecutive ports (one per slot); both must be free. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address() as net.AddressInfo;
        server.close(() => resolve(address.port));
      });
    });
    if (port < 65535 && (await canBind(port + 1))) return port;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

interface ReaderListing {
  listReaders(): { name: string; state: number }[];
  close(): void;
}

/** Waits until pcscd reports a card on the stack's first reader (present) or none (absent). */
export async function waitForCard(stack: PcscStack, wanted: 'present' | 'absent'): Promise<void> {
  const smartcard = createRequire(import.meta.url)('smartcard') as { Context: new () => ReaderListing; SCARD_STATE_PRESENT: number };
  const context = new smartcard.Context();
  try {
    for (;;) {
      const reader = context.listReaders().find((candidate) => candidate.name === stack.readerName);
      const present = reader !== undefined && (reader.state & smartcard.SCARD_STATE_PRESENT) !== 0;
      if (present === (wanted === 'present')) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    context.close();
  }
}

export interface InsertedCard {
  /** Pulls the card out and waits until pcscd sees the reader empty. */
  remove(): Promise<void>;
}

const cardProcessScript = path.join(path.dirname(new URL(import.meta.url).pathname), 'vpcd-card-process.ts');

/** Plugs the card file into vpcd's first slot (a card process of its own) and waits until pcscd sees it. */
export async function insertCard(stack: PcscStack, cardFile: string): Promise<InsertedCard> {
  const args = process.versions.bun === undefined ? ['--import', 'tsx', cardProcessScript, cardFile, String(stack.port)] : [cardProcessScript, cardFile, String(stack.port)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('inserted')) resolve();
    });
    void exited.then(() => reject(new Error(`the virtual card did not start: ${stderr.trim()}`)));
  });
  await waitForCard(stack, 'present');
  let removed: Promise<void> | undefined;
  return {
    remove() {
      removed ??= (async () => {
        child.kill('SIGTERM');
        await exited;
        process.off('exit', killOnExit);
        await waitForCard(stack, 'absent');
      })();
      return removed;
    },
  };
}
