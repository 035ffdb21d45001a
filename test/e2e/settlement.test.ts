// Proves a month settles through the compiled binary alone (init, centre, relay and kiosk as
// processes, the two-party confirmation, payments recorded with `invoice pay`, the invoice read back)
// and that on copies of the same deployment the binary gives every exit code, stdout and stderr
// that Node gives.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DECEMBER_2, keepIssueTime, NOVEMBER_30, runAt } from '../cmd/settlement-fixture.ts';
import { BARE_ENVIRONMENT, binaryWorkspace, type BinaryWorkspace } from './binary-fixture.ts';

const MARCH_5 = '2027-03-05T10:00:00+09:00';

describe('settlement through the compiled binary', () => {
  let workspace: BinaryWorkspace;
  let work: string;
  const restoreIssueTime = keepIssueTime();
  const environment = (time: string) => ({ ...BARE_ENVIRONMENT, CVS_ISSUE_TIME: time });

  before(() => {
    workspace = binaryWorkspace('cvs-e2e-settlement-');
    work = workspace.work;
  });

  after(() => {
    workspace?.close();
    restoreIssueTime();
  });

  const runBinary = (time: string, ...args: string[]) => workspace.run(environment(time), ...args);
  /** Starts a role at `time` and resolves with the URL it prints once it listens. */
  const serve = (time: string, args: string[]) => workspace.serve(environment(time), args);
  const stop = (child: ChildProcess) => workspace.stop(child);

  it('issues and confirms November, records OP01\'s payments and reads the invoice back, as Node does', async () => {
    const dir = path.join(work, 'site');
    assert.equal(runBinary(NOVEMBER_30, 'init', '--dir', dir).code, 0);
    // 30 November: one ¥200 住民票の写し at K0001, through relay and centre.
    let center = await serve(NOVEMBER_30, ['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']);
    const relay = await serve(NOVEMBER_30, ['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', center.url]);
    const script = path.join(work, 'script.json');
    fs.writeFileSync(script, JSON.stringify({ sessions: [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'issued' }] }));
    const kiosk = runBinary(NOVEMBER_30, 'kiosk', 'run', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relay.url, '--script', script, '--json');
    assert.equal(kiosk.code, 0, kiosk.stderr);
    assert.equal(await stop(relay.child), 0);
    assert.equal(await stop(center.child), 0);
    // 2 December: the operator submits its reconciliation and the centre agrees.
    center = await serve(DECEMBER_2, ['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']);
    const confirmed = runBinary(DECEMBER_2, 'reconcile', '--dir', dir, '--month', '2026-11', '--confirm', '--center-url', center.url, '--json');
    assert.equal(confirmed.code, 0, confirmed.stdout + confirmed.stderr);
    assert.deepEqual([JSON.parse(confirmed.stdout).confirmed.operatorId, JSON.parse(confirmed.stdout).confirmed.feesYen], ['OP01', 200]);
    assert.equal(await stop(center.child), 0);

    // The same confirmed deployment twice: the binary settles one copy, Node the other.
    const nodeDir = path.join(work, 'site-node');
    fs.cpSync(dir, nodeDir, { recursive: true });
    const steps: string[][] = [
      ['invoice', 'pay', '--dir', '<dir>', '--operator', 'OP01', '--month', '2026-11', '--paid-on', '2026-12-18', '--amount', '50', '--reference', 'TRF-1', '--json'],
      ['invoice', 'pay', '--dir', '<dir>', '--operator', 'OP01', '--month', '2026-11', '--paid-on', '2026-12-18', '--amount', '50', '--reference', 'TRF-1'],
      ['invoice', 'pay', '--dir', '<dir>', '--operator', 'OP01', '--month', '2026-11', '--paid-on', '2027-03-01', '--amount', '36'],
      ['invoice', 'pay', '--dir', '<dir>', '--operator', 'OP01', '--month', '2026-11', '--paid-on', '2027-02-30', '--amount', '35'],
      ['invoice', 'pay', '--dir', '<dir>', '--operator', 'OP01', '--month', '2026-11', '--paid-on', '2027-03-01', '--amount', '35'],
      ['invoice', '--dir', '<dir>', '--month', '2026-11', '--operator', 'OP01', '--json'],
      ['invoice', '--dir', '<dir>', '--month', '2026-11', '--operator', 'OP01'],
      ['audit-log', 'verify', '--dir', '<dir>', '--role', 'center'],
    ];
    const answers: Array<{ code: number | null; stdout: string; stderr: string }> = [];
    for (const step of steps) {
      const fromBinary = runBinary(MARCH_5, ...step.map((arg) => (arg === '<dir>' ? dir : arg)));
      const fromNode = await runAt(MARCH_5, ...step.map((arg) => (arg === '<dir>' ? nodeDir : arg)));
      // The folders differ, and so do audit roots: each entry carries the time it was written.
      const plain = (text: string, folder: string) => text.replaceAll(folder, '<dir>').replace(/root [0-9a-f]{64}/g, 'root <hash>');
      const same = (answer: { code: number | null; stdout: string; stderr: string }, folder: string) => ({ code: answer.code, stdout: plain(answer.stdout, folder), stderr: plain(answer.stderr, folder) });
      assert.deepEqual(same(fromBinary, dir), same(fromNode, nodeDir), step.join(' '));
      answers.push(fromBinary);
    }
    assert.deepEqual(answers.map((answer) => answer.code), [0, 2, 2, 2, 0, 0, 0, 0]);
    assert.deepEqual(JSON.parse(answers[0]!.stdout), {
      invoiceNumber: 'CVS-202611-OP01',
      payment: { month: '2026-11', operatorId: 'OP01', paidOn: '2026-12-18', amountYen: 50, reference: 'TRF-1' },
      daysAfterPayBy: 0,
      amountDueYen: 85,
      receivedYen: 50,
      balanceYen: 35,
      status: 'owing',
      payBy: '2026-12-21',
    });
    assert.deepEqual([answers[1]!.stderr, answers[2]!.stderr, answers[3]!.stderr], [
      'cvs-issue: --reference TRF-1 is already recorded (¥50 paid on 2026-12-18): a transfer is recorded once\n',
      'cvs-issue: --amount 36 is more than the ¥35 still owing on the invoice of 2026-11 for OP01: an overpayment is not recorded\n',
      'cvs-issue: --paid-on "2027-02-30" is not a YYYY-MM-DD date\n',
    ]);
    // ¥35 paid 70 days late: 35 × 2.5% × 70 / 365 is under ¥100, so C§17 makes it ¥0.
    const invoice = JSON.parse(answers[5]!.stdout);
    assert.deepEqual(invoice.payments, {
      invoicedOn: '2026-12-15',
      payBy: '2026-12-21',
      amountDueYen: 85,
      receivedYen: 85,
      balanceYen: 0,
      status: 'paid',
      lines: [
        { operatorId: 'OP01', paidOn: '2026-12-18', amountYen: 50, reference: 'TRF-1' },
        { operatorId: 'OP01', paidOn: '2027-03-01', amountYen: 35, reference: null, lateInterest: { paidOn: '2027-03-01', daysLate: 70, ratePercent: 2.5, interestYen: 0 } },
      ],
      lateInterestYen: 0,
    });
  });
});
