// Proves Spec§14 / S4-2: nothing of a certificate stays on the kiosk. After a print, a misprint
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

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { findKiosk } from '../../cmd/config.ts';
import { main } from '../../cmd/cvs-issue.ts';
import { bufferIo } from '../../cmd/io.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';
import { certificateNeedles, findNeedles, instrumentedSession, kioskFiles, residentNeedles, type Needle, type Session } from './erasure-scan.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'cmd', 'kiosk-crash-fixture.ts');

describe('the certificate leaves no trace on the kiosk (Spec§14, S4-2)', () => {
  let service: RunningService;

  before(async () => {
    service = await runningService('cvs-erasure-');
  });

  after(async () => {
    await service?.close();
  });

  /** The printed copies of a request: the paper, which must hold the certificate (the needles are real). */
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
        onCertificate: (pdfBase64) => {
          certificate = certificateNeedles(pdfBase64);
          needles = [...needles, ...certificate];
        },
      });
      await kiosk.close();
      await scan('closed');
      assert.equal(result.outcome, outcome, JSON.stringify(result));
      assert.ok(certificate.length > 0, 'the certificate data arrived');
      assert.ok(steps.includes('cash'), steps.join(', '));
      assert.deepEqual(found, [], `${session.card} at ${kioskId}`);
      // The scan can find what it looks for: each piece of the decoded PDF is on every printed copy.
      const paper = paperOf(kioskId).filter((file) => !paperBefore.has(file));
      assert.equal(paper.length, copiesOnPaper);
      const decoded = certificate.filter((needle) => needle.label.startsWith('certificate PDF'));
      assert.equal(decoded.length, 6);
      for (const file of paper) assert.equal(findNeedles([file], decoded).length, decoded.length);
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
        pdfBase64 = line.slice('CERTIFICATE '.length);
        needles = [...needles, ...certificateNeedles(pdfBase64)];
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
