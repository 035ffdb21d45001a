// Proves payments of monthly invoices on a real deployment: OP02 pays in full on time (balance 0, no
// interest); OP01 pays part on time, the rest late, and owes C§17 interest on the late part only;
// the same payment twice, an overpayment and bad flags are refused with exit 2 and one line, and
// leave nothing behind; each recorded payment is one entry in the centre's audit log.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { freshDeployment } from './deployment-fixture.ts';
import { cardFilePath, openKiosk } from '../../cmd/kiosk.ts';
import { startRelay } from '../../cmd/relay.ts';
import { insertHandlingRecord } from '../../drivers/store/center-store.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { handlingRecord } from './cli-fixture.ts';
import { DECEMBER_2, json, keepIssueTime, NOVEMBER_30, resident, runAt } from './settlement-fixture.ts';

/** The month's deadlines: invoice by 2026-12-15, pay by 2026-12-21 (the 20th is a Sunday). */
const MARCH_5 = '2027-03-05T10:00:00+09:00';
/** A busy month at OP01's stores beside the one kiosk transaction: 5,000 documents at ¥855 (the amount due that 20,000 at ¥300 gave, from a quarter of the rows). */
const BUSY_RECORDS = 5_000;
/** ¥200 from the kiosk + 5,000 × ¥855, less ¥115 × 5,001 documents. */
const OP01_DUE_YEN = 200 + BUSY_RECORDS * 855 - 115 * (BUSY_RECORDS + 1);

