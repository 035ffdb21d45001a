// Proves settlement on a real deployment (centre and relay over mutual TLS, kiosks with their
// outboxes): confirmation is refused early, for the future and on one side's word; a kiosk offline
// across the confirmation lands as an adjustment in the next month and both invoices add up; a
// request issued but never noticed is reported per kiosk; a record missing at the centre is
// supplied from the relay's record and then matches.

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
import { startRelay, type StartedRelay } from '../../cmd/relay.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { run } from './cli-fixture.ts';
import { DECEMBER_2, json, keepIssueTime, NOVEMBER_30, resident, runAt } from './settlement-fixture.ts';

describe('settlement on a real deployment', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: StartedCenter;
  let relay: StartedRelay;
  const restoreIssueTime = keepIssueTime();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-settlement-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    loaded = loadConfig(dir);
  });

  after(async () => {
    await relay?.close();
    await center?.close();
    restoreIssueTime();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('on 30 November: one notice arrives, one kiosk goes offline with its notice, one request is issued but never noticed', async () => {
    const clock = offsetClock(Date.parse(NOVEMBER_30));
    center = await startCenter(loaded, { clock });
    relay = await startRelay(loaded, { clock, centerUrl: center.server.url });
    const first = openKiosk(loaded, { kioskId: 'K0001', relayUrl: relay.server.url, clock });
    assert.equal((await first.serve(cardFilePath(loaded, 'card-r001'), resident('1234', 500))).outcome, 'issued');
    await first.close();
    // K0002 loses its relay while the resident pays: the notice waits in its outbox.
    const offline = openKiosk(loaded, { kioskId: 'K0002', relayUrl: relay.server.url, clock });
    assert.equal((await offline.serve(cardFilePath(loaded, 'card-r001'), resident('1234', 500, () => relay.close()))).outcome, 'issued');
    assert.equal(offline.store.pendingNotices(10).length, 1);
    await offline.close();
    relay = await startRelay(loaded, { clock, centerUrl: center.server.url });
    // K0003 prints, loses the relay, then loses its disk: the centre issued the data, no notice will come.
    const lost = openKiosk(loaded, { kioskId: 'K0003', relayUrl: relay.server.url, clock });
    assert.equal((await lost.serve(cardFilePath(loaded, 'card-r001'), resident('1234', 500, () => relay.close()))).outcome, 'issued');
    withDatabase(loaded.resolve(lost.config.databaseFile), (db) => db.run('DELETE FROM outbox'));
    await lost.close();
    relay = await startRelay(loaded, { clock, centerUrl: center.server.url });

    const report = json(await runAt(NOVEMBER_30, 'reconcile', '--dir', dir, '--month', '2026-11', '--json'), 3);
    assert.deepEqual(report.unnoticed.map((kiosk: { kioskId: string; requests: number }) => [kiosk.kioskId, kiosk.requests]), [['K0002', 1], ['K0003', 1]]);
    assert.deepEqual(report.differences.map((difference: { kind: string; kioskId?: string; ageHours?: number }) => [difference.kind, difference.kioskId, difference.ageHours]), [
      ['issued-unnoticed', 'K0002', 0],
      ['issued-unnoticed', 'K0003', 0],
    ]);
  });

  it('refuses confirmation early, for the future, and on one side\'s word, each with exit 2 and the reason', async () => {
    const lostRequest = withDatabase(loaded.resolve(loaded.config.center.databaseFile), (db) => db.get<{ request_id: string }>("SELECT request_id FROM requests WHERE kiosk_id = 'K0003'"))!.request_id;
    const kiosk = withDatabase(loaded.resolve(loaded.config.kiosks.find((entry) => entry.kioskId === 'K0003')!.databaseFile), (db) => db.get<{ issued_at: string; municipality_code: string; certificate_type: string; copies: number; fee_yen: number }>('SELECT * FROM transactions'))!;
    // The operator's relay kept the record after all (it arrived once the relay was back): supply it.
    withDatabase(loaded.resolve(loaded.config.relays[0]!.databaseFile), (db) =>
      db.run(
        `INSERT INTO handling_records (issuance_id, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen, received_at)
         VALUES (:id, :at, 'OP01', 'S0002', 'K0003', :code, :type, :copies, :fee, :at)`,
        { id: lostRequest, at: kiosk.issued_at, code: kiosk.municipality_code, type: kiosk.certificate_type, copies: kiosk.copies, fee: kiosk.fee_yen },
      ),
    );
    const forged = await runAt(NOVEMBER_30, 'relay', 'supply', '--dir', dir, '--issuance', 'not-issued', '--center-url', center.server.url);
    assert.equal(forged.code, 2);
    const supplied = json(await runAt(NOVEMBER_30, 'relay', 'supply', '--dir', dir, '--issuance', lostRequest, '--center-url', center.server.url, '--json'), 0);
    assert.deepEqual(supplied, { issuanceId: lostRequest, duplicate: false });

    const notEnded = await runAt(NOVEMBER_30, 'reconcile', '--dir', dir, '--month', '2026-11', '--confirm', '--center-url', center.server.url);
    assert.deepEqual([notEnded.code, notEnded.stderr.trim().split('\n').at(-1)], [2, 'cvs-issue: 2026-11 has not ended in JST: it can be confirmed from 2026-12-01 (Spec§4-3)']);
    const future = await runAt(NOVEMBER_30, 'center', 'confirm', '--dir', dir, '--month', '2031-01', '--operator', 'OP01');
    assert.deepEqual([future.code, future.stderr], [2, 'cvs-issue: 2031-01 is in the future: a month is confirmed after it has ended (Spec§4-3)\n']);
    const oneSide = await runAt(DECEMBER_2, 'center', 'confirm', '--dir', dir, '--month', '2026-11', '--operator', 'OP01');
    assert.deepEqual([oneSide.code, oneSide.stderr], [2, 'cvs-issue: operator OP01 has not submitted its reconciliation of 2026-11: a month is confirmed by both parties (Spec§4-3)\n']);
  });

  it('confirms November on 2 December, then the offline kiosk\'s notice lands as a December adjustment and both invoices add up', async () => {
    await relay.close();
    await center.close();
    const clock = offsetClock(Date.parse(DECEMBER_2));
    center = await startCenter(loaded, { clock });
    relay = await startRelay(loaded, { clock, centerUrl: center.server.url });
    // K0002 is still offline: its request shows as issued but unnoticed, which does not hold November back.
    const confirmed = json(await runAt(DECEMBER_2, 'reconcile', '--dir', dir, '--month', '2026-11', '--confirm', '--center-url', center.server.url, '--json'), 3);
    assert.deepEqual([confirmed.matched, confirmed.unnoticed.length, confirmed.confirmed.records, confirmed.confirmed.feesYen], [2, 1, 2, 400]);

    const restarted = openKiosk(loaded, { kioskId: 'K0002', relayUrl: relay.server.url, clock });
    assert.deepEqual(await restarted.flushOutbox(), { acknowledged: 1, pending: 0 });
    assert.deepEqual(restarted.store.rejectedNotices(), []);
    await restarted.close();

    const november = json(await runAt(DECEMBER_2, 'reconcile', '--dir', dir, '--month', '2026-11', '--json'), 0);
    assert.equal(november.matched, 3);
    const december = json(await runAt(DECEMBER_2, 'reconcile', '--dir', dir, '--month', '2026-12', '--json'), 0);
    assert.deepEqual(december.adjustments.map((line: { kind: string; originalMonth: string; settleMonth: string; kioskId: string; feeYen: number }) => [line.kind, line.originalMonth, line.settleMonth, line.kioskId, line.feeYen]), [['late-notice', '2026-11', '2026-12', 'K0002', 200]]);

    const novemberInvoice = json(await runAt(DECEMBER_2, 'invoice', '--dir', dir, '--month', '2026-11', '--operator', 'OP01', '--json'), 0);
    const decemberInvoice = json(await runAt(DECEMBER_2, 'invoice', '--dir', dir, '--month', '2026-12', '--operator', 'OP01', '--json'), 0);
    assert.deepEqual([novemberInvoice.documents, novemberInvoice.feesYen, novemberInvoice.amountDueYen], [2, 400, 170]);
    assert.deepEqual([decemberInvoice.documents, decemberInvoice.feesYen, decemberInvoice.amountDueYen, decemberInvoice.adjustments.amountDueYen], [1, 200, 85, 85]);
    assert.equal(novemberInvoice.amountDueYen + decemberInvoice.amountDueYen, 3 * 200 - 3 * 115);
    assert.deepEqual(novemberInvoice.parties, { issuer: { name: '地方公共団体情報システム機構' }, billTo: { operatorId: 'OP01', name: 'サンプルマート株式会社' } });
    assert.equal(novemberInvoice.municipalityNames['131016'], '東京都千代田区');
    for (const role of ['center', 'relay']) assert.equal((await run('audit-log', 'verify', '--dir', dir, '--role', role)).code, 0, role);
  });

  it('a correction of confirmed November from its kiosk lands as a December adjustment that takes the fee off; November still reconciles', async () => {
    const issuance = withDatabase(loaded.resolve(loaded.config.center.databaseFile), (db) =>
      db.get<{ issuance_id: string }>("SELECT issuance_id FROM handling_records WHERE kiosk_id = 'K0001' AND copies > 0"),
    )!.issuance_id;
    const before = json(await runAt(DECEMBER_2, 'invoice', '--dir', dir, '--month', '2026-12', '--operator', 'OP01', '--json'), 0);
    const corrected = json(
      await runAt(DECEMBER_2, 'kiosk', 'correct', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relay.server.url, '--issuance', issuance, '--copies', '0', '--reason', 'misprint-found', '--password-file', path.join(dir, 'pki', 'maintenance', 'K0001.txt'), '--json'),
      0,
    );
    assert.equal(corrected.sent, true, 'acknowledged, not left in the outbox');
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: relay.server.url, clock: offsetClock(Date.parse(DECEMBER_2)) });
    assert.deepEqual(kiosk.store.rejectedNotices(), []);
    await kiosk.close();

    const november = json(await runAt(DECEMBER_2, 'reconcile', '--dir', dir, '--month', '2026-11', '--json'), 0);
    assert.equal(november.matched, 3, 'both sides now count the corrected figures');
    const december = json(await runAt(DECEMBER_2, 'reconcile', '--dir', dir, '--month', '2026-12', '--json'), 0);
    assert.deepEqual(
      december.adjustments.map((line: { kind: string; issuanceId: string; originalMonth: string; copies: number; feeYen: number }) => [line.kind, line.originalMonth, line.copies, line.feeYen]),
      [['correction', '2026-11', -1, -200], ['late-notice', '2026-11', 1, 200]],
    );
    const novemberInvoice = json(await runAt(DECEMBER_2, 'invoice', '--dir', dir, '--month', '2026-11', '--operator', 'OP01', '--json'), 0);
    const decemberInvoice = json(await runAt(DECEMBER_2, 'invoice', '--dir', dir, '--month', '2026-12', '--operator', 'OP01', '--json'), 0);
    assert.deepEqual([novemberInvoice.documents, novemberInvoice.feesYen], [2, 400], 'the confirmed month is as agreed');
    assert.equal(decemberInvoice.amountDueYen, before.amountDueYen - (200 - 115));
    // Over both months: two documents really issued and paid for.
    assert.equal(novemberInvoice.amountDueYen + decemberInvoice.amountDueYen, 2 * 200 - 2 * 115);
    for (const role of ['center', 'relay']) assert.equal((await run('audit-log', 'verify', '--dir', dir, '--role', role)).code, 0, role);
  });
});
