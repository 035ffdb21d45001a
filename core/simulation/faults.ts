// The faults a simulation injects, and how often (docs/simulation.md, "Faults"). Every decision is
// drawn from the run's seeded Prng, so a seed names one exact sequence of faults.

import type { Prng } from './prng.ts';

export const FAULT_CLASSES = [
  'timeout',
  'drop',
  'duplicate',
  'reorder',
  'relay-crash',
  'center-crash',
  'card-removed',
  'printer-jam',
  'cash-fault',
  'clock-skew',
] as const;

export type FaultClass = (typeof FAULT_CLASSES)[number];

/**
 * Chances per opportunity: per message for the network classes, per crash tick (every
 * `CRASH_TICK_MS` of virtual time, per server) for crashes and clock steps, per session for the
 * kiosk's devices.
 */
export type FaultRates = Record<FaultClass, number>;

export const DEFAULT_FAULT_RATES: FaultRates = {
  timeout: 0.006,
  drop: 0.006,
  duplicate: 0.01,
  reorder: 0.02,
  'relay-crash': 0.03,
  'center-crash': 0.03,
  'card-removed': 0.04,
  'printer-jam': 0.06,
  'cash-fault': 0.08,
  'clock-skew': 0.02,
};

export const NO_FAULTS: FaultRates = Object.fromEntries(FAULT_CLASSES.map((name) => [name, 0])) as FaultRates;

export const CRASH_TICK_MS = 10_000;

/** Every rate times `scale`, each kept a probability; the network's four together stay below one. */
export function scaledRates(rates: FaultRates, scale: number): FaultRates {
  const scaled = Object.fromEntries(FAULT_CLASSES.map((name) => [name, Math.min(0.9, rates[name] * scale)])) as FaultRates;
  const network = scaled.drop + scaled.timeout + scaled.duplicate + scaled.reorder;
  if (network > 0.9) for (const name of ['drop', 'timeout', 'duplicate', 'reorder'] as const) scaled[name] *= 0.9 / network;
  return scaled;
}

/**
 * Bugs planted on purpose, only to prove the invariant checks can fail (test/cmd/simulate.test.ts):
 * - swap-certificate: the relay hands a kiosk the certificate PDF another session got, hash and all;
 * - early-ack: a completion notice is acknowledged to the kiosk and never reaches the centre;
 * - double-notice: a repeated notice bypasses the centre's dedup and is settled a second time;
 * - keep-refund: the cash unit reports a refund it never paid out;
 * - tamper-audit: one kiosk audit entry is edited in its database.
 */
export const PLANTED_BUGS = ['swap-certificate', 'early-ack', 'double-notice', 'keep-refund', 'tamper-audit'] as const;
export type PlantedBug = (typeof PLANTED_BUGS)[number];

/** What becomes of one message on the simulated network. */
export type MessageFate = 'deliver' | 'drop' | 'timeout' | 'duplicate' | 'reorder';

/** One draw per message, so a fault-free run and a faulty one consume the Prng alike. */
export function messageFate(random: Prng, rates: FaultRates, isRequest: boolean): MessageFate {
  let roll = random.float();
  for (const fate of ['drop', 'timeout', 'duplicate', 'reorder'] as const) {
    // A response cannot be duplicated in a way the caller sees: only requests are.
    const rate = fate === 'duplicate' && !isRequest ? 0 : rates[fate];
    if (roll < rate) return fate;
    roll -= rate;
  }
  return 'deliver';
}

export class FaultTally {
  readonly fired: Record<FaultClass, number> = Object.fromEntries(FAULT_CLASSES.map((name) => [name, 0])) as Record<FaultClass, number>;

  fire(fault: FaultClass): void {
    this.fired[fault] += 1;
  }
}
