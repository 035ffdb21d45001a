// CPU per certificate request by the number of copies (C§9: one PDF per copy, each with its serial
// and n/N): the certificate is laid out once, each copy adds its marks and a file of its own
// (docs/runtime-facts.md, "PDF and fonts"). Fixture residents' 住民票, a fresh request id each time
// (as at the centre, so the id is new to the shaping cache), rendered in this thread; rounds of
// BENCH_RENDERS (default 100) per copy count, interleaved, median and min of BENCH_ROUNDS (16).
// `npm run bench -- copies` runs it under Node, then under Bun.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fixtureResidents } from '../cmd/fixtures.ts';
import { certificateContent } from '../core/resident.ts';
import { renderCertificatePdf } from '../drivers/pdf/certificate-pdf.ts';

const RENDERS = Number(process.env.BENCH_RENDERS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 16);
const COPIES = [1, 2, 10];

const residents = fixtureResidents();
let sequence = 0;
async function renderOne(copies: number): Promise<void> {
  const { resident } = residents[sequence % residents.length]!;
  const requestId = `B${String((sequence += 1)).padStart(9, '0')}`;
  await renderCertificatePdf(certificateContent({ resident, type: 'juminhyo', mayorTitle: '千代田区長', municipalityCode: '131016', requestId, kioskId: 'K0001', copies, atMs: Date.UTC(2026, 10, 27, 1), issuedOnText: '令和8年11月27日' }));
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

for (const copies of COPIES) for (let index = 0; index < 20; index += 1) await renderOne(copies);
const perRound = new Map<number, number[]>(COPIES.map((copies) => [copies, []]));
for (let round = 0; round < ROUNDS; round += 1) {
  for (const copies of COPIES) {
    const started = cpuMs();
    for (let index = 0; index < RENDERS; index += 1) await renderOne(copies);
    perRound.get(copies)!.push((cpuMs() - started) / RENDERS);
  }
}
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.versions.node}`;
process.stdout.write(`certificate requests by copies, ${ROUNDS} rounds of ${RENDERS}, ${runtime}\n`);
for (const [copies, values] of perRound) {
  values.sort((left, right) => left - right);
  process.stdout.write(`  ${String(copies).padStart(2)} cop${copies === 1 ? 'y  ' : 'ies'}  CPU ms per request: median ${values[values.length >> 1]!.toFixed(2)}, min ${values[0]!.toFixed(2)}\n`);
}

// The binary runs on Bun: the same again there.
if (!process.versions.bun) {
  process.stdout.write('\n');
  const run = spawnSync(path.resolve(import.meta.dirname, '../node_modules/.bin/bun'), [import.meta.filename], { stdio: 'inherit' });
  if (run.status !== 0) process.exitCode = 1;
}
