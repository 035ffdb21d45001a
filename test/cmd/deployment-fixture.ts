// Test helper: a fresh deployment (what `cvs-issue init` writes) for a test, in a few milliseconds.
// init makes some twenty RSA keys and four scrypt hashes, seconds of CPU per deployment, and most
// cmd tests need one. So the real runInit builds a template once, kept under the temp directory
// and keyed by everything it depends on (the listen addresses, today's UTC date, and the content of
// cmd/, core/, drivers/, fixtures/ and package-lock.json); each test then gets its own copy of the
// template's files. No test sees another's leftovers: the template is never handed out, only
// copied, and a changed source or a new day builds a new one. Node and Bun share the template (the
// suites run side by side in npm test), and Bun builds it, as its keys cost less than half the CPU;
// init itself runs on each runtime in the tests that test it.
// test/cmd/init-load.test.ts still runs the real `init` command (files, modes, --force) on every run.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { runInit } from '../../cmd/init.ts';
import { startRelay, type StartedRelay } from '../../cmd/relay.ts';
import type { Clock } from '../../core/ports.ts';

export interface DeploymentOptions {
  centerListen?: string;
  relayListen?: string;
  /** The time init runs at (its certificates' notBefore); default: now. */
  initAtMs?: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCES = ['cmd', 'core', 'drivers', 'fixtures', 'package-lock.json'];
const CACHE = path.join(os.tmpdir(), 'cvs-issue-test-deployments');
/** A lock older than this is from a process that died while building. */
const STALE_LOCK_MS = 120_000;
/** Templates not used for this long are removed when a new one is built. */
const KEEP_MS = 2 * 24 * 60 * 60 * 1000;

let sourceHash: string | undefined;

function hashSources(): string {
  if (sourceHash) return sourceHash;
  const hash = createHash('sha256');
  const visit = (relative: string): void => {
    const absolute = path.join(ROOT, relative);
    const stat = fs.statSync(absolute, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(absolute).sort()) visit(path.join(relative, name));
      return;
    }
    hash.update(`${relative}\0${stat.size}\0`);
    hash.update(fs.readFileSync(absolute));
  };
  for (const source of SOURCES) visit(source);
  sourceHash = hash.digest('hex');
  return sourceHash;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function removeOldTemplates(): void {
  for (const name of fs.readdirSync(CACHE)) {
    const entry = path.join(CACHE, name);
    const stat = fs.statSync(entry, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > KEEP_MS) fs.rmSync(entry, { recursive: true, force: true });
  }
}

const BUN = path.join(ROOT, 'node_modules/.bin/bun');

/**
 * runInit into `dir`, on Bun: its RSA key generation (BoringSSL) takes about 0.13 s a key where
 * Node's OpenSSL 3 takes 0.3 s, and a deployment has some twenty keys (issue 9). Under Node a Bun
 * child process runs this same file (see the end of it); the files are the same either way.
 */
function buildDeployment(dir: string, options: Omit<DeploymentOptions, 'initAtMs'>, nowMs: number): void {
  if (process.versions.bun !== undefined) {
    runInit({ dir, ...options }, nowMs);
    return;
  }
  const result = spawnSync(BUN, [fileURLToPath(import.meta.url), JSON.stringify({ dir, options, nowMs })], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`deployment-fixture: building the template on Bun failed (${result.status ?? result.signal}): ${result.stderr}`);
}

/**
 * The template's directory, built by runInit if it is not there yet (one builder at a time). Both
 * runtimes share it: a deployment is files (SQLite, PEM, JSON) either runtime reads, and `init`
 * itself is tested on each runtime by the tests that run it (cli, init-load, the binary's).
 */
export function deploymentTemplate(options: DeploymentOptions = {}): string {
  const { initAtMs, ...initOptions } = options;
  const key = createHash('sha256')
    .update(JSON.stringify([options.centerListen ?? null, options.relayListen ?? null, initAtMs ?? new Date().toISOString().slice(0, 10), hashSources()]))
    .digest('hex')
    .slice(0, 32);
  const template = path.join(CACHE, key);
  const lock = `${template}.lock`;
  fs.mkdirSync(CACHE, { recursive: true, mode: 0o700 });
  for (;;) {
    if (fs.existsSync(template)) {
      const now = new Date();
      fs.utimesSync(template, now, now); // in use: not removed as old
      return template;
    }
    try {
      fs.mkdirSync(lock);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = fs.statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) fs.rmSync(lock, { recursive: true, force: true });
      else sleepMs(100);
      continue;
    }
    try {
      removeOldTemplates();
      const building = fs.mkdtempSync(`${template}.building-`);
      try {
        buildDeployment(building, initOptions, initAtMs ?? Date.now());
        fs.renameSync(building, template);
      } catch (error) {
        fs.rmSync(building, { recursive: true, force: true });
        throw error;
      }
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}

/**
 * Writes a new deployment into `dir` (created if missing; an existing one must hold no deployment),
 * as `runInit({ dir, ...options })` would: a private copy of the template.
 */
export function freshDeployment(dir: string, options: DeploymentOptions = {}): string {
  const template = deploymentTemplate(options);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new Error(`freshDeployment: ${dir} is not empty`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.cpSync(template, dir, { recursive: true });
  return dir;
}

/** A fresh deployment with its centre and relay serving over mutual TLS, on a business-hours clock. */
export interface RunningService {
  dir: string;
  loaded: LoadedConfig;
  center: StartedCenter;
  relay: StartedRelay;
  clock: Clock;
  /** Stops the relay and the centre and removes the deployment. */
  close(): Promise<void>;
}

export async function runningService(prefix: string, clock: Clock = offsetClock(nextBusinessMorning(Date.now()))): Promise<RunningService> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
  const loaded = loadConfig(dir);
  const center = await startCenter(loaded, { clock });
  const relay = await startRelay(loaded, { clock, centerUrl: center.server.url });
  return {
    dir,
    loaded,
    center,
    relay,
    clock,
    async close() {
      await relay.close();
      await center.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Run by buildDeployment as a Bun child process: build the deployment it names, and nothing else.
if (process.versions.bun !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  const { dir, options, nowMs } = JSON.parse(process.argv[2]!) as { dir: string; options: DeploymentOptions; nowMs: number };
  runInit({ dir, ...options }, nowMs);
}
