// Proves the parse worker hands the main thread exactly the rows and problems the single-threaded
// reader finds, in the same order, across many chunk boundaries (Bun only: Node 20 cannot start a
// TypeScript worker, and reconcile reads there without one).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIELD_COUNT, HANDLING_CSV_HEADER, RowProblems, type RowScratch } from '../../../core/handling-csv.ts';
import { readHandlingCsv } from '../../../drivers/csv/handling-reader.ts';
import { canParseInWorker, readHandlingCsvFilesInWorker } from '../../../drivers/csv/parallel-reader.ts';

const ROWS = 200_000;

const utf8 = new TextDecoder();

function describeRow(bytes: Uint8Array, row: RowScratch): string {
  const fields: string[] = [];
  for (let field = 0; field < FIELD_COUNT; field += 1) fields.push(utf8.decode(bytes.subarray(row.fieldStart[field]!, row.fieldEnd[field]!)));
  return `${fields.join(',')}|${row.monthKey}|${row.jstDay}|${row.municipalityCode}|${row.typeIndex}|${row.copies}|${row.feeYen}`;
}

describe('parse worker', { skip: !canParseInWorker() && 'needs Bun (Node 20 has no TypeScript workers)' }, () => {
  let dir: string;
  let files: string[];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-parallel-'));
    files = ['a.csv', 'b.csv'].map((name, side) => {
      const lines = [HANDLING_CSV_HEADER];
      for (let index = 0; index < ROWS; index += 1) {
        lines.push(
          index % 50_000 === 7 + side
            ? `BAD${index},2026-13-40T00:00:00Z,OP01,S1,K1,131016,juminhyo,1,200`
            : `ID${side}-${index},2026-11-${String(1 + (index % 28)).padStart(2, '0')}T0${index % 10}:00:00+09:00,OP01,S${index % 97},K${index % 13},131016,juminhyo,${index % 4},${(index % 4) * 200}`,
        );
      }
      const file = path.join(dir, name);
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      return file;
    });
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the same rows in the same order and the same problems as the single-threaded reader', async () => {
    const expectedRows: string[][] = [[], []];
    const expectedProblems = new RowProblems();
    files.forEach((file, index) => readHandlingCsv(file, { onRow: (bytes, row) => expectedRows[index]!.push(describeRow(bytes, row)), problems: expectedProblems }));

    // Each row the worker hands over is compared with the reader's row at the same place as it
    // arrives (400,000 rows kept twice would be most of the suite's memory).
    const seen = [0, 0];
    const differences: { file: number; at: number; actual: string; expected: string | undefined }[] = [];
    const actualProblems = new RowProblems();
    const counts = await readHandlingCsvFilesInWorker({
      files: files.map((file) => ({ path: file, label: file })),
      onRow: (file, bytes, row) => {
        const at = seen[file]!++;
        const actual = describeRow(bytes, row);
        if (actual !== expectedRows[file]![at] && differences.length < 5) differences.push({ file, at, actual, expected: expectedRows[file]![at] });
      },
      problems: actualProblems,
    });
    assert.deepEqual(counts, [expectedRows[0]!.length, expectedRows[1]!.length]);
    assert.ok(expectedRows[0]!.length > ROWS - 10);
    assert.deepEqual(seen, counts);
    assert.deepEqual(differences, []);
    assert.deepEqual(actualProblems.lines(), expectedProblems.lines());
    assert.equal(actualProblems.count, 8);
  });

  it('reports a missing file as a usage error naming it', async () => {
    await assert.rejects(
      readHandlingCsvFilesInWorker({ files: [{ path: path.join(dir, 'nope.csv'), label: 'nope.csv' }], onRow: () => undefined, problems: new RowProblems() }),
      (error: unknown) => (error as { code?: string }).code === 'csv.unreadable',
    );
  });
});
