// Proves the three roles work end to end over real mutual TLS, and that the network shape holds:
// only registered kiosks reach the relay, and only a relay's certificate reaches the centre.
// Each test makes what it needs and tampers only with a copy: they pass in any order.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { jstParts } from '../../core/jst.ts';
import { createMutualTlsClient } from '../../drivers/http/client.ts';
import { callJson } from '../../drivers/http/json-api.ts';
import { createCertificateAuthority, issueCertificate } from '../../drivers/pki/issue.ts';
import { listHandlingRecords } from '../../drivers/store/center-store.ts';
import { openDatabase } from '../../drivers/store/database.ts';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { findRelay, loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';
import { openKiosk, runScriptedSessions } from '../../cmd/kiosk.ts';
import { startRelay, type StartedRelay } from '../../cmd/relay.ts';
import { main } from '../../cmd/cvs-issue.ts';
import { bufferIo } from '../../cmd/io.ts';
import { AuditLog, auditOrigin } from '../../drivers/store/audit-log.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { FolderPrinter } from '../../drivers/printer/folder-printer.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('centre, relay and kiosk over mutual TLS', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: StartedCenter;
  let relay: StartedRelay;
  const clock = offsetClock(nextBusinessMorning(Date.now()));
  let service: RunningService;

  before(async () => {
    service = await runningService('cvs-roles-', clock);
    ({ dir, loaded, center, relay } = service);
  });

  after(async () => {
    await service?.close();
  });

  /** Kiosk traffic through the relay (entries in its log), then the relay's heartbeat to the centre. */
  async function trafficThenHeartbeat(): Promise<void> {
    const kiosk = openKiosk(loaded, { kioskId: 'K0003', relayUrl: relay.server.url, clock });
    try {
      await kiosk.flushOutbox();
    } finally {
      await kiosk.close();
    }
    await relay.heartbeat();
  }

  /** A copy of the deployment as it is now, for tests that tamper with it (servers keep the original). */
  function copyOfDeployment(): { dir: string; loaded: LoadedConfig; remove(): void } {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-roles-copy-'));
    fs.cpSync(dir, copy, { recursive: true });
    return { dir: copy, loaded: loadConfig(copy), remove: () => fs.rmSync(copy, { recursive: true, force: true }) };
  }

  function clientWith(baseUrl: string, files: { caFile: string; certificateFile?: string; keyFile?: string }, pem?: { certificatePem: string; keyPem: string }) {
    return createMutualTlsClient({
      baseUrl,
      caPem: loaded.read(files.caFile),
      certificatePem: pem ? pem.certificatePem : files.certificateFile ? loaded.read(files.certificateFile) : '',
      keyPem: pem ? pem.keyPem : files.keyFile ? loaded.read(files.keyFile) : '',
      timeoutMs: 5000,
    });
  }

  /** A command of the program in process, with its exit code and output. */
  async function command(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const io = bufferIo();
    const code = await main(argv, io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }

  async function challengeThrough(client: ReturnType<typeof clientWith>, kioskId = 'K0001'): Promise<unknown> {
    try {
      return await callJson(client, '/v1/auth/challenge', { kioskId });
    } finally {
      await client.close();
    }
  }

  it('issues a certificate from card to completion notice, recorded once at the centre and at the relay', async () => {
    // K0001's store day is one of its own (a later business day), so no other test's sales are in it.
    const kioskClock = offsetClock(nextBusinessMorning(clock.nowMs() + 3 * DAY_MS));
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: relay.server.url, clock: kioskClock });
    let requestId: string;
    try {
      const [report] = await runScriptedSessions(kiosk, loaded, [
        { card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 2, cash: [1000] },
      ]);
      assert.equal(report!.result.outcome, 'issued');
      requestId = (report!.result as { requestId: string }).requestId;
      assert.equal((await kiosk.flushOutbox()).pending, 0);
      assert.ok(kiosk.printer instanceof FolderPrinter);
      const printed = kiosk.printer.printedFiles().filter((file) => path.basename(file).startsWith(requestId)).map((file) => path.basename(file).replace(/^[0-9a-f]+-/, ''));
      assert.deepEqual(printed.sort(), ['certificate-copy1.pdf', 'certificate-copy2.pdf', 'receipt.pdf']);
      // The store business day closes with the cash the unit kept, and the relay keeps it.
      const businessDate = jstParts(kioskClock.nowMs()).dateIso;
      assert.deepEqual(kiosk.closeDays(businessDate).map(({ closedAt, ...close }) => close).at(-1), { businessDate, cashYen: 400, transactions: 1, documents: 2 });
      await kiosk.flushOutbox();
      assert.deepEqual(kiosk.store.unacknowledgedDayCloses(), []);
      const storeDays = withDatabase(loaded.resolve(loaded.config.relays[0]!.databaseFile), (db) =>
        db.all('SELECT kiosk_id, store_id, business_date, cash_yen FROM store_days WHERE business_date = :businessDate', { businessDate }),
      );
      assert.deepEqual(storeDays, [{ kiosk_id: 'K0001', store_id: 'S0001', business_date: businessDate, cash_yen: 400 }]);
      // The kiosk's fetches of the public notices are counted, not written one by one.
      const relayEntries = withDatabase(loaded.resolve(loaded.config.relays[0]!.databaseFile), (db) =>
        db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries').map((row) => JSON.parse(new TextDecoder().decode(row.entry)) as { kind: string; data: { path?: string } }),
      );
      assert.ok(relayEntries.some((entry) => entry.kind === 'notices.read'));
      assert.equal(relayEntries.filter((entry) => entry.kind === 'request.forwarded' && entry.data.path === '/v1/notices').length, 0);
    } finally {
      await kiosk.close();
    }
    for (const file of [loaded.config.center.databaseFile, loaded.config.relays[0]!.databaseFile]) {
      const db = openDatabase(loaded.resolve(file));
      const records = listHandlingRecords(db).filter((record) => record.issuanceId === requestId);
      db.close();
      assert.equal(records.length, 1);
      assert.deepEqual({ ...records[0], issuanceId: 'x', issuedAt: 'x' }, {
        issuanceId: 'x', issuedAt: 'x', operatorId: 'OP01', storeId: 'S0001', kioskId: 'K0001',
        municipalityCode: '131016', certificateType: 'juminhyo', copies: 2, feeYen: 400,
      });
    }
  });

  it('serves three kiosks at once, each resident getting their own certificate', async () => {
    const sessions = [
      { kioskId: 'K0001', card: 'card-r002', certificateType: 'inkan' as const, pin: '2580' },
      { kioskId: 'K0002', card: 'card-r004', certificateType: 'juminhyo' as const, pin: '4321' },
      { kioskId: 'K0003', card: 'card-r003', certificateType: 'koseki-zenbu' as const, pin: '1111' },
    ];
    const kiosks = sessions.map((session) => openKiosk(loaded, { kioskId: session.kioskId, relayUrl: relay.server.url, clock }));
    try {
      const results = await Promise.all(
        sessions.map((session, index) =>
          runScriptedSessions(kiosks[index]!, loaded, [{ card: session.card, pins: [session.pin], certificateType: session.certificateType, copies: 1, cash: [1000] }]),
        ),
      );
      const issued = results.map(([report]) => report!.result);
      assert.deepEqual(issued.map((result) => result.outcome), ['issued', 'issued', 'issued']);
      const centre = withDatabase(loaded.resolve(loaded.config.center.databaseFile), listHandlingRecords);
      for (const [index, result] of issued.entries()) {
        const record = centre.find((candidate) => result.outcome === 'issued' && candidate.issuanceId === result.requestId);
        assert.equal(record?.kioskId, sessions[index]!.kioskId);
        assert.equal(record?.certificateType, sessions[index]!.certificateType);
      }
    } finally {
      await Promise.all(kiosks.map((kiosk) => kiosk.close()));
    }
  });

  it('sends a correction through the relay: both sides then count the corrected documents and fee', async () => {
    // Its own issuance of two copies, so the test needs no other to have run.
    const kiosk = openKiosk(loaded, { kioskId: 'K0002', relayUrl: relay.server.url, clock });
    let firstIssuance: string;
    try {
      const [report] = await runScriptedSessions(kiosk, loaded, [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 2, cash: [1000] }]);
      assert.equal(report!.result.outcome, 'issued');
      firstIssuance = (report!.result as { requestId: string }).requestId;
      assert.equal((await kiosk.flushOutbox()).pending, 0);
    } finally {
      await kiosk.close();
    }
    const correct = (...extra: string[]) => ['kiosk', 'correct', '--dir', dir, '--kiosk', 'K0002', '--relay-url', relay.server.url, '--issuance', firstIssuance, ...extra];
    // A correction lowers what the operator owes: no password, no correction, and an empty one is not a try.
    const withoutPassword = bufferIo();
    assert.equal(await main(correct('--copies', '1', '--reason', 'misprint-found'), withoutPassword), 2);
    assert.match(withoutPassword.stderr(), /give the maintenance password .*an empty one is not a try/);
    const wrongFile = path.join(dir, 'wrong-password.txt');
    fs.writeFileSync(wrongFile, 'not the password at all\n', { mode: 0o600 });
    const wrong = bufferIo();
    assert.equal(await main(correct('--copies', '1', '--reason', 'misprint-found', '--password-file', wrongFile), wrong), 1);
    assert.match(wrong.stderr(), /wrong maintenance password \(4 more tries/);
    const shared = path.join(dir, 'shared-password.txt');
    fs.copyFileSync(path.join(dir, 'pki', 'maintenance', 'K0002.txt'), shared);
    fs.chmodSync(shared, 0o644);
    const readable = bufferIo();
    assert.equal(await main(correct('--copies', '1', '--reason', 'misprint-found', '--password-file', shared), readable), 2);
    assert.match(readable.stderr(), /can be read by others: chmod 600 it/);
    const passwordFile = path.join(dir, 'pki', 'maintenance', 'K0002.txt');
    const io = bufferIo();
    const code = await main(correct('--copies', '1', '--reason', 'misprint-found', '--password-file', passwordFile, '--json'), io);
    assert.equal(code, 0, io.stderr());
    assert.deepEqual(JSON.parse(io.stdout()).sent, true);
    for (const file of [loaded.config.center.databaseFile, loaded.config.relays[0]!.databaseFile]) {
      const record = withDatabase(loaded.resolve(file), listHandlingRecords).find((candidate) => candidate.issuanceId === firstIssuance);
      assert.deepEqual({ copies: record?.copies, feeYen: record?.feeYen }, { copies: 1, feeYen: 200 });
    }
    const tooMany = bufferIo();
    assert.equal(await main(correct('--copies', '2', '--reason', 'copies-miscounted', '--password-file', passwordFile), tooMany), 2);
    assert.match(tooMany.stderr(), /fewer documents than the 2 issued/);
  });

  it('voids both serials of a transaction whose printer jams on copy 2 of 2, at the centre through the relay; `center serial` answers for each', async () => {
    const kiosk = openKiosk(loaded, { kioskId: 'K0003', relayUrl: relay.server.url, clock });
    let jammed: string;
    let issued: string;
    try {
      const [misprint, fine] = await runScriptedSessions(kiosk, loaded, [
        { card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 2, cash: [1000], printerJamOnCopy: 2 },
        { card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [1000] },
      ]);
      assert.equal(misprint!.result.outcome, 'refunded');
      jammed = (misprint!.result as { requestId: string }).requestId;
      assert.deepEqual((misprint!.result as { voidedSerials?: string[] }).voidedSerials, [`${jammed}-1`, `${jammed}-2`]);
      issued = (fine!.result as { requestId: string }).requestId;
      assert.equal((await kiosk.flushOutbox()).pending, 0);
      assert.ok(kiosk.printer instanceof FolderPrinter);
      const printed = kiosk.printer.printedFiles().map((file) => path.basename(file)).filter((file) => file.startsWith(jammed));
      assert.deepEqual(printed.sort(), [`${jammed}-certificate-copy1.pdf`, `${jammed}-void-notice.pdf`]);
    } finally {
      await kiosk.close();
    }
    const serial = async (value: string) => {
      const io = bufferIo();
      const code = await main(['center', 'serial', value, '--dir', dir, '--json'], io);
      return { code, answer: code === 2 ? io.stderr() : JSON.parse(io.stdout()) };
    };
    for (const copy of [1, 2]) {
      assert.deepEqual(await serial(`${jammed}-${copy}`), {
        code: 3,
        answer: { serial: `${jammed}-${copy}`, status: 'void', requestId: jammed, copy, copies: 2, kioskId: 'K0003', code: 'printer.jam', voidedAt: (await serial(`${jammed}-1`)).answer.voidedAt },
      });
    }
    assert.deepEqual(await serial(`${issued}-1`), { code: 0, answer: { serial: `${issued}-1`, status: 'issued', requestId: issued, copy: 1, copies: 1, kioskId: 'K0003' } });
    assert.deepEqual(await serial(`${issued}-2`), { code: 3, answer: { serial: `${issued}-2`, status: 'unknown' } });
    assert.deepEqual(await serial('no-serial-here'), { code: 2, answer: 'cvs-issue: SERIAL: "no-serial-here" is not a serial (<request id>-<copy>)\n' });
    const text = bufferIo();
    assert.equal(await main(['center', 'serial', `${jammed}-2`, '--dir', dir], text), 3);
    assert.match(text.stdout(), new RegExp(`^${jammed}-2: void 返金済・無効 after printer.jam at .*\\(copy 2 of 2, request ${jammed}, kiosk K0003\\)\n$`));
  });

  it('lets a registered kiosk reach the relay', async () => {
    const kiosk = loaded.config.kiosks[0]!;
    const answer = (await challengeThrough(clientWith(relay.server.url, kiosk.tls))) as { challengeId: string };
    assert.match(answer.challengeId, /^[0-9a-f]{32}$/);
  });

  it('refuses a kiosk with no client certificate at the TLS handshake', async () => {
    const kiosk = loaded.config.kiosks[0]!;
    // Told apart from a relay that is not there: the relay listens and refuses the handshake.
    await assert.rejects(challengeThrough(clientWith(relay.server.url, { caFile: kiosk.tls.caFile })), (error: unknown) =>
      error instanceof AppError && (error.code === 'transport.tls_refused' || error.code === 'transport.closed'),
    );
  });

  it('refuses a kiosk whose certificate comes from another CA', async () => {
    const now = Date.now();
    const foreignCa = createCertificateAuthority({ subject: { commonName: 'Foreign CA' }, validFrom: new Date(now - DAY_MS), validTo: new Date(now + DAY_MS) });
    const impostor = issueCertificate(foreignCa, {
      subject: { commonName: 'K0001', organizationalUnit: 'S0001', organization: 'OP01' },
      usage: 'client',
      validFrom: new Date(now - DAY_MS),
      validTo: new Date(now + DAY_MS),
    });
    const kiosk = loaded.config.kiosks[0]!;
    await assert.rejects(challengeThrough(clientWith(relay.server.url, { caFile: kiosk.tls.caFile }, impostor)), (error: unknown) =>
      error instanceof AppError && (error.code === 'transport.tls_refused' || error.code === 'transport.closed'),
    );
  });

  it("refuses another operator's kiosk at this operator's relay", async () => {
    const otherKiosk = loaded.config.kiosks.find((kiosk) => kiosk.operatorId === 'OP02')!;
    const files = { ...otherKiosk.tls, caFile: loaded.config.kiosks[0]!.tls.caFile };
    await assert.rejects(challengeThrough(clientWith(relay.server.url, files), otherKiosk.kioskId), (error: unknown) =>
      error instanceof AppError && error.kind === 'unavailable',
    );
  });

  it('refuses a kiosk certificate from the right CA that is not registered', async () => {
    const now = Date.now();
    const storeCa = {
      keyPem: loaded.read('pki/operators/OP01/store-ca.key.pem'),
      certificatePem: loaded.read('pki/operators/OP01/store-ca.cert.pem'),
    };
    const unregistered = issueCertificate(storeCa, {
      subject: { commonName: 'K9999', organizationalUnit: 'S0001', organization: 'OP01' },
      usage: 'client',
      validFrom: new Date(now - DAY_MS),
      validTo: new Date(now + DAY_MS),
    });
    const kiosk = loaded.config.kiosks[0]!;
    await assert.rejects(challengeThrough(clientWith(relay.server.url, { caFile: kiosk.tls.caFile }, unregistered), 'K9999'), (error: unknown) =>
      error instanceof AppError && error.code === 'relay.kiosk_unregistered',
    );
  });

  it('refuses a kiosk that tries to reach the centre directly', async () => {
    const kiosk = loaded.config.kiosks[0]!;
    const files = { ...kiosk.tls, caFile: loaded.config.center.tls.caFile };
    await assert.rejects(challengeThrough(clientWith(center.server.url, files)), (error: unknown) =>
      error instanceof AppError && error.kind === 'unavailable',
    );
  });

  it("refuses a relay that names another operator's kiosk, a kiosk in another store, or a kiosk nobody registered", async () => {
    const relayConfig = loaded.config.relays[0]!;
    const otherOperatorsKiosk = loaded.config.kiosks.find((kiosk) => kiosk.operatorId !== relayConfig.operatorId)!;
    assert.ok(otherOperatorsKiosk, 'the deployment has a second operator');
    const asRelay = clientWith(center.server.url, relayConfig.centerTls);
    const cases: [string, string, string, string][] = [
      [otherOperatorsKiosk.kioskId, otherOperatorsKiosk.storeId, '/v1/auth/challenge', 'center.kiosk_not_operators'],
      [otherOperatorsKiosk.kioskId, otherOperatorsKiosk.storeId, '/v1/notices', 'center.kiosk_not_operators'],
      ['K0001', 'S9999', '/v1/auth/challenge', 'center.kiosk_not_operators'],
      ['K9999', 'S0001', '/v1/auth/challenge', 'center.kiosk_unknown'],
    ];
    try {
      for (const [kioskId, storeId, route, code] of cases) {
        await assert.rejects(
          callJson(asRelay, route, { kioskId }, { 'x-cvs-store-id': storeId, 'x-cvs-kiosk-id': kioskId }),
          (error: unknown) => error instanceof AppError && error.code === code,
          `${route} for ${kioskId}/${storeId}`,
        );
      }
    } finally {
      await asRelay.close();
    }
  });

  it("accepts the relay's certificate at the centre and nothing else from the centre CA", async () => {
    const relayConfig = loaded.config.relays[0]!;
    const asRelay = clientWith(center.server.url, relayConfig.centerTls);
    try {
      const answer = await callJson<{ challengeId: string }>(asRelay, '/v1/auth/challenge', { kioskId: 'K0001' }, { 'x-cvs-store-id': 'S0001', 'x-cvs-kiosk-id': 'K0001' });
      assert.match(answer.challengeId, /^[0-9a-f]{32}$/);
    } finally {
      await asRelay.close();
    }
    const centerTls = loaded.config.center.tls;
    const now = Date.now();
    const centerCa = { keyPem: loaded.read('pki/center/ca.key.pem'), certificatePem: loaded.read(centerTls.caFile) };
    const notARelay = issueCertificate(centerCa, {
      subject: { commonName: 'someone', organization: 'OP01', organizationalUnit: 'operations' },
      usage: 'client',
      validFrom: new Date(now - DAY_MS),
      validTo: new Date(now + DAY_MS),
    });
    const client = createMutualTlsClient({ baseUrl: center.server.url, caPem: loaded.read(centerTls.caFile), ...notARelay, certificatePem: notARelay.certificatePem });
    try {
      await assert.rejects(
        callJson(client, '/v1/auth/challenge', { kioskId: 'K0001' }, { 'x-cvs-store-id': 'S0001', 'x-cvs-kiosk-id': 'K0001' }),
        (error: unknown) => error instanceof AppError && error.code === 'center.not_a_relay',
      );
    } finally {
      await client.close();
    }
  });

  it('serves a person at the terminal in Japanese: a mistyped card asks again, then card, a wrong PIN, the menu, cash; the end of input stops the kiosk', async () => {
    // The menu's first item, then its four options left at their defaults, then one copy.
    const typed = Readable.from(['card-r0O3\n', 'card-r003\n', '0000\n', '1111\n', '1\n', '\n', '\n', '\n', '\n', '1\n', '500\n', '\n']);
    const io = bufferIo(typed);
    const code = await main(['kiosk', 'run', '--dir', dir, '--kiosk', 'K0002', '--relay-url', relay.server.url], io);
    assert.equal(code, 0, io.stderr());
    assert.match(io.stdout(), /カードを読み取れませんでした。もう一度置いてください。\nカードを置いてください/);
    assert.match(io.stdout(), /暗証番号（数字4桁、残り3回、空欄で中止）> 暗証番号（数字4桁、残り2回/);
    assert.match(io.stdout(), /1\. 住民票の写し  200円\/通/);
    assert.match(io.stdout(), /世帯: 1\. 本人のみ（既定）  2\. 世帯全員\n世帯の番号（空欄で既定）> /);
    assert.match(io.stderr(), /暗証番号が違います。あと2回間違えるとロックされます。/);
    assert.match(io.stderr(), /\[K0002\] issued juminhyo ×1 \(200 yen, change 300 yen\)/);
  });

  it('announces a stop for one municipality: its residents are refused and the kiosk shows the notice', async () => {
    // The stop is announced for a later business morning, and served there by a centre and relay
    // of their own on the same databases: the other tests, at today's time, never meet it.
    const stopAtMs = nextBusinessMorning(clock.nowMs() + DAY_MS);
    const stopClock = offsetClock(stopAtMs);
    const announce = bufferIo();
    const code = await main(
      ['center', 'notice', '--dir', dir, '--kind', 'stop', '--municipality', '131016', '--from', new Date(stopAtMs - 60_000).toISOString(), '--to', new Date(stopAtMs + 10 * 60_000).toISOString(), '--message', '千代田区のコンビニ交付は臨時停止中です。'],
      announce,
    );
    assert.equal(code, 0, announce.stderr());
    const stopCenter = await startCenter(loaded, { clock: stopClock });
    const stopRelay = await startRelay(loaded, { clock: stopClock, centerUrl: stopCenter.server.url });
    const screen: string[] = [];
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: stopRelay.server.url, clock: stopClock, show: (text) => screen.push(text) });
    try {
      await kiosk.flushOutbox();
      const [report] = await runScriptedSessions(kiosk, loaded, [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [500] }]);
      assert.deepEqual(report!.result, { outcome: 'refused', code: 'municipality.stopped', wrongPins: 0 });
      assert.ok(screen.includes('【お知らせ】千代田区のコンビニ交付は臨時停止中です。'));
    } finally {
      await kiosk.close();
      await stopRelay.close();
      await stopCenter.close();
    }
    const badStop = bufferIo();
    assert.equal(await main(['center', 'notice', '--dir', dir, '--kind', 'stop', '--from', '2026-12-01T00:00:00Z', '--to', '2026-12-02T00:00:00Z', '--message', 'x'], badStop), 2);
    assert.match(badStop.stderr(), /a stop needs --municipality/);
  });

  it('shows a technician which kiosks reported in, what the relay witnessed and which day they closed', async () => {
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: relay.server.url, clock });
    try {
      kiosk.closeDays(jstParts(clock.nowMs()).dateIso);
      await kiosk.flushOutbox();
    } finally {
      await kiosk.close();
    }
    const io = bufferIo();
    assert.equal(await main(['relay', 'status', '--dir', dir, '--json'], io), 0, io.stderr());
    const status = JSON.parse(io.stdout()) as { operatorId: string; kiosks: { kioskId: string; lastSeenAt: string | null; witnessedSize: number | null; lastClosedDay: string | null }[] };
    const first = status.kiosks.find((kiosk) => kiosk.kioskId === 'K0001')!;
    assert.equal(status.operatorId, 'OP01');
    // Today's day, or a later one another test closed: never none.
    assert.ok(first.lastSeenAt !== null && (first.witnessedSize ?? 0) > 0 && first.lastClosedDay !== null && first.lastClosedDay >= jstParts(clock.nowMs()).dateIso);
    const audit = first as { witnessedAt?: string | null; witnessFailure?: string | null };
    assert.ok(audit.witnessedAt !== null && audit.witnessFailure === null, 'witnessed, and no failed witness check');
    assert.deepEqual(status.kiosks.map((kiosk) => kiosk.kioskId), ['K0001', 'K0002', 'K0003'], "only this operator's kiosks");
  });

  it("announces the operator's own notice to the centre first, then on its kiosks; maintenance inside the service hours only as an emergency (Spec§7-3, Spec§7-4)", async () => {
    const notice = (...flags: string[]) => command('relay', 'notice', '--dir', dir, '--center-url', center.server.url, '--message', '事業者システムの保守のため停止します', ...flags);
    const countIn = (file: string) => withDatabase(path.join(dir, file), (db) => db.get<{ n: number }>('SELECT COUNT(*) AS n FROM operator_notices')!.n);
    // 2027-01-12 is a Tuesday: 10:00–11:00 JST is inside the hours, 23:30–05:30 is not.
    const inside = await notice('--kind', 'maintenance', '--from', '2027-01-12T10:00:00+09:00', '--to', '2027-01-12T11:00:00+09:00');
    assert.equal(inside.code, 2);
    assert.match(inside.stderr, /outside the service hours \(06:30〜23:00 JST, Spec§7-3\): 2027-01-12T10:00:00\+09:00 is inside them; mark it --emergency/);
    const overnight = await notice('--kind', 'maintenance', '--from', '2027-01-12T23:30:00+09:00', '--to', '2027-01-13T05:30:00+09:00', '--json');
    assert.equal(overnight.code, 0, overnight.stderr);
    const urgent = await notice('--kind', 'maintenance', '--emergency', '--from', '2027-01-12T10:00:00+09:00', '--to', '2027-01-12T10:30:00+09:00');
    assert.equal(urgent.code, 0, urgent.stderr);
    // The centre not answering: nothing is shown, as J-LIS was not told.
    const io = bufferIo();
    assert.equal(await main(['relay', 'notice', '--dir', dir, '--center-url', 'https://127.0.0.1:9', '--kind', 'stop', '--from', '2027-01-14T10:00:00+09:00', '--to', '2027-01-14T12:00:00+09:00', '--message', '障害のため停止'], io), 1);
    assert.equal(countIn('center.db'), 2);
    assert.equal(countIn('relay.db'), 2);
    // The kiosks get both with the centre's notices.
    const kioskClient = clientWith(relay.server.url, loaded.config.kiosks[0]!.tls);
    try {
      const { notices } = await callJson<{ notices: { noticeId: string; message: string }[] }>(kioskClient, '/v1/notices', { kioskId: loaded.config.kiosks[0]!.kioskId });
      const announced = JSON.parse(overnight.stdout) as { noticeId: string };
      assert.ok(notices.some((shown) => shown.noticeId === announced.noticeId && shown.message === '事業者システムの保守のため停止します'));
      assert.equal(notices.filter((shown) => shown.message === '事業者システムの保守のため停止します').length, 2);
    } finally {
      await kioskClient.close();
    }
  });

  it('reports an accident to the centre at once and then how it stands, until resolved (C§15, Spec§11-3)', async () => {
    const incident = (...flags: string[]) => command('relay', 'incident', '--dir', dir, '--center-url', center.server.url, '--json', ...flags);
    const opened = await incident('--kind', 'printing', '--kiosk', 'K0001', '--request', 'REQ-1', '--summary', '印刷中の紙詰まりで証明書1通が排出されず、回収した');
    assert.equal(opened.code, 0, opened.stderr);
    const { incidentId } = JSON.parse(opened.stdout) as { incidentId: string };
    assert.equal((await incident('--incident', incidentId, '--summary', '用紙搬送部を交換した')).code, 0);
    const resolved = await incident('--incident', incidentId, '--resolved', '--summary', '原因を特定し、再発防止策を講じた');
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.deepEqual([(JSON.parse(resolved.stdout) as { sequence: number }).sequence, (JSON.parse(resolved.stdout) as { status: string }).status], [3, 'resolved']);
    const after = await incident('--incident', incidentId, '--summary', 'まだある');
    assert.equal(after.code, 2);
    assert.match(after.stderr, /was reported resolved/);
    assert.equal((await incident('--summary', '種類なし')).code, 2, 'a new incident needs --kind');
    const unanswered = await command('relay', 'incident', '--dir', dir, '--center-url', 'https://127.0.0.1:9', '--kind', 'unable', '--summary', '回線断');
    assert.equal(unanswered.code, 1);
    assert.match(unanswered.stderr, /waits in the relay and goes again, as it is, with the next "relay incident"\n$/);
    const listed = await command('center', 'incidents', '--dir', dir, '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const { incidents } = JSON.parse(listed.stdout) as { incidents: { incidentId: string; sequence: number; status: string; kioskId: string; requestId: string }[] };
    assert.deepEqual(incidents.map((shown) => [shown.incidentId, shown.sequence, shown.status, shown.kioskId, shown.requestId]), [[incidentId, 3, 'resolved', 'K0001', 'REQ-1']]);
    // The centre takes reports only in turn: the same again is a duplicate, another under its number a conflict.
    const relayClient = clientWith(center.server.url, findRelay(loaded).centerTls);
    try {
      const again = { incidentId, sequence: 3, kind: 'printing', status: 'resolved', occurredAt: '2026-12-01T00:00:00.000Z', kioskId: 'K0001', requestId: 'REQ-1', summary: '別の内容' };
      await assert.rejects(callJson(relayClient, '/v1/incidents', again), (error: unknown) => error instanceof AppError && error.code === 'incident.conflict');
      await assert.rejects(callJson(relayClient, '/v1/incidents', { ...again, sequence: 5, status: 'update' }), (error: unknown) => error instanceof AppError && error.code === 'incident.out_of_order');
      // A report whose answer was lost on the way back: the centre has it, the relay still holds it queued.
      const lost = { incidentId: 'f'.repeat(32), sequence: 1, operatorId: 'OP01', kind: 'issuance', status: 'open', occurredAt: '2026-12-01T00:00:00.000Z', kioskId: 'K0002', requestId: null, summary: '交付データの受信が遅延した' };
      const { operatorId: _operator, ...lostBody } = lost;
      await callJson(relayClient, '/v1/incidents', lostBody);
      withDatabase(loaded.resolve(findRelay(loaded).databaseFile), (db) => db.run("INSERT INTO incident_outbox (incident_id, sequence, report, created_at) VALUES (:id, 1, :report, '2026-12-01T00:00:01.000Z')", { id: lost.incidentId, report: JSON.stringify(lost) }));
    } finally {
      await relayClient.close();
    }
    // The next report sends what waits first, as it was: the unanswered one (new at the centre) and
    // the lost answer's (a duplicate there), then the update that follows it.
    const update = await incident('--incident', 'f'.repeat(32), '--summary', '回線を切り替えて復旧した');
    assert.equal(update.code, 0, update.stderr);
    assert.equal((JSON.parse(update.stdout) as { sequence: number }).sequence, 2);
    const { incidents: now } = JSON.parse((await command('center', 'incidents', '--dir', dir, '--json')).stdout) as { incidents: { incidentId: string; kind: string; sequence: number }[] };
    assert.deepEqual(now.map((shown) => [shown.kind, shown.sequence]).sort(), [['issuance', 2], ['printing', 3], ['unable', 1]]);
    assert.deepEqual(withDatabase(loaded.resolve(findRelay(loaded).databaseFile), (db) => db.all('SELECT incident_id FROM incident_outbox')), []);
  });

  it("writes the handover of an operator's contract (C§21): its records, the money owed both ways, what is still open", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-roles-handover-'));
    try {
      const io = bufferIo();
      assert.equal(await main(['center', 'handover', '--dir', dir, '--operator', 'OP01', '--out', path.join(out, 'OP01'), '--json'], io), 0, io.stderr());
      const handover = JSON.parse(io.stdout()) as { records: number; months: { month: string; documents: number; feesYen: number; commissionYen: number; amountDueYen: number; balanceYen: number }[]; owedToJlisYen: number; openItems: string[] };
      const csv = fs.readFileSync(path.join(out, 'OP01', 'records.csv'), 'utf8').trim().split('\n');
      assert.equal(csv.length - 1, handover.records);
      assert.ok(handover.records > 0 && csv.slice(1).every((line) => line.split(',')[2] === 'OP01'), 'only OP01\'s records');
      for (const month of handover.months) assert.equal(month.amountDueYen, month.feesYen - 115 * month.documents);
      assert.equal(handover.owedToJlisYen >= handover.months.reduce((sum, month) => sum + month.balanceYen, 0), true);
      assert.ok(handover.openItems.some((item) => /not confirmed by both parties/.test(item)));
      assert.equal(fs.statSync(path.join(out, 'OP01', 'handover.json')).mode & 0o777, 0o600);
      // Never over an earlier handover, and only for an operator of the deployment.
      assert.equal(await main(['center', 'handover', '--dir', dir, '--operator', 'OP01', '--out', path.join(out, 'OP01')], bufferIo()), 2);
      assert.equal(await main(['center', 'handover', '--dir', dir, '--operator', 'OP99', '--out', path.join(out, 'OP99')], bufferIo()), 2);
      fs.writeFileSync(path.join(out, 'a-file'), '');
      const onFile = await command('center', 'handover', '--dir', dir, '--operator', 'OP01', '--out', path.join(out, 'a-file'));
      assert.equal(onFile.code, 2);
      assert.match(onFile.stderr, /is a file; give a new folder/);
      assert.deepEqual(fs.readdirSync(out).sort(), ['OP01', 'a-file'], 'nothing half-written beside it');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it("passes a store's inquiry to the centre, which routes it to the municipality of the request, and brings the answer back (C§16, Spec§10)", async () => {
    const inquiry = (...flags: string[]) => command('relay', 'inquiry', '--dir', dir, '--center-url', center.server.url, '--json', ...flags);
    const request = withDatabase(path.join(dir, 'center.db'), (db) => db.get<{ request_id: string; municipality_code: string }>("SELECT request_id, municipality_code FROM requests WHERE operator_id = 'OP01' ORDER BY created_at_ms LIMIT 1"))!;
    const sent = await inquiry('--request', request.request_id, '--kiosk', 'K0001', '--summary', '住所の表記が違うとの申し出があった');
    assert.equal(sent.code, 0, sent.stderr);
    const { inquiryId, municipalityCode } = JSON.parse(sent.stdout) as { inquiryId: string; municipalityCode: string };
    assert.equal(municipalityCode, request.municipality_code);
    assert.equal((await inquiry('--serial', `${request.request_id}-1`, '--summary', '印字が薄いとの申し出')).code, 0, 'a printed serial names its request');
    assert.equal((await inquiry('--request', 'no-such-request', '--summary', '何か')).code, 2);
    assert.equal((await inquiry('--request', request.request_id, '--serial', `${request.request_id}-1`, '--summary', '両方')).code, 2);
    assert.equal((JSON.parse((await inquiry('--status', inquiryId)).stdout) as { status: string }).status, 'received');
    const answered = await command('center', 'answer-inquiry', '--dir', dir, '--inquiry', inquiryId, '--status', 'answered', '--note', '市から申出者へ説明済み');
    assert.equal(answered.code, 0, answered.stderr);
    const state = JSON.parse((await inquiry('--status', inquiryId)).stdout) as { status: string; answer: string };
    assert.deepEqual([state.status, state.answer], ['answered', '市から申出者へ説明済み']);
    const listed = JSON.parse((await command('center', 'inquiries', '--dir', dir, '--municipality', municipalityCode, '--json')).stdout) as { inquiries: { inquiryId: string }[] };
    assert.ok(listed.inquiries.some((shown) => shown.inquiryId === inquiryId));
    assert.equal((await command('center', 'answer-inquiry', '--dir', dir, '--inquiry', inquiryId, '--status', 'received', '--note', 'x')).code, 2, 'only forwarded, answered or closed');
  });

  it("catches a kiosk log rebuilt by hand with the kiosk's own key, through the relay's witnessed checkpoints", async () => {
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: relay.server.url, clock });
    kiosk.closeDays(jstParts(clock.nowMs()).dateIso); // an entry of its own (day.closed) …
    await kiosk.flushOutbox(); // … which the relay witnesses
    await kiosk.close();
    // On a copy of the whole deployment, so the other tests keep sound logs whatever their order.
    const copy = copyOfDeployment();
    const kioskConfig = copy.loaded.config.kiosks[0]!;
    const verifyKiosk = async () => {
      const io = bufferIo();
      const code = await main(['audit-log', 'verify', '--dir', copy.dir, '--kiosk', kioskConfig.kioskId], io);
      return { code, stderr: io.stderr() };
    };
    assert.equal((await verifyKiosk()).code, 0);
    withDatabase(copy.loaded.resolve(kioskConfig.databaseFile), (db) => {
      db.exec(FORGE_SQL);
      const forged = new AuditLog(db, { origin: auditOrigin('kiosk', kioskConfig.kioskId), privateKeyPem: copy.loaded.read(kioskConfig.auditKeyFile), clock });
      for (let index = 0; index < 30; index += 1) forged.append({ kind: 'card.read', data: { cardKind: 'my-number-card' } });
    });
    const result = await verifyKiosk();
    copy.remove();
    assert.equal(result.code, 3);
    assert.match(result.stderr, /relay OP01's log \(entry \d+\)/);
  });

  it("catches the centre's log cut back, entries and checkpoints, through the relays' cosignatures", async () => {
    // Entries in the centre's log of its own: each heartbeat after relay traffic makes a witness
    // record there, and the relay cosigns what it sees.
    for (let round = 0; round < 3; round += 1) await trafficThenHeartbeat();
    // On a copy of the whole deployment, so the tests after this one keep a sound centre.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-cut-'));
    fs.cpSync(dir, copy, { recursive: true });
    const copied = loadConfig(copy);
    const verifyCenter = async () => {
      const io = bufferIo();
      const code = await main(['audit-log', 'verify', '--dir', copy, '--role', 'center', '--json'], io);
      return { code, stdout: io.stdout(), stderr: io.stderr() };
    };
    const before = await verifyCenter();
    assert.equal(before.code, 0, before.stderr);
    const held = (JSON.parse(before.stdout) as { witnesses: { name: string; heldSize: number | null }[] }).witnesses[0]!;
    assert.equal(held.name, 'relay OP01');
    assert.ok((held.heldSize ?? 0) > 2, 'the relay cosigned the centre log');
    const keep = held.heldSize! - 2;
    withDatabase(copied.resolve(copied.config.center.databaseFile), (db) => {
      db.exec(['audit_entries', 'audit_checkpoints', 'audit_nodes', 'audit_cosignatures'].map((table) => `DROP TRIGGER ${table}_no_delete;`).join(' '));
      db.run('DELETE FROM audit_entries WHERE idx >= :keep', { keep });
      db.run('DELETE FROM audit_checkpoints WHERE size > :keep', { keep });
      db.run('DELETE FROM audit_cosignatures');
    });
    const after = await verifyCenter();
    assert.equal(after.code, 3, after.stdout);
    fs.rmSync(copy, { recursive: true, force: true });
    assert.match(after.stderr, new RegExp(`entry ${keep} is missing: relay OP01's log \\(entry \\d+\\) covers entries up to ${held.heldSize! - 1}`));
  });

  it("catches a relay log rebuilt with the relay's own key, through the centre's witnessed checkpoints", async () => {
    await trafficThenHeartbeat();
    const copy = copyOfDeployment();
    const relayConfig = copy.loaded.config.relays[0]!;
    const verifyRelay = async () => {
      const io = bufferIo();
      const code = await main(['audit-log', 'verify', '--dir', copy.dir, '--role', 'relay'], io);
      return { code, stderr: io.stderr() };
    };
    assert.equal((await verifyRelay()).code, 0);
    withDatabase(copy.loaded.resolve(relayConfig.databaseFile), (db) => {
      db.exec(FORGE_SQL);
      const forged = new AuditLog(db, { origin: auditOrigin('relay', relayConfig.operatorId), privateKeyPem: copy.loaded.read(relayConfig.auditKeyFile), clock });
      for (let index = 0; index < 80; index += 1) forged.append({ kind: 'request.forwarded', data: { kioskId: 'K0001', path: '/v1/completions', status: 200 } });
    });
    const result = await verifyRelay();
    copy.remove();
    assert.equal(result.code, 3);
    assert.match(result.stderr, /the centre's log \(entry \d+\)/);
  });


});

/** What an insider with the role's key does to start the log afresh: empty every audit table. */
const FORGE_SQL = ['audit_entries', 'audit_checkpoints', 'audit_nodes']
  .map((table) => `DROP TRIGGER ${table}_no_delete; DELETE FROM ${table};`)
  .join(' ');
