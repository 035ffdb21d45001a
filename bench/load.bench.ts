// Load: N simulated kiosks playing full issuances at once against real `relay serve` and `center
// serve` processes of the compiled binary, over mutual TLS, each kiosk with its own certificate
// (`init --kiosks K --residents M`). A session is what a kiosk does for one resident: read the
// card and verify its PIN, challenge, card signature, authenticate, certificate data, binding
// check, cash, print, receipt, then the completion notice. It runs the kiosk's own code
// (core/kiosk-transaction.ts runKioskTransaction, the simulated card of drivers/card, the
// mutual-TLS client of drivers/http); what stays in the kiosk and costs the servers nothing is
// cheap here: the printer counts pages, the receipt is its text, and the notice goes straight to
// the relay instead of through the SQLite outbox. Each kiosk keeps its real audit log (its
// database and key from the deployment).
//
// Per concurrency level it prints issuances/s, p50/p95/p99 of a whole session, the p50 of each
// step, CPU ms per issuance of the centre, the relay and this generator (/proc/PID/stat utime +
// stime, process.cpuUsage), the share of the servers' JavaScriptCore compiler threads in it
// (/proc/PID/task/*/stat of the "JITWorker" threads: hot code still being compiled, which a server
// that has run for a minute or so has done), and the servers' peak RSS (/proc/PID/status VmHWM). Afterwards it
// checks that every completed session has exactly one record in the centre's and the relay's
// databases with the figures the kiosk saw, and nothing else is there, and that the audit logs of
// the centre, the relay and every kiosk used verify (`audit-log verify`); any failed session or check exits 1.
//
// `npm run bench -- load` (builds dist/cvs-issue first). LOAD_SESSIONS=1,4,16,64 picks the
// levels, LOAD_SECONDS=15 the time per level, LOAD_WARM_UP_SECONDS=60 the uncounted sessions before the first level (JavaScriptCore keeps compiling a server's hot code for about a minute of load: docs/runtime-facts.md), LOAD_RESIDENTS the synthetic cards (default 1,000, or
// twice the largest level if more: enough names that the centre's cache of shaped text cannot hold
// them all, as at a centre whose residents rarely come twice in an hour; with 128 the whole set was
// cached and the centre read about 5% cheaper than with 1,000), LOAD_PROFILE=DIR a CPU profile of each server, CVS_ISSUE_RENDER_WORKERS the centre's render threads, so on a 2-core machine the whole run stays near a minute and a half.
// LOAD_STORE=postgres keeps the centre's store on a throw-away PostgreSQL server (test/postgres.ts,
// docs/postgres.md), whose processes' CPU is a column of its own; LOAD_CENTERS=N (PostgreSQL only)
// runs N centre processes on it, the relay spreading its requests over them; their CPU is summed.
// LOAD_KILL_CENTER=1 (with LOAD_CENTERS >= 2) kills the first centre with SIGKILL halfway through
// the first level: every session must still complete and be recorded once (issue 13).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { loadConfig, openRoleAuditLog, type KioskConfig, type LoadedConfig } from '../cmd/config.ts';
import { offsetClock, sha256, systemRandom } from '../cmd/deps.ts';
import { nextBusinessMorning } from '../cmd/demo.ts';
import { formatJstIso } from '../core/jst.ts';
import { runKioskTransaction, type KioskGateway, type KioskInput } from '../core/kiosk-transaction.ts';
import { KIOSK_PATHS, type CompletionNotice } from '../core/messages.ts';
import type { Clock, Printer } from '../core/ports.ts';
import { readCardFile } from '../drivers/card/card-file.ts';
import { SimulatedCardReader } from '../drivers/card/simulated-reader.ts';
import { DENOMINATIONS_YEN, SimulatedCashUnit } from '../drivers/cash/simulated-cash-unit.ts';
import { createMutualTlsClient, type HttpClient } from '../drivers/http/client.ts';
import { callJson } from '../drivers/http/json-api.ts';
import { kioskGateway } from '../drivers/http/kiosk-gateway.ts';
import { auditOrigin } from '../drivers/store/audit-log.ts';
import { openKioskDatabase } from '../drivers/store/kiosk-store.ts';
import { openDatabase } from '../drivers/store/database.ts';
import { startPostgres, type PostgresServer } from '../test/postgres.ts';

