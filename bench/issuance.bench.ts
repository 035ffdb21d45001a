// Server CPU per full kiosk issuance, in process: challenge, card signature, authenticate,
// certificate data, completion notice, each sent kiosk → relay handler → centre handler (the relay's
// upstream is the centre's handler, as in test/cmd/handlers.test.ts; no sockets, no TLS).
// - sequential sessions: CPU ms per issuance (process.cpuUsage, user + system, every thread) split
//   by step and by role; the card's signature is made between steps and timed on its own, so it
//   is not in the servers' figures;
// - concurrent sessions, one per kiosk of the operator: issuances/s and CPU per issuance when
//   requests overlap (what a worker pool can spread over both cores).
// Run with `npm run bench -- issuance`: under Node (PDFs rendered in the calling thread), then
// under Bun, the binary's runtime (PDFs rendered in worker threads). BENCH_ISSUANCES changes the
// number of sessions; BENCH_PROFILE=1 runs only the sequential part, once (for --cpu-prof runs);
// BENCH_KEEP=1 keeps the deployment directory; BENCH_GROUP_COMMIT=0 turns the servers' group commit off.

import { spawnSync } from 'node:child_process';
import { sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openCenterHandler } from '../cmd/center.ts';
import { answerWhenCommitted } from '../cmd/committed-handler.ts';
import { loadConfig } from '../cmd/config.ts';
import { offsetClock } from '../cmd/deps.ts';
import { nextBusinessMorning } from '../cmd/demo.ts';
import { runInit } from '../cmd/init.ts';
import { createRelayHandler } from '../cmd/relay.ts';
import { readCardFile } from '../drivers/card/card-file.ts';
import { signedChallengeBytes } from '../core/messages.ts';
import { KIOSK_PATHS, RELAY_HEADERS } from '../core/messages.ts';
import { createRelayService } from '../core/relay-service.ts';
import type { IncomingRequest, OutgoingResponse, PeerCertificate } from '../drivers/http/server.ts';
import { AuditLog, auditHasher, auditOrigin, noteVerifierFromKey } from '../drivers/store/audit-log.ts';
import { createRelayStore, openRelayDatabase } from '../drivers/store/relay-store.ts';

