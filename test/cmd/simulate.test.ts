// Proves the deterministic simulation (cmd/simulate.ts) drives the service through every fault
// class with every invariant holding, that each invariant check can fail (bugs planted on purpose
// are caught), and that a seed replays exactly: the same seed gives the same trace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSimulation, SIMULATION_EPOCH_MS, SIMULATION_INIT, type SimulationSummary, useTemplateDeployment } from '../../cmd/simulate.ts';
import { deploymentTemplate } from './deployment-fixture.ts';
import { run } from './cli-fixture.ts';
import { FAULT_CLASSES, type PlantedBug } from '../../core/simulation/faults.ts';
import { INVARIANTS, type Invariant } from '../../core/simulation/invariants.ts';

// init's keys cost seconds of CPU: both runtimes copy one kept deployment instead (issue 9).
useTemplateDeployment(deploymentTemplate({ ...SIMULATION_INIT, initAtMs: SIMULATION_EPOCH_MS }));

/** Sized to run in a few seconds on one core: 4 seeds × 24 sessions at 4 kiosks (every fault class fires by 20). */
const SWEEP_SEEDS = [1, 2, 3, 4];
const SWEEP_TRANSACTIONS = 24;

describe('cvs-issue simulate', () => {
  it('a sweep of seeds fires every fault class and every invariant holds', async () => {
    const summaries: SimulationSummary[] = [];
    for (const seed of SWEEP_SEEDS) summaries.push(await runSimulation({ seed, transactions: SWEEP_TRANSACTIONS, auditEvery: 15 }));
    for (const summary of summaries) {
      assert.equal(summary.failure, null, `seed ${summary.seed}: ${JSON.stringify(summary.failure)}`);
      assert.equal(summary.transactions, SWEEP_TRANSACTIONS);
    }
    const fired = Object.fromEntries(FAULT_CLASSES.map((name) => [name, summaries.reduce((sum, summary) => sum + summary.faults[name], 0)]));
    assert.deepEqual(FAULT_CLASSES.filter((name) => fired[name] === 0), [], `fault classes that never fired: ${JSON.stringify(fired)}`);
    const checked = Object.fromEntries(INVARIANTS.map((name) => [name, summaries.reduce((sum, summary) => sum + summary.invariantChecks[name], 0)]));
    assert.deepEqual(INVARIANTS.filter((name) => checked[name] === 0), [], JSON.stringify(checked));
    const issued = summaries.reduce((sum, summary) => sum + summary.outcomes.issued, 0);
    const refunded = summaries.reduce((sum, summary) => sum + summary.outcomes.refunded, 0);
    assert.ok(issued > 0 && refunded > 0, `issued ${issued}, refunded ${refunded}`);
  });

  it('replays exactly: the same seed gives the same trace and summary, another seed another trace', async () => {
    const first = await runSimulation({ seed: 7, transactions: 8 });
    const again = await runSimulation({ seed: 7, transactions: 8 });
    const other = await runSimulation({ seed: 8, transactions: 8 });
    assert.equal(first.failure, null);
    assert.deepEqual(again, first);
    assert.notEqual(other.traceHash, first.traceHash);
  });

  const planted: [PlantedBug, Invariant][] = [
    ['swap-certificate', 'printed-for-asker'],
    ['early-ack', 'notice-exactly-once'],
    ['double-notice', 'notice-exactly-once'],
    ['keep-refund', 'cash-balances'],
    ['tamper-audit', 'audit-verifies'],
  ];
  for (const [plant, invariant] of planted) {
    it(`catches a planted bug: ${plant} breaks ${invariant}, named with its seed and step`, async () => {
      // Harsher weather (three times every fault rate) brings each bug's trigger within a seed or two.
      const hunt = { transactions: 12, faultScale: 3, plant };
      let caught: SimulationSummary | undefined;
      for (let seed = 1; seed <= 6 && !caught; seed += 1) {
        const summary = await runSimulation({ seed, ...hunt });
        if (summary.failure) caught = summary;
      }
      assert.ok(caught, `${plant} was never caught`);
      assert.equal(caught.failure!.invariant, invariant, caught.failure!.detail);
      assert.ok(caught.failure!.step > 0);
      // The failure replays: the same seed fails at the same step.
      const replay = await runSimulation({ seed: caught.seed, ...hunt });
      assert.deepEqual(replay.failure, caught.failure);
    });
  }

  it('on the command line: exit 0 and a JSON summary when the invariants hold, exit 3 with the seed, step and replay command when one fails, exit 2 on a bad flag', async () => {
    const held = await run('simulate', '--seed', '7', '--transactions', '5', '--json');
    assert.equal(held.code, 0, held.stderr);
    assert.equal(JSON.parse(held.stdout).failure, null);
    let failed: Awaited<ReturnType<typeof run>> | undefined;
    let seed = 1;
    for (; seed <= 6; seed += 1) {
      const attempt = await run('simulate', '--seed', String(seed), '--transactions', '12', '--plant', 'early-ack', '--json');
      if (attempt.code !== 0) {
        failed = attempt;
        break;
      }
    }
    assert.ok(failed, 'the planted bug was never caught');
    assert.equal(failed.code, 3);
    const summary = JSON.parse(failed.stdout) as SimulationSummary;
    assert.equal(summary.failure?.invariant, 'notice-exactly-once');
    assert.match(failed.stderr, new RegExp(`^cvs-issue: seed ${seed}, step ${summary.failure!.step}: notice-exactly-once: .*; replay with: cvs-issue simulate --seed ${seed} --transactions 12 --plant early-ack\n$`));
    const bad = await run('simulate', '--transactions', '0');
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'cvs-issue: --transactions must be a whole number from 1 to 10000000\n');
  });
});
