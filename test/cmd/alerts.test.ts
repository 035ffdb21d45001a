// Proves that faults travel (S4-7, S4-8; docs/alerts.md): a printer jam at a kiosk reaches the
// store register and the maintenance centre through a running relay, over mutual TLS, exactly once
// although the register fails the first attempt and the kiosk reports the fault twice; `relay
// status --json` shows it open until cleared; a kiosk silent too long is raised as down once, and
// its return as recovered; a low disk and a kiosk clock off from the relay's are reported once while
// they last; a fault waits in the kiosk's outbox through a relay outage and a restart.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCenter, type StartedCenter } from '../../cmd/center.ts';
import { alertEndpoints, clientFor, loadConfig, writeConfig, type LoadedConfig } from '../../cmd/config.ts';
import { HEARTBEAT_PATH } from '../../core/messages.ts';
import { callJson } from '../../drivers/http/json-api.ts';
import { checkpointOffer } from '../../drivers/store/audit-log.ts';
import { AppError } from '../../core/errors.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { cardFilePath, openKiosk, type Kiosk } from '../../cmd/kiosk.ts';
import { startRelay, type StartedRelay } from '../../cmd/relay.ts';
import { decodeAuditEntry } from '../../core/audit-entry.ts';
import type { Timers } from '../../core/ports.ts';
import { startMutualTlsServer, type RunningServer } from '../../drivers/http/server.ts';
import type { FolderPrinter } from '../../drivers/printer/folder-printer.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { bufferIo } from '../../cmd/io.ts';
import { main } from '../../cmd/cvs-issue.ts';
import { freshDeployment } from './deployment-fixture.ts';

interface Received {
  path: string;
  key: string;
  attempt: string;
  body: Record<string, unknown>;
  /** The relay's client certificate, as the endpoint verified it. */
  client: string;
}

