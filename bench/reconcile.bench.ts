// Reconcile at national scale: two 5,000,000-row months with a few hundred planted differences,
// reconciled in the same run by the compiled binary, by a shell user's coreutils pipeline (sort,
// join, awk) and by DuckDB (2 threads, full outer join). Prints wall time, ratio, rows/s and peak
// RSS of each. Assumes dist/cvs-issue was just built (npm run bench does that).
//
//   node --import tsx bench/reconcile.bench.ts [--rows N] [--keep DIR]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HANDLING_CSV_HEADER } from '../core/handling-csv.ts';
import { CERTIFICATE_TYPES } from '../core/certificate-types.ts';
import { municipalityCheckDigit } from '../core/municipality.ts';

const PLANTED = { missingAtCenter: 100, missingAtOperator: 100, mismatched: 100, duplicatesAtCenter: 50, duplicatesAtOperator: 50 };

interface Measured {
  name: string;
  wallMs: number;
  peakRssKb: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** A deterministic generator (xorshift32) so every run plants the same differences. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

function municipalityCodes(count: number, next: () => number): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    const body = String(10000 + (next() % 40000)).padStart(5, '0');
    codes.add(body + municipalityCheckDigit(body));
  }
  return [...codes];
}

/** Writes center.csv and operator.csv; returns how many rows each has. */
function generate(directory: string, rows: number): { centerRows: number; operatorRows: number } {
  const next = random(20261101);
  const codes = municipalityCodes(1200, next);
  const unitFees = [200, 200, 250, 300, 350, 450, 300];
  const center = fs.openSync(path.join(directory, 'center.csv'), 'w');
  const operator = fs.openSync(path.join(directory, 'operator.csv'), 'w');
  let centerText = `${HANDLING_CSV_HEADER}\n`;
  let operatorText = centerText;
  let centerRows = 0;
  let operatorRows = 0;
  let pendingSwap = '';
  const flush = (force: boolean) => {
    if (force || centerText.length > 4_000_000) {
      fs.writeSync(center, centerText);
      centerText = '';
    }
    if (force || operatorText.length > 4_000_000) {
      fs.writeSync(operator, operatorText);
      operatorText = '';
    }
  };
  const planted = Object.values(PLANTED).reduce((sum, value) => sum + value, 0);
  const stride = Math.floor(rows / (planted + 1));
  for (let index = 0; index < rows; index += 1) {
    const mixed = Math.imul(index + 1, 0x9e3779b1) >>> 0;
    const id = `Q${mixed.toString(16).padStart(8, '0')}-${String(index).padStart(10, '0')}`;
    const secondOfMonth = Math.floor((index / rows) * 30 * 86400);
    const day = 1 + Math.floor(secondOfMonth / 86400);
    const hour = Math.floor((secondOfMonth % 86400) / 3600);
    const minute = Math.floor((secondOfMonth % 3600) / 60);
    const second = secondOfMonth % 60;
    const two = (value: number) => (value < 10 ? `0${value}` : String(value));
    // One row in ten in UTC, the way some systems write it: JST month membership must still hold.
    const issuedAt =
      index % 10 === 0
        ? new Date(Date.UTC(2026, 10, day, hour - 9, minute, second)).toISOString().replace('.000Z', 'Z')
        : `2026-11-${two(day)}T${two(hour)}:${two(minute)}:${two(second)}+09:00`;
    const random32 = next();
    const store = random32 % 50000;
    const typeIndex = (random32 >>> 16) % CERTIFICATE_TYPES.length;
    const copies = 1 + ((random32 >>> 20) % 3);
    const fields = [
      id,
      issuedAt,
      'OP001',
      `S${String(store).padStart(6, '0')}`,
      `K${String(store).padStart(6, '0')}-${(random32 >>> 24) % 2}`,
      codes[(random32 >>> 8) % codes.length]!,
      CERTIFICATE_TYPES[typeIndex]!,
      String(copies),
      String(copies * unitFees[typeIndex]!),
    ];
    const line = `${fields.join(',')}\n`;
    let centerLine = line;
    let operatorLine = line;
    const plant = index > 0 && index % stride === 0 ? index / stride : 0;
    if (plant > 0) {
      let kind = plant;
      if ((kind -= PLANTED.missingAtCenter) <= 0) centerLine = '';
      else if ((kind -= PLANTED.missingAtOperator) <= 0) operatorLine = '';
      else if ((kind -= PLANTED.mismatched) <= 0) operatorLine = `${[...fields.slice(0, 7), String(copies + 1), fields[8]].join(',')}\n`;
      else if ((kind -= PLANTED.duplicatesAtCenter) <= 0) centerLine += line;
      else if ((kind -= PLANTED.duplicatesAtOperator) <= 0) operatorLine += line;
    }
    centerText += centerLine;
    centerRows += centerLine.length === 0 ? 0 : centerLine === line ? 1 : 2;
    // The relay hears kiosks in a slightly different order from the centre: swap neighbours.
    if (index % 2 === 0) pendingSwap = operatorLine;
    else {
      operatorText += operatorLine + pendingSwap;
      pendingSwap = '';
    }
    operatorRows += operatorLine.length === 0 ? 0 : operatorLine.split('\n').length - 1;
    if (index % 4096 === 0) flush(false);
  }
  operatorText += pendingSwap;
  flush(true);
  fs.closeSync(center);
  fs.closeSync(operator);
  return { centerRows, operatorRows };
}

