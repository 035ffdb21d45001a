// Proves Spec§14 / S4-2 and C§9-2 / P5 on one running relay and centre.
//
// Spec§14 / S4-2: nothing of a certificate stays on the kiosk. After a print, a misprint
// (jam: refund and void slip), a cancel at the cash screen and a SIGKILL in the middle of printing,
// every file the kiosk owns (database, WAL, SHM, journal, the print spool and slips, the TMPDIR of
// the killed process) is scanned at every step for the certificate's bytes (base64 and decoded)
// and the resident's name, reading, address and 本籍 (UTF-8 and UTF-16BE), and none is found.
//
// "A crash at each step" without a process per step: the killed kiosk waits at every step while
// the test scans the disk. SIGKILL runs no code in the process, so what the files hold at a step is
// what a kill at that step would leave; the test then kills it for real in the middle of printing,
// scans again, and starts the kiosk again (`kiosk run`), which erases what a kill inside a print
// job (between writing the spool file and renaming it) would leave.
//
// C§9-2 / P5, `kiosk decommission`: without --wipe or with a wrong password nothing changes; with
// both, the relay witnesses the kiosk's final entry and its relay log records the revocation
// (witnessed by the centre in turn), a real TLS connection with the kiosk's certificate is refused,
// and no file of the kiosk's storage or keys remains.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { findKiosk } from '../../cmd/config.ts';
import { main } from '../../cmd/cvs-issue.ts';
import { bufferIo } from '../../cmd/io.ts';
import { cardFilePath, openKiosk } from '../../cmd/kiosk.ts';
import { decodeAuditEntry, encodeAuditEntry } from '../../core/audit-entry.ts';
import { hexEncode } from '../../core/bytes.ts';
import { inclusionProofFromNodes } from '../../core/merkle.ts';
import { DECOMMISSION_PATH } from '../../core/messages.ts';
import { auditHasher, checkpointOffer, logSize, storedTreeNodes, witnessedSizesIn } from '../../drivers/store/audit-log.ts';
import { AppError } from '../../core/errors.ts';
import { createMutualTlsClient } from '../../drivers/http/client.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';
import { certificateNeedles, findNeedles, instrumentedSession, kioskFiles, residentNeedles, type Needle, type Session } from './erasure-scan.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'cmd', 'kiosk-crash-fixture.ts');

