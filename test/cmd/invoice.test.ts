// Proves `cvs-issue invoice`: totals to the yen by JST month (¥115 a document), breakdowns, deadlines, a stable invoice number and figures on every run, each id counted once, late interest from the dated table or --rate, the dedicated line's fee, cron's previous month, and a Japanese PDF.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HANDLING_CSV_HEADER, formatHandlingRow } from '../../core/handling-csv.ts';
import { insertHandlingRecord, openCenterDatabase } from '../../drivers/store/center-store.ts';
import { run, handlingRecord as record } from './cli-fixture.ts';
import { popplerMissing } from '../poppler.ts';


const RECORDS = [
  record('A', { copies: 2, feeYen: 400 }),
  record('B', { municipalityCode: '141003', certificateType: 'inkan', storeId: 'S0002', feeYen: 250 }),
  record('C', { copies: 0, feeYen: 0 }),
  record('D', { issuedAt: '2026-10-31T15:00:00Z', certificateType: 'koseki-zenbu', feeYen: 450 }),
  record('E', { issuedAt: '2026-10-31T14:59:59Z' }),
  record('F', { operatorId: 'OP002', storeId: 'S0100', feeYen: 300 }),
];

describe('cvs-issue invoice', () => {
  let dir: string;
  let records: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-invoice-'));
    records = path.join(dir, 'records.csv');
    // A is repeated: it must be counted once.
    fs.writeFileSync(records, `${HANDLING_CSV_HEADER}\n${[...RECORDS, RECORDS[0]!].map(formatHandlingRow).join('')}`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('totals an operator\'s month by JST date with ¥115 a document, breakdowns and deadlines', async () => {
    const result = await run('invoice', '--month', '2026-11', '--records', records, '--operator', 'OP001', '--json');
    assert.equal(result.code, 0, result.stderr);
    const invoice = JSON.parse(result.stdout);
    assert.deepEqual(
      { number: invoice.invoiceNumber, records: invoice.records, documents: invoice.documents, feesYen: invoice.feesYen, commissionYen: invoice.commissionYen, amountDueYen: invoice.amountDueYen },
      { number: 'CVS-202611-OP001', records: 4, documents: 4, feesYen: 1100, commissionYen: 460, amountDueYen: 640 },
    );
    assert.equal(invoice.duplicateRowsIgnored, 1);
    assert.equal(invoice.otherMonthRows, 1);
    assert.deepEqual(invoice.operators, ['OP001', 'OP002']);
    assert.deepEqual(invoice.byMunicipality.map((entry: { municipalityCode: string; documents: number; feesYen: number }) => [entry.municipalityCode, entry.documents, entry.feesYen]), [['131016', 3, 850], ['141003', 1, 250]]);
    assert.deepEqual(invoice.byCertificateType.map((entry: { certificateType: string; documents: number }) => [entry.certificateType, entry.documents]), [['juminhyo', 2], ['inkan', 1], ['koseki-zenbu', 1]]);
    // S0001: ¥850 for 3 documents − ¥345; S0002: ¥250 − ¥115.
    assert.deepEqual(invoice.byStore.map((entry: { storeId: string; amountDueYen: number }) => [entry.storeId, entry.amountDueYen]), [['S0001', 505], ['S0002', 135]]);
    assert.deepEqual(invoice.deadlines, { reconcileBy: '2026-12-08', confirmBy: '2026-12-09', invoiceBy: '2026-12-15', payBy: '2026-12-21' });
    const again = await run('invoice', '--month', '2026-11', '--records', records, '--operator', 'OP001', '--json');
    assert.equal(again.stdout, result.stdout);
  });

  it('reads the centre database the same way', async () => {
    const centerDb = path.join(dir, 'center.db');
    const db = openCenterDatabase(centerDb);
    for (const entry of RECORDS) insertHandlingRecord(db, entry);
    db.close();
    const result = await run('invoice', '--month', '2026-11', '--center-db', centerDb, '--operator', 'OP001', '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).amountDueYen, 640);
  });

  it('adds late interest by the dated table or --rate, truncated to ¥100', async () => {
    const late = JSON.parse((await run('invoice', '--month', '2026-11', '--records', records, '--json', '--paid-on', '2027-12-21')).stdout);
    // All operators: fees 1,400, 5 documents → due 825; 365 days at 2.5% = ¥20.6 → ¥0.
    assert.deepEqual(late.lateInterest, { paidOn: '2027-12-21', daysLate: 365, ratePercent: 2.5, interestYen: 0 });
    const big = path.join(dir, 'big.csv');
    fs.writeFileSync(big, `${HANDLING_CSV_HEADER}\n${formatHandlingRow(record('X', { copies: 1, feeYen: 100_000_000 }))}`);
    const result = await run('invoice', '--month', '2026-11', '--records', big, '--json', '--paid-on', '2027-01-20', '--inspection-days', '10', '--rate', '2.7');
    // 99,999,885 × 2.7% × (30 − 10) / 365 = 147,945.0 → ¥147,900
    assert.deepEqual(JSON.parse(result.stdout).lateInterest, { paidOn: '2027-01-20', daysLate: 20, ratePercent: 2.7, interestYen: 147_900 });
    const rates = path.join(dir, 'rates.json');
    fs.writeFileSync(rates, JSON.stringify({ rates: [{ from: '2026-04-01', percent: '3.0' }] }));
    const edited = await run('invoice', '--month', '2026-11', '--records', big, '--json', '--paid-on', '2027-01-20', '--inspection-days', '10', '--rates', rates);
    assert.equal(JSON.parse(edited.stdout).lateInterest.ratePercent, 3);
  });

  it('bills the dedicated line from the operator to J-LIS: due 30 days counting the day of receipt, with C§17 interest when J-LIS pays late', async () => {
    const result = await run('invoice', '--month', '2026-11', '--records', records, '--operator', 'OP001', '--json', '--line-fee-yen', '50000', '--line-term-end', '2026-11-30', '--line-received-on', '2026-12-02', '--line-paid-on', '2027-01-31', '--rate', '2.5');
    assert.equal(result.code, 0, result.stderr);
    const invoice = JSON.parse(result.stdout);
    assert.deepEqual(invoice.dedicatedLine, {
      monthlyFeeYen: 50000,
      termEnd: '2026-11-30',
      termMonths: 12,
      billedBy: 'OP001',
      billedTo: '地方公共団体情報システム機構',
      amountYen: 600000,
      billedOn: '2026-11-30',
      receivedOn: '2026-12-02',
      // 2 December is day 1 of the 30: the last day is 31 December.
      dueBy: '2026-12-31',
      // 600,000 × 2.5% × 31 / 365 = 1,273.9… → ¥1,200 (C§17: whole ¥100 only).
      lateInterest: { paidOn: '2027-01-31', daysLate: 31, ratePercent: 2.5, interestYen: 1200 },
      billedThisMonth: true,
    });
    // The line fee runs the other way, so it never changes what the operator owes J-LIS.
    const without = JSON.parse((await run('invoice', '--month', '2026-11', '--records', records, '--operator', 'OP001', '--json')).stdout);
    assert.equal(invoice.amountDueYen, without.amountDueYen);
  });

  it('settles the previous JST month from cron and writes CSV', async () => {
    const saved = process.env.CVS_ISSUE_TIME;
    process.env.CVS_ISSUE_TIME = '2026-12-01T00:05:00+09:00';
    try {
      const result = await run('invoice', '--records', records, '--csv');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.split('\n')[1], 'total,CVS-202611-ALL,5,5,1400,575,825');
    } finally {
      if (saved === undefined) delete process.env.CVS_ISSUE_TIME;
      else process.env.CVS_ISSUE_TIME = saved;
    }
  });

  it('refuses two sources at once instead of ignoring one (exit 2)', async () => {
    for (const flags of [['--records', records, '--dir', dir], ['--records', records, '--center-db', records], ['--dir', dir, '--center-db', records]]) {
      const result = await run('invoice', '--month', '2026-11', '--operator', 'OP001', ...flags);
      assert.equal(result.code, 2, flags.join(' '));
      assert.match(result.stderr, /give one of --records FILE, --center-db FILE or --dir DIR, not /);
    }
  });

  it('exits 2 on a malformed records file, naming the line', async () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, `${HANDLING_CSV_HEADER}\nA,2026-11-02T10:00:00+09:00,OP001,S1,K1,131016,juminhyo,1,-5\n`);
    const result = await run('invoice', '--month', '2026-11', '--records', bad, '--json');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /bad\.csv:2: fee_yen "-5" is not a whole number/);
  });

  it('writes a Japanese PDF a person could send', { skip: popplerMissing }, async () => {
    const pdf = path.join(dir, 'invoice.pdf');
    const result = await run('invoice', '--month', '2026-11', '--records', records, '--operator', 'OP001', '--pdf', pdf);
    assert.equal(result.code, 0, result.stderr);
    const text = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).stdout;
    for (const expected of ['請求書', 'CVS-202611-OP001', '640円', '460円', '2026年12月21日', '131016', '住民票の写し']) {
      assert.ok(text.includes(expected), `the PDF shows ${expected}`);
    }
    // A records file carries municipality codes only; the names come from the centre (test/cmd/settlement.test.ts).
    assert.ok(!text.includes('東京都千代田区'));
  });
});