describe('invoice pay on a real deployment', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let centerDb: string;
  let center: StartedCenter;
  const restoreIssueTime = keepIssueTime();
  const pay = (...argv: string[]) => runAt(MARCH_5, 'invoice', 'pay', '--dir', dir, ...argv);
  const invoiceOf = async (operator: string, ...argv: string[]) => json(await runAt(MARCH_5, 'invoice', '--dir', dir, '--month', '2026-11', '--operator', operator, '--json', ...argv), 0);
  /** What a refusal must leave untouched: the payments and the audit log. */
  const written = () => withDatabase(centerDb, (db) => [db.get<{ n: number }>('SELECT count(*) AS n FROM invoice_payments')!.n, db.get<{ n: number }>('SELECT count(*) AS n FROM audit_entries')!.n]);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-invoice-pay-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    loaded = loadConfig(dir);
    centerDb = loaded.resolve(loaded.config.center.databaseFile);
    // 30 November: one ¥200 issuance at each operator, through kiosk, relay and centre.
    let clock = offsetClock(Date.parse(NOVEMBER_30));
    center = await startCenter(loaded, { clock });
    for (const [operatorId, kioskId] of [['OP01', 'K0001'], ['OP02', 'K0101']] as const) {
      const relay = await startRelay(loaded, { operatorId, clock, centerUrl: center.server.url });
      const kiosk = openKiosk(loaded, { kioskId, relayUrl: relay.server.url, clock });
      assert.equal((await kiosk.serve(cardFilePath(loaded, 'card-r001'), resident('1234', 500))).outcome, 'issued');
      await kiosk.close();
      await relay.close();
    }
    // Both sides hold the busy month's records, as a chain with many stores would.
    const relayDb = loaded.resolve(loaded.config.relays.find((relay) => relay.operatorId === 'OP01')!.databaseFile);
    for (const [file, extra] of [[centerDb, {}], [relayDb, { received_at: '2026-11-10T01:00:00.000Z' }]] as const) {
      withDatabase(file, (db) =>
        db.transaction(() => {
          for (let index = 0; index < BUSY_RECORDS; index += 1) {
            insertHandlingRecord(db, handlingRecord(`busy-${index}`, { operatorId: 'OP01', issuedAt: '2026-11-10T01:00:00.000Z', feeYen: 855 }), extra);
          }
        }),
      );
    }
    // 2 December: both operators submit their reconciliation and the centre agrees.
    await center.close();
    clock = offsetClock(Date.parse(DECEMBER_2));
    center = await startCenter(loaded, { clock });
    for (const operatorId of ['OP01', 'OP02']) {
      const confirmed = json(await runAt(DECEMBER_2, 'reconcile', '--dir', dir, '--operator', operatorId, '--month', '2026-11', '--confirm', '--center-url', center.server.url, '--json'), 0);
      assert.equal(confirmed.confirmed.operatorId, operatorId);
    }
    await center.close();
  });

  after(async () => {
    await center?.close();
    restoreIssueTime();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('explains its flags, refusals and exit codes in --help', async () => {
    const help = await runAt(MARCH_5, 'invoice', 'pay', '--help');
    assert.equal(help.code, 0);
    for (const flag of ['--dir', '--operator', '--month', '--paid-on', '--amount', '--reference', '--json']) assert.match(help.stdout, new RegExp(`^  ${flag} `, 'm'));
    assert.match(help.stdout, /\nExit codes: 0 recorded, 2 bad input or refused \(one line naming the flag\), 1 unexpected failure\.\n$/);
  });

  it('refuses bad flags and payments the contract does not allow, with exit 2, one line naming the flag, and nothing written', async () => {
    const before = written();
    const refusals: Array<[string[], string]> = [
      [['--amount', '0'], '--amount "0" is not a whole number of yen above 0'],
      [['--amount', '-85'], '--amount "-85" is not a whole number of yen above 0'],
      [['--amount', '1.5'], '--amount "1.5" is not a whole number of yen above 0'],
      [['--amount', '1e3'], '--amount "1e3" is not a whole number of yen above 0'],
      [['--amount', '¥85'], '--amount "¥85" is not a whole number of yen above 0'],
      [['--paid-on', '2026-12-32'], '--paid-on "2026-12-32" is not a YYYY-MM-DD date'],
      [['--paid-on', '2027-02-29'], '--paid-on "2027-02-29" is not a YYYY-MM-DD date'],
      [['--month', '2026-13'], '--month "2026-13" is not YYYY-MM'],
      [['--month', '2026-12'], '--month 2026-12 is not yet invoiceable for OP02: the amount is fixed when both parties confirm the month (Spec§4-3), and it is not confirmed'],
      [['--operator', 'OP99'], '--operator OP99 is not an operator registered at the centre'],
      [['--paid-on', '2026-12-14'], "--paid-on 2026-12-14 is before the invoice of 2026-11, dated 2026-12-15: a payment answers an invoice (C§13-3)"],
      [['--paid-on', '2027-03-06'], '--paid-on 2027-03-06 is in the future (today is 2027-03-05 in JST)'],
      [['--amount', '86'], '--amount 86 is more than the ¥85 still owing on the invoice of 2026-11 for OP02: an overpayment is not recorded'],
      [['--reference', 'TRF 1'], '--reference "TRF 1" is not 1–40 letters, digits, \'.\', \'_\' or \'-\''],
    ];
    const defaults: Record<string, string> = { '--operator': 'OP02', '--month': '2026-11', '--paid-on': '2026-12-18', '--amount': '85' };
    for (const [flags, message] of refusals) {
      const options = { ...defaults };
      for (let index = 0; index < flags.length; index += 2) options[flags[index]!] = flags[index + 1]!;
      const result = await pay(...Object.entries(options).flat());
      assert.deepEqual({ code: result.code, stdout: result.stdout, stderr: result.stderr }, { code: 2, stdout: '', stderr: `cvs-issue: ${message}\n` }, flags.join(' '));
    }
    const withoutDeployment = await runAt(MARCH_5, 'invoice', 'pay', '--center-db', centerDb, '--operator', 'OP02', '--month', '2026-11', '--paid-on', '2026-12-18', '--amount', '85');
    assert.deepEqual([withoutDeployment.code, withoutDeployment.stderr], [2, "cvs-issue: invoice pay needs --dir DIR of the deployment (not --center-db): the payment's audit entry is signed with the centre's audit key, which the deployment holds\n"]);
    assert.deepEqual(written(), before);
  });

  it('OP02 pays in full on time: balance 0, no interest', async () => {
    const recorded = json(await pay('--operator', 'OP02', '--month', '2026-11', '--paid-on', '2026-12-18', '--amount', '85', '--json'), 0);
    assert.deepEqual(recorded, {
      invoiceNumber: 'CVS-202611-OP02',
      payment: { month: '2026-11', operatorId: 'OP02', paidOn: '2026-12-18', amountYen: 85, reference: null },
      daysAfterPayBy: 0,
      amountDueYen: 85,
      receivedYen: 85,
      balanceYen: 0,
      status: 'paid',
      payBy: '2026-12-21',
    });
    const invoice = await invoiceOf('OP02');
    assert.equal(invoice.lateInterest, undefined);
    assert.deepEqual(invoice.payments, {
      invoicedOn: '2026-12-15',
      payBy: '2026-12-21',
      amountDueYen: 85,
      receivedYen: 85,
      balanceYen: 0,
      status: 'paid',
      lines: [{ operatorId: 'OP02', paidOn: '2026-12-18', amountYen: 85, reference: null }],
      lateInterestYen: 0,
    });
    const again = await pay('--operator', 'OP02', '--month', '2026-11', '--paid-on', '2026-12-18', '--amount', '85');
    assert.deepEqual([again.code, again.stderr], [2, 'cvs-issue: a payment of ¥85 on 2026-12-18 is already recorded for OP02 2026-11: if this is a second transfer, record both with distinct --reference values\n']);
  });

  it('OP01 pays part on time: the rest is owing, and --as-of gives the interest it runs up', async () => {
    assert.equal(OP01_DUE_YEN, 3_700_085);
    const first = json(await pay('--operator', 'OP01', '--month', '2026-11', '--paid-on', '2026-12-21', '--amount', '1000000', '--reference', 'TRF-1', '--json'), 0);
    assert.deepEqual([first.receivedYen, first.balanceYen, first.status, first.daysAfterPayBy], [1_000_000, 2_700_085, 'owing', 0]);
    // A second transfer of the same day and amount is a payment of its own when both carry references.
    const second = await pay('--operator', 'OP01', '--month', '2026-11', '--paid-on', '2026-12-21', '--amount', '1000000', '--reference', 'TRF-2');
    assert.deepEqual([second.code, second.stdout], [0, 'recorded ¥1000000 from OP01 paid on 2026-12-21 (TRF-2) against CVS-202611-OP01\n  received ¥2000000 of ¥3700085: ¥1700085 still owing (pay by 2026-12-21)\n']);
    const before = written();
    const reused = await pay('--operator', 'OP01', '--month', '2026-11', '--paid-on', '2026-12-22', '--amount', '5', '--reference', 'TRF-2');
    assert.deepEqual([reused.code, reused.stderr], [2, 'cvs-issue: --reference TRF-2 is already recorded (¥1000000 paid on 2026-12-21): a transfer is recorded once\n']);
    const unreferenced = await pay('--operator', 'OP01', '--month', '2026-11', '--paid-on', '2026-12-21', '--amount', '1000000');
    assert.deepEqual([unreferenced.code, unreferenced.stderr], [2, 'cvs-issue: a payment of ¥1000000 on 2026-12-21 is already recorded for OP01 2026-11: if this is a second transfer, record both with distinct --reference values\n']);
    assert.deepEqual(written(), before);

    const owing = await invoiceOf('OP01', '--as-of', '2027-01-20');
    assert.deepEqual([owing.amountDueYen, owing.payments.receivedYen, owing.payments.balanceYen, owing.payments.status, owing.payments.lateInterestYen], [OP01_DUE_YEN, 2_000_000, 1_700_085, 'owing', 0]);
    // ¥1,700,085 × 2.5% × 30 days / 365 = ¥3,493.3 → ¥3,400.
    assert.deepEqual(owing.payments.balanceInterest, { asOf: '2027-01-20', balanceYen: 1_700_085, daysLate: 30, ratePercent: 2.5, interestYen: 3_400 });
    const withoutAsOf = await invoiceOf('OP01');
    assert.equal(withoutAsOf.payments.balanceInterest, undefined);
  });

  it('OP01 pays the rest late: C§17 interest on the late amount only, then nothing more is taken', async () => {
    const late = json(await pay('--operator', 'OP01', '--month', '2026-11', '--paid-on', '2027-03-01', '--amount', '1700085', '--json'), 0);
    assert.deepEqual([late.balanceYen, late.status, late.daysAfterPayBy], [0, 'paid', 70]);
    const invoice = await invoiceOf('OP01');
    // ¥1,700,085 × 2.5% × 70 / 365 = ¥8,151.1 → ¥8,100; the ¥2,000,000 paid on the pay-by date owes none.
    assert.deepEqual(invoice.payments.lines, [
      { operatorId: 'OP01', paidOn: '2026-12-21', amountYen: 1_000_000, reference: 'TRF-1' },
      { operatorId: 'OP01', paidOn: '2026-12-21', amountYen: 1_000_000, reference: 'TRF-2' },
      { operatorId: 'OP01', paidOn: '2027-03-01', amountYen: 1_700_085, reference: null, lateInterest: { paidOn: '2027-03-01', daysLate: 70, ratePercent: 2.5, interestYen: 8_100 } },
    ]);
    assert.deepEqual([invoice.payments.receivedYen, invoice.payments.balanceYen, invoice.payments.status, invoice.payments.lateInterestYen], [OP01_DUE_YEN, 0, 'paid', 8_100]);
    // Inspection days (C§17-2) and --rate apply per payment: ¥1,700,085 × 2.7% × 60 / 365 = ¥7,545.5 → ¥7,500.
    const inspected = await invoiceOf('OP01', '--inspection-days', '10', '--rate', '2.7');
    assert.deepEqual(inspected.payments.lines[2].lateInterest, { paidOn: '2027-03-01', daysLate: 60, ratePercent: 2.7, interestYen: 7_500 });

    const overpaid = await pay('--operator', 'OP01', '--month', '2026-11', '--paid-on', '2027-03-02', '--amount', '1');
    assert.deepEqual([overpaid.code, overpaid.stderr], [2, 'cvs-issue: --amount 1 is more than the ¥0 still owing on the invoice of 2026-11 for OP01: an overpayment is not recorded\n']);
    const hypothetical = await runAt(MARCH_5, 'invoice', '--dir', dir, '--month', '2026-11', '--operator', 'OP01', '--paid-on', '2027-01-08');
    assert.equal(hypothetical.code, 2);
    assert.match(hypothetical.stderr, /^cvs-issue: payments of this invoice are recorded: late interest comes from them; leave out --paid-on/);

    const text = await runAt(MARCH_5, 'invoice', '--dir', dir, '--month', '2026-11', '--operator', 'OP01');
    assert.equal(text.code, 0, text.stderr);
    for (const line of ['  received on 2027-03-01: ¥1700085', '  late: C§17 interest on it (70 days at 2.5%): ¥8100', '  balance owing: ¥0 (paid in full)']) assert.ok(text.stdout.includes(`${line}\n`), line);
  });

  it('keeps each payment in the centre\'s audit log, which still verifies', async () => {
    const entries = withDatabase(centerDb, (db) => db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries ORDER BY idx'))
      .map((row) => JSON.parse(Buffer.from(row.entry).toString('utf8')))
      .filter((entry) => entry.kind === 'payment.recorded')
      .map((entry) => entry.data);
    assert.deepEqual(entries, [
      { month: '2026-11', operatorId: 'OP02', paidOn: '2026-12-18', paidYen: 85, reference: null },
      { month: '2026-11', operatorId: 'OP01', paidOn: '2026-12-21', paidYen: 1_000_000, reference: 'TRF-1' },
      { month: '2026-11', operatorId: 'OP01', paidOn: '2026-12-21', paidYen: 1_000_000, reference: 'TRF-2' },
      { month: '2026-11', operatorId: 'OP01', paidOn: '2027-03-01', paidYen: 1_700_085, reference: null },
    ]);
    const verified = await runAt(MARCH_5, 'audit-log', 'verify', '--dir', dir, '--role', 'center');
    assert.equal(verified.code, 0, verified.stderr);
    // The database holds the same line as the command, for anyone writing to it by hand.
    const insert = (month: string, reference: string | null) => () =>
      withDatabase(centerDb, (db) =>
        db.run("INSERT INTO invoice_payments (month, operator_id, paid_on, amount_yen, reference, recorded_at) VALUES (:month, 'OP02', '2026-12-18', 85, :reference, '2027-03-05T01:00:00.000Z')", { month, reference }),
      );
    assert.throws(() => withDatabase(centerDb, (db) => db.run('UPDATE invoice_payments SET amount_yen = 1')), /payments are append-only/);
    assert.throws(() => withDatabase(centerDb, (db) => db.run('DELETE FROM invoice_payments')), /payments are append-only/);
    assert.throws(insert('2026-12', null), /a payment is recorded only against a confirmed month/);
    assert.throws(insert('2026-11', null), /UNIQUE/);
    assert.throws(insert('2026-11', ''), /CHECK/);
  });
});