describe('kiosk erasure and disposal', () => {
  let service: RunningService;

  before(async () => {
    service = await runningService('cvs-erasure-');
  });

  after(async () => {
    await service?.close();
  });

  describe('the certificate leaves no trace on the kiosk (Spec§14, S4-2)', () => {
    /** A kiosk's printed certificate copies: the paper, which must hold the certificate (the needles are real). */
    const paperOf = (kioskId: string) => {
      const dir = service.loaded.resolve(findKiosk(service.loaded, kioskId).printerDirectory);
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => /-certificate-copy\d+\.pdf$/.test(name)).map((name) => path.join(dir, name)) : [];
    };

    it('scans at every step of an issuance, a misprint and a cancel, in process', async () => {
      const cases: { kioskId: string; session: Session; outcome: string; copiesOnPaper: number }[] = [
        { kioskId: 'K0002', session: { card: 'card-r001', pin: '1234', certificateType: 'juminhyo', copies: 2 }, outcome: 'issued', copiesOnPaper: 2 },
        { kioskId: 'K0002', session: { card: 'card-r004', pin: '4321', certificateType: 'juminhyo', copies: 2, jamOnCopy: 2 }, outcome: 'refunded', copiesOnPaper: 1 },
        { kioskId: 'K0003', session: { card: 'card-r002', pin: '2580', certificateType: 'inkan', copies: 1, cancelAtCash: true }, outcome: 'cancelled', copiesOnPaper: 0 },
      ];
      for (const { kioskId, session, outcome, copiesOnPaper } of cases) {
        const paperBefore = new Set(paperOf(kioskId));
        let needles: Needle[] = residentNeedles(ROOT, session.card);
        let certificate: Needle[] = [];
        const found: string[] = [];
        const steps: string[] = [];
        const scan = async (label: string) => {
          steps.push(label);
          found.push(...findNeedles(kioskFiles(service.loaded, kioskId), needles).map((what) => `${label}: ${what}`));
        };
        const { kiosk, result } = await instrumentedSession(service.loaded, {
          kioskId,
          relayUrl: service.relay.server.url,
          clock: service.clock,
          session,
          step: scan,
          onCertificate: (pdfsBase64) => {
            certificate = certificateNeedles(pdfsBase64);
            needles = [...needles, ...certificate];
          },
        });
        await kiosk.close();
        await scan('closed');
        assert.equal(result.outcome, outcome, JSON.stringify(result));
        assert.ok(certificate.length > 0, 'the certificate data arrived');
        assert.ok(steps.includes('cash'), steps.join(', '));
        assert.deepEqual(found, [], `${session.card} at ${kioskId}`);
        // The scan can find what it looks for: each piece of a copy's decoded PDF is on that printed copy.
        const paper = paperOf(kioskId).filter((file) => !paperBefore.has(file)).sort();
        assert.equal(paper.length, copiesOnPaper);
        paper.forEach((file, index) => {
          const decoded = certificate.filter((needle) => needle.label.startsWith(`certificate copy ${index + 1} PDF`));
          assert.equal(decoded.length, 6);
          assert.equal(findNeedles([file], decoded).length, decoded.length, file);
        });
      }
      assert.ok(findNeedles([path.join(ROOT, 'fixtures', 'residents.json')], residentNeedles(ROOT, 'card-r001')).length > 0, 'the name needles match the fixture file');
    });

    it('scans a kiosk process at every step, kills it with SIGKILL between two copies, and erases a half-written spool file at restart', async () => {
      const kioskId = 'K0001';
      const session: Session = { card: 'card-r001', pin: '1234', certificateType: 'juminhyo', copies: 2 };
      const privateTmp = fs.mkdtempSync(path.join(service.dir, 'tmp-'));
      // tsx keeps its compiled sources under TMPDIR; the killed process shares the test's cache.
      const tsxCache = path.join(os.tmpdir(), `tsx-${process.getuid?.() ?? 0}`);
      if (fs.existsSync(tsxCache)) fs.symlinkSync(tsxCache, path.join(privateTmp, path.basename(tsxCache)));
      const args = [FIXTURE, service.dir, service.relay.server.url, kioskId, String(service.clock.nowMs()), JSON.stringify(session)];
      const child = spawn(process.execPath, process.versions.bun === undefined ? ['--import', 'tsx', ...args] : args, { env: { ...process.env, TMPDIR: privateTmp }, stdio: ['pipe', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
      let needles: Needle[] = residentNeedles(ROOT, session.card);
      const found: string[] = [];
      const steps: string[] = [];
      const scan = (label: string) => found.push(...findNeedles(kioskFiles(service.loaded, kioskId, [privateTmp]), needles).map((what) => `${label}: ${what}`));
      let pdfBase64 = '';
      for await (const line of createInterface({ input: child.stdout! })) {
        if (line.startsWith('CERTIFICATE ')) {
          const copies = line.slice('CERTIFICATE '.length).split(' ');
          pdfBase64 = copies[0]!;
          needles = [...needles, ...certificateNeedles(copies)];
        } else if (line.startsWith('STEP ')) {
          const label = line.slice('STEP '.length);
          steps.push(label);
          scan(label);
          if (label === 'after printing certificate 1') {
            child.kill('SIGKILL');
            break;
          }
          child.stdin!.write('\n');
        } else assert.fail(`unexpected line from the kiosk process: ${line.slice(0, 80)}`);
      }
      assert.equal(await exited, 'SIGKILL');
      scan('killed');
      assert.deepEqual(steps, ['PIN', 'menu', 'cash', 'printing certificate 1', 'after printing certificate 1']);
      assert.ok(pdfBase64.length > 0, 'the certificate data arrived');
      assert.deepEqual(found, []);

      // A kill inside the print job itself leaves the spool file it was writing: planted here as the
      // printer names it, it is gone once the kiosk starts again.
      const printDir = service.loaded.resolve(findKiosk(service.loaded, kioskId).printerDirectory);
      const unfinished = path.join(printDir, `.${'0'.repeat(32)}-certificate-copy2.pdf.0123456789ab.tmp`);
      fs.writeFileSync(unfinished, Buffer.from(pdfBase64, 'base64'));
      assert.ok(findNeedles(kioskFiles(service.loaded, kioskId), needles).length > 0, 'the planted spool file is found by the scan');
      const script = path.join(privateTmp, 'cancel.json');
      fs.writeFileSync(script, JSON.stringify({ sessions: [{ card: 'card-r002', pins: [], certificateType: 'juminhyo', copies: 1, cash: [], expect: 'cancelled' }] }));
      const io = bufferIo(Readable.from([]));
      const code = await main(['kiosk', 'run', '--dir', service.dir, '--kiosk', kioskId, '--relay-url', service.relay.server.url, '--script', script], io, { clock: service.clock });
      assert.equal(code, 0, io.stderr());
      assert.equal(fs.existsSync(unfinished), false);
      assert.deepEqual(findNeedles(kioskFiles(service.loaded, kioskId, [privateTmp]), needles), []);
    });
  });

  describe('kiosk decommission', () => {
    const kioskId = 'K0003';
    /** The kiosk's TLS material, read before the wipe: what a thief of the old disk would hold. */
    let credentials: { keyPem: string; certificatePem: string; caPem: string };
    let filesBefore: string[];

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
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((entry) => (entry.isSymbolicLink() ? [] : entry.isDirectory() ? allFiles(path.join(dir, entry.name)) : [path.relative(service.dir, path.join(dir, entry.name))]));
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
      filesBefore = allFiles().filter((file) => file.includes(kioskId));
    });

    it('refuses without --wipe, with a wrong password, and while the outbox cannot be delivered, changing nothing', async () => {
      const without = await decommission([], '--password-file', service.loaded.resolve('pki/maintenance/K0003.txt'));
      assert.equal(without.code, 2);
      assert.match(without.stderr, /--wipe is required/);

      // A configuration edited so that the kiosk's print folder is not its own: refused before anything.
      const configText = fs.readFileSync(service.loaded.file, 'utf8');
      const edited = JSON.parse(configText) as { kiosks: { kioskId: string; printerDirectory: string }[] };
      edited.kiosks.find((entry) => entry.kioskId === kioskId)!.printerDirectory = 'prints';
      fs.writeFileSync(service.loaded.file, JSON.stringify(edited));
      try {
        const shared = await decommission([], '--wipe', '--password-file', service.loaded.resolve('pki/maintenance/K0003.txt'));
        assert.deepEqual([shared.code, shared.stderr], [2, `cvs-issue: ${kioskId}: printerDirectory "prints" is not this kiosk's own folder under prints/: nothing was erased or revoked\n`]);
      } finally {
        fs.writeFileSync(service.loaded.file, configText);
      }

      const wrong = await decommission(['not-the-password'], '--wipe');
      assert.equal(wrong.code, 1, wrong.stderr);
      assert.match(wrong.stderr, /wrong maintenance password/);
      const empty = await decommission([''], '--wipe');
      assert.equal(empty.code, 2, empty.stderr);

      // The relay away, a notice and a printer fault not yet acknowledged: refused, nothing erased.
      const kioskDb = service.loaded.resolve(findKiosk(service.loaded, kioskId).databaseFile);
      const fault = { faultId: 'f'.repeat(32), kioskId, device: 'printer', code: 'printer.jam', requestId: null, occurredAt: '2026-12-01T01:00:00.000Z' };
      withDatabase(kioskDb, (db) => {
        db.run('UPDATE outbox SET acknowledged_at = NULL');
        db.run('INSERT INTO fault_outbox (fault_id, report, created_at) VALUES (:faultId, :report, :createdAt)', { faultId: fault.faultId, report: JSON.stringify(fault), createdAt: fault.occurredAt });
      });
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as net.AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const away = await cli([], 'kiosk', 'decommission', '--dir', service.dir, '--kiosk', kioskId, '--relay-url', `https://127.0.0.1:${port}`, '--wipe', '--password-file', service.loaded.resolve('pki/maintenance/K0003.txt'));
      assert.equal(away.code, 1, away.stderr);
      assert.match(away.stderr, /\d+ notice\(s\), \d+ day close\(s\) and 1 fault report\(s\) are not yet acknowledged; nothing was erased/);

      assert.deepEqual(allFiles().filter((file) => file.includes(kioskId)), filesBefore);
      assert.equal(await tlsAttempt(credentials), 404, 'the relay still takes the kiosk');
      assert.equal(relayEntries().filter((entry) => entry.kind === 'kiosk.revoked').length, 0);
    });

    it('is refused by the relay, revoking nothing, unless the final entry is the kiosk\'s own kiosk.decommissioned at the end of its witnessed log', async () => {
      // Another kiosk asks with its real, witnessed checkpoint, but an entry that does not fit it.
      const other = findKiosk(service.loaded, 'K0002');
      const { offer, lastEntry, proof } = withDatabase(service.loaded.resolve(other.databaseFile), (db) => {
        const entries = logSize(db);
        return {
          offer: checkpointOffer(db, witnessedSizesIn(db).lastWitnessedSize())!,
          lastEntry: db.get<{ entry: Uint8Array }>('SELECT entry FROM audit_entries WHERE idx = :index', { index: entries - 1 })!.entry,
          proof: inclusionProofFromNodes(auditHasher, storedTreeNodes(db), entries - 1, entries).map(hexEncode),
        };
      }, { readonly: true });
      const client = createMutualTlsClient({ baseUrl: service.relay.server.url, ...tlsOf('K0002') });
      const ask = (entry: string) => client.postJson<{ error: { code: string } }>(DECOMMISSION_PATH, { kioskId: 'K0002', ...offer, entry, inclusionProof: proof });
      try {
        const notDecommission = await ask(new TextDecoder().decode(lastEntry));
        assert.deepEqual([notDecommission.status, notDecommission.json.error.code], [400, 'decommission.bad_entry']);
        const last = decodeAuditEntry(new Uint8Array(lastEntry));
        const forged = encodeAuditEntry({ ...last, kind: 'kiosk.decommissioned', data: { kioskId: 'K0002', storeId: other.storeId } });
        const notInLog = await ask(new TextDecoder().decode(forged));
        assert.deepEqual([notInLog.status, notInLog.json.error.code], [400, 'decommission.not_included']);
      } finally {
        await client.close();
      }
      assert.equal(relayEntries().filter((entry) => entry.kind === 'kiosk.revoked').length, 0);
      assert.equal(await tlsAttempt(tlsOf('K0002')), 404);
    });

    it('has the relay witness the final entry and revoke the certificate, then erases every file of the kiosk', async () => {
      const done = await decommission([], '--wipe', '--json', '--password-file', service.loaded.resolve('pki/maintenance/K0003.txt'));
      assert.equal(done.code, 0, done.stderr);
      const report = JSON.parse(done.stdout) as { kioskId: string; witnessedSize: number; revokedSerialNumber: string; erased: string[] };
      assert.equal(report.kioskId, kioskId);
      // The WAL and shared-memory files exist while the kiosk is open (SQLite may delete them on close).
      const sidecar = (file: string) => /\.db-(wal|shm)$/.test(file);
      assert.deepEqual(report.erased.filter((file) => !sidecar(file)).sort(), filesBefore.filter((file) => !sidecar(file)).sort());
      assert.deepEqual(report.erased.filter(sidecar).sort(), [`kiosks/${kioskId}.db-shm`, `kiosks/${kioskId}.db-wal`]);

      // No file of the kiosk's remains, under any name, and no copy of its private key anywhere.
      assert.deepEqual(allFiles().filter((file) => file.includes(kioskId)), []);
      const keyBody = credentials.keyPem.split('\n').slice(1, 3).join('\n');
      for (const file of allFiles()) assert.ok(!fs.readFileSync(path.join(service.dir, file), 'latin1').includes(keyBody), `${file} holds the kiosk's key`);
      assert.equal(service.loaded.config.kiosks.length > JSON.parse(fs.readFileSync(service.loaded.file, 'utf8')).kiosks.length, true, 'the kiosk left the deployment file');

      // The relay's own log records the revocation at the size it witnessed, ending with the kiosk's entry.
      const revoked = relayEntries().filter((entry) => entry.kind === 'kiosk.revoked');
      assert.deepEqual(revoked.map((entry) => entry.data), [{ kioskId, storeId: findKiosk(service.loaded, kioskId).storeId, size: report.witnessedSize, serialNumber: report.revokedSerialNumber }]);
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

    it('erases on a second run when the relay revoked the certificate but its answer never came back', async () => {
      // K0002 asks, the relay witnesses and revokes, and the kiosk stops there: the answer lost, or
      // a crash before the erasure. Its certificate is revoked; a run again must still get it erased.
      const lost = openKiosk(service.loaded, { kioskId: 'K0002', relayUrl: service.relay.server.url, clock: service.clock });
      try {
        await lost.decommission();
      } finally {
        await lost.close();
      }
      const revokedOnce = () => relayEntries().filter((entry) => entry.kind === 'kiosk.revoked' && entry.data.kioskId === 'K0002').length;
      assert.equal(revokedOnce(), 1);
      const refusedNow = await tlsAttempt(tlsOf('K0002'));
      const again = await cli([], 'kiosk', 'decommission', '--dir', service.dir, '--kiosk', 'K0002', '--relay-url', service.relay.server.url, '--wipe', '--password-file', service.loaded.resolve('pki/maintenance/K0002.txt'));
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^\[K0002\] decommissioned: the relay witnessed the audit log at size \d+ and revoked certificate [0-9A-F]+\n/);
      assert.deepEqual(allFiles().filter((file) => file.includes('K0002')), []);
      assert.equal(revokedOnce(), 1, 'revoked once, the repeat answered from the record');
      // Only the decommission itself is answered for a revoked certificate: any other request is refused.
      assert.equal(refusedNow, 403);
    });
  });
});
