// Relay forwarding: the CPU a real `relay serve` process of the compiled binary spends per issuance
// (challenge, authenticate, certificate request, completion notice, each forwarded over mutual TLS),
// with the centre replaced by a stub that answers at once with bodies of the real sizes, so that the
// relay's own share can be compared between builds without the centre's CPU, and the noise of its
// rendering, on the same two cores. What the relay does is the real thing: kiosks admitted by their
// certificates, the revocation check, the operator's records, its audit log with group commit, the
// kiosk's answer after the commit.
//
// `node --import tsx bench/relay-forward.bench.ts` (on Bun, as the load bench's kiosks are).
// RELAY_BINARIES=a,b (default dist/cvs-issue) runs the builds side by side, each its own relay with
// its own kiosks over the same seconds, RELAY_ROUNDS times (default 3), so that a slower or busier
// machine affects each alike; RELAY_SESSIONS kiosks per build (default 16) play RELAY_ISSUANCES
// issuances each round (default 2000) after 200 to warm up. It
// prints the relay's CPU ms per issuance (user + system, /proc/PID/stat) per round and the median per
// build. RELAY_CENTRE_DELAY_MS is how long the stub takes to answer.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../cmd/config.ts';
import { nextBusinessMorning } from '../cmd/demo.ts';
import { formatJstIso } from '../core/jst.ts';
import { KIOSK_PATHS } from '../core/messages.ts';
import { createMutualTlsClient, type HttpClient } from '../drivers/http/client.ts';
import { startMutualTlsServer } from '../drivers/http/server.ts';

const BINARIES = (process.env.RELAY_BINARIES ?? path.join(import.meta.dirname, '../dist/cvs-issue')).split(',').map((file) => path.resolve(file));
const ROUNDS = Number(process.env.RELAY_ROUNDS ?? 3);
const SESSIONS = Number(process.env.RELAY_SESSIONS ?? 16);
const ISSUANCES = Number(process.env.RELAY_ISSUANCES ?? 2000);
const WARM_UP = 200;
/**
 * How long the stub centre takes to answer, default 15 ms: about what each step takes at the
 * centre in the load bench at 16 sessions, so the relay sees requests at about the same rate and
 * its group commits gather about as many entries as there.
 */
const CENTRE_DELAY_MS = Number(process.env.RELAY_CENTRE_DELAY_MS ?? 15);
/** The centre's answers, sized as they are: a 住民票's certificate answer is ~32 KB of JSON (docs/runtime-facts.md). */
const ANSWERS: Record<string, string> = {
  [KIOSK_PATHS.challenge]: JSON.stringify({ challengeId: 'c'.repeat(32), nonce: 'n'.repeat(44), expiresAt: '2026-12-02T01:05:00.000Z' }),
  [KIOSK_PATHS.authenticate]: JSON.stringify({ sessionId: 's'.repeat(32), municipalityCode: '131016', expiresAt: '2026-12-02T01:10:00.000Z', menu: [{ certificateType: 'juminhyo', feeYen: 300 }] }),
  [KIOSK_PATHS.certificates]: JSON.stringify({ requestId: 'r'.repeat(32), documents: [{ serial: `${'r'.repeat(32)}-1`, pdf: 'p'.repeat(32_000) }] }),
  [KIOSK_PATHS.completions]: JSON.stringify({ issuanceId: 'i'.repeat(32), duplicate: false }),
};

const clockTicksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-bench-relay-'));
const dir = path.join(work, 'site');
const businessMs = nextBusinessMorning(Date.now());
const environment = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), TZ: 'UTC', NO_COLOR: '1', CVS_ISSUE_TIME: formatJstIso(businessMs) };

