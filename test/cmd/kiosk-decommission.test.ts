// Proves `kiosk decommission` (C§9-2, P5) on a running relay and centre: without --wipe or with a
// wrong password nothing changes; with both, the relay witnesses the kiosk's final entry and its
// relay log records the revocation (witnessed by the centre in turn), a real TLS connection with
// the kiosk's certificate is refused, and no file of the kiosk's storage or keys remains.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { findKiosk } from '../../cmd/config.ts';
import { main } from '../../cmd/cvs-issue.ts';
import { bufferIo } from '../../cmd/io.ts';
import { cardFilePath, openKiosk } from '../../cmd/kiosk.ts';
import { decodeAuditEntry } from '../../core/audit-entry.ts';
import { AppError } from '../../core/errors.ts';
import { createMutualTlsClient } from '../../drivers/http/client.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';

describe('kiosk decommission', () => {
  let service: RunningService;
  const kioskId = 'K0001';
  /** The kiosk's TLS material, read before the wipe: what a thief of the old disk would hold. */
  let credentials: { keyPem: string; certificatePem: string; caPem: string };
  let kioskFiles: string[];

  const cli = async (lines: string[], ...argv: string[]) => {
    const io = bufferIo(Readable.from(lines.map((line) => `${line}\n`)));
    const code = await main(argv, io, { clock: service.clock });
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };
  const decommission = (lines: string[], ...flags: string[]) => cli(lines, 'kiosk', 'decommission', '--dir', service.dir, '--kiosk', kioskId, '--relay-url', service.relay.server.url, ...flags);
  const relayDb = () => service.loaded.resolve(service.loaded.config.relays[0]!.databaseFile);
  const relayEntries = () => withDatabase(relayDb(), (db) => db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries ORDER BY idx').map((row) => decodeAuditEntry(new Uint8Array(row.entry))), { readonly: true });
  /** Every file under the deployment, relative. */
  const allFiles = (dir = service.dir): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? allFiles(path.join(dir, entry.name)) : [path.relative(service.dir, path.join(dir, entry.name))]));
  /** One request over a new mutual-TLS connection with a kiosk's certificate: its status, or the transport error. */
  const tlsAttempt = async (tls: { keyPem: string; certificatePem: string; caPem: string }) => {
    const client = createMutualTlsClient({ baseUrl: service.relay.server.url, ...tls, timeoutMs: 5_000 });
    try {
      return (await client.request('GET', '/')).status;
    } catch (error) {
      return error instanceof AppError ? error.code : String(error);
    } finally {
      await client.close();
    }
  };
  const tlsOf = (id: string) => {
    const config = findKiosk(service.loaded, id);
    return { keyPem: service.loaded.read(config.tls.keyFile), certificatePem: service.loaded.read(config.tls.certificateFile), caPem: service.loaded.read(config.tls.caFile) };
  };

  before(async () => {
    service = await runningService('cvs-decommission-');
    credentials = tlsOf(kioskId);
    // One issuance first: the kiosk then holds transactions, an outbox, a day and printed copies.
    const kiosk = openKiosk(service.loaded, { kioskId, relayUrl: service.relay.server.url, clock: service.clock });
    try {
      const result = await kiosk.serve(cardFilePath(service.loaded, 'card-r001'), {
        enterPin: async () => '1234',
        chooseCertificate: async () => ({ certificateType: 'juminhyo', copies: 1 }),
        nextCash: async () => 1000,
      });
      assert.equal(result.outcome, 'issued');
    } finally {
      await kiosk.close();
    }
    kioskFiles = allFiles().filter((file) => file.includes(kioskId));
  });

  after(async () => {
    await service?.close();
  });

  it('refuses without --wipe, and a wrong password, changing nothing', async () => {
    const without = await decommission([], '--password-file', service.loaded.resolve('pki/maintenance/K0001.txt'));
    assert.equal(without.code, 2);
    assert.match(without.stderr, /--wipe is required/);

    const wrong = await decommission(['not-the-password'], '--wipe');
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /wrong maintenance password/);
    const empty = await decommission([''], '--wipe');
    assert.equal(empty.code, 2, empty.stderr);

    assert.deepEqual(allFiles().filter((file) => file.includes(kioskId)), kioskFiles);
    assert.equal(await tlsAttempt(credentials), 404, 'the relay still takes the kiosk');
    assert.equal(relayEntries().filter((entry) => entry.kind === 'kiosk.revoked').length, 0);
  });

  it('has the relay witness the final entry and revoke the certificate, then erases every file of the kiosk', async () => {
    const done = await decommission([], '--wipe', '--json', '--password-file', service.loaded.resolve('pki/maintenance/K0001.txt'));
    assert.equal(done.code, 0, done.stderr);
    const report = JSON.parse(done.stdout) as { kioskId: string; witnessedSize: number; revokedSerialNumber: string; erased: string[] };
    assert.equal(report.kioskId, kioskId);
    assert.deepEqual([...report.erased].sort(), [...kioskFiles].sort());

    // No file of the kiosk's remains, under any name, and no copy of its private key anywhere.
    assert.deepEqual(allFiles().filter((file) => file.includes(kioskId)), []);
    const keyBody = credentials.keyPem.split('\n').slice(1, 3).join('\n');
    for (const file of allFiles()) assert.ok(!fs.readFileSync(path.join(service.dir, file), 'latin1').includes(keyBody), `${file} holds the kiosk's key`);
    assert.equal(service.loaded.config.kiosks.length > JSON.parse(fs.readFileSync(service.loaded.file, 'utf8')).kiosks.length, true, 'the kiosk left the deployment file');

    // The relay's own log records the revocation at the size it witnessed, ending with the kiosk's entry.
    const revoked = relayEntries().filter((entry) => entry.kind === 'kiosk.revoked');
    assert.deepEqual(revoked.map((entry) => entry.data), [{ kioskId, storeId: 'S0001', size: report.witnessedSize, serialNumber: report.revokedSerialNumber }]);
    const witnessed = withDatabase(relayDb(), (db) => db.get<{ size: number }>('SELECT MAX(size) AS size FROM witnessed_checkpoints WHERE kiosk_id = :kioskId', { kioskId }), { readonly: true });
    assert.equal(witnessed?.size, report.witnessedSize);
    // …and the centre witnesses the relay's log past that entry at the next heartbeat.
    await service.relay.heartbeat();
    const centerWitnessed = withDatabase(service.loaded.resolve(service.loaded.config.center.databaseFile), (db) => db.get<{ size: number }>("SELECT MAX(size) AS size FROM witnessed_relay_checkpoints WHERE operator_id = 'OP01'"), { readonly: true });
    assert.ok(centerWitnessed!.size > revoked[0]!.index, 'the centre witnessed the revocation entry');

    // A real TLS connection with the old certificate is closed before any request (transport.*),
    // or, where the runtime reuses a connection kept alive from before, answered 403; another
    // kiosk still gets in.
    assert.match(String(await tlsAttempt(credentials)), /^(transport\.|403$)/);
    assert.equal(await tlsAttempt(tlsOf('K0002')), 404);

    const verify = await cli([], 'audit-log', 'verify', '--dir', service.dir, '--role', 'relay');
    assert.equal(verify.code, 0, verify.stderr);
  });
});