const LEVELS = (process.env.LOAD_SESSIONS ?? '1,4,16,64').split(',').map(Number);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 15);
const MAX_LEVEL = Math.max(...LEVELS);
const RESIDENTS = Number(process.env.LOAD_RESIDENTS ?? Math.max(1_000, 2 * MAX_LEVEL));
// 60 s: the servers' hot code is compiled by then (docs/runtime-facts.md, "The relay's CPU per
// issuance": the JIT threads go on for about a minute); the JIT column shows what is left.
const WARM_UP_SECONDS = Number(process.env.LOAD_WARM_UP_SECONDS ?? 60);
const STORE = process.env.LOAD_STORE ?? 'sqlite';
const CENTERS = Number(process.env.LOAD_CENTERS ?? 1);
const KILL_CENTER = process.env.LOAD_KILL_CENTER === '1';
/** The certificate every session asks for: 住民票の写し, one copy, open whenever the centre is. */
const CERTIFICATE = { certificateType: 'juminhyo', copies: 1 } as const;
const STEPS = ['card', 'challenge', 'sign', 'authenticate', 'certificate', 'kiosk', 'notice'] as const;
type Step = (typeof STEPS)[number];

// LOAD_BINARY=PATH runs the servers of another build (an A/B comparison of two commits).
const binary = path.resolve(process.env.LOAD_BINARY ?? path.join(import.meta.dirname, '../dist/cvs-issue'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-bench-load-'));
const dir = path.join(work, 'site');
const businessMs = nextBusinessMorning(Date.now());
const environment = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: os.tmpdir(),
  TZ: 'UTC',
  NO_COLOR: '1',
  CVS_ISSUE_TIME: formatJstIso(businessMs),
  // The centre's render threads (README "Environment"), to compare: unset, the binary's default.
  ...(process.env.CVS_ISSUE_RENDER_WORKERS === undefined ? {} : { CVS_ISSUE_RENDER_WORKERS: process.env.CVS_ISSUE_RENDER_WORKERS }),
};
const clockTicksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface InitJson {
  kiosks: { kioskId: string; operatorId: string }[];
  cards: { directory: string; syntheticCardIds: string[] };
}

interface SessionResult {
  kioskId: string;
  outcome: string;
  requestId?: string;
  notice?: CompletionNotice;
  acknowledged: boolean;
  totalMs: number;
  steps: Partial<Record<Step, number>>;
}

class BenchFailure extends Error {}

function fail(message: string): never {
  throw new BenchFailure(message);
}

/** Servers still running, stopped whatever happens so the bench never leaves one behind. */
const children = new Set<ChildProcess>();

function runBinary(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(binary, args, { env: environment, encoding: 'utf8', timeout: 30 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts a server of the binary and resolves with its URL from the one `--json` ready line. */
function serve(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  // LOAD_PROFILE=DIR: each server writes a Bun CPU profile (.cpuprofile) there when it stops.
  const profiled = process.env.LOAD_PROFILE ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(process.env.LOAD_PROFILE)}` } : {};
  const child = spawn(binary, [...args, '--json'], { env: { ...environment, ...profiled }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve({ child, url: (JSON.parse(line) as { url: string }).url }));
    child.once('exit', (code) => reject(new Error(`${args.slice(0, 2).join(' ')} exited ${code}: ${stderr.trim()}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** utime and stime of a process so far, in ms: system time is mostly socket writes and SQLite's file I/O. */
function cpuSplitMs(pid: number): Cpu {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / clockTicksPerSecond, system: (Number(fields[12]) * 1000) / clockTicksPerSecond, jit: jitCpuMs(pid) };
}

/**
 * The CPU so far of each of a process's JavaScriptCore compiler threads ("JITWorker"), by
 * process and thread id: code being compiled to its optimising tiers, which a server that has run
 * for a while has done. JavaScriptCore ends idle compiler threads and starts new ones, so a level's
 * share is taken thread by thread (jitDeltaMs), never as the difference of two sums.
 */
function jitCpuMs(pid: number): Map<string, number> {
  const threads = new Map<string, number>();
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('JIT')) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(`${pid}/${task}`, ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond);
  }
  return threads;
}

/**
 * The compiler threads' CPU between two readings: what each thread alive at the second did since
 * the first (all of it for a thread started meanwhile). A thread that ended in between is not in
 * it, though the process's own total still counts it; so this is a lower bound, never negative.
 */
function jitDeltaMs(after: Map<string, number>, before: Map<string, number>): number {
  let total = 0;
  for (const [thread, ms] of after) total += Math.max(0, ms - (before.get(thread) ?? 0));
  return total;
}

/** The PostgreSQL server's CPU so far: its postmaster, its live processes, and those that ended. */
function serverCpuMs(postgres: PostgresServer): Cpu {
  const postmaster = Number(fs.readFileSync(path.join(postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const total: Cpu = { user: 0, system: 0, jit: undefined }; // PostgreSQL has no JIT threads of ours
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    if (pid !== postmaster && Number(fields[1]) !== postmaster) continue;
    // utime, stime; for the postmaster also cutime, cstime: the backends that have ended.
    const ticks = (at: number) => (Number(fields[at]) * 1000) / clockTicksPerSecond;
    total.user += ticks(11) + (pid === postmaster ? ticks(13) : 0);
    total.system += ticks(12) + (pid === postmaster ? ticks(14) : 0);
  }
  return total;
}

/** CPU ms so far: user and system of the whole process, and of that each JIT compiler thread's (jitCpuMs). */
interface Cpu {
  user: number;
  system: number;
  jit: Map<string, number> | undefined;
}

const sumCpu = (parts: Cpu[]): Cpu => ({
  user: parts.reduce((sum, part) => sum + part.user, 0),
  system: parts.reduce((sum, part) => sum + part.system, 0),
  jit: new Map(parts.flatMap((part) => [...(part.jit ?? [])])),
});

function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** One simulated kiosk: its own client certificate, card reader, cash unit and printer. */
function simulatedKiosk(loaded: LoadedConfig, config: KioskConfig, index: number, relayUrl: string, clock: Clock) {
  const read = (relative: string) => loaded.read(relative);
  const db = openKioskDatabase(loaded.resolve(config.databaseFile));
  const audit = openRoleAuditLog(db, loaded, config, auditOrigin('kiosk', config.kioskId), clock);
  const client: HttpClient = createMutualTlsClient({
    baseUrl: relayUrl,
    caPem: read(config.tls.caFile),
    certificatePem: read(config.tls.certificateFile),
    keyPem: read(config.tls.keyFile),
    timeoutMs: 30_000,
    // Each kiosk from its own address (127.0.0.2 …; Linux routes all of 127/8 to loopback): the
    // relay allows 64 connections per address, and real kiosks never share one.
    localAddress: `127.0.${Math.floor((index + 2) / 256)}.${(index + 2) % 256}`,
  });
  const gateway = kioskGateway(client, config.kioskId);
  const reader = new SimulatedCardReader(`${config.kioskId} bench reader`);
  const cash = new SimulatedCashUnit();
  let pages = 0;
  const printer: Printer = { print: async () => ({ pages: (pages += 1) }) };

  async function session(cardFile: string, pin: string): Promise<SessionResult> {
    const marks: Partial<Record<string, number>> = {};
    let current: Step = 'card';
    const mark = (name: string, step?: Step) => {
      if (step) current = step;
      return (marks[name] = performance.now());
    };
    // The kiosk's gateway, with the time each step starts and ends.
    const timed: KioskGateway = {
      challenge: async () => {
        mark('challenge', 'challenge');
        const answer = await gateway.challenge();
        mark('challenged', 'sign');
        return answer;
      },
      authenticate: async (request) => {
        mark('authenticate', 'authenticate');
        const answer = await gateway.authenticate(request);
        mark('authenticated');
        return answer;
      },
      requestCertificate: async (request) => {
        mark('certificate', 'certificate');
        const answer = await gateway.requestCertificate(request);
        mark('certified', 'kiosk');
        return answer;
      },
      sendCompletion: (notice) => gateway.sendCompletion(notice),
      sendCorrection: (notice) => gateway.sendCorrection(notice),
    };
    let notice: CompletionNotice | undefined;
    const input: KioskInput = {
      enterPin: async () => pin,
      chooseCertificate: async () => CERTIFICATE,
      // The exact fee, largest coin first: a kiosk's change stock is finite and nothing refills it here.
      nextCash: async (feeYen, insertedYen) => [...DENOMINATIONS_YEN].reverse().find((yen) => yen <= feeYen - insertedYen),
    };
    const started = performance.now();
    reader.place(cardFile);
    let outcome: string;
    let requestId: string | undefined;
    try {
      const result = await runKioskTransaction(
        {
          identity: { kioskId: config.kioskId, storeId: config.storeId, storeName: config.storeName },
          clock,
          random: systemRandom,
          reader,
          cash,
          printer,
          gateway: timed,
          ledger: { recordTransaction: (_record, queued) => void (notice = queued) },
          screen: { show: () => undefined },
          audit,
          faults: { report: (fault) => audit.append({ kind: 'fault', data: { code: fault.code, ...(fault.requestId === undefined ? {} : { requestId: fault.requestId }) } }) },
          sha256,
          renderReceipt: async (receipt) => new TextEncoder().encode(JSON.stringify(receipt)),
          renderVoidNotice: async (voided) => new TextEncoder().encode(JSON.stringify(voided)),
        },
        input,
      );
      outcome = result.outcome === 'refused' || result.outcome === 'refunded' ? `${result.outcome}:${result.code}` : result.outcome;
      requestId = 'requestId' in result ? result.requestId : undefined;
    } catch (error) {
      outcome = `failed:${error instanceof Error ? error.message : String(error)}`;
    } finally {
      reader.remove();
    }
    mark('transacted', notice ? 'notice' : undefined);
    let acknowledged = false;
    if (notice) {
      try {
        const ack = await gateway.sendCompletion(notice);
        acknowledged = ack.issuanceId === notice.issuanceId && !ack.duplicate;
      } catch (error) {
        outcome = `notice-failed:${error instanceof Error ? error.message : String(error)}`;
      }
    }
    const ended = mark('noticed');
    const span = (from: string, to: string) => (marks[from] !== undefined && marks[to] !== undefined ? marks[to]! - marks[from]! : undefined);
    const steps: Partial<Record<Step, number>> = {
      card: marks.challenge === undefined ? undefined : marks.challenge - started,
      challenge: span('challenge', 'challenged'),
      sign: span('challenged', 'authenticate'),
      authenticate: span('authenticate', 'authenticated'),
      certificate: span('certificate', 'certified'),
      kiosk: span('certified', 'transacted'),
      notice: notice ? span('transacted', 'noticed') : undefined,
    };
    // A failure names the step it happened in, so a report says where sessions break.
    if (outcome !== 'issued' || !acknowledged) outcome = `${outcome} (in ${current})`;
    return { kioskId: config.kioskId, outcome, requestId, notice, acknowledged, totalMs: ended - started, steps };
  }

  /** The kiosk's first call of the day (its service notices), so the TLS handshake is not timed in a session. */
  const connect = () => callJson(client, KIOSK_PATHS.notices, { kioskId: config.kioskId });

  return { session, connect, close: async () => {
      await client.close();
      db.close();
    },
    pages: () => pages,
  };
}

type SimulatedKiosk = ReturnType<typeof simulatedKiosk>;

interface Card {
  file: string;
  pin: string;
}

/**
 * `level` kiosks, each playing sessions one after another until the deadline, kiosk i with the
 * cards i, i + level, i + 2·level …, so no card is on two readers at once.
 */
async function runLevel(kiosks: SimulatedKiosk[], cards: Card[], level: number, seconds: number): Promise<{ results: SessionResult[]; wallMs: number }> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const results: SessionResult[] = [];
  await Promise.all(
    kiosks.slice(0, level).map(async (kiosk, index) => {
      const own = cards.filter((_, cardIndex) => cardIndex % level === index);
      for (let turn = 0; performance.now() < deadline; turn += 1) {
        const card = own[turn % own.length]!;
        results.push(await kiosk.session(card.file, card.pin));
      }
    }),
  );
  return { results, wallMs: performance.now() - started };
}

const format = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

async function main(): Promise<void> {
  if (!LEVELS.every((level) => Number.isSafeInteger(level) && level >= 1) || !(SECONDS > 0) || !Number.isSafeInteger(RESIDENTS) || RESIDENTS < MAX_LEVEL) {
    fail('LOAD_SESSIONS must list whole numbers >= 1, LOAD_SECONDS be > 0, LOAD_RESIDENTS be at least the largest level');
  }
  if (STORE !== 'sqlite' && STORE !== 'postgres') fail('LOAD_STORE must be sqlite or postgres');
  if (!Number.isSafeInteger(CENTERS) || CENTERS < 1 || (CENTERS > 1 && STORE !== 'postgres')) fail('LOAD_CENTERS must be a whole number >= 1, and above 1 only with LOAD_STORE=postgres');
  if (KILL_CENTER && CENTERS < 2) fail('LOAD_KILL_CENTER=1 needs LOAD_CENTERS=2 or more: one centre must stay');
  if (!fs.existsSync(binary)) fail(`${binary} is missing (npm run build)`);
  process.stdout.write(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((load) => load.toFixed(2)).join(' ')} at start\n`);
  postgres = STORE === 'postgres' ? await startPostgres() : undefined;
  centerStore = postgres ? postgres.createDatabase('center') : path.join(dir, 'center.db');
  process.stdout.write(`centre store: ${postgres ? `PostgreSQL (${path.basename(path.dirname(postgres.dataDir))}), ${CENTERS} centre process${CENTERS === 1 ? '' : 'es'}` : 'SQLite'}\n`);
  const initStarted = performance.now();
  const init = runBinary(['init', '--dir', dir, '--kiosks', String(MAX_LEVEL), '--residents', String(RESIDENTS), '--center-listen', '127.0.0.1:0', '--relay-listen', '127.0.0.1:0', ...(postgres ? ['--center-database', centerStore] : []), '--json']);
  if (init.status !== 0) fail(`init exited ${init.status}: ${init.stderr.trim()}`);
  process.stdout.write(`init --kiosks ${MAX_LEVEL} --residents ${RESIDENTS}: ${format((performance.now() - initStarted) / 1000, 1)} s\n`);
  const described = JSON.parse(init.stdout) as InitJson;
  const loaded = loadConfig(dir);
  const kioskConfigs = loaded.config.kiosks.filter((kiosk) => kiosk.operatorId === described.kiosks[0]!.operatorId);
  const cards = described.cards.syntheticCardIds.map((cardId) => {
    const file = path.join(described.cards.directory, `${cardId}.json`);
    return { file, pin: readCardFile(file).pin };
  });

  const centers: { child: ChildProcess; url: string }[] = [];
  for (let started = 0; started < CENTERS; started += 1) centers.push(await serve(['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']));
  const relay = await serve(['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', centers.map((center) => center.url).join(',')]);
  const centerPids = centers.map((center) => center.child.pid!);
  const servers = { relay: relay.child.pid! };
  // A killed centre's last figures stand for it from then on (its /proc entry is gone).
  const lastSeen = new Map<number, { cpu: Cpu; rssMiB: number }>();
  const centreCpu = () => sumCpu(centerPids.map((pid) => lastSeen.get(pid)?.cpu ?? cpuSplitMs(pid)));
  const centreRss = () => centerPids.reduce((sum, pid) => sum + (lastSeen.get(pid)?.rssMiB ?? peakRssMiB(pid)), 0);
  let killedAt: string | undefined;
  const killFirstCentre = () => {
    const pid = centerPids[0]!;
    lastSeen.set(pid, { cpu: cpuSplitMs(pid), rssMiB: peakRssMiB(pid) });
    centers[0]!.child.kill('SIGKILL');
    killedAt = `centre 1 killed with SIGKILL ${SECONDS / 2} s into the ${LEVELS[0]}-session level`;
    process.stderr.write(`  ${killedAt}\n`);
  };
  const databaseCpu = (): Cpu => (postgres ? serverCpuMs(postgres) : { user: NaN, system: NaN, jit: undefined });
  const clock = offsetClock(businessMs);
  const kiosks = kioskConfigs.map((kioskConfig, index) => simulatedKiosk(loaded, kioskConfig, index, relay.url, clock));
  const all: SessionResult[] = [];
  const rows: string[][] = [];
  try {
    // Every kiosk connects, and JIT, connection pools and SQLite caches warm up, before anything
    // is counted (the warm-up sessions are checked with the rest).
    await Promise.all(kiosks.map((kiosk) => kiosk.connect()));
    all.push(...(await runLevel(kiosks, cards, Math.min(4, MAX_LEVEL), WARM_UP_SECONDS)).results);
    for (const level of LEVELS) {
      const before = { centre: centreCpu(), relay: cpuSplitMs(servers.relay), database: databaseCpu(), generator: process.cpuUsage() };
      const killer = KILL_CENTER && killedAt === undefined ? setTimeout(killFirstCentre, (SECONDS * 1000) / 2) : undefined;
      const { results, wallMs } = await runLevel(kiosks, cards, level, SECONDS);
      clearTimeout(killer);
      const generator = process.cpuUsage(before.generator);
      const after = { centre: centreCpu(), relay: cpuSplitMs(servers.relay), database: databaseCpu() };
      all.push(...results);
      const issued = results.filter((result) => result.outcome === 'issued' && result.acknowledged);
      const latencies = issued.map((result) => result.totalMs).sort((left, right) => left - right);
      const stepP50 = (step: Step) => percentile(issued.map((result) => result.steps[step] ?? NaN).filter(Number.isFinite).sort((left, right) => left - right), 0.5);
      const perIssuance = (ms: number) => (issued.length === 0 ? NaN : ms / issued.length);
      // Two decimals: a change of a few percent in a server's share is what A/B runs look for, and
      // /proc's 10 ms ticks over thousands of issuances resolve it.
      const cpuCell = (after: Cpu, before: Cpu) =>
        `${format(perIssuance(after.user + after.system - before.user - before.system), 2)} (${format(perIssuance(after.user - before.user), 2)} + ${format(perIssuance(after.system - before.system), 2)})` +
        (after.jit !== undefined && before.jit !== undefined ? `, JIT ${format(perIssuance(jitDeltaMs(after.jit, before.jit)), 2)}` : '');
      rows.push([
        String(level),
        String(issued.length),
        format(issued.length / (wallMs / 1000), 1),
        format(percentile(latencies, 0.5)),
        format(percentile(latencies, 0.95)),
        format(percentile(latencies, 0.99)),
        STEPS.map((step) => format(stepP50(step), 1)).join(' / '),
        cpuCell(after.centre, before.centre),
        cpuCell(after.relay, before.relay),
        postgres ? cpuCell(after.database, before.database) : '-',
        format(perIssuance((generator.user + generator.system) / 1000), 1),
        format(centreRss()),
        format(peakRssMiB(servers.relay)),
        String(results.length - issued.length),
      ]);
      process.stderr.write(`  ${level} sessions: ${issued.length} issued in ${format(wallMs / 1000, 1)} s\n`);
    }
  } finally {
    await Promise.all(kiosks.map((kiosk) => kiosk.close()));
  }
  const exits: Record<string, number | null> = { relay: await stop(relay.child) };
  for (const [index, center] of centers.entries()) if (!(index === 0 && killedAt)) exits[`centre ${index + 1}`] = await stop(center.child);

  const header = ['sessions', 'issued', 'issuances/s', 'p50 ms', 'p95 ms', 'p99 ms', `p50 ms per step: ${STEPS.join(' / ')}`, `centre CPU ms/issuance (user + system, JIT compiler threads)${CENTERS > 1 ? `, ${CENTERS} processes` : ''}`, 'relay CPU ms/issuance (user + system, JIT compiler threads)', 'PostgreSQL CPU ms/issuance (user + system)', 'generator CPU ms/issuance', 'centre peak RSS MiB', 'relay peak RSS MiB', 'failed'];
  process.stdout.write(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  if (killedAt) process.stdout.write(`\n${killedAt}; every session of every level is checked below\n`);
  process.stdout.write(`\n${LEVELS.length} levels of ${SECONDS} s after a ${WARM_UP_SECONDS} s warm-up; business time ${environment.CVS_ISSUE_TIME}; load average ${os.loadavg().map((load) => load.toFixed(2)).join(' ')} at the end\n`);

  const problems = check(all, exits, kioskConfigs.slice(0, MAX_LEVEL).map((kiosk) => kiosk.kioskId));
  // One certificate and one receipt per issuance, nothing printed for any other outcome.
  const pages = kiosks.reduce((sum, kiosk) => sum + kiosk.pages(), 0);
  const issuedCount = all.filter((session) => session.outcome === 'issued').length;
  if (pages !== 2 * issuedCount) problems.push(`the kiosks printed ${pages} pages for ${issuedCount} issuances (expected ${2 * issuedCount})`);
  if (problems.length > 0) {
    for (const problem of problems.slice(0, 20)) process.stderr.write(`load bench: ${problem}\n`);
    fail(`${problems.length} problem(s) found`);
  }
  process.stdout.write(`checked: ${all.length} sessions, every completed one recorded once at the centre and the relay with the kiosk's figures, nothing else recorded; the audit logs of the centre, the relay and ${MAX_LEVEL} kiosks verify\n`);
  process.stdout.write(`group commit: centre ${entriesPerCheckpoint(centerStore)}, relay ${entriesPerCheckpoint(path.join(dir, 'relay.db'))} audit entries per signed checkpoint over the run\n`);
  postgres?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}

interface RecordRow {
  issuance_id: string;
  kiosk_id: string;
  store_id: string;
  municipality_code: string;
  certificate_type: string;
  copies: number;
  fee_yen: number;
}

/** How many entries each checkpoint covered on average (docs/audit-log.md "Group commit"), init's included. */
function entriesPerCheckpoint(file: string): string {
  const db = openDatabase(file, { readonly: true });
  try {
    const count = (table: string) => db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)!.n;
    return (count('audit_entries') / Math.max(1, count('audit_checkpoints'))).toFixed(2);
  } finally {
    db.close();
  }
}

/** Everything that must hold after the run; each problem is one line without personal data. */
function check(sessions: SessionResult[], exits: Record<string, number | null>, kioskIds: string[]): string[] {
  const problems: string[] = [];
  for (const [role, code] of Object.entries(exits)) if (code !== 0) problems.push(`${role} serve exited ${code} on SIGTERM`);
  const failed = sessions.filter((session) => session.outcome !== 'issued' || !session.acknowledged);
  if (failed.length > 0) problems.push(`${failed.length} of ${sessions.length} session(s) did not complete`);
  const outcomes = new Map<string, number>();
  for (const session of failed) outcomes.set(session.outcome, (outcomes.get(session.outcome) ?? 0) + 1);
  for (const [outcome, count] of outcomes) problems.push(`${count} session(s) ended ${outcome}`);

  const noticed = sessions.filter((session) => session.notice !== undefined && session.acknowledged);
  const records = (file: string) => {
    const db = openDatabase(file, { readonly: true });
    try {
      return db.all<RecordRow>('SELECT issuance_id, kiosk_id, store_id, municipality_code, certificate_type, copies, fee_yen FROM handling_records');
    } finally {
      db.close();
    }
  };
  for (const [role, file] of [['centre', centerStore], ['relay', path.join(dir, 'relay.db')]] as const) {
    const rows = new Map<string, RecordRow[]>();
    for (const row of records(file)) rows.set(row.issuance_id, [...(rows.get(row.issuance_id) ?? []), row]);
    let missing = 0;
    let different = 0;
    let doubled = 0;
    for (const { notice } of noticed) {
      const found = rows.get(notice!.issuanceId) ?? [];
      if (found.length === 0) missing += 1;
      if (found.length > 1) doubled += 1;
      const row = found[0];
      if (row && (row.kiosk_id !== notice!.kioskId || row.store_id !== notice!.storeId || row.municipality_code !== notice!.municipalityCode || row.certificate_type !== notice!.certificateType || row.copies !== notice!.copies || row.fee_yen !== notice!.feeYen)) different += 1;
    }
    const sent = new Set(noticed.map(({ notice }) => notice!.issuanceId));
    const extra = [...rows.keys()].filter((issuanceId) => !sent.has(issuanceId)).length;
    if (missing) problems.push(`${missing} acknowledged notice(s) missing from the ${role}'s records`);
    if (doubled) problems.push(`${doubled} notice(s) recorded more than once by the ${role}`);
    if (different) problems.push(`${different} ${role} record(s) differ from the kiosk's notice`);
    if (extra !== 0) problems.push(`the ${role} holds ${extra} record(s) no kiosk session sent`);
  }
  const logs = [['--role', 'center'], ['--role', 'relay'], ...kioskIds.map((kioskId) => ['--kiosk', kioskId])];
  for (const target of logs) {
    const verify = runBinary(['audit-log', 'verify', '--dir', dir, ...target]);
    if (verify.status !== 0) problems.push(`audit-log verify ${target.join(' ')} exited ${verify.status}: ${verify.stderr.trim().split('\n')[0]}`);
  }
  return problems;
}

// The kiosks run on Bun, as `kiosk run` does in the binary (LOAD_GENERATOR=node keeps them on Node,
// where undici's client costs more CPU per request on the same two cores as the servers).
if (!process.versions.bun && process.env.LOAD_GENERATOR !== 'node') {
  const bun = path.resolve(import.meta.dirname, '../node_modules/.bin/bun');
  process.exit(spawnSync(bun, [import.meta.filename], { stdio: 'inherit' }).status ?? 1);
}

let postgres: PostgresServer | undefined;
/** The centre's store: center.db, or the PostgreSQL database's URL. */
let centerStore = '';

try {
  await main();
} catch (error) {
  for (const child of children) child.kill('SIGKILL');
  postgres?.stop();
  const kept = fs.existsSync(dir) ? ` (deployment left in ${dir})` : '';
  process.stderr.write(`load bench: ${error instanceof BenchFailure ? error.message : String(error)}${kept}\n`);
  // exitCode, not exit(): what was written to a pipe must arrive whole.
  process.exitCode = 1;
}