describe('faults and outages reach the store register and the maintenance centre', () => {
  let dir: string;
  let loaded: LoadedConfig;
  let center: StartedCenter;
  let relay: StartedRelay;
  let endpoint: RunningServer;
  let kiosk: Kiosk;
  const received: Received[] = [];
  /** How the endpoint answers the next requests to a path; 200 when none is left. */
  const scripted: Record<string, number[]> = { '/pos/alerts': [503] };
  let skewMs = 0;
  const base = offsetClock(nextBusinessMorning(Date.now()));
  const clock = { nowMs: () => base.nowMs() + skewMs };
  // The loop runs when the test says (relay.alerts.run()), never on a timer of its own.
  const timers: Timers = { nowMs: clock.nowMs, set: () => undefined, clear: () => undefined };
  let faultId: string;
  let requestId: string;
  /** When the kiosk recorded the jam, as its fault outbox keeps it. */
  let occurredAt: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-alerts-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    // The endpoints' certificates come from the deployment's own CAs, as a chain's POS and
    // maintenance endpoints might: the fake endpoint serves a certificate of the operator's store
    // CA for 127.0.0.1 and asks for a client certificate of the centre CA, which the relay's own is.
    // No new RSA key is made (each costs ~0.3 s of CPU: test/rsa-keys.ts).
    const relayConfig = loadConfig(dir).config.relays[0]!;
    const pem = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
    endpoint = await startMutualTlsServer({
      host: '127.0.0.1',
      port: 0,
      keyPem: pem(relayConfig.kioskTls.keyFile),
      certificatePem: pem(relayConfig.kioskTls.certificateFile),
      clientCaPem: pem(relayConfig.centerTls.caFile),
      handler: async (request) => {
        const body = JSON.parse(new TextDecoder().decode(request.body)) as Record<string, unknown>;
        received.push({ path: request.path, key: request.headers['idempotency-key'] ?? '', attempt: request.headers['x-cvs-alert-attempt'] ?? '', body, client: request.peer.subject.CN ?? '' });
        const status = scripted[request.path]?.shift() ?? 200;
        return { status, headers: { 'content-type': 'application/json' }, body: '{}' };
      },
    });
    const config = loadConfig(dir).config;
    config.relays[0]!.alerts = {
      register: `${endpoint.url}/pos/alerts`,
      maintenance: `${endpoint.url}/maintenance/alerts`,
      caFile: relayConfig.kioskTls.caFile,
      certificateFile: relayConfig.centerTls.certificateFile,
      keyFile: relayConfig.centerTls.keyFile,
    };
    writeConfig(dir, config);
    loaded = loadConfig(dir);
    center = await startCenter(loaded, { clock });
    relay = await startRelay(loaded, { clock, timers, centerUrl: center.server.url });
    kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: relay.server.url, clock });
  });

  after(async () => {
    await kiosk?.close();
    await relay?.close();
    await center?.close();
    await endpoint?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const relayDb = () => loaded.resolve(loaded.config.relays[0]!.databaseFile);
  const relayKinds = (kind: string) => withDatabase(relayDb(), (db) => db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries ORDER BY idx').map((row) => decodeAuditEntry(new Uint8Array(row.entry))), { readonly: true }).filter((entry) => entry.kind === kind).map((entry) => entry.data);
  const cli = async (...argv: string[]) => {
    const io = bufferIo();
    const code = await main(argv, io, { clock });
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };

  it('delivers a printer jam once to each endpoint, retrying the register after its 503, and a second report of it changes nothing', async () => {
    (kiosk.printer as FolderPrinter).injectFaults({ jamOnPage: 1 });
    const result = await kiosk.serve(cardFilePath(loaded, 'card-r001'), {
      enterPin: async () => '1234',
      chooseCertificate: async () => ({ certificateType: 'juminhyo', copies: 1 }),
      nextCash: async () => 1000,
    });
    assert.equal(result.outcome, 'refunded');
    requestId = (result as { requestId: string }).requestId;
    const queued = withDatabase(loaded.resolve(kiosk.config.databaseFile), (db) => db.all<{ fault_id: string; created_at: string; acknowledged_at: string | null }>('SELECT fault_id, created_at, acknowledged_at FROM fault_outbox'), { readonly: true });
    assert.equal(queued.length, 1);
    assert.ok(queued[0]!.acknowledged_at, 'the relay took the fault in the flush after the transaction');
    faultId = queued[0]!.fault_id;
    occurredAt = queued[0]!.created_at;

    assert.deepEqual(await relay.alerts.run(), { delivered: 1, retrying: 1, failed: 0 });
    assert.deepEqual(await relay.alerts.run(), { delivered: 0, retrying: 0, failed: 0 }, 'the retry waits for its backoff');
    skewMs += 5_000;
    assert.deepEqual(await relay.alerts.run(), { delivered: 1, retrying: 0, failed: 0 });

    // The kiosk lost the relay's answer and reports the same fault again.
    withDatabase(loaded.resolve(kiosk.config.databaseFile), (db) => db.run('UPDATE fault_outbox SET acknowledged_at = NULL'));
    await kiosk.flushOutbox();
    assert.deepEqual(await relay.alerts.run(), { delivered: 0, retrying: 0, failed: 0 });
    // The same id with other content is refused for good, and leaves the kiosk's queue.
    withDatabase(loaded.resolve(kiosk.config.databaseFile), (db) => db.run("UPDATE fault_outbox SET acknowledged_at = NULL, report = replace(report, 'printer.jam', 'printer.paper_out')"));
    await kiosk.flushOutbox();
    assert.deepEqual(
      withDatabase(loaded.resolve(kiosk.config.databaseFile), (db) => db.all<{ last_error: string; rejected: number }>('SELECT last_error, rejected_at IS NOT NULL AS rejected FROM fault_outbox'), { readonly: true }),
      [{ last_error: 'fault.conflict', rejected: 1 }],
    );
    assert.deepEqual(await relay.alerts.run(), { delivered: 0, retrying: 0, failed: 0 });

    const alert = { alertId: faultId, kind: 'fault', operatorId: 'OP01', storeId: kiosk.config.storeId, kioskId: 'K0001', device: 'printer', code: 'printer.jam', requestId, occurredAt };
    assert.deepEqual(
      received.map(({ path: at, key, attempt, body, client }) => ({ at, key, attempt, body, client })).sort((a, b) => `${a.at}${a.attempt}`.localeCompare(`${b.at}${b.attempt}`)),
      [
        { at: '/maintenance/alerts', key: `${faultId}/maintenance`, attempt: '1', body: alert, client: 'relay.OP01' },
        { at: '/pos/alerts', key: `${faultId}/register`, attempt: '1', body: alert, client: 'relay.OP01' },
        { at: '/pos/alerts', key: `${faultId}/register`, attempt: '2', body: alert, client: 'relay.OP01' },
      ],
    );
    assert.deepEqual(relayKinds('fault.received').map((data) => data.duplicate), [false, true]);
    assert.deepEqual(
      relayKinds('alert.delivered').map((data) => [data.target, data.attempt, data.status]).sort(),
      [
        ['maintenance', 1, 200],
        ['register', 2, 200],
      ],
    );
    assert.deepEqual(relayKinds('alert.retrying'), [{ alertId: faultId, target: 'register', kioskId: 'K0001', attempt: 1, code: 'http.503' }]);
  });

  it('refuses an alerts configuration with a URL that is not HTTPS or half a client certificate, naming the field', () => {
    const relayConfig = loaded.config.relays[0]!;
    const withAlerts = (alerts: object) => ({ ...relayConfig, alerts: { ...relayConfig.alerts!, ...alerts } });
    const problem = (alerts: object) => {
      try {
        alertEndpoints(loaded, withAlerts(alerts), 60_000);
        return 'accepted';
      } catch (error) {
        return error instanceof AppError ? `${error.code} ${error.where?.replace(loaded.file, 'FILE')}` : 'not an AppError';
      }
    };
    assert.deepEqual(
      [problem({ register: 'http://pos.example/alerts' }), problem({ storeRegisters: { S0002: 'ftp://x' } }), problem({ keyFile: undefined }), problem({ downAfterMinutes: 0 }), problem({})],
      ['config.bad_alerts FILE: relays[OP01].alerts.register', 'config.bad_alerts FILE: relays[OP01].alerts.storeRegisters.S0002', 'config.bad_alerts FILE: relays[OP01].alerts.certificateFile', 'config.bad_alerts FILE: relays[OP01].alerts.downAfterMinutes', 'accepted'],
    );
  });

  it('shows the open fault and the failed witness check in relay status --json, the fault until it is cleared', async () => {
    // An offer of K0001's checkpoint with its root changed, over K0001's own certificate: refused.
    const forger = clientFor(loaded, kiosk.config.tls, relay.server.url, 5_000);
    try {
      const lines = withDatabase(loaded.resolve(kiosk.config.databaseFile), (db) => checkpointOffer(db, 0)!.checkpointNote, { readonly: true }).split('\n');
      lines[2] = Buffer.alloc(32, 7).toString('base64');
      await assert.rejects(callJson(forger, HEARTBEAT_PATH, { kioskId: 'K0001', checkpointNote: lines.join('\n'), fromSize: 0, consistencyProof: [] }), AppError);
    } finally {
      await forger.close();
    }
    const status = await cli('relay', 'status', '--dir', dir, '--json');
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { kiosks: { kioskId: string; openFaults: unknown[]; witnessFailures: number; witnessFailure: string | null }[]; alerts: unknown };
    const row = parsed.kiosks.find((candidate) => candidate.kioskId === 'K0001')!;
    assert.deepEqual(
      { openFaults: row.openFaults, witnessFailures: row.witnessFailures, witnessFailed: row.witnessFailure !== null, alerts: parsed.alerts },
      { openFaults: [{ faultId, device: 'printer', code: 'printer.jam', requestId, occurredAt }], witnessFailures: 1, witnessFailed: true, alerts: { pending: 0, failed: 0 } },
    );
    const text = await cli('relay', 'status', '--dir', dir);
    assert.match(text.stdout, /printer\.jam/);
    assert.match(text.stdout, /alerts: 0 waiting for delivery, 0 given up/);

    const cleared = await cli('relay', 'clear-faults', '--dir', dir, '--kiosk', 'K0001');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(cleared.stdout, '1 open fault(s) of kiosk K0001 cleared\n');
    const after = JSON.parse((await cli('relay', 'status', '--dir', dir, '--json')).stdout) as { kiosks: { kioskId: string; openFaults: unknown[] }[] };
    assert.deepEqual(after.kiosks.find((candidate) => candidate.kioskId === 'K0001')!.openFaults, []);
    assert.equal((await cli('relay', 'clear-faults', '--dir', dir, '--kiosk', 'K9999')).code, 2);
  });

  it('raises a kiosk silent past the bound as down once, to maintenance only, and its return as recovered', async () => {
    const before = received.length;
    skewMs += 16 * 60_000;
    await relay.alerts.run();
    await relay.alerts.run();
    const down = received.slice(before);
    // Only K0001 was ever heard from: the deployment's other kiosks are not installed, not down.
    assert.deepEqual(
      down.map(({ path: at, body }) => [at, body.kind, body.kioskId]),
      [['/maintenance/alerts', 'kiosk.down', 'K0001']],
    );
    assert.match(down[0]!.key, /^down-K0001-\d+\/maintenance$/);

    await kiosk.flushOutbox();
    await relay.alerts.run();
    await relay.alerts.run();
    assert.deepEqual(
      received.slice(before + 1).map(({ path: at, body }) => [at, body.kind, body.kioskId]),
      [['/maintenance/alerts', 'kiosk.recovered', 'K0001']],
    );
    assert.deepEqual(relayKinds('kiosk.down'), [{ kioskId: 'K0001', storeId: kiosk.config.storeId }]);
    assert.deepEqual(relayKinds('kiosk.recovered'), [{ kioskId: 'K0001', storeId: kiosk.config.storeId }]);
  });

  it('reports a disk low on space and a kiosk clock off from the relay\'s once each while it lasts, across restarts, and again after it cleared', async () => {
    let freeBytes = 10 * 1024 * 1024;
    let kioskSkewMs = 5 * 60_000;
    const open = () => openKiosk(loaded, { kioskId: 'K0003', relayUrl: relay.server.url, clock: { nowMs: () => clock.nowMs() + kioskSkewMs }, drivers: { freeDiskBytes: () => freeBytes } });
    let watched = open();
    const kioskDb = loaded.resolve(watched.config.databaseFile);
    const reported = () =>
      withDatabase(kioskDb, (db) => db.all<{ report: string }>('SELECT report FROM fault_outbox ORDER BY created_at, fault_id'), { readonly: true }).map((row) => (JSON.parse(row.report) as { code: string }).code).sort();
    try {
      await watched.flushOutbox();
      assert.deepEqual(reported(), ['clock.skew', 'disk.low_space']);
      // The clock fault was found at the flush's heartbeat and still went in the same flush (a
      // decommission, which needs the outbox empty after one flush, relies on it).
      assert.deepEqual(watched.store.pendingFaults(10), []);
      await watched.flushOutbox();
      // A restart (or a technician command opening the kiosk) remembers what was reported.
      await watched.close();
      watched = open();
      await watched.flushOutbox();
      assert.deepEqual(reported(), ['clock.skew', 'disk.low_space'], 'nothing new after a restart while both still fail');
      freeBytes = 10 * 1024 * 1024 * 1024;
      kioskSkewMs = 0;
      await watched.flushOutbox();
      assert.deepEqual(reported(), ['clock.skew', 'disk.low_space'], 'nothing new while both are fine');
      freeBytes = 1024;
      kioskSkewMs = -3 * 60_000;
      await watched.flushOutbox();
      assert.deepEqual(reported(), ['clock.skew', 'clock.skew', 'disk.low_space', 'disk.low_space']);
      assert.deepEqual(watched.store.pendingFaults(10), [], 'each went to the relay');
    } finally {
      await watched.close();
    }
    // And on from the relay, as any fault: both endpoints hear of each.
    const before = received.length;
    await relay.alerts.run();
    const delivered = received.slice(before).filter(({ body }) => body.kioskId === 'K0003').map(({ path: at, body }) => `${at} ${String(body.code)}`).sort();
    assert.deepEqual(delivered, ['/maintenance/alerts clock.skew', '/maintenance/alerts clock.skew', '/maintenance/alerts disk.low_space', '/maintenance/alerts disk.low_space', '/pos/alerts clock.skew', '/pos/alerts clock.skew', '/pos/alerts disk.low_space', '/pos/alerts disk.low_space']);
  });

  it('keeps a fault in the kiosk outbox while the relay is unreachable and across a kiosk restart, then delivers it', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const offline = openKiosk(loaded, { kioskId: 'K0002', relayUrl: `https://127.0.0.1:${closedPort}`, clock });
    try {
      offline.store.recordFault({ faultId: 'fa'.repeat(16), kioskId: 'K0002', code: 'cash.fault', atMs: clock.nowMs() });
      await offline.flushOutbox();
      assert.deepEqual(offline.store.pendingFaults(10).map((report) => [report.faultId, report.code]), [['fa'.repeat(16), 'cash.fault']]);
    } finally {
      await offline.close();
    }
    const before = received.length;
    const restarted = openKiosk(loaded, { kioskId: 'K0002', relayUrl: relay.server.url, clock });
    try {
      await restarted.flushOutbox();
      assert.deepEqual(restarted.store.pendingFaults(10), []);
    } finally {
      await restarted.close();
    }
    await relay.alerts.run();
    assert.deepEqual(
      received.slice(before).map(({ path: at, key, body }) => [at, key, body.code, body.kioskId]).sort(),
      [
        ['/maintenance/alerts', `${'fa'.repeat(16)}/maintenance`, 'cash.fault', 'K0002'],
        ['/pos/alerts', `${'fa'.repeat(16)}/register`, 'cash.fault', 'K0002'],
      ],
    );
  });
});
