// Proves the streaming CSV reader splits lines across chunk boundaries, accepts CRLF, a BOM and a missing final newline, and reports each malformed line and a bad header as FILE:LINE.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HANDLING_CSV_HEADER, RowProblems, textOf } from '../../../core/handling-csv.ts';
import { readHandlingCsv } from '../../../drivers/csv/handling-reader.ts';

const row = (id: string) => `${id},2026-11-02T10:00:00+09:00,OP001,S1,K1,131016,juminhyo,1,200`;

describe('readHandlingCsv', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-csv-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function read(name: string, content: string | Uint8Array, chunkBytes?: number) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    const ids: string[] = [];
    const problems = new RowProblems();
    const summary = readHandlingCsv(file, { problems, chunkBytes, onRow: (bytes, parsed) => ids.push(textOf(bytes, parsed.fieldStart[0]!, parsed.fieldEnd[0]!)) });
    return { ids, problems: problems.lines().map((line) => line.replace(`${file}:`, 'FILE:')), summary };
  }

  it('reads every row across small chunks, with CRLF, a BOM and no final newline', () => {
    const ids = Array.from({ length: 50 }, (_, index) => `I${index}`);
    const content = `\uFEFF${HANDLING_CSV_HEADER}\r\n${ids.map(row).join('\r\n')}`;
    const result = read('good.csv', content, 128);
    assert.deepEqual(result.ids, ids);
    assert.deepEqual(result.problems, []);
  });

  it('lists every malformed line with its number and keeps the good ones out of nothing', () => {
    const content = `${HANDLING_CSV_HEADER}\n${row('A')}\n${row('B').replace('131016', '131017')}\n${row('C')}\nnot,a,row\n`;
    const result = read('bad.csv', content);
    assert.deepEqual(result.problems, ['FILE:3: municipality_code "131017" has a wrong check digit', 'FILE:5: expected 9 columns, found 3']);
    assert.deepEqual(result.ids, ['A', 'C']);
  });

  it('reports bad UTF-8 on its line', () => {
    const content = Buffer.concat([Buffer.from(`${HANDLING_CSV_HEADER}\n${row('A')}\n`), Buffer.from([0x49, 0xe3, 0x81]), Buffer.from(`${row('').slice(0)}\n`)]);
    assert.deepEqual(read('encoding.csv', content).problems, ['FILE:3: bad encoding: the line is not valid UTF-8']);
  });

  it('refuses a wrong header and an empty file', () => {
    assert.deepEqual(read('header.csv', `id,when\n${row('A')}\n`).problems, ['FILE:1: the header is not the handling-record header (issuance_id,issued_at,…,fee_yen[,certificate_options])']);
    assert.deepEqual(read('empty.csv', '').problems, ['FILE:1: the file is empty: no header']);
  });
});
