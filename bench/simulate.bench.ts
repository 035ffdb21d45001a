// The deterministic simulation (cmd/simulate.ts, docs/simulation.md) at length: 100,000 resident
// sessions at the deployment's four kiosks, every fault class on, the invariants checked after
// every step, every audit log verified and every centre record matched every 10,000 sessions and
// at the end. Prints wall and CPU time, sessions and steps per second, and the summary.
// BENCH_SIMULATE_TRANSACTIONS and BENCH_SIMULATE_SEED change the size and the seed.
// Run with `npm run bench -- simulate`.

import { runSimulation } from '../cmd/simulate.ts';

const transactions = Number(process.env.BENCH_SIMULATE_TRANSACTIONS ?? 100_000);
const seed = Number(process.env.BENCH_SIMULATE_SEED ?? 20_261_201);
const auditEvery = Math.min(10_000, transactions);

// The deployment (init: keys and certificates) is made once per process; time the run only.
await runSimulation({ seed: 0, transactions: 1, faults: false });

const cpuBefore = process.cpuUsage();
const startedMs = performance.now();
const summary = await runSimulation({ seed, transactions, auditEvery });
const wallMs = performance.now() - startedMs;
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;

const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000).toLocaleString('en-US');
process.stdout.write(
  [
    `simulate, seed ${seed}: ${summary.transactions.toLocaleString('en-US')} sessions, ${summary.steps.toLocaleString('en-US')} steps, ${(summary.virtualSeconds / 3600).toFixed(1)} virtual hours`,
    `  wall ${(wallMs / 1000).toFixed(1)} s, CPU ${(cpuMs / 1000).toFixed(1)} s (${(cpuMs / summary.transactions).toFixed(1)} ms CPU per session)`,
    `  ${perSecond(summary.transactions, wallMs)} sessions/s, ${perSecond(summary.steps, wallMs)} steps/s (wall)`,
    `  outcomes ${JSON.stringify(summary.outcomes)}`,
    `  faults ${JSON.stringify(summary.faults)}`,
    `  invariant checks ${JSON.stringify(summary.invariantChecks)}, full checks ${summary.fullChecks}`,
    `  trace ${summary.traceHash}; ${summary.failure ? `FAILED: ${JSON.stringify(summary.failure)}` : 'every invariant held'}`,
    '',
  ].join('\n'),
);
process.exitCode = summary.failure ? 1 : 0;
