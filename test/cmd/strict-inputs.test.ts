// Proves dates that do not exist never move money and a bad clock is one line: a store-days file
// with 2026-11-77 is refused at FILE:LINE, flags take real dates only, and a malformed
// CVS_ISSUE_TIME stops only the commands that read the clock, with exit 2.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HANDLING_CSV_HEADER, formatHandlingRow } from '../../core/handling-csv.ts';
import { run, handlingRecord as record } from './cli-fixture.ts';

describe('strict dates and the clock', () => {
  let dir: string;
  let records: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-strict-'));
    records = path.join(dir, 'records.csv');
    fs.writeFileSync(records, `${HANDLING_CSV_HEADER}\n${formatHandlingRow(record('A', { kioskId: 'K0001' }))}${formatHandlingRow(record('B', { kioskId: 'K0003', issuedAt: '2026-11-13T01:00:00.000Z' }))}`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a store day 2026-11-77 instead of booking it on another kiosk', async () => {
    const cash = path.join(dir, 'cash.csv');
    fs.writeFileSync(cash, 'store_id,kiosk_id,business_date,cash_yen\nS0001,K0001,2026-11-77,200\nS0001,K0003,2026-11-13,200\n');
    const result = await run('reconcile', '--month', '2026-11', '--center-csv', records, '--operator-csv', records, '--store-days', cash, '--json');
    assert.deepEqual({ code: result.code, stdout: result.stdout, stderr: result.stderr }, {
      code: 2,
      stdout: '',
      stderr: `cvs-issue: ${cash}:2: expected store_id,kiosk_id,YYYY-MM-DD,cash_yen with a real date and whole yen\n`,
    });
  });

  it('refuses --paid-on 2027-02-30', async () => {
    const result = await run('invoice', '--records', records, '--month', '2026-11', '--paid-on', '2027-02-30', '--json');
    assert.deepEqual({ code: result.code, stderr: result.stderr }, { code: 2, stderr: 'cvs-issue: --paid-on "2027-02-30" is not a YYYY-MM-DD date\n' });
  });

  it('a malformed CVS_ISSUE_TIME is exit 2 and one line for reconcile, and harmless for init --help', async () => {
    const saved = process.env.CVS_ISSUE_TIME;
    process.env.CVS_ISSUE_TIME = '2026-11-30 10:00';
    try {
      assert.equal((await run('init', '--help')).code, 0);
      const result = await run('reconcile', '--center-csv', records, '--operator-csv', records);
      assert.deepEqual({ code: result.code, stdout: result.stdout, stderr: result.stderr }, {
        code: 2,
        stdout: '',
        stderr: 'cvs-issue: CVS_ISSUE_TIME="2026-11-30 10:00" is not a real ISO 8601 time with an offset (2026-11-30T10:00:00+09:00)\n',
      });
    } finally {
      if (saved === undefined) delete process.env.CVS_ISSUE_TIME;
      else process.env.CVS_ISSUE_TIME = saved;
    }
  });
});
