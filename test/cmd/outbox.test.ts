// Proves the completion notice survives the relay going away mid-transaction and a kiosk restart:
// the notice waits in the kiosk's outbox, is delivered once the relay is back, and the centre
// records it exactly once even when it arrives twice.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jstMonth } from '../../core/jst.ts';
import { formatMonth, parseMonth } from '../../core/handling-csv.ts';
import type { KioskInput } from '../../core/kiosk-transaction.ts';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { freshDeployment } from './deployment-fixture.ts';
import { cardFilePath, openKiosk } from '../../cmd/kiosk.ts';
import { startRelay } from '../../cmd/relay.ts';
import { listHandlingRecords } from '../../drivers/store/center-store.ts';
import { withDatabase } from '../../drivers/store/database.ts';

describe('completion notices through a relay outage and a kiosk restart', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: StartedCenter;
  const clock = offsetClock(nextBusinessMorning(Date.now()));

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-outbox-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    loaded = loadConfig(dir);
    center = await startCenter(loaded, { clock });
  });

  after(async () => {
    await center?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const centerRecords = () => withDatabase(loaded.resolve(loaded.config.center.databaseFile), listHandlingRecords);

  it('keeps the notice while the relay is down and delivers it once after a restart', async () => {
    const relay = await startRelay(loaded, { clock, centerUrl: center.server.url });
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: relay.server.url, clock });
    // The relay goes down after the certificate data arrived, while the resident pays.
    let relayStopped = false;
    const resident: KioskInput = {
      enterPin: async () => '1234',
      chooseCertificate: async () => ({ certificateType: 'juminhyo', copies: 1 }),
      nextCash: async () => {
        if (!relayStopped) {
          relayStopped = true;
          await relay.close();
        }
        return 1000;
      },
    };
    const result = await kiosk.serve(cardFilePath(loaded, 'card-r001'), resident);
    assert.equal(result.outcome, 'issued');
    assert.equal(kiosk.store.pendingNotices(10).length, 1);
    assert.equal(centerRecords().length, 0);
    await kiosk.close();

    const restartedRelay = await startRelay(loaded, { clock, centerUrl: center.server.url });
    const restartedKiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: restartedRelay.server.url, clock });
    try {
      assert.deepEqual(await restartedKiosk.flushOutbox(), { acknowledged: 1, pending: 0 });
      assert.deepEqual(await restartedKiosk.flushOutbox(), { acknowledged: 0, pending: 0 });
      assert.equal(centerRecords().length, 1);
      assert.equal(centerRecords()[0]!.issuanceId, result.outcome === 'issued' ? result.requestId : '');

      // The same notice again (an acknowledgement lost on the way back): still one record.
      withDatabase(loaded.resolve(restartedKiosk.config.databaseFile), (db) => db.run('UPDATE outbox SET acknowledged_at = NULL'));
      assert.deepEqual(await restartedKiosk.flushOutbox(), { acknowledged: 1, pending: 0 });
      assert.equal(centerRecords().length, 1);
    } finally {
      await restartedKiosk.close();
      await restartedRelay.close();
    }
  });

  it('delivers a notice whose month was confirmed meanwhile: the centre settles it as an adjustment, nothing stays in the outbox', async () => {
    const relay = await startRelay(loaded, { clock, centerUrl: center.server.url });
    const kiosk = openKiosk(loaded, { kioskId: 'K0002', relayUrl: relay.server.url, clock });
    let relayStopped = false;
    const resident: KioskInput = {
      enterPin: async () => '4321',
      chooseCertificate: async () => ({ certificateType: 'juminhyo', copies: 1 }),
      nextCash: async () => {
        if (!relayStopped) {
          relayStopped = true;
          await relay.close();
        }
        return 500;
      },
    };
    assert.equal((await kiosk.serve(cardFilePath(loaded, 'card-r004'), resident)).outcome, 'issued');
    await kiosk.close();
    const month = jstMonth(clock.nowMs());
    withDatabase(loaded.resolve(loaded.config.center.databaseFile), (db) =>
      db.run("INSERT INTO confirmed_months (month, confirmed_at, records, documents, fees_yen) VALUES (:month, '2026-12-09T00:00:00.000Z', 1, 1, 200)", { month }),
    );

    const restartedRelay = await startRelay(loaded, { clock, centerUrl: center.server.url });
    const restartedKiosk = openKiosk(loaded, { kioskId: 'K0002', relayUrl: restartedRelay.server.url, clock });
    try {
      assert.deepEqual(await restartedKiosk.flushOutbox(), { acknowledged: 1, pending: 0 });
      assert.deepEqual(restartedKiosk.store.rejectedNotices(), []);
      const lines = withDatabase(loaded.resolve(loaded.config.center.databaseFile), (db) => db.all<{ kind: string; original_month: string; settle_month: string }>('SELECT kind, original_month, settle_month FROM settlement_adjustments'));
      assert.deepEqual(lines.map((line) => ({ ...line })), [{ kind: 'late-notice', original_month: month, settle_month: formatMonth(parseMonth(month)! + 1) }]);
    } finally {
      await restartedKiosk.close();
      await restartedRelay.close();
    }
  });
});
