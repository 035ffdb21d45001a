// Malformed handling-record files, shared by the parity tests (test/cmd/parity.test.ts and
// test/e2e/parity.test.ts): each case is a pair of files (centre, operator) and what every runtime
// must answer: the same exit code and the same FILE:LINE lines on stderr.

import fs from 'node:fs';
import path from 'node:path';
import { HANDLING_CSV_HEADER } from '../../core/handling-csv.ts';

const ROW = 'a1,2026-11-02T10:15:00+09:00,OP001,S0001,K0001,131016,juminhyo,1,200';
const HEADER = `${HANDLING_CSV_HEADER}\n`;

export interface MalformedCase {
  name: string;
  center: string | Uint8Array;
  operator: string | Uint8Array;
  exitCode: number;
  /** Every line on stderr, exactly; files are named center.csv and operator.csv. */
  stderr: string[];
}

const summary = (count: number) => `cvs-issue: ${count} malformed row${count === 1 ? '' : 's'}: nothing was written`;

export const MALFORMED_CASES: readonly MalformedCase[] = [
  {
    name: 'two empty files',
    center: '',
    operator: '',
    exitCode: 2,
    stderr: ['center.csv:1: the file is empty: no header', 'operator.csv:1: the file is empty: no header', summary(2)],
  },
  { name: 'header only, both sides', center: HEADER, operator: HEADER, exitCode: 0, stderr: [] },
  { name: 'header without a final newline', center: HANDLING_CSV_HEADER, operator: HEADER, exitCode: 0, stderr: [] },
  { name: 'a UTF-8 BOM before the header', center: `\uFEFF${HEADER}${ROW}\n`, operator: `${HEADER}${ROW}\n`, exitCode: 0, stderr: [] },
  { name: 'CRLF line endings', center: `${HANDLING_CSV_HEADER}\r\n${ROW}\r\n`, operator: `${HEADER}${ROW}\n`, exitCode: 0, stderr: [] },
  {
    name: 'impossible dates',
    center: `${HEADER}${ROW.replace('2026-11-02', '2026-02-30')}\n${ROW.replace('a1', 'a2').replace('2026-11-02', '2026-11-77')}\n`,
    operator: `${HEADER}${ROW}\n`,
    exitCode: 2,
    stderr: [
      'center.csv:2: issued_at "2026-02-30T10:15:00+09:00" is not an ISO 8601 time with an offset (2026-11-02T10:15:00+09:00)',
      'center.csv:3: issued_at "2026-11-77T10:15:00+09:00" is not an ISO 8601 time with an offset (2026-11-02T10:15:00+09:00)',
      summary(2),
    ],
  },
  {
    name: 'quoted fields',
    center: `${HEADER}"a1",2026-11-02T10:15:00+09:00,OP001,S0001,K0001,131016,juminhyo,1,200\n`,
    operator: `${HEADER}${ROW.replace('juminhyo', '"juminhyo"')}\n`,
    exitCode: 2,
    stderr: [
      'center.csv:2: issuance_id is quoted: the format has no quoted fields',
      'operator.csv:2: certificate_type "\\"juminhyo\\"" is not a type code (1–32 of a–z 0–9 -, starting with a letter)',
      summary(2),
    ],
  },
  {
    name: 'a wrong header and an empty operator file',
    center: `issuance_id,issued_at\n${ROW}\n`,
    operator: '',
    exitCode: 2,
    stderr: [
      'center.csv:1: the header is not the handling-record header (issuance_id,issued_at,…,fee_yen[,certificate_options])',
      'operator.csv:1: the file is empty: no header',
      summary(2),
    ],
  },
  {
    name: 'bad UTF-8 and a missing column on the last line without newline',
    center: new Uint8Array([...Buffer.from(`${HEADER}${ROW.replace('S0001', 'S0001\xff')}\n`, 'latin1')]),
    operator: `${HEADER}${ROW.split(',').slice(0, 8).join(',')}`,
    exitCode: 2,
    stderr: ['center.csv:2: bad encoding: the line is not valid UTF-8', 'operator.csv:2: expected 9 columns, found 8', summary(2)],
  },
];

/** Writes the case's two files into a fresh folder and returns it. */
export function writeCase(root: string, index: number): string {
  const folder = path.join(root, `case-${index}`);
  fs.mkdirSync(folder, { recursive: true });
  const malformed = MALFORMED_CASES[index]!;
  fs.writeFileSync(path.join(folder, 'center.csv'), malformed.center);
  fs.writeFileSync(path.join(folder, 'operator.csv'), malformed.operator);
  return folder;
}

export const RECONCILE_ARGS = ['reconcile', '--month', '2026-11', '--center-csv', 'center.csv', '--operator-csv', 'operator.csv', '--json'];

/** stderr as its lines, without the trailing empty one. */
export function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '');
}
