// Proves finding 7 of the audit log: an event written while the relay is away (a failed maintenance
// login) is offered to the witness at the first chance, not on a later heartbeat, so its tail cannot
// be cut away unseen. With the relay up, the command itself has it witnessed before it ends.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { logSize } from '../../drivers/store/audit-log.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { witnessedCheckpoints } from '../../drivers/store/relay-store.ts';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { main } from '../../cmd/cvs-issue.ts';
import { freshDeployment } from './deployment-fixture.ts';
import { bufferIo } from '../../cmd/io.ts';
import { openKiosk, unlockMaintenance } from '../../cmd/kiosk.ts';
import { startRelay, type StartedRelay } from '../../cmd/relay.ts';
import { systemClock } from '../../cmd/deps.ts';

describe('offline audit events reach the witness at the first chance', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: StartedCenter;
  let relay: StartedRelay | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-offers-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    loaded = loadConfig(dir);
    center = await startCenter(loaded, {});
    relay = await startRelay(loaded, { centerUrl: center.server.url });
  });
  after(async () => {
    await relay?.close();
    await center?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const kioskLogSize = (kioskId: string) => withDatabase(loaded.resolve(loaded.config.kiosks.find((kiosk) => kiosk.kioskId === kioskId)!.databaseFile), logSize);
  const witnessedSize = (kioskId: string) =>
    withDatabase(loaded.resolve(loaded.config.relays[0]!.databaseFile), (db) => Math.max(0, ...witnessedCheckpoints(db, kioskId).map((checkpoint) => checkpoint.size)));

  it('a refused maintenance login is witnessed before the command exits', async () => {
    const io = bufferIo(Readable.from(['not-the-password\n']));
    const code = await main(['kiosk', 'maintenance', '--dir', dir, '--kiosk', 'K0002', '--relay-url', relay!.server.url], io);
    assert.notEqual(code, 0);
    assert.match(io.stderr(), /wrong maintenance password/);
    assert.ok(kioskLogSize('K0002') > 0);
    assert.equal(witnessedSize('K0002'), kioskLogSize('K0002'), 'the relay holds the checkpoint that covers the refused login');
  });

  it('an event written while the relay is down is offered as soon as the relay is back', async () => {
    const address = new URL(relay!.server.url);
    await relay!.close();
    relay = undefined;
    const kiosk = openKiosk(loaded, { kioskId: 'K0003', relayUrl: address.href });
    try {
      await assert.rejects(unlockMaintenance(kiosk, 'wrong', systemClock), (error: unknown) => error instanceof AppError && error.code === 'maintenance.rejected');
      const offlineSize = kioskLogSize('K0003');
      assert.equal(witnessedSize('K0003'), 0);
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // the first offers find nobody
      relay = await startRelay(loaded, { centerUrl: center.server.url, listen: `${address.hostname}:${address.port}` });
      // No heartbeat, no new transaction: only the retry can bring it (back-off ≤ 4 s by now).
      for (let waited = 0; witnessedSize('K0003') < offlineSize && waited < 30_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(witnessedSize('K0003') >= offlineSize, 'the offline entry was offered once the relay came back');
    } finally {
      await kiosk.close();
    }
  });

  it('a kiosk killed before it saved the relay\'s answer proves again from what the relay holds, without a witness failure', async () => {
    const kioskFile = loaded.resolve(loaded.config.kiosks.find((kiosk) => kiosk.kioskId === 'K0002')!.databaseFile);
    const witnessedBefore = witnessedSize('K0002');
    assert.ok(witnessedBefore > 0);
    // As if the process died between the relay's 200 and the INSERT that records it.
    withDatabase(kioskFile, (db) => db.run('DELETE FROM audit_witnessed WHERE size = (SELECT MAX(size) FROM audit_witnessed)'));
    const io = bufferIo(Readable.from(['still-not-the-password\n']));
    assert.notEqual(await main(['kiosk', 'maintenance', '--dir', dir, '--kiosk', 'K0002', '--relay-url', relay!.server.url], io), 0);
    for (let waited = 0; witnessedSize('K0002') < kioskLogSize('K0002') && waited < 10_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(witnessedSize('K0002'), kioskLogSize('K0002'));
    const statusIo = bufferIo();
    assert.equal(await main(['relay', 'status', '--dir', dir, '--json'], statusIo), 0, statusIo.stderr());
    const status = JSON.parse(statusIo.stdout()) as { kiosks: { kioskId: string; witnessFailure: string | null }[] };
    assert.equal(status.kiosks.find((kiosk) => kiosk.kioskId === 'K0002')!.witnessFailure, null);
  });

  it('the offline tail, once witnessed, cannot be cut away: not even with the relay\'s witness rows deleted, and no key', async () => {
    const kioskFile = loaded.resolve(loaded.config.kiosks.find((kiosk) => kiosk.kioskId === 'K0003')!.databaseFile);
    const verifyKiosk = async () => {
      const io = bufferIo();
      return { code: await main(['audit-log', 'verify', '--dir', dir, '--kiosk', 'K0003'], io), text: io.stdout() + io.stderr() };
    };
    assert.equal((await verifyKiosk()).code, 0);
    const size = kioskLogSize('K0003');
    const keep = size - 1; // the refused login written while the relay was down goes
    withDatabase(kioskFile, (db) => {
      db.exec(['audit_entries', 'audit_checkpoints', 'audit_nodes'].map((table) => `DROP TRIGGER ${table}_no_delete;`).join(' '));
      db.run('DELETE FROM audit_entries WHERE idx >= :keep', { keep });
      db.run('DELETE FROM audit_checkpoints WHERE size > :keep', { keep });
    });
    await relay!.close();
    relay = undefined;
    withDatabase(loaded.resolve(loaded.config.relays[0]!.databaseFile), (db) => {
      db.exec('DROP TRIGGER witnessed_checkpoints_no_delete;');
      db.run("DELETE FROM witnessed_checkpoints WHERE kiosk_id = 'K0003' AND size > :keep", { keep });
    });
    const result = await verifyKiosk();
    assert.equal(result.code, 3, result.text);
    assert.match(result.text, /missing|rolled back|witness/);
  });
});
