// Proves `kiosk run --pcsc` issues a certificate end to end through a real pcscd: the resident's
// card file sits in vsmartcard's virtual reader (test/pcsc.ts), the kiosk reads and signs with it
// over PC/SC, and the centre records the issuance; a wrong PIN on the real reader counts down in
// the card file like the simulated one, and a kiosk with no card on the reader is refused.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCardFile } from '../../drivers/card/card-file.ts';
import { listHandlingRecords } from '../../drivers/store/center-store.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { main } from '../../cmd/cvs-issue.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { runInit } from '../../cmd/init.ts';
import { bufferIo } from '../../cmd/io.ts';
import { cardFilePath } from '../../cmd/kiosk.ts';
import { startRelay, type StartedRelay } from '../../cmd/relay.ts';
import { insertCard, pcscMissing, startPcsc, type PcscStack } from '../pcsc.ts';

describe('kiosk run --pcsc through pcscd and vpcd', { skip: pcscMissing }, () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: StartedCenter;
  let relay: StartedRelay;
  let stack: PcscStack;
  const clock = offsetClock(nextBusinessMorning(Date.now()));

  before(async () => {
    stack = await startPcsc();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-kiosk-pcsc-'));
    runInit({ dir, centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' }, Date.now());
    loaded = loadConfig(dir);
    center = await startCenter(loaded, { clock });
    relay = await startRelay(loaded, { clock, centerUrl: center.server.url });
  });

  after(async () => {
    await relay?.close();
    await center?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function script(name: string, sessions: unknown[]): string {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ sessions }));
    return file;
  }

  async function runKiosk(kioskId: string, scriptFile: string, reader = stack.readerName) {
    const io = bufferIo();
    const code = await main(['kiosk', 'run', '--dir', dir, '--kiosk', kioskId, '--relay-url', relay.server.url, '--pcsc', reader, '--script', scriptFile, '--json'], io, { clock });
    return { code, io };
  }

  it('issues a certificate read and signed over PC/SC, recorded once at the centre', async () => {
    const card = await insertCard(stack, cardFilePath(loaded, 'card-r001'));
    let report: { sessions: { card: string; result: { outcome: string; requestId?: string; feeYen?: number } }[]; outboxPending: number };
    try {
      const { code, io } = await runKiosk('K0001', script('issue', [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [1000], expect: 'issued' }]));
      assert.equal(code, 0, io.stderr());
      report = JSON.parse(io.stdout());
    } finally {
      await card.remove();
    }
    const [session] = report.sessions;
    assert.equal(session!.result.outcome, 'issued');
    assert.equal(session!.result.feeYen, 200);
    assert.equal(report.outboxPending, 0);
    const records = withDatabase(loaded.resolve(loaded.config.center.databaseFile), (db) => listHandlingRecords(db)).filter(
      (record) => record.issuanceId === session!.result.requestId,
    );
    assert.deepEqual(records.map(({ kioskId, certificateType, copies, feeYen }) => ({ kioskId, certificateType, copies, feeYen })), [
      { kioskId: 'K0001', certificateType: 'juminhyo', copies: 1, feeYen: 200 },
    ]);
  });

  it('counts a wrong PIN down in the card file, then refuses a card that is not on the reader', async () => {
    const cardFile = cardFilePath(loaded, 'card-r003');
    const card = await insertCard(stack, cardFile);
    try {
      // One wrong PIN, then the resident gives up: cancelled, with two tries left on the card.
      const { code, io } = await runKiosk('K0002', script('wrong-pin', [{ card: 'card-r003', pins: ['0000'], cash: [], expect: 'cancelled' }]));
      assert.equal(code, 0, io.stderr());
      assert.equal(JSON.parse(io.stdout()).sessions[0].result.wrongPins, 1);
      assert.equal(readCardFile(cardFile).pinTriesLeft, 2);
    } finally {
      await card.remove();
    }
    const { code, io } = await runKiosk('K0002', script('no-card', [{ card: 'card-r003', pins: ['1111'], cash: [], expect: 'refused' }]));
    assert.equal(code, 0, io.stderr());
    assert.equal(JSON.parse(io.stdout()).sessions[0].result.code, 'card.absent');
  });

  it('refuses the session, naming the missing reader, when the named reader is not there', async () => {
    const { code, io } = await runKiosk('K0002', script('no-reader', [{ card: 'card-r003', pins: ['1111'], cash: [], expect: 'refused' }]), 'No Such Reader 00 00');
    assert.equal(code, 0, io.stderr());
    assert.equal(JSON.parse(io.stdout()).sessions[0].result.code, 'card.reader_missing');
  });
});
