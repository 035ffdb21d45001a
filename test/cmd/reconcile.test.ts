// Proves `cvs-issue reconcile` as a user sees it: exit 0 when the month agrees, 3 with the report on stdout when it differs, 2 with FILE:LINE lines and no report for malformed input; databases, store-day cash, CSV output, and --confirm locking the month in the database itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HandlingRecord } from '../../core/messages.ts';
import { HANDLING_CSV_HEADER, formatHandlingRow } from '../../core/handling-csv.ts';
import { freshDeployment } from './deployment-fixture.ts';
import { startCenter } from '../../cmd/center.ts';
import { loadConfig } from '../../cmd/config.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { insertHandlingRecord, openCenterDatabase } from '../../drivers/store/center-store.ts';
import { openRelayDatabase } from '../../drivers/store/relay-store.ts';
import { run, handlingRecord as record } from './cli-fixture.ts';

describe('cvs-issue reconcile', () => {
  let dir: string;
  const file = (name: string, records: HandlingRecord[], extra = '') => {
    const target = path.join(dir, name);
    fs.writeFileSync(target, `${HANDLING_CSV_HEADER}\n${records.map(formatHandlingRow).join('')}${extra}`);
    return target;
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-reconcile-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 0 with the JSON report and deadlines when both files agree', async () => {
    const records = [record('A'), record('B', { issuedAt: '2026-10-31T15:00:00Z' }), record('OLD', { issuedAt: '2026-10-31T14:59:59Z' })];
    const result = await run('reconcile', '--month', '2026-11', '--center-csv', file('c1.csv', records), '--operator-csv', file('o1.csv', records.slice(0, 2)), '--json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(
      { month: report.month, matched: report.matched, missingAtCenter: report.missingAtCenter, missingAtOperator: report.missingAtOperator, mismatched: report.mismatched, duplicates: report.duplicates, differences: report.differences },
      { month: '2026-11', matched: 2, missingAtCenter: 0, missingAtOperator: 0, mismatched: 0, duplicates: 0, differences: [] },
    );
    assert.deepEqual(report.deadlines, { reconcileBy: '2026-12-08', confirmBy: '2026-12-09' });
  });

  it('exits 3 and still prints the whole report when the sides differ', async () => {
    const center = file('c2.csv', [record('A'), record('B'), record('C')]);
    const operator = file('o2.csv', [record('A', { feeYen: 250 }), record('C'), record('C'), record('D')]);
    const result = await run('reconcile', '--month', '2026-11', '--center-csv', center, '--operator-csv', operator, '--json');
    assert.equal(result.code, 3);
    assert.deepEqual(JSON.parse(result.stdout).differences, [
      { issuanceId: 'A', kind: 'mismatch', fields: ['feeYen'], center: { feeYen: 200 }, operator: { feeYen: 250 } },
      { issuanceId: 'B', kind: 'missing-at-operator' },
      { issuanceId: 'C', kind: 'duplicate', side: 'operator' },
      { issuanceId: 'D', kind: 'missing-at-center' },
    ]);
    assert.match(result.stderr, /2026-11 does not reconcile/);
    const csv = await run('reconcile', '--month', '2026-11', '--center-csv', center, '--operator-csv', operator, '--csv');
    assert.equal(csv.code, 3);
    assert.equal(csv.stdout.split('\n')[0], 'kind,issuance_id,side,fields,store_id,kiosk_id,business_date,cash_yen,fees_yen,center_values,operator_values');
    assert.match(csv.stdout, /^mismatch,A,,feeYen,,,,,,feeYen=200,feeYen=250$/m);
    const text = await run('reconcile', '--month', '2026-11', '--center-csv', center, '--operator-csv', operator);
    assert.match(text.stdout, /missing at centre: 1/);
    assert.match(text.stdout, /mismatch A \(feeYen: centre 200, operator 250\)/);
  });

  it('exits 2 naming every malformed row as FILE:LINE, and writes no report', async () => {
    const center = file('c3.csv', [record('A')], 'B,2026-11-02T10:00:00+09:00,OP001,S1,K1,131017,juminhyo,1,200\nC,2026-11-31T10:00:00+09:00,OP001,S1,K1,131016,juminhyo,1,200\n');
    const operator = file('o3.csv', [record('A')], 'D,2026-11-02T10:00:00+09:00,OP001,S1,K1,131016,Passport,-1,200\n');
    const result = await run('reconcile', '--month', '2026-11', '--center-csv', center, '--operator-csv', operator, '--json');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.trim().split('\n'), [
      `${center}:3: municipality_code "131017" has a wrong check digit`,
      `${center}:4: issued_at "2026-11-31T10:00:00+09:00" is not an ISO 8601 time with an offset (2026-11-02T10:15:00+09:00)`,
      `${operator}:3: certificate_type "Passport" is not a type code (1–32 of a–z 0–9 -, starting with a letter)`,
      'cvs-issue: 3 malformed rows: nothing was written',
    ]);
  });

  it('reads both databases, checks store-day cash, and --confirm locks a clean month with both parties, in the database and both audit logs', async () => {
    const deployment = path.join(dir, 'deployment');
    freshDeployment(deployment, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const centre = await startCenter(loadConfig(deployment), { clock: offsetClock(Date.parse('2026-12-02T10:00:00+09:00')) });
    const saved = process.env.CVS_ISSUE_TIME;
    process.env.CVS_ISSUE_TIME = '2026-12-02T10:00:00+09:00';
    try {
    const centerDb = path.join(deployment, 'center.db');
    const relayDb = path.join(deployment, 'relay.db');
    const center = openCenterDatabase(centerDb);
    const relay = openRelayDatabase(relayDb);
    for (const entry of [record('A', { operatorId: 'OP01' }), record('B', { operatorId: 'OP01', copies: 2, feeYen: 400 })]) {
      insertHandlingRecord(center, entry);
      insertHandlingRecord(relay, entry, { received_at: '2026-11-02T01:00:01.000Z' });
    }
    relay.run(
      `INSERT INTO store_days (kiosk_id, store_id, business_date, cash_yen, transactions, documents, closed_at, received_at)
       VALUES ('K0001', 'S0001', '2026-11-02', 500, 2, 3, '2026-11-02T14:00:00.000Z', '2026-11-02T14:00:01.000Z')`,
    );
    relay.close();
    const short = await run('reconcile', '--month', '2026-11', '--dir', deployment, '--json', '--confirm', '--center-url', centre.server.url);
    assert.equal(short.code, 3);
    assert.deepEqual(JSON.parse(short.stdout).storeDays, {
      days: 1,
      differences: [{ storeId: 'S0001', kioskId: 'K0001', businessDate: '2026-11-02', cashYen: 500, feesYen: 600, differenceYen: -100 }],
    });
    assert.equal(JSON.parse(short.stdout).confirmed, null);
    const cash = path.join(dir, 'days.csv');
    fs.writeFileSync(cash, 'store_id,kiosk_id,business_date,cash_yen\nS0001,K0001,2026-11-02,600\n');
    const withoutKey = await run('reconcile', '--month', '2026-11', '--center-db', centerDb, '--operator-db', relayDb, '--store-days', cash, '--confirm');
    assert.equal(withoutKey.code, 2);
    assert.match(withoutKey.stderr, /--confirm .* give --dir/);
    const confirmed = await run('reconcile', '--month', '2026-11', '--dir', deployment, '--store-days', cash, '--json', '--confirm', '--center-url', centre.server.url);
    assert.equal(confirmed.code, 0, confirmed.stderr);
    for (const role of ['center', 'relay']) {
      const logged = await run('audit-log', 'show', '--dir', deployment, '--role', role, '--kind', 'month', '--json');
      assert.deepEqual(JSON.parse(logged.stdout).entries.map((entry: { kind: string; data: unknown }) => [entry.kind, entry.data]), [
        ['month.confirmed', { month: '2026-11', operatorId: 'OP01', records: 2, documents: 3, feeYen: 600 }],
      ], role);
      assert.equal((await run('audit-log', 'verify', '--dir', deployment, '--role', role)).code, 0, role);
    }
    assert.deepEqual({ ...JSON.parse(confirmed.stdout).confirmed, confirmedAt: 'x', submittedAt: 'y' }, { month: '2026-11', operatorId: 'OP01', submittedAt: 'y', confirmedAt: 'x', records: 2, documents: 3, feesYen: 600 });
    assert.throws(
      () => center.run(`INSERT INTO handling_records (issuance_id, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen)
                       VALUES ('LATE', '2026-11-30T14:00:00.000Z', 'OP01', 'S0001', 'K0001', '131016', 'juminhyo', 1, 200)`),
      /the month of this record is confirmed/,
    );
    assert.throws(
      () => center.run(`INSERT INTO handling_corrections (correction_id, issuance_id, corrected_at, copies, fee_yen, reason)
                       VALUES ('FIX', 'A', '2026-12-02T01:00:00.000Z', 0, 0, 'misprint-found')`),
      /the month of this record is confirmed/,
    );
    center.run(`INSERT INTO handling_records (issuance_id, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen)
                VALUES ('NEXT', '2026-11-30T15:00:00.000Z', 'OP01', 'S0001', 'K0001', '131016', 'juminhyo', 1, 200)`);
    center.close();
    const again = await run('reconcile', '--month', '2026-11', '--dir', deployment, '--store-days', cash, '--json', '--confirm', '--center-url', centre.server.url);
    assert.equal(again.code, 0);
    assert.equal(JSON.parse(again.stdout).confirmed.confirmedAt, JSON.parse(confirmed.stdout).confirmed.confirmedAt);
    const exported = path.join(dir, 'center-export.csv');
    const exportRun = await run('center', 'export', '--db', centerDb, '--month', '2026-11', '--out', exported);
    assert.equal(exportRun.code, 0, exportRun.stderr);
    assert.equal(fs.readFileSync(exported, 'utf8'), `${HANDLING_CSV_HEADER}\n${[record('A', { operatorId: 'OP01' }), record('B', { operatorId: 'OP01', copies: 2, feeYen: 400 })].map(formatHandlingRow).join('')}`);
    const relayExport = await run('relay', 'export', '--db', relayDb);
    assert.equal(relayExport.stdout.trim().split('\n').length, 3);
    const fromFiles = await run('reconcile', '--month', '2026-11', '--center-csv', exported, '--operator-csv', exported, '--json');
    assert.equal(JSON.parse(fromFiles.stdout).matched, 2);
    } finally {
      await centre.close();
      if (saved === undefined) delete process.env.CVS_ISSUE_TIME;
      else process.env.CVS_ISSUE_TIME = saved;
    }
  });

  it("from a deployment, matches one operator's relay against that operator's records at the centre, not every operator's", async () => {
    const deployment = path.join(dir, 'two-operators');
    freshDeployment(deployment, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const center = openCenterDatabase(path.join(deployment, 'center.db'));
    for (const [operatorId, relayFile, id] of [['OP01', 'relay.db', 'A'], ['OP02', 'relay-OP02.db', 'X']] as const) {
      const entry = record(id, { operatorId, storeId: operatorId === 'OP01' ? 'S0001' : 'S0101', kioskId: operatorId === 'OP01' ? 'K0001' : 'K0101' });
      insertHandlingRecord(center, entry);
      const relay = openRelayDatabase(path.join(deployment, relayFile));
      insertHandlingRecord(relay, entry, { received_at: '2026-11-02T01:00:01.000Z' });
      relay.close();
    }
    center.close();
    for (const operatorId of ['OP01', 'OP02']) {
      const result = await run('reconcile', '--month', '2026-11', '--dir', deployment, '--operator', operatorId, '--json');
      assert.equal(result.code, 0, result.stdout);
      const report = JSON.parse(result.stdout);
      assert.deepEqual([report.matched, report.center.records, report.differences], [1, 1, []], operatorId);
    }
  });

  it('refuses --confirm without the centre database, and a bad month, with exit 2', async () => {
    const records = file('c5.csv', [record('A')]);
    assert.equal((await run('reconcile', '--month', '2026-11', '--center-csv', records, '--operator-csv', records, '--confirm')).code, 2);
    assert.equal((await run('reconcile', '--month', '2026-13', '--center-csv', records, '--operator-csv', records)).code, 2);
    assert.equal((await run('reconcile', '--month', '2026-11', '--center-csv', path.join(dir, 'nope.csv'), '--operator-csv', records)).code, 2);
  });

  it('takes --operator as an operator id, as every command does, and refuses conflicting or renamed flags with exit 2', async () => {
    const records = file('c7.csv', [record('A')]);
    const refused: [string[], RegExp][] = [
      [['--center-csv', records, '--center-db', records, '--operator-csv', records], /--center-csv or --center-db, not both/],
      [['--center-csv', records, '--operator-csv', records, '--operator-db', records], /--operator-csv or --operator-db, not both/],
      [['--center-csv', records, '--operator', records], /--operator takes an operator id; give the operator's file as --operator-csv/],
      [['--center-csv', records, '--operator-csv', records, '--operator', 'OP01'], /--operator ID picks a relay of a deployment: give --dir DIR too/],
      [['--center', records, '--operator-csv', records], /--center is now --center-csv/],
      [['--center-csv', records, '--operator-csv', records, '--operator-id', 'OP01'], /--operator-id is now --operator/],
    ];
    for (const [flags, message] of refused) {
      const result = await run('reconcile', '--month', '2026-11', ...flags);
      assert.equal(result.code, 2, flags.join(' '));
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    }
  });

  it('settles the previous JST month when cron gives no --month', async () => {
    const records = file('c6.csv', [record('A', { issuedAt: '2026-10-15T01:00:00.000Z' })]);
    const saved = process.env.CVS_ISSUE_TIME;
    process.env.CVS_ISSUE_TIME = '2026-11-01T00:30:00+09:00';
    try {
      const result = await run('reconcile', '--center-csv', records, '--operator-csv', records, '--json');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).month, '2026-10');
      assert.equal(JSON.parse(result.stdout).matched, 1);
    } finally {
      if (saved === undefined) delete process.env.CVS_ISSUE_TIME;
      else process.env.CVS_ISSUE_TIME = saved;
    }
  });
});