function startRelay(binary: string, site: string, centerUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(binary, ['relay', 'serve', '--dir', site, '--listen', '127.0.0.1:0', '--center-url', centerUrl, '--json'], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, url: (JSON.parse(line) as { url: string }).url }));
    child.once('exit', (code) => reject(new Error(`relay serve exited ${code}: ${stderr.trim()}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  for (const binary of BINARIES) if (!fs.existsSync(binary)) throw new Error(`${binary} is missing (npm run build)`);
  const init = spawnSync(BINARIES[0]!, ['init', '--dir', dir, '--kiosks', String(SESSIONS), '--residents', '1', '--center-listen', '127.0.0.1:0', '--relay-listen', '127.0.0.1:0'], { env: environment, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`init exited ${init.status}: ${init.stderr}`);
  const loaded = loadConfig(dir);
  const center = loaded.config.center;
  const stub = await startMutualTlsServer({
    host: '127.0.0.1',
    port: 0,
    keyPem: loaded.read(center.tls.keyFile),
    certificatePem: loaded.read(center.tls.certificateFile),
    clientCaPem: loaded.read(center.tls.caFile),
    // The relays side by side are copies of one deployment: one relay certificate, up to 8 connections each.
    maxConnectionsPerCertificate: 8 * BINARIES.length,
    handler: async (request) => {
      if (CENTRE_DELAY_MS > 0) await new Promise((resolve) => setTimeout(resolve, CENTRE_DELAY_MS));
      return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: ANSWERS[request.path] ?? '{}' };
    },
  });
  const operatorId = loaded.config.kiosks[0]!.operatorId;
  const kiosks = loaded.config.kiosks.filter((kiosk) => kiosk.operatorId === operatorId).slice(0, SESSIONS);
  const results = new Map<string, number[]>(BINARIES.map((binary) => [binary, []]));
  process.stdout.write(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}; ${SESSIONS} kiosks, ${ISSUANCES} issuances a round after ${WARM_UP}\n`);
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      // Every build at once, each with its own kiosks, over the same seconds: this VM's speed drifts
      // by more than the differences looked for, and so affects them alike.
      const runs = await Promise.all(
        BINARIES.map(async (binary, place) => {
          // Each run from the deployment as init left it: a relay database grown by the runs
          // before would make each later run cost more (its audit log and records).
          const site = path.join(work, `run-${round}-${place}`);
          fs.cpSync(dir, site, { recursive: true });
          const relay = await startRelay(binary, site, stub.url);
          const clients: HttpClient[] = kiosks.map((kiosk, index) =>
            createMutualTlsClient({
              baseUrl: relay.url,
              caPem: loaded.read(kiosk.tls.caFile),
              certificatePem: loaded.read(kiosk.tls.certificateFile),
              keyPem: loaded.read(kiosk.tls.keyFile),
              timeoutMs: 30_000,
              localAddress: `127.0.${place + 1}.${index + 2}`,
            }),
          );
          return { binary, site, relay, clients };
        }),
      );
      const play = (run: (typeof runs)[number], count: number) => {
        let left = count;
        return Promise.all(
          run.clients.map(async (client, index) => {
            const kiosk = kiosks[index]!;
            const post = async (requestPath: string, body: object) => {
              const answer = await client.request('POST', requestPath, JSON.stringify(body), { 'content-type': 'application/json', accept: 'application/json' });
              if (answer.status !== 200) throw new Error(`${requestPath}: ${answer.status} ${new TextDecoder().decode(answer.body)}`);
            };
            while (left > 0) {
              left -= 1;
              const issuanceId = randomBytes(16).toString('hex');
              await post(KIOSK_PATHS.challenge, { kioskId: kiosk.kioskId });
              await post(KIOSK_PATHS.authenticate, { kioskId: kiosk.kioskId, challengeId: 'c'.repeat(32), signature: 's'.repeat(344), certificate: 'c'.repeat(1_600), cardId: 'card-r1001' });
              await post(KIOSK_PATHS.certificates, { kioskId: kiosk.kioskId, sessionId: 's'.repeat(32), requestId: issuanceId, certificateType: 'juminhyo', copies: 1, options: {} });
              await post(KIOSK_PATHS.completions, { issuanceId, issuedAt: new Date(businessMs).toISOString(), storeId: kiosk.storeId, kioskId: kiosk.kioskId, municipalityCode: '131016', certificateType: 'juminhyo', copies: 1, feeYen: 300, outcome: 'issued' });
            }
          }),
        );
      };
      try {
        await Promise.all(runs.map((run) => play(run, WARM_UP)));
        await Promise.all(
          runs.map(async (run) => {
            const before = cpuMs(run.relay.child.pid!);
            const startedMs = performance.now();
            await play(run, ISSUANCES);
            const perIssuance = (cpuMs(run.relay.child.pid!) - before) / ISSUANCES;
            results.get(run.binary)!.push(perIssuance);
            process.stdout.write(`round ${round} ${path.basename(run.binary)}: relay ${perIssuance.toFixed(3)} ms CPU per issuance, ${(ISSUANCES / ((performance.now() - startedMs) / 1000)).toFixed(0)} issuances/s, load ${os.loadavg()[0]!.toFixed(2)}\n`);
          }),
        );
      } finally {
        for (const run of runs) {
          await Promise.all(run.clients.map((client) => client.close()));
          await stop(run.relay.child);
          fs.rmSync(run.site, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await stub.close();
  }
  for (const [binary, values] of results) {
    const sorted = [...values].sort((left, right) => left - right);
    process.stdout.write(`${path.basename(binary)}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} ms, min ${sorted[0]!.toFixed(3)}, max ${sorted.at(-1)!.toFixed(3)} (${values.length} rounds)\n`);
  }
  fs.rmSync(work, { recursive: true, force: true });
}

if (!process.versions.bun) {
  const bun = path.resolve(import.meta.dirname, '../node_modules/.bin/bun');
  process.exit(spawnSync(bun, [import.meta.filename], { stdio: 'inherit' }).status ?? 1);
}
try {
  await main();
} catch (error) {
  process.stderr.write(`relay bench: ${String(error)} (deployment left in ${dir})\n`);
  process.exitCode = 1;
}
