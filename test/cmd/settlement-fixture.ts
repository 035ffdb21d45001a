// Helpers for settlement on a real deployment (settlement.test.ts, invoice-pay.test.ts): a resident
// who pays at the kiosk, commands run at a given JST time, and their JSON with the exit code checked.

import assert from 'node:assert/strict';
import type { KioskInput } from '../../core/kiosk-transaction.ts';
import type { Denomination } from '../../core/ports.ts';
import { run } from './cli-fixture.ts';

export const NOVEMBER_30 = '2026-11-30T10:00:00+09:00';
export const DECEMBER_2 = '2026-12-02T10:00:00+09:00';

/** A resident asking for one 住民票の写し; onPay runs as the first coin goes in (to cut the relay then). */
export function resident(pin: string, cash: Denomination, onPay?: () => Promise<void>): KioskInput {
  let paid = false;
  return {
    enterPin: async () => pin,
    chooseCertificate: async () => ({ certificateType: 'juminhyo', copies: 1 }),
    nextCash: async () => {
      if (!paid) {
        paid = true;
        await onPay?.();
      }
      return cash;
    },
  };
}

/** Runs the program in-process with its clock at `iso` (CVS_ISSUE_TIME). */
export async function runAt(iso: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  process.env.CVS_ISSUE_TIME = iso;
  return run(...argv);
}

export function json(result: { code: number; stdout: string; stderr: string }, code: number) {
  assert.equal(result.code, code, result.stderr);
  return JSON.parse(result.stdout);
}

/** Saves CVS_ISSUE_TIME now; the returned function puts it back (for after()). */
export function keepIssueTime(): () => void {
  const saved = process.env.CVS_ISSUE_TIME;
  return () => {
    if (saved === undefined) delete process.env.CVS_ISSUE_TIME;
    else process.env.CVS_ISSUE_TIME = saved;
  };
}
