// Test helpers for the command line: run the program in-process with buffered output, and make
// handling records with sensible defaults.

import { Readable } from 'node:stream';
import { main } from '../../cmd/cvs-issue.ts';
import { bufferIo } from '../../cmd/io.ts';
import type { HandlingRecord } from '../../core/messages.ts';

export async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runWithInput([], ...argv);
}

/** Runs the program with these lines on standard input. */
export async function runWithInput(lines: string[], ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = bufferIo(Readable.from(lines.map((line) => `${line}\n`)));
  const code = await main(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

export function handlingRecord(issuanceId: string, overrides: Partial<HandlingRecord> = {}): HandlingRecord {
  return {
    issuanceId,
    issuedAt: '2026-11-02T01:00:00.000Z',
    operatorId: 'OP001',
    storeId: 'S0001',
    kioskId: 'K0001',
    municipalityCode: '131016',
    certificateType: 'juminhyo',
    copies: 1,
    feeYen: 200,
    ...overrides,
  };
}