const ISSUANCES = Number(process.env.BENCH_ISSUANCES ?? 300);
const WARM_UP = 20;
const STEPS = ['challenge', 'authenticate', 'certificate', 'completion'] as const;
type Step = (typeof STEPS)[number];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-bench-issuance-'));
runInit({ dir, centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' }, Date.now());
const loaded = loadConfig(dir);
const clock = offsetClock(nextBusinessMorning(Date.now()));
/** As `center serve` and `relay serve` run (docs/audit-log.md "Group commit"); BENCH_GROUP_COMMIT=0 commits each transaction alone. */
const groupCommit = process.env.BENCH_GROUP_COMMIT !== '0';
const center = openCenterHandler(loaded, { clock, groupCommit });
const relayConfig = loaded.config.relays[0]!;
const relayDb = openRelayDatabase(loaded.resolve(relayConfig.databaseFile));
const relayAudit = new AuditLog(relayDb, { origin: auditOrigin('relay', relayConfig.operatorId), privateKeyPem: loaded.read(relayConfig.auditKeyFile), clock, groupCommit });

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** CPU the centre's handler spent, summed, so the relay's share is the rest. */
let centerCpuMs = 0;
let measuringCenter = false;
const relayPeer: PeerCertificate = { subject: { CN: `relay.${relayConfig.operatorId}`, O: relayConfig.operatorId, OU: 'relay' }, issuer: {}, serialNumber: '01', fingerprint256: '', raw: new Uint8Array() };
const relayRoutes = createRelayHandler(
  createRelayService({
    operatorId: relayConfig.operatorId,
    clock,
    store: createRelayStore(relayDb, relayAudit),
    audit: relayAudit,
    witness: { hasher: auditHasher, noteVerifierFor: noteVerifierFromKey },
    upstream: {
      // What the relay's TLS client does around the call: the body out as JSON, the answer's bytes back.
      post: async (upstreamPath, body, kiosk) => {
        const request: IncomingRequest = {
          method: 'POST',
          path: upstreamPath,
          headers: { [RELAY_HEADERS.store]: kiosk.storeId, [RELAY_HEADERS.kiosk]: kiosk.kioskId },
          body: new TextEncoder().encode(JSON.stringify(body)),
          peer: relayPeer,
        };
        const started = measuringCenter ? cpuMs() : 0;
        const answer = await center.handler(request);
        if (measuringCenter) centerCpuMs += cpuMs() - started;
        return { status: answer.status, body: typeof answer.body === 'string' ? new TextEncoder().encode(answer.body) : answer.body };
      },
    },
  }),
);
const relay = groupCommit ? answerWhenCommitted(relayRoutes, relayAudit) : relayRoutes;

function parseBody(answer: OutgoingResponse): any {
  return JSON.parse(typeof answer.body === 'string' ? answer.body : new TextDecoder().decode(answer.body));
}

const kiosks = loaded.config.kiosks.filter((kiosk) => kiosk.operatorId === relayConfig.operatorId);
const cards = fs
  .readdirSync(loaded.resolve(loaded.config.cardsDirectory))
  .map((name) => readCardFile(path.join(loaded.resolve(loaded.config.cardsDirectory), name)));

let sequence = 0;
/** One kiosk request through the relay; `timed` gets the servers' CPU, not the kiosk's own JSON work. */
async function call(kiosk: (typeof kiosks)[number], requestPath: string, body: unknown, timed: (ms: number) => void): Promise<any> {
  const request: IncomingRequest = {
    method: 'POST',
    path: requestPath,
    headers: {},
    body: new TextEncoder().encode(JSON.stringify(body)),
    peer: { subject: { CN: kiosk.kioskId, OU: kiosk.storeId, O: kiosk.operatorId }, issuer: {}, serialNumber: '02', fingerprint256: '', raw: new Uint8Array() },
  };
  const started = cpuMs();
  const answer = await relay(request);
  timed(cpuMs() - started);
  const json = parseBody(answer);
  if (answer.status !== 200) throw new Error(`${requestPath}: ${answer.status} ${JSON.stringify(json)}`);
  return json;
}

/** The cards the centre accepts and that get a certificate at once; found by trying each. */
const usable: { card: (typeof cards)[number]; certificateType: string }[] = [];

/** One full issuance; `timed` gets each server step's CPU and the card's signature CPU. */
async function session(kiosk: (typeof kiosks)[number], card: (typeof cards)[number], certificateType: string | undefined, timed?: (step: Step | 'signature', ms: number) => void): Promise<string> {
  const measure = <T>(step: Step, work: (timedStep: (ms: number) => void) => Promise<T>): Promise<T> => work((ms) => timed?.(step, ms));
  const challenge = await measure('challenge', (t) => call(kiosk, KIOSK_PATHS.challenge, { kioskId: kiosk.kioskId }, t));
  const signStarted = cpuMs();
  const signature = sign('sha256', signedChallengeBytes(Buffer.from(challenge.challengeBase64, 'base64'), kiosk.kioskId), card.authPrivateKeyPem);
  timed?.('signature', cpuMs() - signStarted);
  const authenticated = await measure('authenticate', (t) =>
    call(kiosk, KIOSK_PATHS.authenticate, { kioskId: kiosk.kioskId, challengeId: challenge.challengeId, certificateDerBase64: card.authCertificateDerBase64, signatureBase64: signature.toString('base64') }, t),
  );
  const type = certificateType ?? authenticated.menu.find((item: { available: boolean }) => item.available).certificateType;
  const requestId = `B${(sequence += 1).toString().padStart(9, '0')}`;
  const data = await measure('certificate', (t) =>
    call(kiosk, KIOSK_PATHS.certificates, { kioskId: kiosk.kioskId, sessionToken: authenticated.sessionToken, requestId, certificateType: type, copies: 1 }, t),
  );
  await measure('completion', (t) =>
    call(kiosk, KIOSK_PATHS.completions, {
      kioskId: kiosk.kioskId,
      issuanceId: requestId,
      issuedAt: new Date(clock.nowMs()).toISOString(),
      storeId: kiosk.storeId,
      municipalityCode: data.municipalityCode,
      certificateType: type,
      copies: 1,
      feeYen: data.feeYen,
      outcome: 'issued',
    }, t),
  );
  return type;
}

for (const card of cards) {
  try {
    usable.push({ card, certificateType: await session(kiosks[0]!, card, undefined) });
  } catch {
    // expired, revoked, moved out or no kiosk service: not part of the measured mix
  }
}
if (usable.length === 0) throw new Error('no fixture card gets a certificate');

for (let index = 0; index < WARM_UP; index += 1) {
  const { card, certificateType } = usable[index % usable.length]!;
  await session(kiosks[0]!, card, certificateType);
}

const stepMs: Record<Step | 'signature', number> = { challenge: 0, authenticate: 0, certificate: 0, completion: 0, signature: 0 };
const centerStepMs: Record<Step, number> = { challenge: 0, authenticate: 0, certificate: 0, completion: 0 };
// One pass: each step's CPU through the relay, and the part of it spent in the centre's handler.
measuringCenter = true;
const wallStarted = performance.now();
for (let index = 0; index < ISSUANCES; index += 1) {
  const { card, certificateType } = usable[index % usable.length]!;
  let stepStart = centerCpuMs;
  await session(kiosks[index % kiosks.length]!, card, certificateType, (step, ms) => {
    stepMs[step] += ms;
    if (step === 'signature') return;
    centerStepMs[step] += centerCpuMs - stepStart;
    stepStart = centerCpuMs;
  });
}
const sequentialWallMs = performance.now() - wallStarted;
measuringCenter = false;

const perIssuance = (ms: number) => (ms / ISSUANCES).toFixed(2).padStart(7);
const serverTotal = STEPS.reduce((sum, step) => sum + stepMs[step], 0);
const centerTotal = STEPS.reduce((sum, step) => sum + centerStepMs[step], 0);
process.stdout.write(`${ISSUANCES} sequential issuances over ${kiosks.length} kiosks, ${usable.length} cards (${[...new Set(usable.map((entry) => entry.certificateType))].join(', ')}), ${process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.versions.node}`}\n`);
// Other processes on the box inflate CPU figures too (caches, shared cores): say how busy it was.
process.stdout.write(`load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores\n`);
process.stdout.write('CPU ms per issuance      relay+centre   centre   relay\n');
for (const step of STEPS) {
  process.stdout.write(`  ${step.padEnd(22)}${perIssuance(stepMs[step])}   ${perIssuance(centerStepMs[step])} ${perIssuance(stepMs[step] - centerStepMs[step])}\n`);
}
process.stdout.write(`  ${'total'.padEnd(22)}${perIssuance(serverTotal)}   ${perIssuance(centerTotal)} ${perIssuance(serverTotal - centerTotal)}\n`);
process.stdout.write(`  card signature (kiosk, not counted above) ${perIssuance(stepMs.signature)}\n`);
process.stdout.write(`sequential: ${(ISSUANCES / (sequentialWallMs / 1000)).toFixed(0)} issuances/s, ${(sequentialWallMs / ISSUANCES).toFixed(2)} ms wall each\n`);

if (process.env.BENCH_PROFILE !== '1') {
  // Concurrent: one session in flight per kiosk (a kiosk reader holds one live session at a time).
  const cpuStarted = cpuMs();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    kiosks.map(async (kiosk) => {
      while (next < ISSUANCES) {
        const { card, certificateType } = usable[next++ % usable.length]!;
        await session(kiosk, card, certificateType);
      }
    }),
  );
  const wallMs = performance.now() - started;
  // The card signatures at the sequential average: timing them here would count other threads' work.
  const cpuSpentMs = cpuMs() - cpuStarted - stepMs.signature;
  process.stdout.write(`concurrent (${kiosks.length} sessions in flight): ${(ISSUANCES / (wallMs / 1000)).toFixed(0)} issuances/s, ${(cpuSpentMs / ISSUANCES).toFixed(2)} CPU ms per issuance (card signatures excluded)\n`);
}

await closeAll();

// The binary runs on Bun, where the centre renders PDFs in worker threads: the same bench again there.
if (!process.versions.bun && process.env.BENCH_PROFILE !== '1') {
  const bun = path.resolve(import.meta.dirname, '../node_modules/.bin/bun');
  process.stdout.write('\n');
  const run = spawnSync(bun, [import.meta.filename], { stdio: 'inherit' });
  if (run.status !== 0) process.exitCode = 1;
}

async function closeAll(): Promise<void> {
  await (center as { close(): void | Promise<void> }).close();
  relayDb.close();
  if (process.env.BENCH_KEEP) process.stdout.write(`kept ${dir}\n`); else fs.rmSync(dir, { recursive: true, force: true });
}