/** Runs a command under GNU time for its peak RSS; the wall time is measured here. */
function measure(name: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Measured {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { ...options, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const stderrLines = (result.stderr ?? '').trim().split('\n');
  const peakRssKb = Number(stderrLines[stderrLines.length - 1]);
  return { name, wallMs, peakRssKb, exitCode: result.status ?? -1, stdout: result.stdout ?? '', stderr: stderrLines.slice(0, -1).join('\n') };
}

const coreutilsScript = `
set -e
export LC_ALL=C
# Sorting the files themselves lets sort size its buffer from them; the two header lines join each other and count nowhere.
sort -t, -k1,1 -o center.sorted center.csv
sort -t, -k1,1 -o operator.sorted operator.csv
join -t, -v1 center.sorted operator.sorted | wc -l > missing-at-operator.count
join -t, -v2 center.sorted operator.sorted | wc -l > missing-at-center.count
join -t, center.sorted operator.sorted | awk -F, '$4!=$12||$5!=$13||$6!=$14||$7!=$15||$8!=$16||$9!=$17' | wc -l > mismatched.count
cut -d, -f1 center.sorted | uniq -d | wc -l > duplicates-at-center.count
cut -d, -f1 operator.sorted | uniq -d | wc -l > duplicates-at-operator.count
cat missing-at-operator.count missing-at-center.count mismatched.count duplicates-at-center.count duplicates-at-operator.count | tr '\\n' ' '
`;

/** The DuckDB side, run in its own process (this file with --duckdb DIR) so its RSS is its own. */
async function runDuckDb(directory: string): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  const columns = `{'issuance_id':'VARCHAR','issued_at':'VARCHAR','operator_id':'VARCHAR','store_id':'VARCHAR','kiosk_id':'VARCHAR','municipality_code':'VARCHAR','certificate_type':'VARCHAR','copies':'INTEGER','fee_yen':'INTEGER'}`;
  const source = (file: string) => `read_csv('${path.join(directory, file)}', header = true, columns = ${columns})`;
  const reader = await connection.runAndReadAll(`
    SELECT
      count(*) FILTER (WHERE c.issuance_id IS NULL) AS missing_at_center,
      count(*) FILTER (WHERE o.issuance_id IS NULL) AS missing_at_operator,
      count(*) FILTER (WHERE c.issuance_id IS NOT NULL AND o.issuance_id IS NOT NULL AND (
        c.store_id <> o.store_id OR c.kiosk_id <> o.kiosk_id OR c.municipality_code <> o.municipality_code OR
        c.certificate_type <> o.certificate_type OR c.copies <> o.copies OR c.fee_yen <> o.fee_yen)) AS mismatched_pairs
    FROM ${source('center.csv')} c FULL OUTER JOIN ${source('operator.csv')} o USING (issuance_id)`);
  process.stdout.write(`${JSON.stringify(reader.getRowObjectsJson())}\n`);
}

function report(measured: Measured[], rowsPerSide: number): void {
  const reconcile = measured[0]!;
  const line = (entry: Measured) => {
    const ratio = entry === reconcile ? '1.00×' : `${(entry.wallMs / reconcile.wallMs).toFixed(2)}× reconcile's time`;
    const rowsPerSecond = Math.round((2 * rowsPerSide) / (entry.wallMs / 1000));
    return `${entry.name.padEnd(22)} wall ${(entry.wallMs / 1000).toFixed(2).padStart(6)} s   ${ratio.padEnd(22)} ${(rowsPerSecond / 1e6).toFixed(2).padStart(5)} M rows/s   peak RSS ${(entry.peakRssKb / 1024).toFixed(0).padStart(5)} MiB   exit ${entry.exitCode}`;
  };
  for (const entry of measured) process.stdout.write(`${line(entry)}\n`);
}

async function main(): Promise<void> {
  const duckDirectory = argument('--duckdb');
  if (duckDirectory) return runDuckDb(duckDirectory);
  if (!fs.existsSync('/usr/bin/time')) {
    process.stderr.write('reconcile.bench.ts needs GNU time for peak RSS: apt-get install time\n');
    process.exitCode = 1;
    return;
  }
  const rows = Number(argument('--rows') ?? 5_000_000);
  const keep = argument('--keep');
  const directory = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-reconcile-bench-'));
  fs.mkdirSync(directory, { recursive: true });
  const binary = path.resolve(import.meta.dirname, '..', 'dist', 'cvs-issue');
  try {
    if (!fs.existsSync(path.join(directory, 'operator.csv'))) {
      const startedMs = Date.now();
      const generated = generate(directory, rows);
      process.stdout.write(`generated ${generated.centerRows} centre rows and ${generated.operatorRows} operator rows in ${((Date.now() - startedMs) / 1000).toFixed(1)} s (${directory})\n`);
    }
    if (process.argv.includes('--generate-only')) return;
    process.stdout.write(`planted: ${JSON.stringify(PLANTED)}\n`);
    const measured = [
      measure('cvs-issue reconcile', binary, ['reconcile', '--month', '2026-11', '--center-csv', 'center.csv', '--operator-csv', 'operator.csv', '--json'], { cwd: directory }),
      measure('coreutils sort+join', 'bash', ['-c', coreutilsScript], { cwd: directory }),
      measure('DuckDB (2 threads)', process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, 'reconcile.bench.ts'), '--duckdb', directory]),
    ];
    let summary: Record<string, unknown> = {};
    try {
      summary = JSON.parse(measured[0]!.stdout) as Record<string, unknown>;
    } catch {
      process.stdout.write(`reconcile printed no JSON: ${measured[0]!.stderr.slice(0, 2000)}\n`);
    }
    process.stdout.write(
      `reconcile found: matched ${String(summary.matched)}, missing at centre ${String(summary.missingAtCenter)}, missing at operator ${String(summary.missingAtOperator)}, mismatched ${String(summary.mismatched)}, duplicates ${String(summary.duplicates)}\n`,
    );
    process.stdout.write(`coreutils found (missing-at-operator missing-at-center mismatched dup-center dup-operator; duplicates inflate join counts): ${measured[1]!.stdout.trim()}\n`);
    process.stdout.write(`DuckDB found: ${measured[2]!.stdout.trim()}\n`);
    report(measured, rows);
    if (measured.some((entry) => entry.exitCode !== 0 && entry.exitCode !== 3)) process.exitCode = 1;
  } finally {
    if (!keep) fs.rmSync(directory, { recursive: true, force: true });
  }
}

await main();
